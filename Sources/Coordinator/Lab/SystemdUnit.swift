/// The agent's systemd unit: the one `lockstep agents deploy --systemd` installs (this host's paths,
/// address and name) and the one shipped as `deploy/systemd/lockstep-agent.service`, with the same
/// hardening. The agent runs as root because the deployment modes make network namespaces, links,
/// nft tables, taps and qemu guests; the unit takes away everything else.
enum SystemdUnit {
    /// The `[Service]` lines that confine the agent, each with why; `writable`: the agent's own
    /// folders (a test checks the shipped unit carries exactly these lines).
    static func hardening(writable: String) -> String {
        """
        # Hardening: root, but only with what the modes need.
        NoNewPrivileges=yes
        # The file system is read-only but for the agent's own folders (a step's --mysql-volume outside
        # them must be added here) and /run/netns, where `ip netns add` (netns-nat) pins namespaces.
        # The service has a mount namespace of its own: the namespaces it makes are visible to its
        # processes (and removed by them), not to `ip netns exec` from a shell on the host.
        ProtectSystem=strict
        ReadWritePaths=\(writable) -/run/netns
        ExecStartPre=+/bin/mkdir -p /run/netns
        PrivateTmp=yes
        ProtectHome=yes
        ProtectKernelModules=yes
        ProtectKernelLogs=yes
        ProtectClock=yes
        RestrictSUIDSGID=yes
        LockPersonality=yes
        # CAP_NET_ADMIN: links, bridges, taps, nft tables and net.* sysctls (netns-nat, kvm).
        # CAP_SYS_ADMIN: `ip netns add/exec` (unshare, setns and mounts for a namespace).
        # CAP_SYS_NICE: SCHED_FIFO for the synchronized start, and pinning qemu's vCPU threads.
        # CAP_PERFMON: system-wide cycle counters for cycles per byte, where the CPU has them.
        # /proc/sys stays writable (no ProtectKernelTunables: the modes set ip_forward and
        # route_localnet) and devices stay visible (no PrivateDevices: /dev/kvm, /dev/net/tun).
        CapabilityBoundingSet=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_NICE CAP_PERFMON
        AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_ADMIN CAP_SYS_NICE CAP_PERFMON
        RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK
        """
    }

    /// A unit for `binary`, serving on `listen` with `token`, its logs in `logDir`, its journal
    /// of placed guests in `stateDir` and its Prometheus metrics on `metrics`.
    static func text(
        comment: String, description: String, binary: String, listen: String, token: String, name: String,
        logDir: String, stateDir: String, writable: String, metrics: String, environment: [String] = [],
        directories: [String] = []
    ) -> String {
        """
        \(comment)
        [Unit]
        Description=\(description)
        After=network-online.target
        Wants=network-online.target

        [Service]
        \(environment.map { "Environment=\($0)\n" }.joined())\
        ExecStart=\(binary) serve --listen \(listen) --token-file \(token) --name \(name) --log-dir \(logDir) --state-dir \(stateDir) --metrics \(metrics)
        KillSignal=SIGTERM
        TimeoutStopSec=10
        Restart=on-failure
        LimitNOFILE=65536
        \(directories.map { "\($0)\n" }.joined())\
        \(hardening(writable: writable))

        [Install]
        WantedBy=multi-user.target

        """
    }
}
