#!/usr/bin/env bash
# Redis load generator against redis-benchmark, in one invocation, against one redis-server.
#
#   bench/redis.sh [ROUNDS] [SECONDS] [CONNECTIONS...]     (defaults: 3 rounds of 5 s at 8 and 50 connections)
#   LOCKSTEP_ARGS="--threads 1" bench/redis.sh ...          (extra options for lockstep redis)
#
# The script starts one redis-server (persistence off) and points both generators at it: lockstep
# through `lockstep redis --redis HOST:PORT` (the SUT agent starts nothing), redis-benchmark
# directly. Both use pipeline 10, 50-byte values and a 100000-key space, alternating rounds.
# Both find their keys present: the script fills redis-benchmark's key space once before the
# rounds and lockstep runs with --no-flush, so GETs hit for both (on an empty key space
# redis-benchmark's GETs mostly miss, and a miss costs the server less than a hit).
# redis-benchmark runs SET and GET as separate phases (-t set,get); its rate here is the combined
# one: all requests over the time of both phases. lockstep mixes GET and SET 1:1 in one phase.
# Generator CPU: lockstep's is its worker threads' CPU time over the window (its own metric),
# redis-benchmark's the process's user+system time over its run (getrusage of the child); both
# per million operations. Targets: ops/s ratio >= 1.0, CPU per operation <= redis-benchmark's.
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-5}
CONNS=("${@:3}")
[ ${#CONNS[@]} -eq 0 ] && CONNS=(8 50)
cd "$(dirname "$0")/.."
for tool in redis-server redis-benchmark; do command -v $tool >/dev/null || { echo "$tool missing: apt-get install redis-server redis-tools" >&2; exit 1; }; done
source bench/lib.sh
RPORT=$(port)
redis-server --port $RPORT --bind 127.0.0.1 --save "" --appendonly no --daemonize no --logfile "$WORK/redis.log" & PIDS+=($!)
for _ in $(seq 50); do redis-cli -p $RPORT ping >/dev/null 2>&1 && break; sleep 0.1; done
KEYS=100000
redis-benchmark -p $RPORT -t set -n 1000000 -r $KEYS -d 50 -P 50 -q >/dev/null 2>&1   # fill its key space

run_lockstep() {  # conns -> "ops_per_sec cpu_s_per_mop"
  local out="$WORK/ls-$RANDOM$RANDOM"
  "$BIN/lockstep" redis --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
    --redis 127.0.0.1:$RPORT --no-flush --connections "$1" --pipeline 10 --value-size 50 --keys $KEYS \
    --duration "${SECS}s" --warmup 1s ${LOCKSTEP_ARGS:-} --out "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  summary_metrics "$out/samples.jsonl" ops_per_sec client_cpu_seconds_per_mop
}

run_benchmark() {  # conns requests -> "ops_per_sec cpu_s_per_mop"
  python3 - "$RPORT" "$1" "$2" <<'PY'
import csv, io, resource, subprocess, sys, time
port, conns, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
before = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.monotonic()
out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", conns, "-P", "10", "-t", "set,get",
                      "-n", str(n), "-d", "50", "-r", "100000", "--csv"], capture_output=True, text=True, check=True).stdout
after = resource.getrusage(resource.RUSAGE_CHILDREN)
rows = {r[0]: float(r[1]) for r in csv.reader(io.StringIO(out)) if r and r[0] in ("SET", "GET")}
seconds = n / rows["SET"] + n / rows["GET"]
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(2 * n / seconds, cpu / (2 * n / 1e6))
PY
}

echo "redis-server on 127.0.0.1:$RPORT; $ROUNDS rounds x ${SECS}s; pipeline 10, 50-byte values, $KEYS keys"
for c in "${CONNS[@]}"; do
  L=(); LC=(); R=(); RC=()
  for round in $(seq "$ROUNDS"); do
    read -r ops cpu < <(run_lockstep "$c"); L+=("$ops"); LC+=("$cpu")
    n=$(python3 -c "print(max(100000, int($ops * $SECS / 2)))")
    read -r ops cpu < <(run_benchmark "$c" "$n"); R+=("$ops"); RC+=("$cpu")
  done
  python3 - "$c" "${L[*]}" "${LC[*]}" "${R[*]}" "${RC[*]}" <<'PY'
