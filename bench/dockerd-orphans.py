#!/usr/bin/env python3
"""A dockerd started by hand (its containerd its child, dying with it), killed -9 0.05-0.6 s into the
`docker run` of a lockstep docker-nat placement and started again 2 s later; then the next session
on the same agent, which retries what the first session's teardown left behind. Per trial: the
containerd shims and `runc init` processes alive before that session and after it (waiting 5 s for
those on their way out). The last line counts the trials that left an orphan after the next session
(it must be 0: the teardown ends them by the ID `docker run --cidfile` wrote).

  BIN=.build/release python3 bench/dockerd-orphans.py [TRIALS]     (root, docker.io; ~20 s a trial)
"""
import os, random, shutil, socket, subprocess, sys, tempfile, time
BIN = os.environ["BIN"]; TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
W = tempfile.mkdtemp(prefix="lockstep-orphans.")
host = "unix://" + W + "/sock"
def sh(c): return subprocess.run(c, shell=True, capture_output=True, text=True)
def pg(p): return [int(x) for x in subprocess.run(["pgrep", "-f", p], capture_output=True, text=True).stdout.split()]
TABLES = set(subprocess.run(["nft", "list", "tables"], capture_output=True, text=True).stdout.splitlines())
FORWARD = open("/proc/sys/net/ipv4/ip_forward").read().strip()
def start():
    p = subprocess.Popen(["dockerd", "--data-root", W + "/root", "--exec-root", W + "/exec", "--pidfile", W + "/pid", "-H", host],
                         stdout=subprocess.DEVNULL, stderr=open(W + "/dockerd.log", "ab"))
    for _ in range(300):
        if sh(f"docker -H {host} info").returncode == 0: return p
        time.sleep(0.2)
    raise SystemExit("no dockerd")
d = start()
print("build", sh(f"DOCKER_HOST={host} {BIN}/lockstep-agent image build --tag lockstep-agent:exp").returncode, flush=True)
tok = W + "/token"; open(tok, "w").write(os.urandom(32).hex()); os.chmod(tok, 0o600)
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
agent = subprocess.Popen([f"{BIN}/lockstep-agent", "serve", "--listen", f"127.0.0.1:{port}", "--token-file", tok, "--name", "sut",
                          "--state-dir", W + "/state"], env=dict(os.environ, DOCKER_HOST=host), stdout=subprocess.DEVNULL,
                         stderr=open(W + "/agent.log", "ab"))
time.sleep(1)
def run(i):
    return subprocess.Popen([f"{BIN}/lockstep", "compress", "--sut", f"127.0.0.1:{port}", "--token-file", tok, "--size", "1MiB", "--threads", "1",
                             "--mode", "docker-nat", "--image", "lockstep-agent:exp", "--quiet", "--out", f"{W}/r{i}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
rng = random.Random(3); orphaned = 0; hits = 0
for i in range(TRIALS):
    r = run(i)
    t0 = time.monotonic()
    while not pg("docker.*run -d --name lockstep-") and time.monotonic() - t0 < 20 and r.poll() is None:
        time.sleep(0.01)
    delay = rng.uniform(0.05, 0.6); time.sleep(delay)
    d.kill(); d.wait()
    out, _ = r.communicate()
    time.sleep(2); d = start()
    before = set(pg("runc init")) | set(pg("containerd-shim"))
    r2 = run(f"{i}b"); out2, _ = r2.communicate()  # the next session retries what was left behind
    for _ in range(25):
        time.sleep(0.2)
        after = set(pg("runc init")) | set(pg("containerd-shim"))
        if not after: break
    for p in after:
        try: print("  left:", p, open(f"/proc/{p}/cmdline").read().replace("\0", " ")[:150], "|", open(f"/proc/{p}/cgroup").read().splitlines()[-1])
        except OSError: pass
    hits += bool(before)
    orphaned += bool(after)
    print(f"trial {i} delay {delay:.2f}: run1 rc={r.returncode} [{out.strip().splitlines()[-1][:110] if out.strip() else ''}] "
          f"before-retry={sorted(before)} run2 rc={r2.returncode} after={sorted(after)}", flush=True)
    for p in after:
        try: os.kill(p, 9)
        except ProcessLookupError: pass
print(f"orphans before the next session: {hits} of {TRIALS}; after it: {orphaned}", flush=True)
agent.terminate(); agent.wait()
for c in sh(f"docker -H {host} ps -aq").stdout.split(): sh(f"docker -H {host} rm -f {c}")
d.terminate(); d.wait(); time.sleep(1)
for p in pg(W): 
    try: os.kill(p, 9)
    except ProcessLookupError: pass
sh("ip link del docker0"); sh(f"umount {W}/exec/netns/default"); sh(f"umount -l {W}/root")
for table in ("nat", "filter"):
    if f"table ip {table}" not in TABLES:
        sh(f"nft delete table ip {table}")
sh(f"sysctl -qw net.ipv4.ip_forward={FORWARD}")
shutil.rmtree(W, ignore_errors=True)
print(f"dockerd-orphans: {orphaned} of {TRIALS} trials left an orphan after the next session")
sys.exit(1 if orphaned else 0)
