/// nuttcp-style bulk transfer, either direction: the SUT listens, the peers connect.
package enum StreamWorkload: WorkloadType {
    /// The workload's parameters.
    package typealias Spec = StreamSpec

    /// Who takes part and how the window ends.
    package static let shape = WorkloadShape.clientServer(guestPortSlot: 2)

    /// Payload bits the receiver counted per second in the window.
    package static let goodput = Metric(
        "goodput_gbps", unit: "Gbit/s", kind: .gauge, better: .higher,
        help: "payload bits the receiver counted per second in the window")
    /// Payload bytes received in the window.
    package static let bytes = Metric(
        "bytes", unit: "bytes", kind: .counter, better: .neither, help: "payload bytes received in the window")
    /// TCP segments the sender retransmitted.
    package static let retransmits = Metric(
        "retransmits", unit: "segments", kind: .counter, better: .lower,
        help: "TCP segments the sender retransmitted")
    /// The SUT's CPU cycles per byte moved (its own agent's view).
    package static let sutCyclesPerByte = Metric(
        "sut_cycles_per_byte", unit: "cycles/byte", kind: .gauge, better: .lower,
        help: "the SUT's CPU cycles per byte moved (its own agent's view)")
    /// The machine's CPU cycles per byte moved (the host agent's view).
    package static let hostCyclesPerByte = Metric(
        "host_cycles_per_byte", unit: "cycles/byte", kind: .gauge, better: .lower,
        help: "the machine's CPU cycles per byte moved (the host agent's view)")

    /// Every metric it reports, and its headline.
    package static let catalog = MetricCatalog(
        [goodput, bytes, retransmits, sutCyclesPerByte, hostCyclesPerByte],
        headline: [goodput, sutCyclesPerByte, hostCyclesPerByte])

    /// The results its sides report.
    package static let resultTypes: [any WorkloadResult.Type] = [StreamSenderResult.self, StreamReceiverResult.self]

    /// The result the agent in `role` reports.
    package static func resultType(of spec: StreamSpec, role: Role) -> (any WorkloadResult.Type)? {
        (role == .sut) == spec.sutSends ? StreamSenderResult.self : StreamReceiverResult.self
    }

    /// What the peers split.
    package static func loadUnits(of spec: StreamSpec) -> Int { spec.streams }

    /// Goodput is what arrived: only the receiving side's per-second samples count.
    package static func countsIntervals(of spec: StreamSpec, role: Role) -> Bool {
        role == (spec.sutSends ? .peer : .sut)
    }

    /// A peer's share of the load: `units` of it.
    package static func share(of spec: StreamSpec, units: Int, part: Int, of count: Int) -> StreamSpec {
        var s = spec
        s.streams = units
        return s
    }
}

extension StreamSenderResult: WorkloadResult {
    /// Its threads, for the validity checks.
    package var generatorLoad: LoadThreads? { load }
    /// The result's name on the wire.
    package static let resultKind = "streamSender"

    /// Several peers' results as one.
    package static func merged(_ all: [StreamSenderResult]) -> StreamSenderResult? {
        StreamSenderResult(
            retransmits: all.map(\.retransmits).reduce(0, +), bytes: all.map(\.bytes).reduce(0, +),
            load: .merged(all.map(\.load)))
    }
}

extension StreamReceiverResult: WorkloadResult {
    /// Its threads, for the validity checks.
    package var generatorLoad: LoadThreads? { load }
    /// The result's name on the wire.
    package static let resultKind = "streamReceiver"

    /// Several peers' results as one.
    package static func merged(_ all: [StreamReceiverResult]) -> StreamReceiverResult? {
        StreamReceiverResult(bytes: all.map(\.bytes).reduce(0, +), load: .merged(all.map(\.load)))
    }
}
