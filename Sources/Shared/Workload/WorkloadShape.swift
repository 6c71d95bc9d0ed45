/// Which agents take part in a workload's step and how its window ends: what the step machine,
/// the load split, the outcome's window and the lab checks read instead of assuming a peer.
package struct WorkloadShape: Equatable, Sendable {
    /// Who generates the load.
    package enum Participants: String, Equatable, Sendable {
        /// The SUT serves; one or more peers generate the load and split it.
        case sutAndPeers
        /// The SUT alone runs the step (a block-I/O, CPU or memory engine on the SUT): no peer.
        case sutOnly
    }

    /// Who generates the load.
    package var participants: Participants
    /// The role whose agents end the measurement window by themselves and whose window the
    /// step's rates use: the peers, or the SUT when it runs alone.
    package var windowEndedBy: Role
    /// Whether the SUT reports a data-plane endpoint the peers connect to.
    package var sutEndpoint: Bool
    /// Which data port of a guest the SUT's server binds, counted from the guest's control port
    /// (``GuestPorts``); `nil`: the workload binds none.
    package var guestPortSlot: Int?
    /// Whether that port is published for UDP too (UDP_RR).
    package var guestPortUDP: Bool
    /// Whether the SUT keeps data on storage (fio's file, MySQL's tables): its samples carry the
    /// step's storage placement (`storage`, and a `kvm` guest's `disk`).
    package var usesStorage = false

    package init(
        participants: Participants, windowEndedBy: Role, sutEndpoint: Bool, guestPortSlot: Int?,
        guestPortUDP: Bool = false
    ) {
        self.participants = participants
        self.windowEndedBy = windowEndedBy
        self.sutEndpoint = sutEndpoint
        self.guestPortSlot = guestPortSlot
        self.guestPortUDP = guestPortUDP
    }

    /// A server on the SUT and load from the peers, who end the window; the server binds the guest's
    /// data port `slot`.
    package static func clientServer(guestPortSlot slot: Int, udp: Bool = false) -> WorkloadShape {
        WorkloadShape(
            participants: .sutAndPeers, windowEndedBy: .peer, sutEndpoint: true, guestPortSlot: slot, guestPortUDP: udp)
    }

    /// The SUT alone, ending the window itself; no endpoint, no peer.
    package static let sutOnly = WorkloadShape(
        participants: .sutOnly, windowEndedBy: .sut, sutEndpoint: false, guestPortSlot: nil)

    /// Whether the step needs at least one peer.
    package var needsPeers: Bool { participants == .sutAndPeers }
}
