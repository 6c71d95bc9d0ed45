#!/usr/bin/env bash
# lockstep fio against plain fio, in one invocation, on the same file, job and duration.
#
#   bench/fio.sh [ROUNDS] [SECONDS]          (defaults: 5 rounds of 3 s)
#   MODES=1 bench/fio.sh ...                 (also lockstep's docker-host volume and layered, and kvm,
#                                             against native: starts a dockerd of its own and builds the
#                                             image and the guest image from the release agent)
#
# The job: 4 KiB random reads at QD16, libaio, O_DIRECT, on a 64 MiB file in one folder, time based
# with a 1 s ramp. Rounds alternate (lockstep, fio, lockstep, fio, ...); each pair's ratio is taken
# and the median printed, for IOPS and MB/s: the wrapper must cost nothing measurable (>= 0.97).
# fio runs with the same options lockstep's agent gives it (`--thread --group_reporting --time_based
# --ramp_time --runtime --output-format=json+`).
set -euo pipefail
ROUNDS=${1:-5}
SECS=${2:-3}
cd "$(dirname "$0")/.."
command -v fio >/dev/null || { echo "fio missing: apt-get install fio" >&2; exit 1; }
source bench/lib.sh
STORE="$WORK/storage"; mkdir -p "$STORE"
JOB=(--rw randread --bs 4KiB --iodepth 16 --size 64MiB)

run_lockstep() {  # [extra args] -> "iops mb_per_sec"
  local out="$WORK/ls-$RANDOM$RANDOM"
  "$BIN/lockstep" fio --sut 127.0.0.1:$SUT_PORT --token-file "$TOKEN" "${JOB[@]}" --storage-dir "$STORE" \
    --duration "${SECS}s" --warmup 1s --quiet "$@" --out "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  summary_metrics "$out/samples.jsonl" iops bandwidth_mb_per_sec
}

run_fio() {  # -> "iops mb_per_sec"
  local file="$WORK/plain.dat" out="$WORK/plain.json"
  [ -f "$file" ] || fio --name=prefill --filename="$file" --size=64m --rw=write --bs=1m --iodepth=16 \
    --ioengine=libaio --direct=1 --thread --output-format=json --output="$WORK/prefill.json" >/dev/null
  fio --name=randread --filename="$file" --size=67108864 --rw=randread --bs=4096 --iodepth=16 --numjobs=1 \
    --group_reporting --time_based --ramp_time=1000ms --runtime="${SECS}000ms" --ioengine=libaio --direct=1 \
    --thread --output-format=json+ --output="$out" >/dev/null
  python3 -c "import json;r=json.load(open('$out'))['jobs'][0]['read'];print(r['iops'], r['bw_bytes']/1e6)"
}

echo "4 KiB random read, QD16, libaio, O_DIRECT, 64 MiB file; $ROUNDS rounds x ${SECS}s, alternating"
L=(); LB=(); F=(); FB=()
for round in $(seq "$ROUNDS"); do
  read -r iops mb < <(run_lockstep); L+=("$iops"); LB+=("$mb")
  read -r iops mb < <(run_fio); F+=("$iops"); FB+=("$mb")
done
python3 - "${L[*]}" "${LB[*]}" "${F[*]}" "${FB[*]}" <<'PY'
import statistics as st, sys
l, lb, f, fb = ([float(x) for x in a.split()] for a in sys.argv[1:5])
print(f"  lockstep fio IOPS {' '.join(f'{x:8.0f}' for x in l)}   median {st.median(l):8.0f}")
print(f"  plain fio    IOPS {' '.join(f'{x:8.0f}' for x in f)}   median {st.median(f):8.0f}")
print(f"lockstep/fio: IOPS median of paired ratios {st.median(a / b for a, b in zip(l, f)):.3f}, "
      f"MB/s {st.median(a / b for a, b in zip(lb, fb)):.3f} (target >= 0.97)")
PY

[ "${MODES:-0}" = 1 ] || exit 0
# Modes: lockstep alone, the same job per storage placement, alternating with native.
# A dockerd of the script's own (bench/lib.sh), put back when the script ends.
own_dockerd
"$BIN/lockstep-agent" image build --agent "$BIN/lockstep-agent" >"$WORK/image.log" 2>&1
"$BIN/lockstep-agent" vm build --agent "$BIN/lockstep-agent" --out "$WORK/vm" >"$WORK/vm.log" 2>&1
kill "$SUT_PID"; wait "$SUT_PID" 2>/dev/null || true
"$BIN/lockstep-agent" serve --listen 127.0.0.1:$SUT_PORT --token-file "$TOKEN" --name sut 2>"$WORK/sut2.log" & PIDS+=($!)
sleep 1
declare -A PLACE=(
  [volume]="--mode docker-host --storage volume"
  [layered]="--mode docker-host --storage layered"
  [kvm]="--mode kvm --vm-image $WORK/vm --accel auto --vm-disk-format raw --vm-disk-cache none"
)
for name in volume layered kvm; do
  N=(); M=()
  for round in $(seq "$ROUNDS"); do
    read -r iops _ < <(run_lockstep); N+=("$iops")
    # shellcheck disable=SC2086
    read -r iops _ < <(run_lockstep ${PLACE[$name]}); M+=("$iops")
  done
  python3 - "$name" "${M[*]}" "${N[*]}" <<'PY'
import statistics as st, sys
name = sys.argv[1]; m, n = ([float(x) for x in a.split()] for a in sys.argv[2:4])
print(f"  {name}/native QD16 random read IOPS: median of paired ratios {st.median(a / b for a, b in zip(m, n)):.3f} "
      f"({name} median {st.median(m):.0f}, native {st.median(n):.0f})" + (" [kvm: TCG where KVM cannot boot: emulated]" if name == "kvm" else ""))
PY
done
