#!/usr/bin/env bash
# Installs loom's build and test dependencies from Debian (bookworm) when any is missing.
# Needs root (or sudo) only when something must be installed.
set -euo pipefail
pkgs=(cmake ninja-build g++ clang-14 libclang-rt-14-dev clang-format-14
      libgtest-dev libgmock-dev libbenchmark-dev libprotobuf-dev protobuf-compiler
      etcd-server etcd-client libgrpc++-dev protobuf-compiler-grpc libcpp-httplib-dev
      nlohmann-json3-dev curl iperf3 libbpf-dev bpftool gcc-multilib llvm iproute2 ethtool
      iputils-ping procps)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Packages with services (etcd-server, iperf3) must not start them: tests and scripts/etcd.sh
# run their own etcd. A policy-rc.d that exits 101 forbids service starts during the install;
# it is removed afterwards, and an existing one is left alone.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  own_policy=1
fi
cleanup() { if [ "$own_policy" -eq 1 ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
