#!/usr/bin/env bash
# A lab of machines on one Linux host, built from network namespaces (run as root).
#
#   deploy/lab/netns-lab.sh up   [NAME] [--peers N]     (default NAME: lockstep, N: 1)
#   deploy/lab/netns-lab.sh down [NAME]
#
# NAME is a plain identifier (a letter, then letters and digits; at most 10 characters: interface
# names are short). Namespaces NAME-ctl (the control machine), NAME-sut and the peers: NAME-peer
# for one, NAME-peer1 ... NAME-peerN for several. A management bridge in NAME-ctl reaches every lab
# machine (198.18.0.1 ctl, .2 sut, .3 onwards the peers, /24). The test network: with one peer a
# direct veth joins the SUT and the peer (198.19.0.2 sut, 198.19.0.3 peer /24), named NAME-t (on the
# SUT side) and NAME-tp (peer side), so a test can cut it: `ip -n NAME-sut link set NAME-t down`;
# with several, a bridge NAME-tb in the SUT's namespace holds 198.19.0.2 and one veth per peer
# (NAME-tI on the bridge, NAME-tpI in peer I at 198.19.0.(2+I)). Every address lies in
# 198.18.0.0/15 (RFC 2544's benchmarking range). `up` writes lab.yaml (the lab's description) into
# /tmp/lockstep-lab/NAME/ (or $LOCKSTEP_LAB_STATE/NAME/) and prints its path on its last line;
# running it twice with the same peers is harmless. `down` stops every process in the lab's
# namespaces and removes the namespaces, their links and the state folder.
#
# sshd runs in the SUT's and each peer's namespace (each in a private mount namespace with its own
# /run, since sshd needs /run/sshd), listening on the management address, with host keys generated
# here, root login by key only, and one client key (id_ed25519) authorized. The state folder also
# holds known_hosts for the coordinator and lab.yaml, which names them.
set -euo pipefail
usage() { echo "usage: $0 up [NAME] [--peers N] | down [NAME]" >&2; exit 2; }
cmd=${1:-}
[ $# -gt 0 ] && shift
NAME=lockstep
PEERS=1
named=0
while [ $# -gt 0 ]; do
  case "$1" in
    --peers)
      [ $# -ge 2 ] || usage
      [[ "$2" =~ ^[1-9][0-9]*$ ]] && [ "$2" -le 32 ] || { echo "--peers must be 1...32, got '$2'" >&2; exit 2; }
      PEERS=$2
      shift 2
      ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *)
      [ $named = 0 ] || usage
      NAME=$1
      named=1
      shift
      ;;
  esac
done
[[ "$NAME" =~ ^[A-Za-z][A-Za-z0-9]*$ ]] || { echo "lab name '$NAME' is not a plain identifier (a letter, then letters and digits)" >&2; exit 2; }
[ ${#NAME} -le 10 ] || { echo "lab name too long (at most 10 characters: interface names are short)" >&2; exit 2; }
CTL=$NAME-ctl SUT=$NAME-sut
STATE=${LOCKSTEP_LAB_STATE:-/tmp/lockstep-lab}/$NAME
[ "$(id -u)" -eq 0 ] || { echo "netns-lab.sh needs root (network namespaces)" >&2; exit 1; }

# The peers' names: peer for one, peer1..peerN for several.
peer_names() {
  if [ "$PEERS" = 1 ]; then echo peer; else seq -f "peer%g" 1 "$PEERS"; fi
}

# This lab's namespaces that exist now (exact names: NAME-ctl, NAME-sut, NAME-peer, NAME-peerN).
lab_namespaces() {
  ip netns list | awk -v n="$NAME" '{ if ($1 ~ ("^" n "-(ctl|sut|peer[0-9]*)$")) print $1 }'
}

exists() { ip netns list | awk '{print $1}' | grep -qx -- "$1"; }

down() {
  local namespaces
  namespaces=$(lab_namespaces)
  for ns in $namespaces; do
    pids=$(ip netns pids "$ns" || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
  done
  sleep 0.2
  for ns in $namespaces; do
    pids=$(ip netns pids "$ns" || true)
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
    ip netns delete "$ns"
  done
  rm -rf "$STATE"
}

start_sshd() {
  command -v /usr/sbin/sshd >/dev/null || { echo "sshd missing: apt-get install openssh-server" >&2; exit 1; }
  ssh-keygen -q -t ed25519 -N "" -C "lockstep-lab-$NAME" -f "$STATE/id_ed25519"
  cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
  : >"$STATE/known_hosts"
  local i=2
  for host in sut $(peer_names); do
    local ns=$NAME-$host addr=198.18.0.$i
    ssh-keygen -q -t ed25519 -N "" -f "$STATE/${host}_host_ed25519_key"
    cat >"$STATE/sshd_$host.conf" <<CONF
ListenAddress $addr:22
HostKey $STATE/${host}_host_ed25519_key
PidFile $STATE/sshd_$host.pid
AuthorizedKeysFile $STATE/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
    # A private mount namespace with its own /run, so sshd finds /run/sshd without touching the host's.
    ip netns exec "$ns" unshare --mount --propagation private sh -c \
      "mount -t tmpfs lockstep-lab /run && mkdir -p /run/sshd && exec /usr/sbin/sshd -f '$STATE/sshd_$host.conf' -E '$STATE/sshd_$host.log'"
    echo "$addr $(cut -d' ' -f1,2 "$STATE/${host}_host_ed25519_key.pub")" >>"$STATE/known_hosts"
    i=$((i + 1))
  done
}

# host_entry NAME ROLE MANAGEMENT_ADDRESS TEST_ADDRESS: one host of lab.yaml.
host_entry() {
  cat <<YAML
  - name: $1
    role: $2
    ssh: root@$3:22
    identity: $STATE/id_ed25519
    control: $3:7470
    data: $4
    agent_dir: /tmp/lockstep-agent-$NAME-$1
YAML
}

up() {
  if exists "$CTL" && exists "$SUT" && [ -f "$STATE/lab.yaml" ] && [ "$(cat "$STATE/peers" 2>/dev/null)" = "$PEERS" ]; then
    echo "$STATE/lab.yaml"
    return
  fi
  down
  local peers
  peers=$(peer_names)
  for ns in "$CTL" "$SUT"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  for p in $peers; do
    ip netns add "$NAME-$p"
    ip -n "$NAME-$p" link set lo up
  done
  # Management network: a bridge in the control namespace, one veth pair per lab machine.
  ip -n "$CTL" link add "$NAME-br" type bridge
  ip -n "$CTL" addr add 198.18.0.1/24 dev "$NAME-br"
  ip -n "$CTL" link set "$NAME-br" up
  local i=2
  for host in sut $peers; do
    ip link add "$NAME-m$i" netns "$CTL" type veth peer name "$NAME-mh" netns "$NAME-$host"
    ip -n "$CTL" link set "$NAME-m$i" master "$NAME-br" up
    ip -n "$NAME-$host" addr add "198.18.0.$i/24" dev "$NAME-mh"
    ip -n "$NAME-$host" link set "$NAME-mh" up
    i=$((i + 1))
  done
  # The test network: SUT and peer directly, or a bridge on the SUT for several peers.
  if [ "$PEERS" = 1 ]; then
    ip link add "$NAME-t" netns "$SUT" type veth peer name "$NAME-tp" netns "$NAME-peer"
    ip -n "$SUT" addr add 198.19.0.2/24 dev "$NAME-t"
    ip -n "$NAME-peer" addr add 198.19.0.3/24 dev "$NAME-tp"
    ip -n "$SUT" link set "$NAME-t" up
    ip -n "$NAME-peer" link set "$NAME-tp" up
  else
    ip -n "$SUT" link add "$NAME-tb" type bridge
    ip -n "$SUT" addr add 198.19.0.2/24 dev "$NAME-tb"
    ip -n "$SUT" link set "$NAME-tb" up
    for n in $(seq 1 "$PEERS"); do
      ip link add "$NAME-t$n" netns "$SUT" type veth peer name "$NAME-tp$n" netns "$NAME-peer$n"
      ip -n "$SUT" link set "$NAME-t$n" master "$NAME-tb" up
      ip -n "$NAME-peer$n" addr add "198.19.0.$((2 + n))/24" dev "$NAME-tp$n"
      ip -n "$NAME-peer$n" link set "$NAME-tp$n" up
    done
  fi
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  echo "$PEERS" >"$STATE/peers"
  start_sshd
  {
    cat <<YAML
# lockstep lab "$NAME" (network namespaces on $(hostname), $PEERS peer(s)); made by deploy/lab/netns-lab.sh
# Run the coordinator inside the control namespace: ip netns exec $CTL lockstep ... --lab $STATE/lab.yaml
known_hosts: $STATE/known_hosts
token_file: $STATE/lab.token
hosts:
YAML
    host_entry sut sut 198.18.0.2 198.19.0.2
    i=3
    for p in $peers; do
      host_entry "$p" peer "198.18.0.$i" "198.19.0.$i"
      i=$((i + 1))
    done
  } >"$STATE/lab.yaml"
  # Every link must be up (carrier on both ends) before anyone relies on it: lo, the management
  # link and the test link in each lab machine.
  for host in sut $peers; do
    for _ in $(seq 50); do
      up_links=$(ip -n "$NAME-$host" -o link show up | grep -c "LOWER_UP" || true)
      [ "$up_links" -ge 3 ] && break
      sleep 0.1
    done
  done
  echo "$STATE/lab.yaml"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
