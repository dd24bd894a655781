#!/usr/bin/env bash
# Print the kernel build directory to build zspp against: the running
# kernel's if it has one, else Debian 12's stock 6.1 headers (installed on
# demand: Debian's headers packages only work installed, see KERNEL-FACTS).
set -euo pipefail
run="/lib/modules/$(uname -r)/build"
if [ -e "$run/Makefile" ]; then echo "$run"; exit 0; fi
pick() { ls -d /usr/src/linux-headers-6.1.0-*-amd64 2>/dev/null | sort -V | tail -n1; }
dir=$(pick || true)
if [ -z "$dir" ]; then
	echo "kdir: installing Debian's 6.1 amd64 headers" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends linux-headers-amd64 >&2 ||
		{ apt-get update >&2 && apt-get install -y --no-install-recommends linux-headers-amd64 >&2; }
	dir=$(pick)
fi
echo "$dir"
