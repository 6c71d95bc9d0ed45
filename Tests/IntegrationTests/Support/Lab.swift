import Foundation
import Shared
import TestSupport

/// Two real `lockstep-agent serve` processes on loopback with a fresh token, and a way to run
/// the real `lockstep` CLI against them.
struct Lab {
    let scratch = Scratch()
    let tokenPath: String
    let sut: AgentProcess
    let peer: AgentProcess

    init() throws {
        tokenPath = try scratch.token().path
        sut = try AgentProcess(
            name: "sut", tokenPath: tokenPath, scratch: scratch, extra: ["--log-dir", scratch.path + "/logs"])
        peer = try AgentProcess(
            name: "peer", tokenPath: tokenPath, scratch: scratch, extra: ["--log-dir", scratch.path + "/logs"])
    }

    /// `lockstep rr` against the lab's agents.
    func rr(_ extra: [String], out: String, label: String = "coordinator") throws -> ChildProcess {
        try command("rr", extra, out: out, label: label)
    }

    /// `lockstep <workload> --resume DIR` against the lab's agents.
    func resume(_ extra: [String], dir: String, workload: String = "rr", label: String = "resumed") throws
        -> ChildProcess
    {
        try ChildProcess(
            Binaries.coordinator,
            [
                workload, "--sut", sut.endpoint.description, "--peer", peer.endpoint.description, "--token-file",
                tokenPath, "--resume", dir,
            ] + extra,
            scratch: scratch, label: label)
    }

    /// `lockstep <workload>` against the lab's agents.
    func command(_ workload: String, _ extra: [String], out: String, label: String = "coordinator") throws
        -> ChildProcess
    {
        try ChildProcess(
            Binaries.coordinator,
            [
                workload, "--sut", sut.endpoint.description, "--peer", peer.endpoint.description,
                "--token-file", tokenPath, "--out", out,
            ] + extra,
            scratch: scratch, label: label)
    }
}
