#!/usr/bin/env bash
# Fuzzes every decoder lockstep feeds with bytes from the network, with libFuzzer, for a bounded time.
#
#   fuzz/run.sh [SECONDS_PER_TARGET]        (default 60)
#   fuzz/run.sh --long                      (each target to 1e7 executions)
#   FUZZ_TARGETS="mysql fio" fuzz/run.sh    (only these targets)
#
# Builds the `lockstep-fuzz` product with -sanitize=fuzzer (clang's fuzzer runtime ships with the
# Swift toolchain) into .build-fuzz/, then runs each target (wire: the control protocol's frame and
# message decoder; resp: the RESP parser and scanner the Redis load generator uses; mysql: the MySQL
# greeting, login and answer readers the MySQL load generator and setup use; fio: fio's JSON report and the
# step's result from it, as the SUT agent reads them; hpcc: hpccoutf.txt's summary; probe: the clock
# probe packets the agent and the coordinator read off UDP; plan and lab: the plan and lab file
# readers (YAML, every experiment through its workload's options), each error one line; pods:
# `kubectl get pods -o json` as `lab from-kubernetes` reads it, and the lab file it writes read back;
# proc: /proc/stat, /proc/cpuinfo, /proc/meminfo and cgroup limits as the CPU meter reads them) starting from
# fuzz/corpus/<target> (new inputs it finds go to .build-fuzz/corpus/<target>). A crash is saved as
# fuzz/regressions/<target>-crash-<sha1>; check it in: `swift test` replays every file there
# through every target (FuzzRegressionTests). Prints the executions each target ran.
set -euo pipefail
# --long: each target to ten million executions (at most LONG_SECONDS, default 7200, per target).
LIMIT=(-max_total_time="${1:-60}")
SECS="${1:-60}s"
if [ "${1:-}" = "--long" ]; then
  LIMIT=(-runs=10000000 -max_total_time="${LONG_SECONDS:-7200}")
  SECS="up to 1e7 executions"
fi
cd "$(dirname "$0")/.."
FLAGS=(-c release --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DLOCKSTEP_FUZZING -Xswiftc -parse-as-library)
swift build --product lockstep-fuzz "${FLAGS[@]}" >/dev/null
BIN=$(swift build "${FLAGS[@]}" --show-bin-path)/lockstep-fuzz
status=0
# Swift's backtracer would take a crash's signal before libFuzzer, which then saves no input.
export SWIFT_BACKTRACE=enable=no
for target in ${FUZZ_TARGETS:-wire resp mysql fio hpcc probe plan lab pods proc}; do
  work=.build-fuzz/corpus/$target
  mkdir -p "$work" fuzz/regressions
  log=.build-fuzz/$target.log
  set +e
  LOCKSTEP_FUZZ_TARGET=$target "$BIN" "${LIMIT[@]}" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/regressions/$target-" -print_final_stats=1 "$work" "fuzz/corpus/$target" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ $rc -eq 0 ]; then
    echo "$target: ${runs:-?} executions ($SECS), $cov, corpus $(ls "$work" | wc -l) inputs, no crash"
  else
    echo "$target: CRASH after ${runs:-?} executions (exit $rc); input saved under fuzz/regressions/, log $log"
    grep -m3 -E "ERROR|Fatal|panic|==" "$log" || true
    status=1
  fi
done
exit $status
