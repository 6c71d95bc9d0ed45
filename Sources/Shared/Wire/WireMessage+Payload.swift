import Foundation

extension WireMessage {
    /// The JSON payload of this message.
    package func encodedPayload() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        switch self {
        case .hello(let m): return try encoder.encode(m)
        case .authenticate(let m): return try encoder.encode(m)
        case .authenticated(let m): return try encoder.encode(m)
        case .clockProbe(let m): return try encoder.encode(m)
        case .clockReply(let m): return try encoder.encode(m)
        case .prepare(let m): return try encoder.encode(m)
        case .ready(let m): return try encoder.encode(m)
        case .start(let m): return try encoder.encode(m)
        case .started(let m): return try encoder.encode(m)
        case .sample(let m): return try encoder.encode(m)
        case .stop(let m): return try encoder.encode(m)
        case .finished(let m): return try encoder.encode(m)
        case .heartbeat(let m): return try encoder.encode(m)
        case .fetchLog(let m): return try encoder.encode(m)
        case .logBatch(let m): return try encoder.encode(m)
        case .abort(let m): return try encoder.encode(m)
        case .failure(let m): return try encoder.encode(m)
        case .bye(let m): return try encoder.encode(m)
        case .place(let m): return try encoder.encode(m)
        case .placed(let m): return try encoder.encode(m)
        case .release(let m): return try encoder.encode(m)
        case .released(let m): return try encoder.encode(m)
        }
    }

    /// Decodes a payload of the given kind.
    package static func decode(kind: Kind, payload: Data) throws -> WireMessage {
        let d = JSONDecoder()
        switch kind {
        case .hello: return .hello(try d.decode(Hello.self, from: payload))
        case .authenticate: return .authenticate(try d.decode(Authenticate.self, from: payload))
        case .authenticated: return .authenticated(try d.decode(Authenticated.self, from: payload))
        case .clockProbe: return .clockProbe(try d.decode(ClockProbe.self, from: payload))
        case .clockReply: return .clockReply(try d.decode(ClockReply.self, from: payload))
        case .prepare: return .prepare(try d.decode(Prepare.self, from: payload))
        case .ready: return .ready(try d.decode(Ready.self, from: payload))
        case .start: return .start(try d.decode(Start.self, from: payload))
        case .started: return .started(try d.decode(Started.self, from: payload))
        case .sample: return .sample(try d.decode(IntervalSample.self, from: payload))
        case .stop: return .stop(try d.decode(Stop.self, from: payload))
        case .finished: return .finished(try d.decode(Finished.self, from: payload))
        case .heartbeat: return .heartbeat(try d.decode(Heartbeat.self, from: payload))
        case .fetchLog: return .fetchLog(try d.decode(FetchLog.self, from: payload))
        case .logBatch: return .logBatch(try d.decode(LogBatch.self, from: payload))
        case .abort: return .abort(try d.decode(Abort.self, from: payload))
        case .failure: return .failure(try d.decode(WireFailure.self, from: payload))
        case .bye: return .bye(try d.decode(Bye.self, from: payload))
        case .place: return .place(try d.decode(Place.self, from: payload))
        case .placed: return .placed(try d.decode(Placed.self, from: payload))
        case .release: return .release(try d.decode(Release.self, from: payload))
        case .released: return .released(try d.decode(Released.self, from: payload))
        }
    }
}
