import ArgumentParser
import Foundation
import Shared
import Yams

/// A plan file (YAML): experiments of any workload, the modes, the repetition and confidence rule and
/// the order; what `lockstep run` runs. An experiment's keys are its workload command's options
/// without the dashes; a list is a sweep: one cell per value (per combination, for several lists).
///
/// ```yaml
/// modes: [native, netns-nat]
/// repetitions: {min: 3, max: 10}
/// confidence: {level: 99, width: 5}   # full interval within 5% of the mean at 99%
/// order: shuffle                      # or sequential
/// seed: 1
/// cooldown: 1s                        # optional pause between steps
/// experiments:
///   - rr: {protocol: [tcp, udp], request: 100, response: 200, duration: 3s}
///   - redis: {connections: [1, 16], pipeline: 10, duration: 3s}
/// ```
struct PlanFile: Sendable {
    /// One cell: a workload at one point in one mode, repeated by the rule.
    struct Cell: Sendable, Equatable {
        var id: String
        var step: PlannedStep
    }

    var path: String
    /// The plan's text as read (copied into the results directory).
    var text: String
    var rule: RepetitionRule
    var cells: [Cell]
    /// Run-wide placement settings (`image`, `storage`, `storage-dir`, `guest-ports`, and the kvm
    /// guest's `vm-image`, `vm-cpus`, `vm-memory`, `accel`, ...), parsed by the workload commands' own
    /// options.
    var runWide = PlacementOptions()
    /// The kvm guest's settings.
    var vm: VMSettings { (try? runWide.vmSettings()) ?? VMSettings() }
    /// The container modes' image, if the plan names one.
    var image: String? { runWide.image }

    /// The workloads an experiment may name: every registered workload whose coordinator side
    /// gives its command's options (`WorkloadMetrics.options`).
    static var workloads: [ExperimentParser] {
        WorkloadRegistry.all.compactMap { ($0 as? any WorkloadMetrics.Type)?.options.map(ExperimentParser.of) }
    }

    /// One workload's experiment parser: its name and its options' parser.
    struct ExperimentParser: Sendable {
        let name: String
        let steps: @Sendable ([String]) throws -> [PlannedStep]
        let message: @Sendable (Error) -> String

        static func of(_ type: any WorkloadOptions.Type) -> ExperimentParser { make(type) }

        private static func make<T: WorkloadOptions>(_ type: T.Type) -> ExperimentParser {
            ExperimentParser(name: T.name, steps: { try T.parse($0).steps() }, message: { T.message(for: $0) })
        }
    }

    /// The kvm guest's run-wide keys: the workload commands' options of the same names.
    static let vmKeys = [
        "vm-image", "vm-cpus", "vm-memory", "accel", "vm-disk", "vm-disk-size", "vm-disk-format", "vm-disk-cache",
        "vm-disk-aio", "vm-hugepages", "vm-bridge", "vm-address", "vm-gateway", "vm-cpu-model", "vm-topology",
    ]

    /// Run-wide placement keys, parsed by the workload commands' own ``PlacementOptions``; an
    /// experiment may not set them.
    static let runWideKeys =
        ["image", "storage", "mysql-storage", "storage-dir", "guest-ports", "container-cpus"] + vmKeys

    /// Run-wide keys an experiment may set for its own cells (a plan's storage axis, and a kvm
    /// guest's CPU model and topology: the tuned/untuned pair).
    static let perExperiment: Set<String> = ["storage", "mysql-storage", "vm-cpu-model", "vm-topology"]

    /// The rule's and the order's keys.
    private static let ruleKeys = ["repetitions", "confidence", "order", "seed", "cooldown"]

    /// Reads and checks a plan: every problem is one line with the file, line and column.
    /// `scale` multiplies windows and table sizes; `seed` replaces the plan's.
    static func load(_ path: String, scale: Double? = nil, seed: UInt64? = nil) throws -> PlanFile {
        let file = YAMLReader(path: path, code: .planFile)
        let (text, root) = try file.read()
        return try parse(file, text: text, root: root, scale: scale, seed: seed, parsers: .standard)
    }

    /// Reads and checks `text` as the plan at `path` (see ``load(_:scale:seed:)``; the path only names
    /// the plan in errors and anchors its relative paths). `parsers` read the option lists (the
    /// fuzzer passes memoizing ones).
    static func parse(
        _ text: String, path: String, scale: Double? = nil, seed: UInt64? = nil, parsers: Parsers = .standard
    ) throws -> PlanFile {
        let file = YAMLReader(path: path, code: .planFile)
        return try parse(file, text: text, root: try file.root(text), scale: scale, seed: seed, parsers: parsers)
    }

