#!/usr/bin/env bash
# Bulk-transfer engine against nuttcp and iperf3 on loopback, in one invocation.
#
#   bench/stream.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 5 s)
#
# For each direction, rounds alternate lockstep stream, nuttcp (server: nuttcp -S) and iperf3
# (server: iperf3 -s). Each reference is compared with lockstep at its own default write size:
# nuttcp writes 64 KiB (as lockstep's default), iperf3 128 KiB (lockstep --buffer 128KiB). Prints goodput and system-wide CPU-seconds per GB moved for each tool, and the
# lockstep/nuttcp and lockstep/iperf3 ratios (targets: goodput ratio >= 1.0, CPU per byte ratio <= 1.0).
# On loopback the SUT and the peer are one machine, so "SUT CPU" is the whole machine for all three.
# lockstep's CPU is its own meter over its window; nuttcp's and iperf3's are /proc/stat deltas over
# their whole run, read by this script.
# Then the CPU meter's check: during a nuttcp transfer, `lockstep-agent cpu` against the sum of every
# process's CPU time (/proc/PID/stat: the scheduler's per-task accounting, a different path from the
# per-CPU counters the meter reads). Target: within 5%.
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-5}
cd "$(dirname "$0")/.."
for tool in nuttcp iperf3; do command -v $tool >/dev/null || { echo "$tool missing: apt-get install $tool" >&2; exit 1; }; done
source bench/lib.sh
NUT_CTL=$(port); NUT_DATA=$(port); IPERF=$(port)
nuttcp -S --nofork -P $NUT_CTL -p $NUT_DATA >/dev/null 2>&1 & PIDS+=($!)
iperf3 -s -p $IPERF >/dev/null 2>&1 & PIDS+=($!)
sleep 1

# cpu_busy: system-wide busy ticks (user nice system irq softirq steal) from /proc/stat.
cpu_busy() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9}' /proc/stat; }
HZ=$(getconf CLK_TCK)

# Each prints "gbps cpu_seconds bytes".
run_lockstep() { lockstep_at "$1" 64KiB; }
run_lockstep128k() { lockstep_at "$1" 128KiB; }
lockstep_at() {
  local out="$WORK/ls-$RANDOM$RANDOM"
  "$BIN/lockstep" stream --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
    --direction "$1" --buffer "$2" --duration "${SECS}s" --warmup 1s --out "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  summary_metrics "$out/samples.jsonl" goodput_gbps sut_cpu_seconds bytes
}
run_nuttcp() {
  local flag=""; [ "$1" = sut-rx ] && flag="-r"   # loopback: both ends are this machine either way
  local b0 b1 out; b0=$(cpu_busy)
  out=$(nuttcp -fparse $flag -T "$SECS" -P $NUT_CTL -p $NUT_DATA 127.0.0.1)
  b1=$(cpu_busy)
  python3 -c "
import re; t='''$out'''
mb=float(re.search(r'megabytes=([0-9.]+)', t).group(1)); s=float(re.search(r'real_seconds=([0-9.]+)', t).group(1))
print(mb*8/s/1000, ($b1-$b0)/$HZ, mb*1e6)"
}
run_iperf3() {
  local flag=""; [ "$1" = sut-rx ] && flag="-R"
  local b0 b1; b0=$(cpu_busy)
  iperf3 -c 127.0.0.1 -p $IPERF -t "$SECS" $flag -J >"$WORK/iperf.json"
  b1=$(cpu_busy)
  python3 -c "
import json; e=json.load(open('$WORK/iperf.json'))['end']['sum_received']
print(e['bits_per_second']/1e9, ($b1-$b0)/$HZ, e['bytes'])"
}

printf '%-7s %-12s %5s %9s %14s\n' dir tool round "Gbit/s" "CPU s per GB"
for dir in sut-tx sut-rx; do
  declare -A G C
  TOOLS="lockstep nuttcp lockstep128k iperf3"
  for tool in $TOOLS; do G[$tool]=""; C[$tool]=""; done
  for r in $(seq 1 "$ROUNDS"); do
    for tool in $TOOLS; do
      read -r gbps cpu bytes < <(run_$tool $dir)
      per=$(python3 -c "print($cpu/($bytes/1e9))")
      G[$tool]="${G[$tool]} $gbps"; C[$tool]="${C[$tool]} $per"
      printf '%-7s %-12s %5s %9.2f %14.3f\n' $dir $tool $r "$gbps" "$per"
    done
  done
  # Medians: on a small VM every tool has slow rounds (two busy threads sharing a CPU); sums would
  # rank the tools by how many of their rounds fell in the slow mode.
  python3 - "$dir" "${G[lockstep]}" "${G[nuttcp]}" "${G[lockstep128k]}" "${G[iperf3]}" "${C[lockstep]}" "${C[nuttcp]}" "${C[lockstep128k]}" "${C[iperf3]}" <<'PY'
import statistics, sys
d = sys.argv[1]
g = [statistics.median(map(float, a.split())) for a in sys.argv[2:6]]
c = [statistics.median(map(float, a.split())) for a in sys.argv[6:10]]
print(f"{d}: median Gbit/s lockstep {g[0]:.2f} vs nuttcp {g[1]:.2f} (64 KiB writes): goodput ratio {g[0]/g[1]:.3f}, "
      f"CPU per byte ratio {c[0]/c[1]:.3f}; lockstep {g[2]:.2f} vs iperf3 {g[3]:.2f} (128 KiB): goodput ratio "
      f"{g[2]/g[3]:.3f}, CPU per byte ratio {c[2]/c[3]:.3f} (targets: goodput >= 1.0, CPU per byte <= 1.0)")
PY
done

# The meter against the scheduler's per-task accounting, during a nuttcp transfer.
nuttcp -T 8 -P $NUT_CTL -p $NUT_DATA 127.0.0.1 >/dev/null & NT=$!
sleep 2
python3 - "$BIN/lockstep-agent" <<'PY'
import glob, json, os, subprocess, sys
hz = os.sysconf("SC_CLK_TCK")
def tasks():
    total = 0
    for p in glob.glob("/proc/[0-9]*/stat"):
        try:
            f = open(p).read().rsplit(")", 1)[1].split()
            total += int(f[11]) + int(f[12])   # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total / hz
# Both read CLOCK_MONOTONIC: the meter's window and the two scans start at the same instants
# (each scan takes the same time at both ends, so the interval lengths match).
import threading, time
start = time.monotonic_ns() + 500_000_000
seconds = 4
proc = subprocess.Popen([sys.argv[1], "cpu", "--seconds", str(seconds), "--start-at-ns", str(start)], stdout=subprocess.PIPE, text=True)
def sleep_until(ns):
    while time.monotonic_ns() < ns: time.sleep(min(0.01, max(0, (ns - time.monotonic_ns()) / 1e9)))
sleep_until(start); a = tasks()
sleep_until(start + seconds * 1_000_000_000); b = tasks()
usage = json.loads(proc.communicate()[0])
meter, sched = usage["busySeconds"], b - a
print(f"CPU meter during nuttcp: {meter:.2f} busy CPU-s over {usage['wallSeconds']:.2f} s; per-task accounting {sched:.2f} CPU-s; "
      f"difference {abs(meter - sched) / sched * 100:.1f}% (target <= 5%); the kernel's counters accounted for "
      f"{usage.get('accountedFraction', 1) * 100:.0f}% of the window; meter's own reads {usage['meterReadNs'] / 1e6:.2f} ms "
      f"per window ({usage['meterReadNs'] / 1e9 / usage['wallSeconds'] * 100:.4f}% of one CPU)")
PY
wait $NT || true
