import Foundation
import Shared

/// What a run keeps while it goes: its results directory and `run.json`, its log, every agent's
/// clock, the guests placed so far, and the steps finished.
struct RunState {
    let store: ResultStore
    var info: RunInfo
    let log: RunLog
    /// Whether this run continues an earlier one (`--resume`).
    let resumed: Bool
    /// The merged log's lines of the earlier run, kept before the new ones.
    let earlierLog: [Data]
    /// When this process began the run, on the coordinator's clock.
    let sinceNs: Int64
    var outcomes: [StepOutcome] = []
    /// Each agent's clock over the run, and its latest estimate, by link index.
    var tracks: [Int: ClockTrack] = [:]
    var current: [Int: ClockEstimate] = [:]
    /// The guest agent placed for each mode and storage placement, with the host agent's answer.
    var guests: [GuestKey: (agent: ConnectedAgent, placed: Placed)] = [:]
    /// Steps finished (run or kept), for progress.
    var done = 0
    /// The step running now, as observers know it.
    var observed: ObservedStep?
}

/// A guest of the run: one per mode, (for the container modes) storage placement and (for kvm)
/// CPU model and topology.
struct GuestKey: Hashable {
    var mode: DeploymentMode
    var storage: ContainerStorage
    var vmCPUModel: VMCPUModel? = nil
    var vmTopology: VMTopology? = nil

    /// The key of `placement` in a run of `plan`.
    init(_ placement: Placement, plan: RunPlan) {
        mode = placement.mode
        storage = placement.storage ?? plan.storage
        if mode == .kvm {
            vmCPUModel = placement.vmCPUModel ?? plan.vm.cpuModel
            vmTopology = placement.vmTopology ?? plan.vm.topology
        }
    }

    /// run.json's name of the guest's mode: the mode, and its storage or CPU settings where the run
    /// placed more than one guest of the mode.
    func name(among keys: some Sequence<GuestKey>) -> String {
        guard keys.contains(where: { $0.mode == mode && $0 != self }) else { return mode.rawValue }
        if mode == .kvm {
            return "\(mode.rawValue)-cpu-\(vmCPUModel?.rawValue ?? "host")" + (vmTopology.map { "-\($0)" } ?? "")
        }
        return "\(mode.rawValue)-\(storage.rawValue)"
    }
}
