/// The container image file, as shipped in `deploy/container/Containerfile` (a test checks they are
/// the same): `lockstep-agent image build` writes it into the build context beside the agent's tree.
enum ContainerImage {
    static let file = """
        # The lockstep agent's container image: FROM scratch, the agent and what it starts (busybox as the
        # shell, redis-server, MariaDB's server) with every shared library `ldd` lists, all from the SUT
        # machine's own files; no registry, no base image. The container modes (docker-host, docker-nat)
        # and the Kubernetes DaemonSets (deploy/kubernetes) run this image.
        #
        # Build it offline on the machine that runs it:
        #   lockstep-agent image build                      # assembles the tree, then `docker build` (tag lockstep-agent:VERSION)
        # or assemble the build context and build it with any engine:
        #   lockstep-agent image build --context DIR        # the tree plus this file; no engine needed
        #   docker build -t lockstep-agent:0.1.0 DIR        # or: podman build / buildah bud
        # Build with a statically linked agent (swift build -c release --static-swift-stdlib) for a small image:
        #   lockstep-agent image build --agent .build/release/lockstep-agent
        FROM scratch
        COPY . /
        ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        WORKDIR /
        # The control port (TCP) and its clock probes (UDP); the guest modes' data ports follow it.
        EXPOSE 7470/tcp 7470/udp 7471/tcp 7471/udp 7472/tcp 7473/tcp 7474/tcp
        CMD ["/lockstep-agent", "serve", "--listen", "0.0.0.0:7470", "--token-file", "/lockstep/token", "--name", "agent"]
        """

    /// Kept out of the image: the file itself.
    static let ignore = "Containerfile\n.dockerignore\n"
}
