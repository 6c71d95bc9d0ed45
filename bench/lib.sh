# Shared by the bench scripts (sourced): a release build, a fresh token, two local agents, cleanup.
# Sets BIN, WORK, TOKEN, SUT_PORT, PEER_PORT, SUT_PID, PEER_PID; `port` prints a free loopback port;
# append background PIDs to PIDS to have them stopped on exit; `summary_metrics` reads a run's results.
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d "/tmp/lockstep-bench.XXXXXX")
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
# `summary_metrics FILE METRIC...` prints each metric's summary value (interval samples skipped) from a
# samples.jsonl, space-separated.
summary_metrics() {
  python3 - "$@" <<'PY'
import json, sys
m = {}
for line in open(sys.argv[1]):
    s = json.loads(line)
    if s["labels"].get("kind") != "interval": m.setdefault(s["metric"], s["value"])
print(*(m[name] for name in sys.argv[2:]))
PY
}
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
TOKEN=$WORK/token
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TOKEN"; chmod 600 "$TOKEN"
SUT_PORT=$(port); PEER_PORT=$(port)
"$BIN/lockstep-agent" serve --listen 127.0.0.1:$SUT_PORT --token-file "$TOKEN" --name sut 2>"$WORK/sut.log" & PIDS+=($!); SUT_PID=$!
"$BIN/lockstep-agent" serve --listen 127.0.0.1:$PEER_PORT --token-file "$TOKEN" --name peer 2>"$WORK/peer.log" & PIDS+=($!); PEER_PID=$!
sleep 1

# own_dockerd: starts a dockerd of the script's own and points DOCKER_HOST at it; what it leaves
# behind (docker0, its nat and filter tables where they were not there before, ip_forward, the exec
# root's netns mount) is put back when the script ends.
own_dockerd() {
  DD="$WORK/docker"; mkdir -p "$DD"
  TABLES_BEFORE=$(nft list tables 2>/dev/null || true)
  FORWARD_BEFORE=$(cat /proc/sys/net/ipv4/ip_forward)
  dockerd --data-root "$DD/root" --exec-root "$DD/exec" --pidfile "$DD/pid" -H "unix://$DD/sock" >"$DD/log" 2>&1 & DPID=$!
  export DOCKER_HOST="unix://$DD/sock"
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  stop_dockerd() {
    docker ps -aq | xargs -r docker rm -f >/dev/null 2>&1
    kill $DPID 2>/dev/null; sleep 2; kill -9 $DPID 2>/dev/null || true
    ip link del docker0 2>/dev/null || true
    for t in nat filter; do
      grep -qx "table ip $t" <<<"$TABLES_BEFORE" || nft delete table ip $t 2>/dev/null || true
    done
    sysctl -qw net.ipv4.ip_forward="$FORWARD_BEFORE"
    umount "$DD/exec/netns/default" 2>/dev/null || true
  }
  trap 'stop_dockerd; cleanup' EXIT
}
