import ArgumentParser
import Foundation
import Shared

/// `lockstep lab`: lab files from what a lab already runs.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab", abstract: "Make a lab file from what the lab already runs.",
        subcommands: [FromKubernetes.self])

    struct FromKubernetes: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "from-kubernetes",
            abstract: "Turn `kubectl get pods -o json` of lockstep's DaemonSets into a lab file.",
            discussion: """
                Pods labelled app.kubernetes.io/name=lockstep-agent and lockstep.io/role=sut|peer \
                (deploy/kubernetes) become hosts: control at the pod IP and its `control` port, data at \
                the pod IP or its lockstep.io/data-address annotation. Every workload command then takes --lab.
                """)

        @Argument(help: "The output of `kubectl -n lockstep get pods -o json`.")
        var pods: String

        @Option(help: "The lab file to write.")
        var out: String

        @Option(help: "The lab token file the lab file names (the Secret's token, saved locally; mode 0600).")
        var tokenFile: String = "lab.token"

        func run() throws {
            do {
                guard let data = FileManager.default.contents(atPath: pods) else {
                    throw FileError(.labFile, "cannot read \(pods)")
                }
                let (agents, skipped) = try KubernetesPods.agents(from: data)
                for line in skipped { FileHandle.standardError.write(Data("skipped \(line)\n".utf8)) }
                let text = try KubernetesPods.labFile(agents, tokenFile: tokenFile, source: pods)
                try text.write(toFile: out, atomically: true, encoding: .utf8)
                print(
                    "wrote \(out): \(agents.map { "\($0.name) (\($0.role.rawValue)) at \($0.control)" }.joined(separator: ", "))"
                )
            } catch let error as any LockstepError {
                CLI.fail(error)
            }
        }
    }
}
