#!/usr/bin/env bash
# Install what `make check` / `make demo` need from Debian 12's archive.
# Idempotent and quick when everything is present.
#
# Debian 12 ships its 6.12 LTS kernel (linux-image/headers-6.12-amd64,
# linux-source-6.12) in bookworm-security. A machine whose apt sources lack
# that suite (in any .list or deb822 .sources file) gets it added once, in
# /etc/apt/sources.list.d/zspp-bookworm-security.sources.
#
# No early-exit reader (grep -q, head) in a pipeline here: under pipefail the
# writer then dies of SIGPIPE and the pipeline fails at random.
#
# --demo: only what `make demo` needs (the module for Debian's 6.1, the stock
# kernel and QEMU, the static workload): 10-odd packages instead of the
# 400-odd of everything `make check` runs (the 6.12 kernel, kernel sources,
# sanitizers, lintian, valgrind, matplotlib).
set -euo pipefail
demo_pkgs=(build-essential linux-headers-amd64 dwarves qemu-system-x86 busybox-static cpio xz-utils kmod python3)
pkgs=(build-essential g++ clang libclang-rt-14-dev libgtest-dev cmake
      qemu-system-x86 busybox-static cpio xz-utils kmod dwarves
      flex bison bc libelf-dev libssl-dev rsync python3 linux-headers-amd64
      linux-source-6.1 linux-headers-6.12-amd64 linux-source-6.12 dkms
      liblzo2-dev python3-matplotlib valgrind shellcheck debootstrap
      debhelper dh-dkms lintian e2fsprogs ccache
      zstd sqlite3 python3.11)
# Which apt source provides a package, for the error message.
declare -A provider=(
	[linux-headers-6.12-amd64]="bookworm-security (deb.debian.org/debian-security)"
	[linux-source-6.12]="bookworm-security (deb.debian.org/debian-security)"
)
if [[ ${1:-} == --demo ]]; then
	pkgs=("${demo_pkgs[@]}")
elif [[ $# -gt 0 ]]; then
	echo "install-deps: usage: install-deps.sh [--demo]" >&2
	exit 2
fi
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The policy output is read to its end (no grep -q: SIGPIPE under pipefail).
has_candidate() {
	local out
	out=$(apt-cache policy "$1" 2>/dev/null) || return 1
	[[ $out == *"Candidate: "[0-9]* ]]
}
# Is SUITE already in some apt source (one-line .list or deb822 .sources)?
has_suite() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		if grep -Eq "^[[:space:]]*deb[[:space:]].*[[:space:]]$1([[:space:]]|\$)" "$f" ||
			grep -Eq "^[[:space:]]*Suites:.*[[:space:]]$1([[:space:]]|\$)" "$f"; then
			return 0
		fi
	done
	return 1
}
if ! has_candidate linux-headers-6.12-amd64 && ! has_suite bookworm-security; then
	echo "install-deps: enabling bookworm-security (Debian 12's 6.12 kernel packages)"
	cat >/etc/apt/sources.list.d/zspp-bookworm-security.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -qq
fi
absent=()
for p in "${missing[@]}"; do
	has_candidate "$p" || absent+=("$p")
done
if [ ${#absent[@]} -gt 0 ]; then
	for p in "${absent[@]}"; do
		echo "install-deps: package $p has no install candidate in the apt sources;" \
			"it comes from ${provider[$p]:-bookworm (deb.debian.org/debian)}" >&2
	done
	exit 1
fi
# --no-install-recommends: the 6.12 headers depend on its image package (which
# pulls initramfs-tools); nothing here boots the host with it.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