    /// What reads a plan's option lists: the experiments' workload commands and the run-wide
    /// placement options (ArgumentParser's, ~200 us a list).
    struct Parsers: Sendable {
        var workloads: [ExperimentParser]
        var placement: @Sendable ([String]) throws -> PlacementOptions

        /// The commands' own parsers.
        static var standard: Parsers {
            Parsers(workloads: PlanFile.workloads, placement: { try PlacementOptions.parse($0) })
        }
    }

    private static func parse(
        _ file: YAMLReader, text: String, root: Node, scale: Double?, seed: UInt64?, parsers: Parsers
    ) throws -> PlanFile {
        let path = file.path
        let top = try file.mapping(root, "the plan", keys: Set(["modes", "experiments"] + ruleKeys + runWideKeys))
        let reader = Reader(file: file, parsers: parsers)
        var rule = try reader.rule(top)
        if let seed { rule.seed = seed }
        let placement = try reader.placement(top, root: root)
        var plan = PlanFile(path: path, text: text, rule: rule, cells: [])
        plan.runWide = placement

        guard let experiments = top["experiments"] else { throw file.error(root, "missing `experiments`") }
        var steps: [PlannedStep] = []
        for experiment in try reader.list(experiments, "experiments") {
            steps += try reader.experiment(experiment, modes: placement.mode.values)
        }
        if steps.isEmpty { throw file.error(experiments, "`experiments` lists nothing to run") }
        // The storage folder is run-wide in a plan, and each step's in its placement (native's data).
        steps = steps.map { step in
            var step = step
            step.placement.storageDir = placement.storageDir
            return step
        }
        if let scale {
            guard scale > 0, scale <= 100 else { throw FileError.plan("--scale must be above 0, got \(scale)") }
            steps = steps.map { $0.scaled(by: scale) }
        }
        plan.cells = Self.cells(Self.sharingOnePassword(steps))
        for (i, cell) in plan.cells.enumerated() {
            if let earlier = plan.cells[..<i].first(where: { $0.step == cell.step }) {
                throw file.error(experiments, "cells \(earlier.id) and \(cell.id) run the same step")
            }
        }
        return plan
    }

    /// Cell ids: the step's name and mode (`rr-tcp-native`), numbered where two would be equal.
    static func cells(_ steps: [PlannedStep]) -> [Cell] {
        var seen: [String: Int] = [:]
        return steps.map { step in
            // A container cell names its storage when the step sets one (a plan's storage axis).
            let storage = [.dockerHost, .dockerNAT].contains(step.placement.mode) ? step.placement.storage : nil
            var base = "\(step.stepName)-\(step.placement.mode.rawValue)" + (storage.map { "-\($0.rawValue)" } ?? "")
            // A kvm cell names the guest's CPU model and topology when the step sets them (tuned/untuned).
            if step.placement.mode == .kvm {
                if let model = step.placement.vmCPUModel { base += "-cpu-\(model.rawValue)" }
                if let topology = step.placement.vmTopology { base += "-\(topology)" }
            }
            seen[base, default: 0] += 1
            let n = seen[base]!
            return Cell(id: n == 1 ? base : "\(base)-\(n)", step: step)
        }
    }

    /// One made-up password for every MySQL cell of the plan (each experiment made its own).
    private static func sharingOnePassword(_ steps: [PlannedStep]) -> [PlannedStep] {
        var password: String?
        return steps.map { step in
            guard var spec = step.workload.spec(MySQLSpec.self), spec.server.external == nil else { return step }
            password = password ?? spec.password
            spec.password = password!
            var copy = step
            copy.workload = Workload(spec)
            return copy
        }
    }

    /// The plan-specific readers.
    private struct Reader {
        let file: YAMLReader
        let parsers: Parsers

