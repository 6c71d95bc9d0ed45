#!/usr/bin/env bash
# RR engine against sockperf ping-pong (the C reference), on loopback, in one invocation.
#
#   bench/rr.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 4 s each)
#   PIN="0 1" bench/rr.sh ...           (server side on CPU 0, client on CPU 1, for both tools)
#   OBSERVE=1 bench/rr.sh ...           (lockstep with --serve, --metrics and --events, scraped every
#                                        second and the live page fetched every 2 s, as Prometheus and
#                                        a browser would: the watching's cost shows in the ratio)
#
# Alternates lockstep rr and sockperf ping-pong round by round (so drift in the machine hits both),
# for TCP and UDP at 100/100 bytes, then lockstep alone at the paper's 100/200. Prints transactions/s
# and median round-trip latency of each and the median of the per-round lockstep/sockperf ratios
# (target: >= 1.0). With PIN, lockstep runs with --sut-cpus/--peer-cpus and sockperf under taskset
# on the same CPUs, so both are compared in one placement. sockperf
# reports one-way latency (round trip / 2); it is doubled here to compare round trips.
# Finally the agent's own cost at rest: CPU over 5 idle seconds and resident memory.
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-4}
cd "$(dirname "$0")/.."
command -v sockperf >/dev/null || { echo "sockperf missing: apt-get install sockperf" >&2; exit 1; }
source bench/lib.sh
read -r PIN_SUT PIN_PEER <<<"${PIN:-}"
LS_PIN=(); SP_SERVER=(); SP_CLIENT=()
if [ -n "${PIN_SUT:-}" ]; then
  LS_PIN=(--sut-cpus "$PIN_SUT" --peer-cpus "$PIN_PEER")
  SP_SERVER=(taskset -c "$PIN_SUT"); SP_CLIENT=(taskset -c "$PIN_PEER")
fi

LS_OBSERVE=()
if [ -n "${OBSERVE:-}" ]; then
  WEB_PORT=$(port); METRICS_PORT=$(port)
  LS_OBSERVE=(--serve "$WEB_PORT" --metrics "127.0.0.1:$METRICS_PORT" --events "$WORK/events.jsonl")
  # A scraper and a browser for the whole benchmark (between lockstep rounds they find nothing).
  ( while :; do curl -sf -o /dev/null "http://127.0.0.1:$METRICS_PORT/metrics" || true; sleep 1; done ) & PIDS+=($!)
  ( while :; do curl -sf -o /dev/null "http://127.0.0.1:$WEB_PORT/" || true; sleep 2; done ) & PIDS+=($!)
fi

# lockstep_round PROTO REQ RESP -> "tps p50_rtt_us"
lockstep_round() {
  local out="$WORK/ls-$RANDOM$RANDOM"
  "$BIN/lockstep" rr --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
    --protocol "$1" --request "$2" --response "$3" --duration "${SECS}s" --warmup 0.5s ${LS_PIN[@]+"${LS_PIN[@]}"} ${LS_OBSERVE[@]+"${LS_OBSERVE[@]}"} --out "$out" >/dev/null 2>"$WORK/last-run.err" || { cat "$WORK/last-run.err" >&2; exit 1; }
  python3 - "$out/summary.csv" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print(row["transactions_per_sec"], row["latency_p50_us"])
PY
}

# sockperf_round PROTO PORT -> "tps p50_rtt_us"
sockperf_round() {
  local flag=""; [ "$1" = tcp ] && flag="--tcp"
  ${SP_CLIENT[@]+"${SP_CLIENT[@]}"} sockperf ping-pong $flag -i 127.0.0.1 -p "$2" -m 100 -t "$SECS" 2>&1 | python3 -c '
import re, sys
t = sys.stdin.read()
m = re.search(r"Valid Duration\] RunTime=([0-9.]+) sec; SentMessages=([0-9]+)", t)
p = re.search(r"percentile 50.000 =\s*([0-9.]+)", t)
print(int(m.group(2)) / float(m.group(1)), 2 * float(p.group(1)))'
}

printf '%-5s %-9s %5s %14s %12s\n' proto tool round "trans/s" "p50 RTT us"
for proto in tcp udp; do
  SP_PORT=$(port)
  if [ $proto = tcp ]; then ${SP_SERVER[@]+"${SP_SERVER[@]}"} sockperf server --tcp -i 127.0.0.1 -p $SP_PORT >/dev/null 2>&1 & else ${SP_SERVER[@]+"${SP_SERVER[@]}"} sockperf server -i 127.0.0.1 -p $SP_PORT >/dev/null 2>&1 & fi
  SP_PID=$!; PIDS+=($SP_PID); sleep 0.5
  ls_tps=""; sp_tps=""; ls_p50=""; sp_p50=""
  for r in $(seq 1 "$ROUNDS"); do
    read -r t p < <(lockstep_round $proto 100 100); ls_tps="$ls_tps $t"; ls_p50="$ls_p50 $p"
    printf '%-5s %-9s %5s %14.0f %12.1f\n' $proto lockstep $r "$t" "$p"
    read -r t p < <(sockperf_round $proto $SP_PORT); sp_tps="$sp_tps $t"; sp_p50="$sp_p50 $p"
    printf '%-5s %-9s %5s %14.0f %12.1f\n' $proto sockperf $r "$t" "$p"
  done
  kill $SP_PID 2>/dev/null || true
  python3 - "$proto" "$ls_tps" "$sp_tps" "$ls_p50" "$sp_p50" "${PIN:-unpinned}${OBSERVE:+, watched: --serve --metrics --events}" <<'PY'
import statistics, sys
proto, lt, st, lp, spp, pin = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), sys.argv[4].split(), sys.argv[5].split(), sys.argv[6]
pairs = [float(a) / float(b) for a, b in zip(lt, st)]
print(f"{proto.upper()}_RR 100/100 ({pin}): lockstep/sockperf transactions/s, median of {len(pairs)} paired rounds "
      f"{statistics.median(pairs):.3f} (target >= 1.0); "
      f"median p50 RTT lockstep {statistics.median(map(float, lp)):.1f} us, sockperf {statistics.median(map(float, spp)):.1f} us")
PY
done

for proto in tcp udp; do
  read -r t p < <(lockstep_round $proto 100 200)
  printf 'lockstep %s_RR 100/200 (the paper'"'"'s sizes): %.0f transactions/s, p50 RTT %.1f us\n' "${proto^^}" "$t" "$p"
done

read -r t0 < <(awk '{print $14+$15}' /proc/$SUT_PID/stat)
sleep 5
read -r t1 < <(awk '{print $14+$15}' /proc/$SUT_PID/stat)
hz=$(getconf CLK_TCK)
rss=$(awk '/VmRSS/ {print $2}' /proc/$SUT_PID/status)
python3 -c "print(f'agent at rest: {($t1-$t0)/$hz/5*100:.2f}% of one CPU over 5 s, RSS {$rss/1024:.1f} MiB')"
