/// One step as the coordinator plans it, before it has ids or roles: the workload, its timing and
/// its placement. `run.json` records each one encoded (secrets redacted), and `--resume` compares
/// them field by field.
package struct PlannedStep: Codable, Equatable, Sendable {
    /// What to run.
    package var workload: Workload
    /// Warm-up and measurement window.
    package var timing: StepTiming
    /// Mode and pinning; the bind address and target are filled in per step.
    package var placement: Placement

    package init(_ workload: Workload, timing: StepTiming = StepTiming(), placement: Placement = Placement()) {
        self.workload = workload
        self.timing = timing
        self.placement = placement
    }

    /// How long the started step may run: an engine's completion budget, else warm-up and window.
    package var runBudgetNs: Int64 { workload.spec.completionBudgetNs ?? timing.totalNs }

    /// Step id prefix: the workload's, e.g. `rr-tcp`, `redis-c16`.
    package var stepName: String { workload.spec.stepName }

    /// The envelope sent to the agent playing `role`.
    package func spec(runID: String, stepID: String, role: Role, placement: Placement? = nil) -> StepSpec {
        StepSpec(
            runID: runID, stepID: stepID, role: role, timing: timing, placement: placement ?? self.placement,
            workload: workload)
    }

    /// Every problem, one line each.
    package func problems() -> [String] { timing.problems() + placement.problems() + workload.problems() }

    /// What `run.json` records: the step without secrets.
    package var redacted: PlannedStep {
        var copy = self
        copy.workload = workload.redacted
        return copy
    }
}