        /// The repetition and confidence rule and the order (`repetitions`, `confidence`, `order`,
        /// `seed`, `cooldown`).
        func rule(_ top: [String: Node]) throws -> RepetitionRule {
            var rule = RepetitionRule(
                minimum: 1, maximum: 1, level: 0.95, widthPercent: 5, shuffle: true, seed: 1, cooldownNs: 0)
            if let node = top["repetitions"] {
                let r = try file.mapping(node, "`repetitions`", keys: ["min", "max"])
                rule.minimum = try integer(r, "min", in: node, range: 1...1000) ?? 1
                rule.maximum = try integer(r, "max", in: node, range: 1...1000) ?? rule.minimum
                if rule.maximum < rule.minimum {
                    throw file.error(node, "repetitions: max (\(rule.maximum)) is below min (\(rule.minimum))")
                }
            }
            if let node = top["confidence"] {
                let c = try file.mapping(node, "`confidence`", keys: ["level", "width"])
                if let level = try integer(c, "level", in: node, range: 0...100) {
                    guard level == 95 || level == 99 else {
                        throw file.error(c["level"]!, "level must be 95 or 99, got \(level)")
                    }
                    rule.level = Double(level) / 100
                }
                if let widthNode = c["width"] {
                    guard let width = widthNode.float ?? widthNode.int.map(Double.init), width > 0, width <= 100 else {
                        throw file.error(widthNode, "width must be a percentage above 0 and at most 100")
                    }
                    rule.widthPercent = width
                }
            }
            try order(top, into: &rule)
            return rule
        }

        private func order(_ top: [String: Node], into rule: inout RepetitionRule) throws {
            if let node = top["order"] {
                switch node.string {
                case "shuffle": rule.shuffle = true
                case "sequential": rule.shuffle = false
                default: throw file.error(node, "order must be shuffle or sequential, got '\(node.string ?? "?")'")
                }
            }
            if let node = top["seed"] {
                guard let text = node.string, let value = UInt64(text) else {
                    throw file.error(node, "seed must be a non-negative integer")
                }
                rule.seed = value
            }
            if let node = top["cooldown"] {
                guard let text = node.string, let d = DurationArgument(argument: text), d.nanoseconds >= 0 else {
                    throw file.error(node, "cooldown must be a duration (2s, 500ms)")
                }
                rule.cooldownNs = d.nanoseconds
            }
        }

