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

/// A step's workload: any registered ``WorkloadType``'s spec. Encoded as one key, the workload's
/// name, holding its spec: `{"rr": {"proto": "tcp", ...}}`; decoding finds the type by that name in
/// ``WorkloadRegistry``.
package struct Workload: Codable, Equatable, Sendable {
    /// The parameters, whatever the workload.
    package let spec: any WorkloadSpec

    /// Wraps a spec.
    package init(_ spec: some WorkloadSpec) { self.spec = spec }

    /// Parameter problems, one line each.
    package func problems() -> [String] { spec.problems() }

    /// The workload's name: `rr`, `stream`, ...
    package var name: String { Swift.type(of: spec).kind }

    /// The workload's type, as registered.
    package var type: any WorkloadType.Type {
        guard let type = WorkloadRegistry.type(named: name) else {
            preconditionFailure("workload \(name) is not registered (WorkloadRegistry.register)")
        }
        return type
    }

    /// Who takes part and how the window ends.
    package var shape: WorkloadShape { type.shape }

    /// The spec as `S`, when it is one.
    package func spec<S: WorkloadSpec>(_: S.Type) -> S? { spec as? S }

    /// Equal when both are the same spec type with equal values.
    package static func == (a: Workload, b: Workload) -> Bool { a.spec.isEqual(b.spec) }

    /// `{"NAME": SPEC}`.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: NamedKey.self)
        try spec.encode(into: &container, key: NamedKey(stringValue: name))
    }

    /// Decodes the spec of the workload that `NAME` names in the registry.
    package init(from decoder: any Decoder) throws {
        let (container, key) = try NamedKey.single(in: decoder, "a workload")
        guard let type = WorkloadRegistry.type(named: key.stringValue) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "unknown workload '\(key.stringValue)'")
        }
        spec = try type.decodeSpec(from: container, key: key)
    }

    /// The workload without secrets (the MySQL password), as `run.json` records it.
    package var redacted: Workload { type.redact(spec) }

    /// What the peers split: flows, streams, connections or threads.
    package var loadUnits: Int { type.units(of: spec) }
}

extension WorkloadSpec {
    fileprivate func isEqual(_ other: any WorkloadSpec) -> Bool { (other as? Self) == self }

    fileprivate func encode<K: CodingKey>(into container: inout KeyedEncodingContainer<K>, key: K) throws {
        try container.encode(self, forKey: key)
    }
}

extension WorkloadType {
    fileprivate static func decodeSpec<K: CodingKey>(from container: KeyedDecodingContainer<K>, key: K) throws
        -> any WorkloadSpec
    {
        try container.decode(Spec.self, forKey: key)
    }

    fileprivate static func redact(_ spec: any WorkloadSpec) -> Workload {
        guard let own = spec as? Spec else { return Workload(spec) }
        return Workload(redacted(own))
    }

    fileprivate static func units(of spec: any WorkloadSpec) -> Int {
        (spec as? Spec).map { loadUnits(of: $0) } ?? 1
    }
}
