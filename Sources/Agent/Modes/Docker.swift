import Foundation
import Shared

/// The Docker engine, through its CLI: the engine `DOCKER_HOST` names in the host agent's
/// environment, else the default socket. The CLI rather than the engine API because it is what
/// users run by hand, its errors are already one line, and it needs no HTTP client in the agent.
enum Docker {
    /// The image the container modes use unless `--image` names another.
    static var defaultImage: String { "lockstep-agent:\(LockstepVersion.current)" }

    /// The engine this agent talks to.
    static var engineHost: String? { ProcessInfo.processInfo.environment["DOCKER_HOST"] }

    @discardableResult
    static func run(_ arguments: [String], dockerHost: String? = engineHost, setup: inout ModeSetup) throws -> String {
        setup.commands.append(HostCommand.describe("docker", arguments))
        return try run(arguments, dockerHost: dockerHost)
    }

    @discardableResult
    static func run(_ arguments: [String], dockerHost: String? = engineHost, timeout: Double = 120) throws -> String {
        try HostCommand.run(
            "docker", arguments, timeoutSeconds: timeout, environment: dockerHost.map { ["DOCKER_HOST": $0] } ?? [:])
    }

    static func attempt(_ arguments: [String], dockerHost: String?) -> String? {
        HostCommand.attempt("docker", arguments, environment: dockerHost.map { ["DOCKER_HOST": $0] } ?? [:])
    }

    /// What is missing for a container mode with `image`.
    static func problems(image: String, mode: DeploymentMode) -> [String] {
        guard Executable.find("docker") != nil else {
            return ["\(mode.rawValue) needs the docker CLI and engine: apt-get install docker.io, then start dockerd"]
        }
        if let problem = attempt(["info", "--format", "{{.ServerVersion}}"], dockerHost: engineHost) {
            return [
                "\(mode.rawValue) needs a running Docker engine (DOCKER_HOST=\(engineHost ?? "default socket")): "
                    + (problem.split(separator: "\n").first.map(String.init) ?? problem)
            ]
        }
        if attempt(["image", "inspect", "--format", "{{.Id}}", image], dockerHost: engineHost) != nil {
            return [
                "\(mode.rawValue) needs the image \(image): build it on the SUT host with `lockstep-agent image build`"
                    + (image == defaultImage ? "" : " --tag \(image)")
            ]
        }
        return []
    }

    /// Runs the guest agent's container; `network` is `--network host` or `-p` flags.
    static func startGuest(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup, network: [String], listen: String
    ) throws -> String {
        let image = place.image ?? defaultImage
        let name = "lockstep-\(record.id)"
        let cidFile = "\(journal.directory)/lockstep-\(record.id).cid"
        try? FileManager.default.removeItem(atPath: cidFile)  // docker run refuses a cidfile that exists
        record.container = name
        record.cidFile = cidFile
        record.dockerHost = engineHost
        journal.write(record)
        var flags =
            ["run", "-d", "--name", name, "--label", "lockstep.id=\(record.id)", "--cidfile", cidFile] + network
        if let cpus = place.cpus {
            let list = cpus.map(String.init).joined(separator: ",")
            flags += ["--cpuset-cpus", list]
            setup.cpuset = list
        }
        if let quota = place.containerCPUs {
            flags += ["--cpus", String(quota)]
            setup.cpuQuota = String(quota)
        }
        // OpenMPI's ranks share memory through /dev/shm, which Docker caps at 64 MiB by default.
        flags += ["--shm-size", "1g"]
        flags += ["-v", "\(launch.tokenPath):/lockstep/token:ro"]
        var extra: [String] = []
        switch place.storage {
        case .volume:
            let volume = "\(place.storageDir ?? launch.stateDirectory)/lockstep-volume-\(record.id)"
            record.folders.append(volume)
            journal.write(record)
            try FileManager.default.createDirectory(atPath: volume, withIntermediateDirectories: true)
            flags += ["-v", "\(volume):/lockstep/data"]
            extra = ["--data-dir", "/lockstep/data"]
            setup.storage = "volume \(volume)"
            setup.storageLabels = ["storage": "volume"]
        case .layered:
            // The guest's data then lives in its own state folder, inside the container's overlay.
            setup.storage = "layered"
            setup.storageLabels = ["storage": "layered"]
        }
        flags += [image, "/lockstep-agent"]
        flags += launch.serveArguments(listen: listen, tokenPath: "/lockstep/token", mode: record.mode, extra: extra)
        let id = try run(flags, setup: &setup).trimmingCharacters(in: .whitespacesAndNewlines)
        setup.containerID = id
        setup.imageID = (try? run(["image", "inspect", "--format", "{{.Id}}", image]))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        return id
    }
}

/// A container mode: its prerequisites are Docker's and its image's.
protocol DockerMode: ModeLauncher {}

extension DockerMode {
    static func problems(_ place: Place, launch: GuestLaunch) -> [String] {
        Docker.problems(image: place.image ?? Docker.defaultImage, mode: mode)
    }
}

/// `docker-host`: the guest agent in a container with `--network host`; its ports are free ports
/// of the host, nothing is published.
enum DockerHost: DockerMode {
    static let mode = DeploymentMode.dockerHost

    static func place(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup
    ) throws -> PlacedGuest {
        // Free for TCP and UDP (the guest binds them itself, for UDP too where a workload's shape says
        // so); released at once for the guest to bind.
        let free = try PortReservation(count: GuestPorts.slots + 1, udp: Set(0...GuestPorts.slots)).ports
        let ports = GuestPorts(control: free[0], data: Array(free.dropFirst()))
        _ = try Docker.startGuest(
            place, launch: launch, journal: journal, record: &record, setup: &setup, network: ["--network", "host"],
            listen: "0.0.0.0:\(ports.control)")
        return PlacedGuest(
            placed: Placed(mode: mode, guestPorts: ports, setup: setup), process: nil,
            controlFromHost: Endpoint(host: "127.0.0.1", port: ports.control))
    }
}

/// `docker-nat`: the guest agent in a container on Docker's default bridge, its control port and
/// every data port published (TCP, and UDP for RR), as `docker run -p` does.
enum DockerNAT: DockerMode {
    static let mode = DeploymentMode.dockerNAT

    static func place(
        _ place: Place, launch: GuestLaunch, journal: PlacementJournal, record: inout GuestRecord,
        setup: inout ModeSetup
    ) throws -> PlacedGuest {
        let ports = GuestPorts(base: place.portBase)
        // Free for TCP, and for UDP where it is published for UDP too (a port free for TCP can be
        // taken for UDP: docker-proxy then fails with "address already in use"); released at once
        // for docker-proxy to bind.
        let hostPorts = try PortReservation(count: ports.all.count, udp: ports.udpIndices).ports
        var published: [PortMapping] = []
        var flags: [String] = []
        for (port, host) in zip(ports.all, hostPorts) {
            published.append(PortMapping(guestPort: port, hostPort: host))
            flags += ["-p", "\(host):\(port)/tcp"]
            if ports.udp.contains(port) { flags += ["-p", "\(host):\(port)/udp"] }
        }
        let id = try Docker.startGuest(
            place, launch: launch, journal: journal, record: &record, setup: &setup, network: flags,
            listen: "0.0.0.0:\(ports.control)")
        let address = try Docker.run(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", id])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        setup.guestAddress = address
        return PlacedGuest(
            placed: Placed(mode: mode, guestPorts: ports, published: published, guestBindHost: "0.0.0.0", setup: setup),
            process: nil, controlFromHost: Endpoint(host: address.isEmpty ? "127.0.0.1" : address, port: ports.control))
    }
}
