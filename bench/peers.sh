#!/usr/bin/env bash
# One SUT, 1, 2 and 3 peers at the same total load, on the namespace lab, in one invocation (root).
#
#   bench/peers.sh [ROUNDS] [SECONDS] [CONNECTIONS] [THREADS]   (defaults: 3 rounds, 3 s, 12 connections, 6 threads)
#
# A lab with three peer machines (deploy/lab/netns-lab.sh up NAME --peers 3); agents started in the
# SUT's and each peer's namespace, the coordinator in the control namespace, data over the test
# network (a bridge on the SUT). Each round runs, for 1, 2 and 3 peers in turn, a Redis point at
# CONNECTIONS connections in total (pipeline 10) and a MySQL point at THREADS threads in total
# (oltp_read_write, 10,000 rows): the peers split the connections and threads evenly (Redis: two
# generator threads in total, so at least one per peer: 2, 2 and 3 threads). Prints per peer
# count the median over rounds of the total ops/s or TPS and of the generators' CPU per operation
# (their threads' CPU over the window, added over peers), and each as a ratio to one peer.
# Target (issue 17): the generator CPU per operation does not grow with the peer count.
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-3}
CONNS=${3:-12}
THREADS=${4:-6}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/peers.sh needs root (network namespaces)" >&2; exit 1; }
command -v redis-server >/dev/null && command -v mariadbd >/dev/null || { echo "redis-server and mariadb-server are needed" >&2; exit 1; }
source bench/lib.sh
LAB=lsp$(($$ % 100000))
trap 'cleanup; deploy/lab/netns-lab.sh down $LAB >/dev/null 2>&1 || true' EXIT
deploy/lab/netns-lab.sh up $LAB --peers 3 >/dev/null
ip netns exec $LAB-sut "$BIN/lockstep-agent" serve --listen 198.18.0.2:7470 --token-file "$TOKEN" --name sut \
  2>"$WORK/agent-sut.log" & PIDS+=($!)
for i in 1 2 3; do
  ip netns exec $LAB-peer$i "$BIN/lockstep-agent" serve --listen 198.18.0.$((2 + i)):7470 --token-file "$TOKEN" \
    --name peer$i 2>"$WORK/agent-peer$i.log" & PIDS+=($!)
done
sleep 1
peers_for() { seq -f "198.18.0.%g:7470" 3 $((2 + $1)) | paste -sd, -; }
run() {  # run K WORKLOAD OUT ARGS...
  local k=$1 workload=$2 out=$3; shift 3
  ip netns exec $LAB-ctl "$BIN/lockstep" "$workload" --sut 198.18.0.2:7470 --peer "$(peers_for "$k")" \
    --sut-data 198.19.0.2 --token-file "$TOKEN" --duration "${SECS}s" --warmup 1s --quiet --out "$out" "$@" \
    >"$WORK/coordinator.log" 2>&1 || { echo "lockstep $workload with $k peer(s) failed:"; tail -3 "$WORK/coordinator.log"; exit 1; }
}
for r in $(seq "$ROUNDS"); do
  for k in 1 2 3; do
    run "$k" redis "$WORK/redis-$k-$r" --connections "$CONNS" --pipeline 10 --threads 2
    run "$k" mysql "$WORK/mysql-$k-$r" --threads "$THREADS" --table-size 10000
  done
done
python3 - "$WORK" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def total(path, metric):
    for line in open(path + "/samples.jsonl"):
        s = json.loads(line)
        labels = s.get("labels") or {}
        if s["metric"] == metric and labels.get("kind") != "interval" and "peer" not in labels:
            return s["value"]
    return float("nan")
for workload, rate, cpu, unit in [("redis", "ops_per_sec", "client_cpu_seconds_per_mop", "us/op"),
                                  ("mysql", "transactions_per_sec", "client_cpu_seconds_per_ktx", "ms/tx")]:
    print(f"{workload}:")
    base = None
    for k in (1, 2, 3):
        rates = [total(f"{work}/{workload}-{k}-{r}", rate) for r in range(1, rounds + 1)]
        cpus = [total(f"{work}/{workload}-{k}-{r}", cpu) for r in range(1, rounds + 1)]
        m_rate, m_cpu = statistics.median(rates), statistics.median(cpus)
        base = base or (m_rate, m_cpu)
        print(f"  {k} peer(s): {m_rate:10.1f} {rate} [{min(rates):.0f}-{max(rates):.0f}] ({m_rate / base[0]:.3f} of 1 peer)   "
              f"generator CPU {m_cpu:.3f} {unit} [{min(cpus):.3f}-{max(cpus):.3f}] ({m_cpu / base[1]:.3f} of 1 peer)")
PY
