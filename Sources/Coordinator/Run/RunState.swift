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
}

/// A guest of the run: one per mode and (for the container modes) storage placement.
struct GuestKey: Hashable {
    var mode: DeploymentMode
    var storage: ContainerStorage
}
