#!/usr/bin/env bash
# Installs every Debian 12 package that mpx's build, tests, benchmarks and demo need.
# Idempotent: when every package is already installed it does nothing (no apt-get update).
# Nothing is fetched from anywhere but Debian's package registry.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config git
  clang llvm libclang-rt-14-dev
  # libraries (ARCHITECTURE.md: "Libraries before hand-written code")
  libboost-dev libboost-program-options-dev libboost-system-dev
  libspdlog-dev libfmt-dev nlohmann-json3-dev libssl-dev
  libbpf-dev libxdp-dev libelf-dev zlib1g-dev
  libnetfilter-conntrack-dev libmnl-dev libnftables-dev
  libsoci-dev libsqlite3-dev libpq-dev libradcli-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # tools the tests, the lab and the demo drive
  openssl socat iproute2 iputils-ping nftables conntrack ethtool bpftool xdp-tools procps kmod
  sqlite3 postgresql util-linux freeradius
  # end to end (Kamailio 5.6 with its mediaproxy module, sipp) and the benchmarks' peer and charts
  kamailio sip-tester rtpengine-daemon python3-matplotlib
)

if [[ $EUID -ne 0 ]]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps.sh: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

echo "install-deps.sh: installing ${#missing[@]} missing package(s): ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps.sh: done"
