#!/usr/bin/env bash
# MySQL load generator against sysbench, in one invocation, against one MariaDB server.
#
#   bench/mysql.sh [ROUNDS] [SECONDS] [TABLE_SIZE] [THREADS...]   (defaults: 3 rounds of 10 s, 100000 rows, 1 and 8 threads)
#   LOCKSTEP_ARGS="--transaction read-only" SYSBENCH_TEST=oltp_read_only bench/mysql.sh ...
#
# The script starts one mariadbd (its own data directory, 1 GiB buffer pool, flush at commit) and
# points both generators at it: lockstep through `lockstep mysql --mysql HOST:PORT` (the SUT agent
# starts nothing; it creates sysbench's table once and both reuse it), sysbench directly with the
# same table, thread count and duration, prepared statements (sysbench's default) and uniform ids
# (`--rand-type=uniform`, lockstep's default), in alternating rounds. sysbench 1.0 has no warm-up
# option, so lockstep runs without one too (`--warmup 0s`): both count every transaction of the run.
# Generator CPU: lockstep's is its worker threads' CPU time over the window (its own metric),
# sysbench's the process's user+system time over its run (getrusage of the child); both per
# transaction. Targets: TPS ratio >= 0.95, CPU per transaction <= sysbench's.
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-10}
ROWS=${3:-100000}
THREADS=("${@:4}")
[ ${#THREADS[@]} -eq 0 ] && THREADS=(1 8)
TEST=${SYSBENCH_TEST:-oltp_read_write}
cd "$(dirname "$0")/.."
for tool in mariadbd mariadb-install-db sysbench; do
  command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "$tool missing: apt-get install mariadb-server sysbench" >&2; exit 1; }
done
source bench/lib.sh
MPORT=$(port)
PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'); echo "$PASSWORD" >"$WORK/password"
mariadb-install-db --no-defaults --datadir="$WORK/data" --user="$(id -un)" --auth-root-authentication-method=normal \
  --skip-test-db >"$WORK/install.log" 2>&1
cat >"$WORK/init.sql" <<SQL
CREATE DATABASE IF NOT EXISTS sbtest;
CREATE USER IF NOT EXISTS 'sbtest'@'%' IDENTIFIED BY '$PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'sbtest'@'%';
SQL
cat >"$WORK/my.cnf" <<CNF
[mysqld]
datadir=$WORK/data
socket=$WORK/mysqld.sock
port=$MPORT
bind-address=127.0.0.1
user=$(id -un)
skip-name-resolve
skip-log-bin
init-file=$WORK/init.sql
max_connections=1000
innodb_buffer_pool_size=1024M
innodb_flush_log_at_trx_commit=1
innodb_flush_method=O_DIRECT
CNF
"$(command -v mariadbd || echo /usr/sbin/mariadbd)" --defaults-file="$WORK/my.cnf" >"$WORK/mysqld.log" 2>&1 & PIDS+=($!)
for _ in $(seq 100); do grep -q "ready for connections" "$WORK/mysqld.log" && break; sleep 0.1; done

run_lockstep() {  # threads -> "tps cpu_ms_per_tx"
  local out="$WORK/ls-$RANDOM$RANDOM"
  "$BIN/lockstep" mysql --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
    --mysql 127.0.0.1:$MPORT --user sbtest --password-file "$WORK/password" --threads "$1" --table-size "$ROWS" \
    --duration "${SECS}s" --warmup 0s ${LOCKSTEP_ARGS:-} --out "$out" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  summary_metrics "$out/samples.jsonl" transactions_per_sec client_cpu_seconds_per_ktx  # s/ktx = ms/tx
}

run_sysbench() {  # threads -> "tps cpu_ms_per_tx"
  python3 - "$MPORT" "$1" "$SECS" "$ROWS" "$TEST" "$(cat "$WORK/password")" <<'PY'
import re, resource, subprocess, sys
port, threads, secs, rows, test, password = sys.argv[1:7]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
out = subprocess.run(["sysbench", test, "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={port}",
                      "--mysql-user=sbtest", f"--mysql-password={password}", "--mysql-db=sbtest", "--tables=1",
                      f"--table-size={rows}", f"--threads={threads}", f"--time={secs}", "--rand-type=uniform", "run"],
                     capture_output=True, text=True, check=True).stdout
after = resource.getrusage(resource.RUSAGE_CHILDREN)
m = re.search(r"transactions:\s+(\d+)\s+\(([\d.]+) per sec", out)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
print(float(m.group(2)), 1000 * cpu / int(m.group(1)))
PY
}

echo "mariadbd on 127.0.0.1:$MPORT; $TEST, 1 table x $ROWS rows; $ROUNDS rounds x ${SECS}s"
for t in "${THREADS[@]}"; do
  L=(); LC=(); S=(); SC=()
  for round in $(seq "$ROUNDS"); do
    read -r tps cpu < <(run_lockstep "$t"); L+=("$tps"); LC+=("$cpu")
    read -r tps cpu < <(run_sysbench "$t"); S+=("$tps"); SC+=("$cpu")
  done
  python3 - "$t" "${L[*]}" "${LC[*]}" "${S[*]}" "${SC[*]}" <<'PY'
import statistics as st, sys
t = sys.argv[1]
l, lc, s, sc = ([float(x) for x in a.split()] for a in sys.argv[2:6])
print(f"threads {t}:")
print(f"  lockstep tps {' '.join(f'{x:8.1f}' for x in l)}   median {st.median(l):8.1f}   cpu ms/tx median {st.median(lc):.3f}")
print(f"  sysbench tps {' '.join(f'{x:8.1f}' for x in s)}   median {st.median(s):8.1f}   cpu ms/tx median {st.median(sc):.3f}")
print(f"  lockstep/sysbench: tps ratio {st.median(l)/st.median(s):.3f} (target >= 0.95), "
      f"cpu per tx ratio {st.median(lc)/st.median(sc):.3f} (target <= 1.0)")
PY
done
