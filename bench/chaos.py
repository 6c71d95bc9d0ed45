#!/usr/bin/env python3
"""A night of faults in N minutes: a plan of every workload in native, netns-nat and docker-nat (on a
dockerd of its own; DOCKER=0 leaves it out) and rr and redis in a kvm guest under TCG (KVM=0 leaves
it out) runs again and again on two local agents while a seeded schedule injects faults at random
moments. A run a fault ended is resumed with --resume once the fault is over; after each fault the
results folder is checked; at the end every run must be complete. Run by bench/chaos.sh (which
builds first); needs root (namespaces, nft, mounts).

Prints one line per fault, then a table: faults per kind, the median time from each fault to the next
finished step, and the invariants. Its last line:
  chaos: N faults of K kinds, steps lost N, leftovers N, invalid files N, agents answering A/A
"""
import atexit, json, os, random, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

MINUTES = float(sys.argv[1]) if len(sys.argv) > 1 else 3
SEED = int(sys.argv[2]) if len(sys.argv) > 2 else 1
BIN = os.environ["BIN"]
DOCKER = os.environ.get("DOCKER", "1" if shutil.which("dockerd") and shutil.which("docker") else "0") == "1"
KVM = os.environ.get("KVM", "1" if shutil.which("qemu-system-x86_64") else "0") == "1"
rng = random.Random(SEED)
WORK = tempfile.mkdtemp(prefix="lockstep-chaos.")
RESULTS = os.path.join(WORK, "results")  # a tmpfs of its own: the disk-full fault fills it
os.makedirs(RESULTS)
LOG = open(os.path.join(WORK, "coordinator.log"), "ab")


def sh(cmd, check=False):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, check=check)


def pids(pattern):
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def say(text):
    print(f"[{time.monotonic() - T0:7.1f}s] {text}", flush=True)


def leftovers():
    """What lockstep may leave on this host, as a set of names."""
    out = set()
    out |= {"netns " + l.split()[0] for l in sh("ip netns list").stdout.splitlines() if l.startswith("lockstep-")}
    # Docker's veth pairs too: one pair, both ends on the host, was once left after dockerd kills.
    out |= {"link " + l.split(":")[1].strip().split("@")[0] for l in sh("ip -o link").stdout.splitlines()
            if any(p in l.split(":")[1] for p in ("lsbr", "lsvh", "lstp", "veth"))}
    out |= {"nft " + l for l in sh("nft list tables").stdout.splitlines() if "lockstep_" in l}
    if DOCKER and ENGINE and ENGINE.up():
        out |= {"container " + l for l in ENGINE.docker("ps -a --format '{{.Names}}'").stdout.split()
                if l.startswith("lockstep")}
    # A container's `runc init` or shim that outlives its engine (dockerd killed while it created
    # the container) holds the container's address: counted too.
    for name in ("qemu-system", "redis-server", "mariadbd", "runc init", "containerd-shim"):
        out |= {f"process {name} {p}" for p in pids(name)}
    return out


