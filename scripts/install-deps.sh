#!/usr/bin/env bash
# Install what `make check` / `make demo` need from Debian 12's archive.
# Idempotent and quick when everything is present.
set -euo pipefail
pkgs=(build-essential g++ clang libclang-rt-14-dev libgtest-dev cmake
      qemu-system-x86 busybox-static cpio xz-utils kmod dwarves
      flex bison bc libelf-dev libssl-dev rsync python3 linux-headers-amd64
      linux-source-6.1 liblzo2-dev python3-matplotlib valgrind)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
