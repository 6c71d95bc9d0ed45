#!/usr/bin/env bash
# A night of faults in N minutes (see bench/chaos.py): a plan of every workload in native, netns-nat
# and docker-nat (a dockerd of its own; DOCKER=0 leaves it out) and rr and redis in a kvm guest
# (KVM=0 leaves it out) on two local agents, faults injected at seeded random moments, every run
# resumed until complete; prints the faults, recovery times and invariants, and a last line
#   chaos: N faults of K kinds, steps lost N, leftovers N, invalid files N, agents answering A/A
#
#   bench/chaos.sh [MINUTES] [SEED]     (default 3 minutes, seed 1; needs root, redis-server, mariadb, fio, xz, docker.io, qemu)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path) exec python3 bench/chaos.py "${1:-3}" "${2:-1}"