class Engine:
    """A dockerd of our own (no systemd here), everything under WORK; stopping it removes what dockerd
    leaves (docker0, the nat and filter tables it made, ip_forward), never a table that was there.

    Its containerd runs beside it, as Debian's docker.service and containerd.service run them
    (`dockerd --containerd=/run/containerd/containerd.sock`), so killing dockerd leaves containerd
    alive. A dockerd started without --containerd runs its own containerd as a child, which dies
    with it: a kill -9 that lands while `docker run` starts a container then orphans that container's
    shim and `runc init` (4 of 15 kills 0.05-0.6 s into a `docker run` did; 0 of the same 15 with
    containerd beside dockerd), holding the address the next container on docker0 gets."""

    def __init__(self):
        self.dir = os.path.join(WORK, "docker")
        os.makedirs(self.dir)
        self.sock = os.path.join(self.dir, "sock")
        self.host = "unix://" + self.sock
        self.tables = set(sh("nft list tables").stdout.splitlines())
        self.forward = open("/proc/sys/net/ipv4/ip_forward").read().strip()
        self.containerd_sock = os.path.join(self.dir, "containerd", "sock")
        self.config = os.path.join(self.dir, "containerd.toml")
        with open(self.config, "w") as f:
            f.write(f'version = 2\nroot = "{self.dir}/containerd/root"\nstate = "{self.dir}/containerd/state"\n'
                    f'[grpc]\n  address = "{self.containerd_sock}"\n')
        self.containerd = self.proc = None

    def boot(self):
        """containerd, then dockerd (separate from __init__ so that cleanup stops whatever came up)."""
        self.containerd = subprocess.Popen(
            ["containerd", "--config", self.config], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(WORK, "containerd.log"), "ab"))
        for _ in range(100):
            if os.path.exists(self.containerd_sock):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("containerd did not come up (see containerd.log)")
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", self.dir + "/root", "--exec-root", self.dir + "/exec", "--pidfile",
             self.dir + "/pid", "-H", self.host, "--containerd", self.containerd_sock], stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(WORK, "dockerd.log"), "ab"))
        for _ in range(150):
            if self.up():
                return
            time.sleep(0.2)
        raise RuntimeError("dockerd did not come up (see dockerd.log)")

    def up(self):
        return (self.proc is not None and self.proc.poll() is None
                and self.docker("info --format '{{.ServerVersion}}'").returncode == 0)

    def docker(self, args):
        return sh(f"docker -H {self.host} {args}")

    def ours(self):
        """Processes of this engine (dockerd, its containerd, shims): their command line names our folder."""
        return [p for p in pids(self.dir) if p != os.getpid()]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            for name in self.docker("ps -aq").stdout.split():
                self.docker(f"rm -f {name}")
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.containerd:
            self.containerd.terminate()
            try:
                self.containerd.wait(15)
            except subprocess.TimeoutExpired:
                self.containerd.kill()
        for p in self.ours():
            kill(p)
        sh("ip link del docker0")
        for table in ("nat", "filter"):
            if f"table ip {table}" not in self.tables:
                sh(f"nft delete table ip {table}")
        sh(f"sysctl -qw net.ipv4.ip_forward={self.forward}")
        sh(f"umount {self.dir}/exec/netns/default")
        sh(f"umount -l {self.dir}/root")  # dockerd bind-mounts its data root onto itself


ENGINE = None
T0 = time.monotonic()
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", RESULTS], check=True)
TOKEN = os.path.join(WORK, "token")
with open(TOKEN, "w") as f:
    f.write(os.urandom(32).hex())
os.chmod(TOKEN, 0o600)
BEFORE = leftovers()


class Agent:
    def __init__(self, name):
        self.name, self.port = name, port()
        self.state = os.path.join(WORK, f"state-{name}")
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ, DOCKER_HOST=ENGINE.host) if ENGINE and self.name == "sut" else None
        self.proc = subprocess.Popen(
            [f"{BIN}/lockstep-agent", "serve", "--listen", f"127.0.0.1:{self.port}", "--token-file", TOKEN,
             "--name", self.name, "--state-dir", self.state],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(WORK, f"{self.name}.log"), "ab"), env=env)
        for _ in range(100):
            if socket.socket().connect_ex(("127.0.0.1", self.port)) == 0:
                return
            time.sleep(0.05)

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"


AGENTS = []


def cleanup():
    """On any way out (an exception, SIGTERM from a timeout): nothing of ours keeps running or mounted."""
    for proc in [a.proc for a in AGENTS] + [r.proc for r in globals().get("RUNS", []) if r.proc]:
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGCONT)
                proc.terminate()
                proc.wait(10)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                proc.kill()
    if ENGINE:
        ENGINE.stop()
    subprocess.run(["umount", "-l", RESULTS], capture_output=True)
    shutil.rmtree(WORK, ignore_errors=True)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(2))
if DOCKER:
    ENGINE = Engine()
    ENGINE.boot()
    build = subprocess.run([f"{BIN}/lockstep-agent", "image", "build", "--tag", "lockstep-agent:chaos"],
                           capture_output=True, text=True, env=dict(os.environ, DOCKER_HOST=ENGINE.host))
    if build.returncode != 0:
        raise SystemExit("lockstep-agent image build failed: " + build.stderr[-500:])
