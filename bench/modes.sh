#!/usr/bin/env bash
# Deployment modes against the C tools through the same path, on loopback, in one invocation (root).
#
#   bench/modes.sh [ROUNDS] [SECONDS]      (defaults: 3 rounds of 3 s)
#
# Each round runs lockstep with --mode native,netns-nat (the two steps adjacent) and, right after,
# the C tools natively and through a NAT path this script builds by hand with the very rules the
# netns-nat mode installs (a namespace behind a bridge, DNAT in the output hook for this host's own
# traffic with route_localnet, MASQUERADE, FORWARD accepts, in an nft table of its own):
#   TCP_RR and UDP_RR (lockstep 100/200 bytes; sockperf ping-pong, 100 bytes), bulk sut-tx (nuttcp,
#   one stream), Redis at 16 connections with pipeline 10 (redis-benchmark SET/GET on a 100k key space).
# It prints, per round and as the median over rounds, the netns-nat/native ratio of each tool's
# headline (latency, transactions/s, goodput, ops/s). Target: lockstep's ratios agree with the C
# tools' within the spread of the rounds. The script removes everything it made.
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-3}
cd "$(dirname "$0")/.."
for tool in sockperf nuttcp redis-server redis-benchmark nft ip; do
  command -v $tool >/dev/null || { echo "$tool missing (apt-get install sockperf nuttcp redis-server nftables iproute2)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/modes.sh needs root (namespaces, nft)" >&2; exit 1; }
source bench/lib.sh

# The C tools' NAT path, built as NetnsNAT builds it.
ID=b$$; NS=lockstep-$ID; BR=lsbr$ID; VH=lsvh$ID; VG=lsvg$ID; TABLE=lockstep_$ID
SUB=198.18.250; G=$SUB.2
FWD=$(cat /proc/sys/net/ipv4/ip_forward)
unpath() {
  nft delete table ip $TABLE 2>/dev/null || true
  ip link del $BR 2>/dev/null || true; ip link del $VH 2>/dev/null || true
  ip netns del $NS 2>/dev/null || true
  sysctl -qw net.ipv4.ip_forward=$FWD
}
trap 'cleanup; unpath' EXIT
ip netns add $NS
ip link add $BR type bridge; ip addr add $SUB.1/24 dev $BR; ip link set $BR up
ip link add $VH type veth peer name $VG; ip link set $VH master $BR up; ip link set $VG netns $NS
ip -n $NS addr add $G/24 dev $VG; ip -n $NS link set $VG up; ip -n $NS link set lo up
ip -n $NS route add default via $SUB.1
sysctl -qw net.ipv4.conf.$BR.route_localnet=1 net.ipv4.ip_forward=1
SP=$(port); NC=$(port); ND=$(port); RP=$(port)
dnat() {
  for p in $SP $NC $ND $RP; do echo "    fib daddr type local tcp dport $p counter dnat to $G:$p"; done
  echo "    fib daddr type local udp dport $SP counter dnat to $G:$SP"
}
nft -f - <<NFT
table ip $TABLE {
  chain pre { type nat hook prerouting priority dstnat; policy accept;
$(dnat)
  }
  chain out { type nat hook output priority -100; policy accept;
$(dnat)
  }
  chain post { type nat hook postrouting priority srcnat; policy accept;
    ip saddr $SUB.0/24 oifname != "$BR" masquerade
    oifname "$BR" fib saddr type local masquerade
  }
  chain forwarding { type filter hook forward priority 0; policy accept;
    ct state established,related accept
    ip daddr $G accept
  }
}
NFT
# The same servers natively (127.0.0.1) and in the namespace (behind the NAT).
SPN=$(port); NCN=$(port); NDN=$(port); RPN=$(port)
sockperf server --tcp -i 127.0.0.1 -p $SPN >/dev/null 2>&1 & PIDS+=($!)
sockperf server -i 127.0.0.1 -p $SPN >/dev/null 2>&1 & PIDS+=($!)
ip netns exec $NS sockperf server --tcp -i $G -p $SP >/dev/null 2>&1 & PIDS+=($!)
ip netns exec $NS sockperf server -i $G -p $SP >/dev/null 2>&1 & PIDS+=($!)
nuttcp -S --nofork -P $NCN -p $NDN >/dev/null 2>&1 & PIDS+=($!)
ip netns exec $NS nuttcp -S --nofork -P $NC -p $ND >/dev/null 2>&1 & PIDS+=($!)
redis-server --port $RPN --bind 127.0.0.1 --save '' --appendonly no >/dev/null 2>&1 & PIDS+=($!)
ip netns exec $NS redis-server --port $RP --bind $G --save '' --appendonly no --protected-mode no >/dev/null 2>&1 & PIDS+=($!)
sleep 1

