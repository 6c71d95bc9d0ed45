/// The role an agent plays in a step.
package enum Role: String, Codable, Sendable, CaseIterable {
    /// The system under test: runs the server side.
    case sut
    /// A peer load generator: runs the client side (a lab may have several).
    case peer
    /// The agent on the machine under a container or VM SUT: places the SUT and meters the
    /// machine's CPU over the step's window (the deployment modes give it its work).
    case host
}

/// One step of a run as sent to one agent: the envelope (ids, role, timing, placement) around
/// the workload's own parameters.
package struct StepSpec: Codable, Equatable, Sendable {
    /// The run this step belongs to.
    package var runID: String
    /// The step, unique within the run.
    package var stepID: String
    /// The role the receiving agent plays.
    package var role: Role
    /// Warm-up and measurement window.
    package var timing: StepTiming
    /// Mode, pinning, bind address and target.
    package var placement: Placement
    /// What to run.
    package var workload: Workload

    package init(
        runID: String, stepID: String, role: Role, timing: StepTiming = StepTiming(),
        placement: Placement = Placement(), workload: Workload
    ) {
        self.runID = runID
        self.stepID = stepID
        self.role = role
        self.timing = timing
        self.placement = placement
        self.workload = workload
    }

    /// Every problem of the timing, the placement and the workload, one line each.
    package func problems() -> [String] { timing.problems() + placement.problems() + workload.problems() }
}

/// The workloads an agent can run; the wire form of a ``WorkloadSpec``.
package enum Workload: Codable, Equatable, Sendable {
    /// netperf-style request/response.
    case rr(RRSpec)
    /// nuttcp-style bulk transfer.
    case stream(StreamSpec)
    /// Redis GET/SET sweep point.
    case redis(RedisSpec)
    /// MySQL OLTP sweep point.
    case mysql(MySQLSpec)

    /// The parameters, whatever the workload.
    package var spec: any WorkloadSpec {
        switch self {
        case .rr(let s): s
        case .stream(let s): s
        case .redis(let s): s
        case .mysql(let s): s
        }
    }

    /// Parameter problems, one line each.
    package func problems() -> [String] { spec.problems() }

    /// Short name for labels: `rr`, `stream`, ...
    package var name: String { type(of: spec).kind }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Encoded as one key, the workload's kind, holding its spec: `{"rr": {"proto": "tcp", ...}}`.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .rr(let s): try container.encode(s, forKey: Key(stringValue: RRSpec.kind))
        case .stream(let s): try container.encode(s, forKey: Key(stringValue: StreamSpec.kind))
        case .redis(let s): try container.encode(s, forKey: Key(stringValue: RedisSpec.kind))
        case .mysql(let s): try container.encode(s, forKey: Key(stringValue: MySQLSpec.kind))
        }
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "a workload is one key naming its kind"))
        }
        switch key.stringValue {
        case RRSpec.kind: self = .rr(try container.decode(RRSpec.self, forKey: key))
        case StreamSpec.kind: self = .stream(try container.decode(StreamSpec.self, forKey: key))
        case RedisSpec.kind: self = .redis(try container.decode(RedisSpec.self, forKey: key))
        case MySQLSpec.kind: self = .mysql(try container.decode(MySQLSpec.self, forKey: key))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "unknown workload '\(key.stringValue)'")
        }
    }

    /// The workload without secrets (the MySQL password), as `run.json` records it.
    package var redacted: Workload {
        guard case .mysql(var s) = self else { return self }
        s.password = ""
        return .mysql(s)
    }
}