VM = "/tmp/lockstep-chaos-vm"  # kept between runs, rebuilt when the agent changes (10 s, 390 MB)
if KVM:
    stamp = "%d %d" % (os.stat(f"{BIN}/lockstep-agent").st_mtime, os.stat(f"{BIN}/lockstep-agent").st_size)
    built = os.path.exists(VM + "/stamp") and open(VM + "/stamp").read() == stamp
    if not (built and os.path.exists(VM + "/manifest.json")):
        shutil.rmtree(VM, ignore_errors=True)
        subprocess.run([f"{BIN}/lockstep-agent", "vm", "build", "--agent", f"{BIN}/lockstep-agent", "--out", VM],
                       check=True, capture_output=True)
        open(VM + "/stamp", "w").write(stamp)
SUT, PEER = Agent("sut"), Agent("peer")
AGENTS += [SUT, PEER]
modes = ["native", "netns-nat"] + (["docker-nat"] if DOCKER else [])
PLAN = os.path.join(WORK, "chaos.yaml")
with open(PLAN, "w") as f:
    f.write(f"""modes: [{', '.join(modes)}]
repetitions: {{min: 1, max: 1}}
order: sequential
""" + ("image: lockstep-agent:chaos\n" if DOCKER else "") + (f"""vm-image: {VM}
accel: tcg
vm-memory: 2GiB
""" if KVM else "") + """experiments:
""" + ("""  - rr: {protocol: tcp, mode: kvm, duration: 1s, warmup: 200ms}
  - redis: {connections: 4, mode: kvm, duration: 1s, warmup: 200ms}
""" if KVM else "") + """  - rr: {protocol: [tcp, udp], duration: 1s, warmup: 200ms}
  - stream: {direction: [sut-tx], duration: 1s, warmup: 200ms}
  - redis: {connections: [4], duration: 1s, warmup: 200ms}
  - mysql: {threads: [2], table-size: 2000, duration: 1s, warmup: 200ms}
  - fio: {rw: randread, bs: 4KiB, iodepth: 4, size: 8MiB, duration: 1s, warmup: 200ms}
  - compress: {threads: 1, level: 1, size: 4MiB}
""")
modes += ["kvm (rr, redis)"] if KVM else []


class Run:
    """One run of the plan in its own folder, resumed after every fault until complete."""
    count = 0

    def __init__(self):
        Run.count += 1
        self.dir = os.path.join(RESULTS, f"run-{Run.count}")
        self.proc = None
        self.attempts = 0
        self.done = False

    def start(self):
        self.attempts += 1
        flag = "--resume" if self.attempts > 1 else "--out"
        self.proc = subprocess.Popen(
            [f"{BIN}/lockstep", "run", PLAN, "--sut", SUT.address, "--peer", PEER.address, "--token-file", TOKEN,
             flag, self.dir, "--reconnect-wait", "10s"], stdout=LOG, stderr=subprocess.PIPE, text=True, bufsize=1)
        os.set_blocking(self.proc.stderr.fileno(), False)
        self.lines = []

    def poll(self):
        """New stderr lines; the exit code once it ended."""
        try:
            while True:
                line = self.proc.stderr.readline()
                if not line:
                    break
                self.lines.append(line.rstrip())
                LOG.write(line.encode())
                if re.match(r"step \S+: done", line):
                    STEP_DONE.append(time.monotonic())
        except (BlockingIOError, ValueError):
            pass
        return self.proc.poll()


STEP_DONE = []  # monotonic times at which steps finished
FAULTS = []  # (kind, time)
INVALID = set()


def check_files():
    """Every .json and .jsonl in the results is whole JSON (line by line); returns the bad ones."""
    bad = []
    for root, _, files in os.walk(RESULTS):
        for name in files:
            path = os.path.join(root, name)
            if name == "filler":
                continue
            try:
                if name.endswith(".jsonl"):
                    with open(path) as f:
                        for line in f:
                            if line.strip():
                                json.loads(line)
                elif name.endswith(".json"):
                    with open(path) as f:
                        json.load(f)
            except (ValueError, OSError) as e:
                bad.append(f"{path}: {e}")
    return bad


def restart(agent, why):
    agent.proc.wait()
    agent.start()


# Each fault: (kind, applies now?, inject) where inject returns when the fault is over.
def kill_agent(agent):
    def go():
        agent.proc.send_signal(signal.SIGKILL)
        time.sleep(0.5)
        restart(agent, "killed")
    return go