# sockperf_rr PROTO PORT -> "mean_rtt_us tps"
sockperf_rr() {
  local flag=""; [ "$1" = tcp ] && flag="--tcp"
  sockperf ping-pong $flag -i 127.0.0.1 -p "$2" -m 100 -t "$SECS" 2>&1 | python3 -c '
import re, sys
t = sys.stdin.read()
m = re.search(r"Valid Duration\] RunTime=([0-9.]+) sec; SentMessages=([0-9]+)", t)
a = re.search(r"Summary: Latency is ([0-9.]+) usec", t)
print(2 * float(a.group(1)), int(m.group(2)) / float(m.group(1)))'
}
# nuttcp_rx CTL DATA -> "gbps" (the server transmits: sut-tx)
nuttcp_rx() { nuttcp -r -fparse -T"$SECS" -P "$1" -p "$2" 127.0.0.1 | python3 -c '
import re, sys; print(float(re.search(r"rate_Mbps=([0-9.]+)", sys.stdin.read()).group(1)) / 1000)'; }
# redis_ops PORT -> "ops_per_sec"
redis_ops() {
  redis-benchmark -p "$1" -c 16 -P 10 -t set,get -n 200000 -d 50 -r 100000 --csv 2>/dev/null | python3 -c '
import csv, sys
rows = {r[0]: float(r[1]) for r in csv.reader(sys.stdin) if r and r[0] in ("SET", "GET")}
print(2 / (1 / rows["SET"] + 1 / rows["GET"]))'
}
# lockstep_pair WORKLOAD ARGS... -> the run's samples.jsonl
lockstep_pair() {
  local out="$WORK/ls-$RANDOM$RANDOM"
  "$BIN/lockstep" "$1" --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" \
    --mode native,netns-nat --duration "${SECS}s" --warmup 0.5s --out "$out" "${@:2}" >/dev/null 2>"$WORK/err" \
    || { cat "$WORK/err" >&2; exit 1; }
  echo "$out/samples.jsonl"
}
# ratio FILE METRIC [LABEL=VALUE] -> netns-nat/native of the metric
ratio() {
  python3 - "$@" <<'PY'
import json, sys
path, metric, *conds = sys.argv[1:]
want = dict(c.split("=", 1) for c in conds)
v = {}
for line in open(path):
    s = json.loads(line); l = s["labels"]
    if s["metric"] == metric and l.get("kind") != "interval" and all(l.get(k) == x for k, x in want.items()):
        v.setdefault(l["mode"], s["value"])
print(v["netns-nat"] / v["native"])
PY
}
div() { python3 -c "print($1 / $2)"; }

declare -A R
add() { R[$1]="${R[$1]:-} $2"; }
for r in $(seq 1 "$ROUNDS"); do
  f=$(lockstep_pair rr --protocol tcp,udp)
  add "lockstep TCP_RR mean latency" "$(ratio "$f" latency_mean_us protocol=tcp)"
  add "lockstep TCP_RR transactions/s" "$(ratio "$f" transactions_per_sec protocol=tcp)"
  add "lockstep UDP_RR mean latency" "$(ratio "$f" latency_mean_us protocol=udp)"
  read -r ln tn < <(sockperf_rr tcp $SPN); read -r la ta < <(sockperf_rr tcp $SP)
  add "sockperf TCP_RR mean latency" "$(div "$la" "$ln")"; add "sockperf TCP_RR transactions/s" "$(div "$ta" "$tn")"
  read -r ln tn < <(sockperf_rr udp $SPN); read -r la ta < <(sockperf_rr udp $SP)
  add "sockperf UDP_RR mean latency" "$(div "$la" "$ln")"
  f=$(lockstep_pair stream --direction sut-tx)
  add "lockstep bulk sut-tx goodput" "$(ratio "$f" goodput_gbps)"
  add "lockstep bulk sut-tx host cycles/byte" "$(ratio "$f" host_cycles_per_byte)"
  add "nuttcp bulk sut-tx goodput" "$(div "$(nuttcp_rx $NC $ND)" "$(nuttcp_rx $NCN $NDN)")"
  f=$(lockstep_pair redis --connections 16 --pipeline 10 --keys 100000)
  add "lockstep redis 16 conns ops/s" "$(ratio "$f" ops_per_sec)"
  add "redis-benchmark 16 conns ops/s" "$(div "$(redis_ops $RP)" "$(redis_ops $RPN)")"
  echo "round $r done" >&2
done
echo "netns-nat/native ratios, $ROUNDS rounds of ${SECS}s (per round, then the median):"
for k in "lockstep TCP_RR mean latency" "sockperf TCP_RR mean latency" "lockstep TCP_RR transactions/s" \
  "sockperf TCP_RR transactions/s" "lockstep UDP_RR mean latency" "sockperf UDP_RR mean latency" \
  "lockstep bulk sut-tx goodput" "nuttcp bulk sut-tx goodput" "lockstep bulk sut-tx host cycles/byte" \
  "lockstep redis 16 conns ops/s" "redis-benchmark 16 conns ops/s"; do
  python3 -c "import statistics as s, sys; v=[float(x) for x in sys.argv[2].split()]; print(f'  {sys.argv[1]:40s} {\" \".join(f\"{x:.3f}\" for x in v)}   median {s.median(v):.3f}')" "$k" "${R[$k]}"
done
