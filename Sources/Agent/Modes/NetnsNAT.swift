import Foundation
import Shared

/// `netns-nat`: a guest agent in a network namespace behind a bridge, reached through the data path
/// Docker installs for published ports (DNAT of each published port to the guest, MASQUERADE of the
/// guest subnet and of local sources, FORWARD accepts, conntrack), in one nft table of lockstep's
/// own. Locally generated traffic (a peer on this host) takes DNAT in the output hook, with
/// `route_localnet` on the bridge, as Docker does with its userland proxy off. No container engine.
enum NetnsNAT: ModeLauncher {
    static let mode = DeploymentMode.netnsNAT

    static func problems(_ place: Place, launch: GuestLaunch) -> [String] {
        var out: [String] = []
        if !HostCommand.hasNetAdmin {
            out.append("netns-nat needs root or CAP_NET_ADMIN on the SUT host: run the agent as root")
        }
        if Executable.find("ip") == nil { out.append("netns-nat needs ip: apt-get install iproute2") }
        if Executable.find("nft") == nil {
            out.append("netns-nat needs nft: apt-get install nftables")
        } else if HostCommand.hasNetAdmin, HostCommand.attempt("nft", ["list", "tables"]) != nil {
            out.append("netns-nat needs a usable nft (nf_tables in the kernel): `nft list tables` fails")
        }
        if Executable.find("sysctl") == nil { out.append("netns-nat needs sysctl: apt-get install procps") }
        return out
    }

    static func place(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup
    ) throws -> PlacedGuest {
        let n = GuestRecord.names(record.id)
        let octet = try GuestSubnet.freeOctet(for: mode)
        let subnet = "198.18.\(octet)"
        let guest = "\(subnet).2"
        let ports = GuestPorts(base: place.portBase)
        record.netns = n.netns
        record.links = [n.bridge, n.vethHost]
        record.nftTable = n.table
        journal.write(record)

        _ = try setup.run("ip", ["netns", "add", n.netns])
        _ = try setup.run("ip", ["link", "add", n.bridge, "type", "bridge"])
        _ = try setup.run("ip", ["addr", "add", "\(subnet).1/24", "dev", n.bridge])
        _ = try setup.run("ip", ["link", "set", n.bridge, "up"])
        _ = try setup.run("ip", ["link", "add", n.vethHost, "type", "veth", "peer", "name", n.vethGuest])
        _ = try setup.run("ip", ["link", "set", n.vethHost, "master", n.bridge, "up"])
        _ = try setup.run("ip", ["link", "set", n.vethGuest, "netns", n.netns])
        _ = try setup.run("ip", ["-n", n.netns, "addr", "add", "\(guest)/24", "dev", n.vethGuest])
        _ = try setup.run("ip", ["-n", n.netns, "link", "set", n.vethGuest, "up"])
        _ = try setup.run("ip", ["-n", n.netns, "link", "set", "lo", "up"])
        _ = try setup.run("ip", ["-n", n.netns, "route", "add", "default", "via", "\(subnet).1"])
        _ = try setup.run("sysctl", ["-qw", "net.ipv4.conf.\(n.bridge).route_localnet=1"])
        setup.ipForwardBefore = try journal.enableForwarding()
        setup.commands.append("sysctl -qw net.ipv4.ip_forward=1")

        // Held for the guest's life, so no other socket here gets one of these ports meanwhile.
        let reserved = try PortReservation(count: ports.all.count, udp: ports.udpIndices)
        let published = zip(ports.all, reserved.ports).map { PortMapping(guestPort: $0, hostPort: $1) }
        let rules = ruleset(
            table: n.table, bridge: n.bridge, subnet: subnet, guest: guest, published: published,
            udp: Array(ports.udp).sorted())
        _ = try setup.run("nft", ["-f", "-"], input: rules)
        setup.rules = rules
        setup.guestAddress = guest

        let arguments =
            ["netns", "exec", n.netns, launch.agentPath]
            + launch.serveArguments(listen: "\(guest):\(ports.control)", tokenPath: launch.tokenPath, mode: mode)
        setup.commands.append(HostCommand.describe("ip", arguments))
        let process = try ServerProcess.start(
            "ip", arguments, cpus: nil, logPath: "\(launch.stateDirectory)/guest-\(record.id).log")
        record.guestPID = process.pid
        record.guestStart = GuestRecord.startTime(process.pid)
        journal.write(record)
        return PlacedGuest(
            placed: Placed(
                mode: mode, guestPorts: ports, published: published, guestBindHost: guest, setup: setup),
            process: process, controlFromHost: Endpoint(host: guest, port: ports.control), reserved: reserved)
    }

    /// Docker's published-port data path in one table: DNAT (prerouting for traffic from other hosts,
    /// output for this host's own), MASQUERADE, FORWARD accepts. Counters tell which path a step took.
    static func ruleset(
        table: String, bridge: String, subnet: String, guest: String, published: [PortMapping], udp: [Int]
    ) -> String {
        var dnat: [String] = []
        for p in published {
            dnat.append("fib daddr type local tcp dport \(p.hostPort) counter dnat to \(guest):\(p.guestPort)")
            if udp.contains(p.guestPort) {
                dnat.append("fib daddr type local udp dport \(p.hostPort) counter dnat to \(guest):\(p.guestPort)")
            }
        }
        let rules = dnat.map { "    \($0)" }.joined(separator: "\n")
        return """
            table ip \(table) {
              chain pre {
                type nat hook prerouting priority dstnat; policy accept;
            \(rules)
              }
              chain out {
                type nat hook output priority -100; policy accept;
            \(rules)
              }
              chain post {
                type nat hook postrouting priority srcnat; policy accept;
                ip saddr \(subnet).0/24 oifname != "\(bridge)" masquerade
                oifname "\(bridge)" fib saddr type local masquerade
              }
              chain forwarding {
                type filter hook forward priority 0; policy accept;
                ct state established,related accept
                ip daddr \(guest) accept
              }
            }

            """
    }
}