def stop_agent(agent):
    def go():
        agent.proc.send_signal(signal.SIGSTOP)
        time.sleep(4.5)  # longer than the 3 s lease
        agent.proc.send_signal(signal.SIGCONT)
    return go


def kill_guest():
    for p in pids("lockstep-agent.*--name sut-(netns-nat|docker-nat)"):
        kill(p)


def ppid(pid):
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def our_qemu():
    """qemu processes the SUT agent started."""
    return [p for p in pids("qemu-system") if ppid(p) == SUT.proc.pid]


def kill_qemu():
    for p in our_qemu():
        kill(p)


def restart_dockerd():
    """dockerd dies (kill -9) and comes back 2 s later, as after a package upgrade or an OOM kill."""
    ENGINE.proc.send_signal(signal.SIGKILL)
    ENGINE.proc.wait()
    time.sleep(2)
    ENGINE.start()


def link_cut():
    links = [l.split(":")[1].strip().split("@")[0] for l in sh("ip -o link").stdout.splitlines() if "lsvh" in l]
    for l in links:
        sh(f"ip link set {l} down")
    time.sleep(3.5)
    for l in links:
        sh(f"ip link set {l} up")


def kill_server(name):
    def go():
        for p in pids(name):
            kill(p)
    return go


def kill_coordinator():
    if CURRENT.proc and CURRENT.proc.poll() is None:
        CURRENT.proc.send_signal(signal.SIGKILL)


def stop_coordinator():
    if CURRENT.proc and CURRENT.proc.poll() is None:
        CURRENT.proc.send_signal(signal.SIGSTOP)
        time.sleep(5)  # the laptop sleeps: every agent's lease runs out
        CURRENT.proc.send_signal(signal.SIGCONT)


def disk_full():
    filler = os.path.join(RESULTS, "filler")
    sh(f"dd if=/dev/zero of={filler} bs=1M count=100 2>/dev/null; dd if=/dev/zero of={filler}.2 bs=4k count=1000 2>/dev/null")
    time.sleep(4)
    for f in (filler, filler + ".2"):
        if os.path.exists(f):
            os.remove(f)


FAULT_KINDS = [
    ("kill -9 SUT agent", lambda: True, kill_agent(SUT)),
    ("kill -9 peer agent", lambda: True, kill_agent(PEER)),
    ("SIGSTOP SUT agent past its lease", lambda: True, stop_agent(SUT)),
    ("SIGSTOP peer agent past its lease", lambda: True, stop_agent(PEER)),
    ("kill -9 guest agent", lambda: bool(pids("lockstep-agent.*--name sut-")), kill_guest),
    ("test link cut", lambda: "lsvh" in sh("ip -o link").stdout, link_cut),
    ("kill -9 redis-server", lambda: bool(pids("redis-server")), kill_server("redis-server")),
    ("kill -9 mariadbd", lambda: bool(pids("mariadbd")), kill_server("mariadbd")),
    ("kill -9 coordinator", lambda: CURRENT.proc.poll() is None, kill_coordinator),
    ("SIGSTOP coordinator 5 s", lambda: CURRENT.proc.poll() is None, stop_coordinator),
    ("results disk full", lambda: True, disk_full),
    ("kill -9 dockerd and restart", lambda: DOCKER, restart_dockerd),
    ("kill -9 qemu", lambda: KVM and bool(our_qemu()), kill_qemu),
]

# SKIP="kind,kind" leaves fault kinds out (the CI variant leaves dockerd's kill out: see ChaosTests).
SKIP = {k.strip() for k in os.environ.get("SKIP", "").split(",") if k.strip()}
FAULT_KINDS = [k for k in FAULT_KINDS if k[0] not in SKIP]
CURRENT = Run()
CURRENT.start()
RUNS = [CURRENT]
END = T0 + MINUTES * 60
next_fault = time.monotonic() + rng.uniform(4, 10)
say(f"chaos for {MINUTES:g} min, seed {SEED}, modes {', '.join(modes)}; results on a 64 MiB tmpfs in {RESULTS}")


