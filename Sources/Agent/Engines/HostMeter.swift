import Shared

/// The `host` role's work in a step: nothing but being there. The session meters this machine's
/// system-wide CPU over the step's window for every engine, so the host agent under a container or
/// VM SUT reports the machine's CPU in the same window as the SUT and the peers. (Placing the SUT
/// is the deployment modes' part.)
final class HostMeter: Engine, @unchecked Sendable {
    let endpoint: Endpoint? = nil
    private let watch: ServerWatch

    init(events: @escaping EngineEventSink) {
        watch = ServerWatch(name: "host", server: nil, events: events)
    }

    func start(atNs: Int64) { watch.start(atNs: atNs) }

    func requestStop() { watch.requestStop { .hostMeter } }
}
