import Shared

extension FioWorkload: EngineWorkload {
    /// fio on the SUT, in the session's data folder of the step's storage placement.
    static func engine(_ spec: FioSpec, step: StepSpec, context: EngineContext) throws -> any Engine {
        try FioEngine(spec, step: step, data: context.data, events: context.events)
    }
}