def drive(until, inject):
    """Runs (and resumes) until `until`; injects faults when `inject`. Returns when the time is up, or,
    when not injecting, when the current run is complete."""
    global CURRENT, next_fault
    while time.monotonic() < until:
        code = CURRENT.poll()
        if code is not None:
            if code == 0:
                CURRENT.done = True
                say(f"{os.path.basename(CURRENT.dir)} complete after {CURRENT.attempts} attempt(s)")
                if not inject:
                    return True
                CURRENT = Run()
                RUNS.append(CURRENT)
            else:
                last = next((l for l in reversed(CURRENT.lines) if l.startswith("lockstep: error")), "exit %d" % code)
                say(f"{os.path.basename(CURRENT.dir)} ended: {last[:400]}")
                for agent in (SUT, PEER):  # an agent that died by the fault's side effect comes back
                    if agent.proc.poll() is not None:
                        agent.start()
                time.sleep(1)
            bad = check_files()
            if bad:
                INVALID.update(bad)
                say(f"invalid files: {bad}")
            CURRENT.start()
        if inject and time.monotonic() >= next_fault:
            ready = [k for k in FAULT_KINDS if k[1]()]
            kind, _, go = rng.choice(ready)
            at = time.monotonic()
            say(f"fault: {kind}")
            go()
            FAULTS.append((kind, at))
            next_fault = time.monotonic() + rng.uniform(4, 10)
        time.sleep(0.1)
    return False


drive(END, inject=True)
say("faults over: the last run is finished (resumed as often as it takes, at most 5 minutes)")
complete = drive(time.monotonic() + 300, inject=False)

# Steps lost: every run's plan steps must be complete (each finished step on disk, or redone).
lost, redone = 0, 0
for run in RUNS:
    try:
        with open(os.path.join(run.dir, "run.json")) as f:
            info = json.load(f)
    except (OSError, ValueError):
        continue
    planned = len(info.get("plan") or [])
    finished = sum(1 for s in info.get("steps", []) if s.get("status") == "complete")
    if run is RUNS[-1] or run.done:
        lost += max(planned - finished, 0) if planned else (0 if info.get("status") == "complete" else 1)
    redone += max(run.attempts - 1, 0)
INVALID.update(check_files())

# Agents answering: a short run on both.
check = subprocess.run(
    [f"{BIN}/lockstep", "rr", "--sut", SUT.address, "--peer", PEER.address, "--token-file", TOKEN, "--duration",
     "0.3s", "--warmup", "0", "--quiet", "--out", os.path.join(WORK, "final")], capture_output=True, text=True)
answering = 2 if check.returncode == 0 else sum(
    1 for a in (SUT, PEER) if socket.socket().connect_ex(("127.0.0.1", a.port)) == 0 and check.returncode == 0)

# Leftovers: once the sessions ended (and again once the agents stopped), against what was there before.
time.sleep(1)
during = leftovers() - BEFORE
for agent in (SUT, PEER):
    agent.proc.send_signal(signal.SIGTERM)
    try:
        agent.proc.wait(10)
    except subprocess.TimeoutExpired:
        agent.proc.kill()
time.sleep(0.5)
left = (leftovers() - BEFORE) | during
state_files = [os.path.join(r, f) for a in (SUT, PEER) for r, _, fs in os.walk(a.state) for f in fs
               if not f.endswith((".log", ".jsonl")) and "journal" in r]
kinds = {}
for kind, at in FAULTS:
    after = [t for t in STEP_DONE if t > at]
    kinds.setdefault(kind, []).append((after[0] - at) if after else None)
print()
print(f"{'fault':36s} {'count':>5s} {'recovery s (median)':>20s}")
for kind, times in sorted(kinds.items()):
    known = [t for t in times if t is not None]
    print(f"{kind:36s} {len(times):5d} {statistics.median(known) if known else float('nan'):20.1f}")
print(f"runs: {len(RUNS)} ({sum(r.done for r in RUNS)} complete), resumes: {redone}, steps finished: {len(STEP_DONE)}")
if left:
    print("left behind:", sorted(left))
if INVALID:
    print("invalid:", sorted(INVALID)[:5])
if not complete:
    print("the last run did not complete within 5 minutes of the faults' end")
    lost = max(lost, 1)
print(f"chaos: {len(FAULTS)} faults of {len(kinds)} kinds, steps lost {lost}, leftovers {len(left)}, "
      f"invalid files {len(INVALID)}, agents answering {answering}/2")
sys.exit(0 if (lost == 0 and not left and not INVALID and answering == 2) else 1)
