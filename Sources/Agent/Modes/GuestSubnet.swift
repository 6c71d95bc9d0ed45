import Shared

/// The private /24 a guest of lockstep's own bridge lives on: 198.18.X.0/24 with X in 100...249
/// (inside RFC 2544's benchmarking range), one that no interface and no route here uses yet.
enum GuestSubnet {
    /// A free third octet, or a `mode-failed` error naming `mode`.
    static func freeOctet(for mode: DeploymentMode) throws -> Int {
        let addresses = (try? HostCommand.run("ip", ["-o", "-4", "addr", "show"])) ?? ""
        let routes = (try? HostCommand.run("ip", ["-4", "route", "show"])) ?? ""
        for _ in 0..<64 {
            let octet = Int.random(in: 100...249)
            let prefix = "198.18.\(octet)."
            if !addresses.contains(prefix) && !routes.contains(prefix) { return octet }
        }
        throw WireError(.modeFailed, "no free /24 in 198.18.100-249.0 for a \(mode.rawValue) guest")
    }
}