import statistics as st, sys
c = sys.argv[1]
l, lc, r, rc = ([float(x) for x in a.split()] for a in sys.argv[2:6])
print(f"connections {c}:")
print(f"  lockstep        ops/s {' '.join(f'{x:9.0f}' for x in l)}   median {st.median(l):9.0f}   cpu s/Mop median {st.median(lc):.3f}")
print(f"  redis-benchmark ops/s {' '.join(f'{x:9.0f}' for x in r)}   median {st.median(r):9.0f}   cpu s/Mop median {st.median(rc):.3f}")
print(f"  lockstep/redis-benchmark: ops/s ratio {st.median(l)/st.median(r):.3f} (target >= 1.0), "
      f"cpu per op ratio {st.median(lc)/st.median(rc):.3f} (target <= 1.0)")
PY
done

# How requests arrive: one more run of each tool at the first connection count, with strace -c on the
# generator (lockstep's peer agent, or redis-benchmark) and on redis-server for 2 s in the middle
# (strace slows both, so these runs are not timed). Per operation: each side's write and read
# syscalls, and the bytes per write each way (from redis-server's own byte counters).
[ "${SYSCALLS:-1}" = 1 ] && command -v strace >/dev/null || exit 0
stats() { redis-cli -p $RPORT info stats | tr -d '\r' | awk -F: -v OFS=' ' '/^total_commands_processed|^total_net_input_bytes|^total_net_output_bytes/{printf "%s ", $2} END {print ""}'; }
RSERVER=$(pgrep -f "redis-server.*:$RPORT" | head -1)
trace() {  # tool -> "tool gen_writes gen_reads srv_writes srv_reads ops in_bytes out_bytes"
  local tool=$1 gen
  if [ "$tool" = lockstep ]; then
    "$BIN/lockstep" redis --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
      --redis 127.0.0.1:$RPORT --no-flush --connections "${CONNS[0]}" --pipeline 10 --value-size 50 --keys $KEYS \
      --duration 5s --warmup 1s ${LOCKSTEP_ARGS:-} --out "$WORK/trace-$RANDOM" >/dev/null 2>&1 & local run=$!
    gen=$PEER_PID
  else
    redis-benchmark -h 127.0.0.1 -p $RPORT -c "${CONNS[0]}" -P 10 -t set,get -n 3000000 -d 50 -r $KEYS -q >/dev/null 2>&1 & local run=$!
    gen=$run
  fi
  sleep 2
  read -r c0 i0 o0 < <(stats)
  timeout 2 strace -c -f -p "$gen" -o "$WORK/gen.strace" >/dev/null 2>&1 & local s1=$!
  timeout 2 strace -c -f -p "$RSERVER" -o "$WORK/srv.strace" >/dev/null 2>&1 & local s2=$!
  wait $s1 $s2 2>/dev/null || true
  read -r c1 i1 o1 < <(stats)
  kill $run 2>/dev/null; wait $run 2>/dev/null || true
  python3 - "$tool" "$WORK/gen.strace" "$WORK/srv.strace" $((c1-c0)) $((i1-i0)) $((o1-o0)) <<'PY'
import re, sys
tool, gen, srv, ops, inb, outb = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
def calls(path, names):
    n = 0
    for line in open(path):
        f = line.split()
        if len(f) >= 5 and f[-1] in names and f[3].isdigit(): n += int(f[3])
    return n
W, R = {"write", "writev", "send", "sendto", "sendmsg"}, {"read", "readv", "recv", "recvfrom", "recvmsg"}
gw, gr, sw, sr = calls(gen, W), calls(gen, R), calls(srv, W), calls(srv, R)
ops = max(ops, 1)
print(f"  {tool:15s} generator: {gw/ops:.3f} writes/op, {gr/ops:.3f} reads/op, {inb/max(gw,1):6.0f} bytes/write;"
      f" redis-server: {sw/ops:.3f} writes/op, {sr/ops:.3f} reads/op, {outb/max(sw,1):6.0f} bytes/write  ({ops} ops traced)")
PY
}
echo "syscalls per operation at ${CONNS[0]} connections (strace -c, 2 s each, untimed):"
trace lockstep
trace redis-benchmark
