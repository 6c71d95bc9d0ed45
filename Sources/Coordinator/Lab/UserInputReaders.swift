import Foundation
import Shared
import Synchronization

/// The coordinator's readers of what users and clusters hand it (a plan, a lab file, kubectl's pod
/// list), callable from outside the module: the fuzzer feeds them arbitrary bytes. Each either
/// returns or throws one ``LockstepError`` whose message is one line (what the CLI prints).
package enum UserInputReaders {
    /// Reads `text` as a plan named `path`; returns its cell count. With `memoized`, an option list
    /// seen before (an experiment's, or run-wide placement keys) gets its earlier result or error
    /// back instead of a second parse by the command's options (a pure function that costs ~200 us
    /// in reflection per list: a fuzzer's mutants mostly repeat the lists of the parts they leave).
    package static func plan(_ text: String, path: String = "fuzz.yaml", memoized: Bool = false) throws -> Int {
        try PlanFile.parse(text, path: path, parsers: memoized ? Memo.parsers : .standard).cells.count
    }

    /// The memoizing parsers (bounded: each table cleared at 100000 entries).
    private enum Memo {
        static let steps = Mutex<[String: Result<[PlannedStep], any Error>]>([:])
        static let placements = Mutex<[String: Result<PlacementOptions, any Error>]>([:])

        static func remembered<T: Sendable>(
            _ table: borrowing Mutex<[String: Result<T, any Error>]>, _ key: [String], _ parse: () throws -> T
        ) throws -> T {
            let key = key.joined(separator: "\u{0}")
            if let known = table.withLock({ $0[key] }) { return try known.get() }
            let result = Result { try parse() }
            table.withLock {
                if $0.count >= 100_000 { $0.removeAll() }
                $0[key] = result
            }
            return try result.get()
        }

        static let parsers = PlanFile.Parsers(
            workloads: PlanFile.workloads.map { parser in
                PlanFile.ExperimentParser(
                    name: parser.name,
                    steps: { arguments in
                        try remembered(steps, [parser.name] + arguments) {
                            do { return try parser.steps(arguments) } catch let error as any LockstepError {
                                throw error
                            } catch {
                                // Formatting an option error builds the command's help: keep the line.
                                throw Formatted(message: parser.message(error))
                            }
                        }
                    }, message: { ($0 as? Formatted)?.message ?? parser.message($0) })
            },
            placement: { arguments in try remembered(placements, arguments) { try PlacementOptions.parse(arguments) } })

        /// An experiment's option error with its message already made.
        struct Formatted: Error {
            var message: String
        }
    }

    /// Reads `text` as a lab file named `path`; returns its host count.
    package static func lab(_ text: String, path: String = "fuzz-lab.yaml") throws -> Int {
        try LabFile.parse(text, path: path).hosts.count
    }

    /// Reads `json` as `kubectl get pods -o json` and writes the lab file for its agents, as
    /// `lockstep lab from-kubernetes` does; returns the agents found.
    package static func kubernetesPods(_ json: Data) throws -> Int {
        let (agents, _) = try KubernetesPods.agents(from: json)
        let text = try KubernetesPods.labFile(agents, tokenFile: "lab.token", source: "fuzz")
        // The lab file written for them must read back, as the same hosts.
        let hosts: [LabFile.Host]
        do { hosts = try LabFile.parse(text, path: "from-kubernetes.yaml").hosts } catch {
            preconditionFailure("the lab file written from kubectl's pods does not read: \(error)\n\(text)")
        }
        precondition(
            hosts.map(\.name) == agents.map(\.name) && hosts.map(\.control) == agents.map(\.control)
                && hosts.map(\.data) == agents.map(\.data) && hosts.map(\.role) == agents.map(\.role),
            "the lab file written from kubectl's pods does not read back as them:\n\(text)")
        return agents.count
    }
}
