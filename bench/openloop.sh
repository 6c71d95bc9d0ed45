#!/usr/bin/env bash
# Open loop against a server that stalls: lockstep's open-loop latency at a fixed rate, its closed
# loop and redis-benchmark (closed loop), each against one redis-server that this script stops for
# 50 ms of every second (SIGSTOP/SIGCONT), alternating rounds.
#
#   bench/openloop.sh [ROUNDS] [SECONDS] [RATE]     (defaults: 3 rounds of 6 s at 20000/s, 8 connections)
#
# A stall of 50 ms a second holds up 5% of the requests an open loop sends, by up to 50 ms each:
# timed from their intended send times (wrk2's rule) the p99 lands near 40 ms. A closed loop sends
# nothing while the server is stopped, so only the requests already in flight wait, and its p99
# barely moves: coordinated omission. redis-benchmark is closed loop too; its p99 is read from its
# CSV latency columns (-P 1 so that a reply's latency is one request's).
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-6}
RATE=${3:-20000}
CONNS=8
cd "$(dirname "$0")/.."
for tool in redis-server redis-benchmark; do command -v $tool >/dev/null || { echo "$tool missing: apt-get install redis-server redis-tools" >&2; exit 1; }; done
source bench/lib.sh
RPORT=$(port)
redis-server --port $RPORT --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$WORK/redis.log" & PIDS+=($!); RPID=$!
for _ in $(seq 50); do redis-cli -p $RPORT ping >/dev/null 2>&1 && break; sleep 0.1; done
KEYS=100000
redis-benchmark -p $RPORT -t set -n 300000 -r $KEYS -d 50 -P 50 -q >/dev/null 2>&1

stall() {  # stops redis-server 50 ms of every second for $1 seconds
  local end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do kill -STOP $RPID; sleep 0.05; kill -CONT $RPID; sleep 0.95; done
}

run_lockstep() {  # extra args -> p99 in us
  local out="$WORK/ls-$RANDOM$RANDOM"
  stall $((SECS + 2)) & local s=$!
  "$BIN/lockstep" redis --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
    --redis 127.0.0.1:$RPORT --no-flush --connections $CONNS --pipeline 1 --value-size 50 --keys $KEYS \
    --duration "${SECS}s" --warmup 1s "$@" --out "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  wait $s; kill -CONT $RPID
  summary_metrics "$out/samples.jsonl" latency_p99_us ops_per_sec
}

run_benchmark() {  # -> p99 in us, ops/s
  stall $((SECS + 1)) & local s=$!
  local n=$((RATE * SECS))
  redis-benchmark -h 127.0.0.1 -p $RPORT -c $CONNS -P 1 -t get -n $n -d 50 -r $KEYS --csv >"$WORK/rb.csv" 2>/dev/null
  wait $s; kill -CONT $RPID
  python3 - "$WORK/rb.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head, get = rows[0], next(r for r in rows if r and r[0] == "GET")
col = {name: i for i, name in enumerate(head)}
print(float(get[col["p99_latency_ms"]]) * 1000, float(get[col["rps"]]))
PY
}

echo "redis-server on 127.0.0.1:$RPORT stopped 50 ms of every second; $ROUNDS rounds x ${SECS}s; $CONNS connections, pipeline 1"
O=(); C=(); B=()
for round in $(seq "$ROUNDS"); do
  read -r p99 ops < <(run_lockstep --rate "$RATE"); O+=("$p99 $ops")
  read -r p99 ops < <(run_lockstep); C+=("$p99 $ops")
  read -r p99 ops < <(run_benchmark); B+=("$p99 $ops")
done
python3 - "$RATE" "$(printf '%s;' "${O[@]}")" "$(printf '%s;' "${C[@]}")" "$(printf '%s;' "${B[@]}")" <<'PY'
import statistics as st, sys
rate = sys.argv[1]
def parse(a): return [tuple(map(float, x.split())) for x in a.split(";") if x.strip()]
for name, rows in (("lockstep open loop at %s/s" % rate, parse(sys.argv[2])), ("lockstep closed loop", parse(sys.argv[3])),
                   ("redis-benchmark (closed)", parse(sys.argv[4]))):
    p = [r[0] for r in rows]; o = [r[1] for r in rows]
    print(f"  {name:30s} p99 us {' '.join(f'{x:9.0f}' for x in p)}   median {st.median(p):9.0f}   ops/s median {st.median(o):9.0f}")
print("  a stall of 50 ms a second holds up 5% of an open loop's requests: its p99 should be tens of ms; closed loops hide it")
PY
