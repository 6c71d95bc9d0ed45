/// The agent's side of a step's lifecycle, as a value: prepare → ready → start → started →
/// finished, with stop and abort at any point. The I/O layer feeds it messages and engine events
/// and carries out the returned action.
package struct AgentRunMachine: Sendable {
    /// What the I/O layer must do next.
    package enum Action: Equatable, Sendable {
        /// Build the engine for this step (start servers, connect clients).
        case prepareEngine(StepSpec)
        /// Start the engine at this instant on the agent's clock.
        case startEngine(atNs: Int64)
        /// Ask the engine to end; its result follows as `engineFinished`.
        case stopEngine
        /// Tear the engine down now, whatever it is doing.
        case abortEngine
        /// Send a message to the coordinator.
        case send(WireMessage)
        /// Tear the engine down and report this failure.
        case failAndAbort(WireFailure)
        /// Nothing to do.
        case none
    }

    private enum State: Equatable, Sendable {
        case idle
        case preparing(String)
        case prepared(String)
        case running(String)
        case stopping(String)
    }

    private var state: State = .idle

    package init() {}

    /// Whether an engine exists that must be torn down when the session ends.
    package var hasEngine: Bool { state != .idle }

    /// A message from the coordinator.
    package mutating func received(_ message: WireMessage) -> Action {
        switch (state, message) {
        case (.idle, .prepare(let prepare)):
            state = .preparing(prepare.step.stepID)
            return .prepareEngine(prepare.step)
        case (.prepared(let id), .start(let start)) where start.stepID == id:
            state = .running(id)
            return .startEngine(atNs: start.atNs)
        case (.running(let id), .stop(let stop)) where stop.stepID == id,
            (.prepared(let id), .stop(let stop)) where stop.stepID == id:
            state = .stopping(id)
            return .stopEngine
        case (.idle, .stop):
            return .none  // the step already ended by itself; its result was sent
        case (_, .abort):
            let had = hasEngine
            state = .idle
            return had ? .abortEngine : .none
        default:
            let had = hasEngine
            state = .idle
            let failure = WireFailure(code: .unexpectedMessage, message: "unexpected \(message.kind) in state \(state)")
            return had ? .failAndAbort(failure) : .send(.failure(failure))
        }
    }

    /// The engine for the step is ready (servers listen, clients connected).
    package mutating func engineReady(_ endpoint: Endpoint?) -> Action {
        guard case .preparing(let id) = state else { return .none }
        state = .prepared(id)
        return .send(.ready(Ready(stepID: id, endpoint: endpoint)))
    }

    /// The engine could not be prepared.
    package mutating func prepareFailed(_ error: WireError) -> Action {
        state = .idle
        return .send(.failure(WireFailure(error)))
    }

    /// The engine really started.
    package mutating func engineStarted(_ actualNs: Int64) -> Action {
        switch state {
        case .running(let id), .stopping(let id): return .send(.started(Started(stepID: id, actualNs: actualNs)))
        default: return .none
        }
    }

    /// The engine ended with a result (by itself or after a stop).
    package mutating func engineFinished(_ result: SideResult) -> Action {
        switch state {
        case .running(let id), .stopping(let id):
            state = .idle
            return .send(.finished(Finished(stepID: id, result: result)))
        default: return .none
        }
    }

    /// The engine failed.
    package mutating func engineFailed(_ error: WireError) -> Action {
        guard hasEngine else { return .none }
        state = .idle
        return .failAndAbort(WireFailure(error))
    }
}
