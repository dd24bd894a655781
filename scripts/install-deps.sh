#!/usr/bin/env bash
# Install what `make check` / `make demo` need from Debian 12's archive.
# Idempotent and quick when everything is present.
#
# Debian 12 ships its 6.12 LTS kernel (linux-image/headers-6.12-amd64,
# linux-source-6.12) in bookworm-security; a machine whose apt sources lack
# that suite gets it added (/etc/apt/sources.list.d/zspp-bookworm-security.sources).
set -euo pipefail
pkgs=(build-essential g++ clang libclang-rt-14-dev libgtest-dev cmake
      qemu-system-x86 busybox-static cpio xz-utils kmod dwarves
      flex bison bc libelf-dev libssl-dev rsync python3 linux-headers-amd64
      linux-source-6.1 linux-headers-6.12-amd64 linux-source-6.12 dkms
      liblzo2-dev python3-matplotlib valgrind)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
has_candidate() { apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'; }
if ! has_candidate linux-headers-6.12-amd64; then
	echo "install-deps: enabling bookworm-security (Debian 12's 6.12 kernel packages)"
	cat >/etc/apt/sources.list.d/zspp-bookworm-security.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	apt-get update -qq
	has_candidate linux-headers-6.12-amd64 ||
		{ echo "install-deps: no linux-headers-6.12-amd64 in the apt sources" >&2; exit 1; }
fi
# --no-install-recommends: the 6.12 headers depend on its image package (which
# pulls initramfs-tools); nothing here boots the host with it.
apt-get install -y -qq --no-install-recommends "${missing[@]}"
