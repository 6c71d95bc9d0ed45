import Foundation

/// Every message of the control protocol between the coordinator and an agent.
///
/// On the wire each message is one frame: a type byte, a big-endian `UInt32` payload length and a
/// JSON payload (the associated struct). The first message each way is ``Hello``.
package enum WireMessage: Equatable, Sendable {
    /// Versioned greeting, first message both ways.
    case hello(Hello)
    /// Coordinator's proof that it holds the token (HMAC over both nonces).
    case authenticate(Authenticate)
    /// Agent's proof that it holds the token, plus facts about its host.
    case authenticated(Authenticated)
    /// NTP-style clock probe from the coordinator.
    case clockProbe(ClockProbe)
    /// The agent's answer to a ``ClockProbe``.
    case clockReply(ClockReply)
    /// Prepare one step of a run (start servers, connect clients).
    case prepare(Prepare)
    /// The agent prepared the step; carries the data-plane endpoint, if any.
    case ready(Ready)
    /// Start the prepared step at an instant on the agent's clock.
    case start(Start)
    /// The agent really started at the given instant on its clock.
    case started(Started)
    /// A per-second interval sample streamed during a step.
    case sample(IntervalSample)
    /// Stop the current step and send its result.
    case stop(Stop)
    /// The step's final result.
    case finished(Finished)
    /// Liveness signal, both ways.
    case heartbeat(Heartbeat)
    /// Ask for the agent's event log records.
    case fetchLog(FetchLog)
    /// A batch of the agent's event log records.
    case logBatch(LogBatch)
    /// Abort whatever runs; the agent stops load and servers.
    case abort(Abort)
    /// A typed error, either way.
    case failure(WireFailure)
    /// Orderly end of a session.
    case bye(Bye)
    /// Place a guest agent in a deployment mode (host agents).
    case place(Place)
    /// The guest is placed (or the mode's prerequisites, for a check).
    case placed(Placed)
    /// Remove every guest of the session now.
    case release(Release)
    /// The guests removed.
    case released(Released)

    /// The frame type byte of this message.
    package var typeByte: UInt8 { kind.rawValue }

    /// The message's kind, without payload.
    package var kind: Kind {
        switch self {
        case .hello: .hello
        case .authenticate: .authenticate
        case .authenticated: .authenticated
        case .clockProbe: .clockProbe
        case .clockReply: .clockReply
        case .prepare: .prepare
        case .ready: .ready
        case .start: .start
        case .started: .started
        case .sample: .sample
        case .stop: .stop
        case .finished: .finished
        case .heartbeat: .heartbeat
        case .fetchLog: .fetchLog
        case .logBatch: .logBatch
        case .abort: .abort
        case .failure: .failure
        case .bye: .bye
        case .place: .place
        case .placed: .placed
        case .release: .release
        case .released: .released
        }
    }

    /// Frame type bytes. Never reuse a number: old peers must see an unknown type, not a wrong one.
    package enum Kind: UInt8, Sendable, CaseIterable {
        case hello = 1
        case authenticate = 2
        case authenticated = 3
        case clockProbe = 4
        case clockReply = 5
        case prepare = 6
        case ready = 7
        case start = 8
        case started = 9
        case sample = 10
        case stop = 11
        case finished = 12
        case heartbeat = 13
        case fetchLog = 14
        case logBatch = 15
        case abort = 16
        case failure = 17
        case bye = 18
        case place = 19
        case placed = 20
        case release = 21
        case released = 22
    }
}
