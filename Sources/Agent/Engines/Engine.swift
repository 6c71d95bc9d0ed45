import Shared

/// What an engine reports to the session. Exactly one terminal event (`finished` or `failed`) per engine.
enum EngineEvent: Sendable {
    /// The engine really started at this instant on the agent's clock.
    case started(Int64)
    /// One interval's counters.
    case sample(IntervalSample)
    /// The engine ended (by itself or after `requestStop`); its result.
    case finished(SideResult)
    /// The engine ended with an error.
    case failed(WireError)
}

/// Where engines send their events. Called from engine threads; must not block.
typealias EngineEventSink = @Sendable (EngineEvent) -> Void

/// One side of a workload: a server the SUT runs or a load generator the peer runs.
///
/// Data-plane work happens on the engine's own threads; these calls only signal them.
protocol Engine: AnyObject, Sendable {
    /// The data-plane endpoint a server side listens on; `nil` for clients.
    var endpoint: Endpoint? { get }
    /// Starts the engine when the agent's clock reads `atNs`; returns at once.
    func start(atNs: Int64)
    /// Asks the engine to end; the terminal event follows.
    func requestStop()
}
