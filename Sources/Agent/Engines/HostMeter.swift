import Shared

/// The `host` role's work in a step: nothing but being there. The session meters this machine's
/// system-wide CPU over the step's window for every engine, so the host agent under a container or
/// VM SUT reports the machine's CPU in the same window as the SUT and the peers. (Placing the SUT
/// is the deployment modes' part.)
final class HostMeter: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let watch: ServerWatch
    /// Reads the step's NAT counters, where the mode has lockstep's rules.
    private let counters: @Sendable () -> NATPackets?
    private let atStart = LockedValue<NATPackets?>(nil)

    /// The NAT counters are read now, before the peers connect (the host is prepared first), and at
    /// the stop: conntrack sends only a connection's first packet through the nat chains, so the
    /// difference counts the step's connections by the hook they took.
    init(counters: @escaping @Sendable () -> NATPackets?, events: @escaping EngineEventSink) {
        self.counters = counters
        watch = ServerWatch(name: "host", server: nil, events: events)
        atStart.value = counters()
    }

    func start(atNs: Int64) { watch.start(atNs: atNs) }

    func requestStop() {
        watch.requestStop { [counters, atStart] in
            let packets = counters().flatMap { now in atStart.value.map { now.since($0) } }
            return SideOutcome(HostMeterResult(natPackets: packets))
        }
    }
}
