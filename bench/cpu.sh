#!/usr/bin/env bash
# lockstep hpcc and lockstep compress against the engines alone, in one invocation, on equal work.
#
#   bench/cpu.sh [ROUNDS] [N] [SIZE]          (defaults: 5 rounds, N=3000, a 64MiB corpus)
#   MODES=1 bench/cpu.sh ...                  (also lockstep's docker-host against native: starts a
#                                              dockerd of its own and builds the image)
#
# hpcc: `lockstep hpcc --n N --nb 192` against `mpirun ... hpcc` run by hand in a folder with the
# same hpccinf.txt (N, NB, the same P x Q grid), the same mpirun options lockstep's agent gives
# (ranks: one per CPU, bound to cores, vader shared memory, one BLAS thread per rank). compress:
# `lockstep compress --threads 2 --level 2` against `xz -T2 -2 -c CORPUS > /dev/null` on the same
# corpus (written by `lockstep-agent corpus`, read once into the page cache). Rounds alternate
# (lockstep, alone, lockstep, alone, ...); each pair's ratio is taken and the median printed: the
# wrapper must cost nothing measurable (>= 0.97).
set -euo pipefail
ROUNDS=${1:-5}
N=${2:-3000}
SIZE=${3:-64MiB}
cd "$(dirname "$0")/.."
command -v hpcc >/dev/null && command -v mpirun >/dev/null || { echo "hpcc missing: apt-get install hpcc openmpi-bin" >&2; exit 1; }
# The engine runs without the shell's math-library tuning (lockstep's agent removes it too): an
# OPENBLAS_CORETYPE left in the environment would make both sides run kernels the CPU did not choose.
for v in $(compgen -e | grep -E '^(OPENBLAS_|GOTO|OMP_|MKL_|BLIS_)' || true); do unset "$v"; done
source bench/lib.sh
RANKS=$(nproc)

