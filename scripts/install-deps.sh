#!/usr/bin/env bash
# Installs loom's build and test dependencies from Debian (bookworm) when any is missing.
# Needs root (or sudo) only when something must be installed.
set -euo pipefail
pkgs=(cmake ninja-build g++ clang-14 libclang-rt-14-dev clang-format-14
      libgtest-dev libgmock-dev libbenchmark-dev libprotobuf-dev protobuf-compiler)
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
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
