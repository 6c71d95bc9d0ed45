#!/usr/bin/env bash
# A three-machine lab on one Linux host, built from network namespaces (run as root).
#
#   deploy/lab/netns-lab.sh up   [NAME]     (default NAME: lockstep)
#   deploy/lab/netns-lab.sh down [NAME]
#
# Namespaces NAME-ctl (the control machine), NAME-sut and NAME-peer. A management bridge in
# NAME-ctl reaches both lab machines (198.18.0.1 ctl, .2 sut, .3 peer /24); a direct veth test link
# joins the SUT and the peer (198.19.0.2 sut, 198.19.0.3 peer /24), named NAME-t (on the SUT side)
# and NAME-tp (peer side), so a test can cut it: `ip -n NAME-sut link set NAME-t down`. Every
# address lies in 198.18.0.0/15 (RFC 2544's benchmarking range). `up` writes lab.yaml (the lab's
# description) into /tmp/lockstep-lab/NAME/ (or $LOCKSTEP_LAB_STATE/NAME/) and prints its path on its last line; running it twice
# is harmless. `down` stops every process in the namespaces and removes the namespaces, their links
# and the state folder.
#
# sshd runs in the SUT and peer namespaces (each in a private mount namespace with its own /run, since
# sshd needs /run/sshd), listening on the management address, with host keys generated here, root
# login by key only, and one client key (id_ed25519) authorized. The state folder also holds
# known_hosts for the coordinator and lab.yaml, which names them.
set -euo pipefail
cmd=${1:-}
NAME=${2:-lockstep}
[ ${#NAME} -le 10 ] || { echo "lab name too long (at most 10 characters: interface names are short)" >&2; exit 2; }
CTL=$NAME-ctl SUT=$NAME-sut PEER=$NAME-peer
STATE=${LOCKSTEP_LAB_STATE:-/tmp/lockstep-lab}/$NAME
[ "$(id -u)" -eq 0 ] || { echo "netns-lab.sh needs root (network namespaces)" >&2; exit 1; }

exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

down() {
  for ns in "$CTL" "$SUT" "$PEER"; do
    if exists "$ns"; then
      pids=$(ip netns pids "$ns" || true)
      [ -n "$pids" ] && kill $pids 2>/dev/null || true
    fi
  done
  sleep 0.2
  for ns in "$CTL" "$SUT" "$PEER"; do
    if exists "$ns"; then
      pids=$(ip netns pids "$ns" || true)
      [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
      ip netns delete "$ns"
    fi
  done
  rm -rf "$STATE"
}

start_sshd() {
  command -v /usr/sbin/sshd >/dev/null || { echo "sshd missing: apt-get install openssh-server" >&2; exit 1; }
  ssh-keygen -q -t ed25519 -N "" -C "lockstep-lab-$NAME" -f "$STATE/id_ed25519"
  cp "$STATE/id_ed25519.pub" "$STATE/authorized_keys"
  : >"$STATE/known_hosts"
  local i=2
  for host in sut peer; do
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

up() {
  if exists "$CTL" && exists "$SUT" && exists "$PEER" && [ -f "$STATE/lab.yaml" ]; then
    echo "$STATE/lab.yaml"
    return
  fi
  down
  for ns in "$CTL" "$SUT" "$PEER"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  # Management network: a bridge in the control namespace, one veth pair per lab machine.
  ip -n "$CTL" link add "$NAME-br" type bridge
  ip -n "$CTL" addr add 198.18.0.1/24 dev "$NAME-br"
  ip -n "$CTL" link set "$NAME-br" up
  local i=2
  for ns in "$SUT" "$PEER"; do
    ip link add "$NAME-m$i" netns "$CTL" type veth peer name "$NAME-mh" netns "$ns"
    ip -n "$CTL" link set "$NAME-m$i" master "$NAME-br" up
    ip -n "$ns" addr add "198.18.0.$i/24" dev "$NAME-mh"
    ip -n "$ns" link set "$NAME-mh" up
    i=$((i + 1))
  done
  # The test link: SUT and peer directly.
  ip link add "$NAME-t" netns "$SUT" type veth peer name "$NAME-tp" netns "$PEER"
  ip -n "$SUT" addr add 198.19.0.2/24 dev "$NAME-t"
  ip -n "$PEER" addr add 198.19.0.3/24 dev "$NAME-tp"
  ip -n "$SUT" link set "$NAME-t" up
  ip -n "$PEER" link set "$NAME-tp" up
  mkdir -p "$STATE"
  chmod 700 "$STATE"
  start_sshd
  cat >"$STATE/lab.yaml" <<YAML
# lockstep lab "$NAME" (network namespaces on $(hostname)); made by deploy/lab/netns-lab.sh
# Run the coordinator inside the control namespace: ip netns exec $CTL lockstep ... --lab $STATE/lab.yaml
known_hosts: $STATE/known_hosts
token_file: $STATE/lab.token
hosts:
  - name: sut
    role: sut
    ssh: root@198.18.0.2:22
    identity: $STATE/id_ed25519
    control: 198.18.0.2:7470
    data: 198.19.0.2
    agent_dir: /tmp/lockstep-agent-$NAME-sut
  - name: peer
    role: peer
    ssh: root@198.18.0.3:22
    identity: $STATE/id_ed25519
    control: 198.18.0.3:7470
    data: 198.19.0.3
    agent_dir: /tmp/lockstep-agent-$NAME-peer
YAML
  # Every link must be up (carrier on both ends) before anyone relies on it.
  for _ in $(seq 50); do
    up_links=$( (ip -n "$SUT" -o link show up; ip -n "$PEER" -o link show up) | grep -c "LOWER_UP" || true)
    [ "$up_links" -ge 6 ] && break   # lo, management and test link in each
    sleep 0.1
  done
  echo "$STATE/lab.yaml"
}

case "$cmd" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down [NAME]" >&2; exit 2 ;;
esac