run_lockstep() {  # WORKLOAD METRIC... [-- extra args] -> the metrics' values
  local w=$1; shift; local metrics=(); while [ $# -gt 0 ] && [ "$1" != "--" ]; do metrics+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  local out="$WORK/ls-$RANDOM$RANDOM" args
  if [ "$w" = hpcc ]; then args=(--n "$N" --nb 192); else args=(--threads 2 --level 2 --size "$SIZE"); fi
  "$BIN/lockstep" "$w" --sut 127.0.0.1:$SUT_PORT --token-file "$TOKEN" "${args[@]}" --quiet "$@" --out "$out" \
    >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  summary_metrics "$out/samples.jsonl" "${metrics[@]}"
}

# hpcc alone: the input lockstep writes, in a folder of its own.
ALONE="$WORK/hpcc"; mkdir -p "$ALONE"
P=$(python3 -c "import math;r=$RANKS;p=int(math.isqrt(r))
while p>1 and r%p: p-=1
print(p)"); Q=$((RANKS / P))
sed -e "s/^1000 .*Ns/$N Ns/" -e "s/^80 .*NBs/192 NBs/" -e "s/^2 .*Ps/$P Ps/" -e "s/^2 .*Qs/$Q Qs/" \
  /usr/share/doc/hpcc/examples/_hpccinf.txt >"$ALONE/hpccinf.txt"
grep -q "^$N " "$ALONE/hpccinf.txt" || { echo "could not write hpccinf.txt" >&2; exit 1; }
ROOT=(); [ "$(id -u)" = 0 ] && ROOT=(--allow-run-as-root)
run_hpcc() {  # -> "hpl_gflops triad_gb_per_sec(placement) mpi_gups"
  rm -f "$ALONE/hpccoutf.txt"
  (cd "$ALONE" && mpirun "${ROOT[@]}" -np "$RANKS" --bind-to core --mca plm isolated --mca btl self,vader \
    --mca btl_vader_single_copy_mechanism none -x OPENBLAS_NUM_THREADS=1 -x OMP_NUM_THREADS=1 hpcc >/dev/null 2>&1)
  python3 - "$ALONE/hpccoutf.txt" "$RANKS" <<'PY'
import sys
s = {}
inside = False
for line in open(sys.argv[1]):
    line = line.strip()
    if line == "Begin of Summary section.": inside = True; continue
    if line == "End of Summary section.": break
    if inside and "=" in line: k, v = line.split("=", 1); s[k] = v
print(float(s["HPL_Tflops"]) * 1000, float(s["StarSTREAM_Triad"]) * int(sys.argv[2]), float(s["MPIRandomAccess_GUPs"]))
PY
}

CORPUS="$WORK/corpus.bin"
BYTES=$(python3 -c "import re;m=re.fullmatch(r'(\d+)(KiB|MiB|GiB)?','$SIZE');print(int(m[1])*{None:1,'KiB':1<<10,'MiB':1<<20,'GiB':1<<30}[m[2]])")
"$BIN/lockstep-agent" corpus --seed 1 --size "$BYTES" --out "$CORPUS" >/dev/null
run_xz() {  # -> "mb_per_sec ratio"
  cat "$CORPUS" >/dev/null
  python3 - "$CORPUS" <<'PY'
import subprocess, sys, time, os
size = os.path.getsize(sys.argv[1])
t = time.monotonic()
out = subprocess.run(["xz", "-T", "2", "-2", "-c", "-k", sys.argv[1]], stdout=subprocess.PIPE, check=True).stdout
d = time.monotonic() - t
print(size / 1e6 / d, size / len(out))
PY
}

echo "hpcc N=$N NB=192, $RANKS ranks ($P x $Q); xz -T2 -2 over a $SIZE corpus; $ROUNDS rounds, alternating"
LH=(); LS=(); LR=(); AH=(); AS=(); AR=(); LX=(); AX=(); LXR=(); AXR=()
for round in $(seq "$ROUNDS"); do
  read -r h s r < <(run_lockstep hpcc hpl_gflops stream_triad_gb_per_sec random_access_gups); LH+=("$h"); LS+=("$s"); LR+=("$r")
  read -r h s r < <(run_hpcc); AH+=("$h"); AS+=("$s"); AR+=("$r")
  read -r x q < <(run_lockstep compress compress_mb_per_sec compress_ratio); LX+=("$x"); LXR+=("$q")
  read -r x q < <(run_xz); AX+=("$x"); AXR+=("$q")
done
python3 - "${LH[*]}" "${AH[*]}" "${LS[*]}" "${AS[*]}" "${LR[*]}" "${AR[*]}" "${LX[*]}" "${AX[*]}" "${LXR[*]}" "${AXR[*]}" <<'PY'
import statistics as st, sys
v = [[float(x) for x in a.split()] for a in sys.argv[1:11]]
def line(name, l, a, fmt):
    print(f"  {name:26s} lockstep {' '.join(fmt.format(x) for x in l)}  alone {' '.join(fmt.format(x) for x in a)}")
    return st.median(x / y for x, y in zip(l, a))
r = [line("HPL GFLOPS", v[0], v[1], "{:7.2f}"), line("STREAM triad GB/s (all)", v[2], v[3], "{:7.1f}"),
     line("RandomAccess MPI GUPS", v[4], v[5], "{:7.4f}"), line("xz MB/s", v[6], v[7], "{:7.2f}")]
print(f"  xz ratio: lockstep {st.median(v[8]):.4f}, alone {st.median(v[9]):.4f} (the same corpus: must be equal)")
print(f"lockstep/alone, median of paired ratios: HPL {r[0]:.3f}, STREAM triad {r[1]:.3f}, "
      f"RandomAccess {r[2]:.3f}, xz {r[3]:.3f} (target >= 0.97)")
PY

[ "${MODES:-0}" = 1 ] || exit 0
# docker-host against native, lockstep alone, alternating, on a dockerd of the script's own
# (bench/lib.sh), put back when the script ends.
own_dockerd
"$BIN/lockstep-agent" image build --agent "$BIN/lockstep-agent" >"$WORK/image.log" 2>&1
kill "$SUT_PID"; wait "$SUT_PID" 2>/dev/null || true
"$BIN/lockstep-agent" serve --listen 127.0.0.1:$SUT_PORT --token-file "$TOKEN" --name sut 2>"$WORK/sut2.log" & PIDS+=($!)
sleep 1
NH=(); DH=(); NS=(); DS=(); NX=(); DX=()
for round in $(seq "$ROUNDS"); do
  read -r h s < <(run_lockstep hpcc hpl_gflops stream_triad_gb_per_sec); NH+=("$h"); NS+=("$s")
  read -r h s < <(run_lockstep hpcc hpl_gflops stream_triad_gb_per_sec -- --mode docker-host); DH+=("$h"); DS+=("$s")
  read -r x < <(run_lockstep compress compress_mb_per_sec); NX+=("$x")
  read -r x < <(run_lockstep compress compress_mb_per_sec -- --mode docker-host); DX+=("$x")
done
python3 - "${DH[*]}" "${NH[*]}" "${DS[*]}" "${NS[*]}" "${DX[*]}" "${NX[*]}" <<'PY'
import statistics as st, sys
v = [[float(x) for x in a.split()] for a in sys.argv[1:7]]
r = [st.median(a / b for a, b in zip(v[i], v[i + 1])) for i in (0, 2, 4)]
print(f"docker-host/native, median of paired ratios: HPL {r[0]:.3f}, STREAM triad {r[1]:.3f}, xz {r[2]:.3f}")
PY
