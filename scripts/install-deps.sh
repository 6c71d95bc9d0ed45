#!/usr/bin/env bash
# Installs the Debian packages lockstep's tests need (run as root; a no-op when all are present).
#   util-linux  unshare: the time-namespace test runs an agent with its clocks moved by 1000 s
#   iproute2    network namespaces for the lab tests
#   procps      process inspection in tests
#   redis-server the Redis tests run a real redis-server (the SUT agent starts it); brings redis-tools
#   libssh2-1-dev the coordinator's SSH layer links libssh2 (needed to build)
#   openssh-server sshd in the namespace lab (deploy/lab/netns-lab.sh) for the end-to-end test
#   mariadb-server the MySQL tests run a real MariaDB (the SUT agent initializes and starts it)
#   nftables    the netns-nat deployment mode installs its published-port rules with nft
#   docker.io   the docker-host and docker-nat modes; the test starts its own dockerd (no systemd)
#   busybox-static the container image `lockstep-agent image build` and the kvm guest's initramfs
#               (`lockstep-agent vm build`) have busybox as their shell and init
#   qemu-system-x86 the kvm mode boots its guest with qemu-system-x86_64 (TCG where /dev/kvm cannot)
#   xz-utils e2fsprogs `vm build` decompresses Debian's kernel (xz) for a direct boot; the guest's
#               MySQL disk is made with mkfs.ext4. `vm build` fetches the kernel package itself
#               (apt-get download linux-image-amd64, unpacked with dpkg-deb, not installed).
#   chromium    the report test renders report.html headless and checks every figure has ink
#   fio         the block-I/O workload's engine (the SUT agent runs Debian's fio; the container image and
#               the kvm guest's initramfs carry it); qemu-utils: qemu-img for a kvm guest's qcow2 disk
#   hpcc openmpi-bin libopenblas0-serial the CPU and memory workload (HPL, STREAM, RandomAccess under
#               OpenMPI; OpenBLAS picks its kernels by the CPU's flags, as the paper's math library did);
#               pixz: the compression workload's second compressor (xz comes with xz-utils)
#   prometheus  promtool: the tests check the agent's and the coordinator's /metrics with `promtool check
#               metrics` and import `lockstep export --format openmetrics` with `promtool tsdb create-blocks-from`
#               (the prometheus server itself is installed but not started or used)
#   kubernetes-validate (PyPI) the Kubernetes manifests in deploy/kubernetes are validated offline
#   apache-otava scipy (PyPI) the history's change points are checked against Apache Otava's and its
#               Mann-Whitney U against scipy's on the same inputs (Tests/UnitTests/Fixtures/reference_stats.py)
# (the benchmarks also want sockperf, nuttcp, iperf3 and sysbench; the tests do not)
set -euo pipefail
PACKAGES=(util-linux iproute2 procps redis-server libssh2-1-dev openssh-server mariadb-server nftables docker.io busybox-static
  qemu-system-x86 qemu-utils xz-utils e2fsprogs chromium fio hpcc openmpi-bin libopenblas0-serial pixz prometheus)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -m kubernetes_validate --version >/dev/null 2>&1; then
  echo "installing: kubernetes-validate (pip)"
  python3 -m pip install -q kubernetes-validate >/dev/null
fi
if ! python3 -c 'import otava.analysis, scipy.stats' >/dev/null 2>&1; then
  echo "installing: apache-otava scipy (pip)"
  python3 -m pip install -q apache-otava scipy >/dev/null
fi
command -v swift >/dev/null || { echo "swift not found on PATH (Swift 6.2 or newer is needed)" >&2; exit 1; }