        /// `modes` and the run-wide placement keys, parsed by the workload commands' own
        /// ``PlacementOptions`` (one key at a time first, so an error points at its line).
        func placement(_ top: [String: Node], root: Node) throws -> PlacementOptions {
            var arguments: [String] = []
            if let node = top["modes"] {
                let modes = try list(node, "modes")
                if modes.isEmpty { throw file.error(node, "`modes` lists no mode") }
                for item in modes where item.string.flatMap(DeploymentMode.init(rawValue:)) == nil {
                    throw file.error(
                        item,
                        "unknown mode '\(item.string ?? "?")' (known: \(DeploymentMode.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                arguments += try checked(node, ["--mode=" + modes.compactMap(\.string).joined(separator: ",")])
            }
            for key in PlanFile.runWideKeys {
                guard let node = top[key] else { continue }
                if key == "vm-hugepages" {
                    guard let on = node.bool else { throw file.error(node, "vm-hugepages must be true or false") }
                    arguments += on ? ["--vm-hugepages"] : []
                    continue
                }
                arguments += try checked(node, ["--\(key)=\(try scalar(node, key))"])
            }
            let options = try parsers.placement(arguments)
            do {
                _ = try options.placement()
            } catch {
                throw file.error(root, PlanFile.Reader.planSpelling(PlacementOptions.message(for: error)))
            }
            return options
        }

        /// Keys checked only together with the others (each is valid only beside another).
        private static let checkedTogether = ["--vm-disk-aio", "--vm-bridge", "--vm-address"]

        /// `arguments` once they parse and check as placement options; else the error at `node`.
        private func checked(_ node: Node, _ arguments: [String]) throws -> [String] {
            do {
                let options = try parsers.placement(arguments)
                if !Self.checkedTogether.contains(where: { arguments.first?.hasPrefix($0) == true }) {
                    _ = try options.placement()
                }
                return arguments
            } catch {
                let message = PlacementOptions.message(for: error).replacingOccurrences(of: "--mode", with: "`modes`")
                throw file.error(node, PlanFile.Reader.planSpelling(message))
            }
        }

        func list(_ node: Node, _ what: String) throws -> [Node] {
            if let sequence = node.sequence { return Array(sequence) }
            throw file.error(node, "`\(what)` must be a list")
        }

        func scalar(_ node: Node, _ what: String) throws -> String {
            guard let text = node.scalar?.string, !text.isEmpty else {
                throw file.error(node, "`\(what)` must be a single value")
            }
            return text
        }

        func integer(_ map: [String: Node], _ key: String, in parent: Node, range: ClosedRange<Int>) throws -> Int? {
            guard let node = map[key] else { return nil }
            guard let value = node.int, range.contains(value) else {
                throw file.error(node, "\(key) must be an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }

        /// An experiment's cells: `WORKLOAD: {option: value, ...}` parsed by the workload's own
        /// options, once per combination of its lists, each mode a cell of its own.
        func experiment(_ node: Node, modes: [DeploymentMode]) throws -> [PlannedStep] {
            let entries = try file.orderedMapping(node, "an experiment", keys: nil)
            guard entries.count == 1, let (name, nameNode, body) = entries.first.map({ ($0.key, $0.keyNode, $0.value) })
            else {
                throw file.error(node, "an experiment is one workload and its options, e.g. `- rr: {protocol: tcp}`")
            }
            guard let type = parsers.workloads.first(where: { $0.name == name }) else {
                throw file.error(
                    nameNode,
                    "unknown workload '\(name)' (known: \(parsers.workloads.map(\.name).joined(separator: ", ")))")
            }
            let options = body.null != nil ? [] : try file.orderedMapping(body, "`\(name)`", keys: nil)
            // Each key becomes its option; a list becomes one value per cell.
            var axes: [(key: String, node: Node, values: [Node])] = []
            for (key, keyNode, value) in options {
                if PlanFile.runWideKeys.contains(key) && !PlanFile.perExperiment.contains(key) {
                    throw file.error(keyNode, "\(key) is set for the whole plan: put it at the top level")
                }
                if key.hasPrefix("-") { throw file.error(keyNode, "write option names without dashes: '\(key)'") }
                let values = value.sequence.map(Array.init) ?? [value]
                if values.isEmpty { throw file.error(value, "`\(key)` lists no value") }
                for v in values where v.scalar == nil {
                    throw file.error(v, "`\(key)` takes a value or a list of values")
                }
                axes.append((key, keyNode, values))
            }
            if !axes.contains(where: { $0.key == "mode" }) {
                axes.append(("mode", node, modes.map { Node($0.rawValue) }))
            }
            var steps: [PlannedStep] = []
            for combination in Self.combinations(axes.map(\.values)) {
                var arguments: [String] = []
                for (axis, value) in zip(axes, combination) {
                    // A boolean is a flag: present for true, absent for false.
                    if let flag = value.bool,
                        value.string.map({ ["true", "false"].contains($0.lowercased()) }) ?? false
                    {
                        if flag { arguments.append("--\(axis.key)") }
                    } else {
                        // `--key=value`, so a value with a leading dash stays a value.
                        arguments.append("--\(axis.key)=\(value.string ?? "")")
                    }
                }
                do {
                    steps += try type.steps(arguments)
                } catch let error as any LockstepError {
                    throw file.error(nameNode, "\(name): \(error.message)")
                } catch {
                    let message = type.message(error)
                    let at = axes.first {
                        message.contains("'--\($0.key)'") || message.contains("'--\($0.key) ")
                            || message.contains("--\($0.key)=")
                    }
                    throw file.error(at?.node ?? nameNode, "\(name): \(Self.planSpelling(message))")
                }
            }
            return steps
        }

        /// An option parser's message in the plan's terms: option names without their dashes.
        static func planSpelling(_ message: String) -> String {
            let line = message.split(separator: "\n").first.map(String.init) ?? message
            return line.replacingOccurrences(of: "Unknown option '--", with: "unknown option '")
                .replacingOccurrences(of: "Error: ", with: "").replacingOccurrences(of: "'--", with: "'")
        }

        /// Every combination of one value from each list, the first list varying slowest.
        static func combinations(_ lists: [[Node]]) -> [[Node]] {
            lists.reduce([[]]) { partial, list in partial.flatMap { prefix in list.map { prefix + [$0] } } }
        }
    }
}

extension PlannedStep {
    /// The step with its windows and its workload's data (MySQL's table, fio's file) scaled by
    /// `factor`: `--scale 0.1` for a laptop. Windows stay at least 1 s with 0.2 s of warm-up.
    func scaled(by factor: Double) -> PlannedStep {
        var copy = self
        copy.timing.durationNs = max(Int64(Double(timing.durationNs) * factor), 1_000_000_000)
        copy.timing.warmupNs = max(Int64(Double(timing.warmupNs) * factor), min(timing.warmupNs, 200_000_000))
        copy.workload = workload.type.scaledWorkload(workload.spec, by: factor)
        return copy
    }
}
