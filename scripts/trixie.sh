# shellcheck shell=bash
# Debian 13 (trixie) kernels on this Debian 12 host. Source it after lib.sh;
# do not run it.
#
# Trixie's kernel packages are never installed on the host and trixie is never
# added to the host's apt sources: this bookworm host could not use trixie's
# headers anyway (they need trixie's gcc-14 and libraries). Instead:
#   - a private apt configuration under $ZSPP_CACHE/trixie/apt (its own sources
#     file with the host's Debian mirror, lists, cache and an empty dpkg status)
#     resolves and downloads trixie packages (tapt);
#   - a trixie chroot (debootstrap minbase) with build-essential (gcc-14), make,
#     kmod, pahole, dkms and linux-headers-<release> builds the module
#     (trixie_chroot). It is cached as $ZSPP_CACHE/trixie/chroot-<release>, and
#     rebuilt when trixie's headers package for that release changes version;
#   - trixie_run runs a command in it inside a private mount namespace.
#
#   ZSPP_TRIXIE_APT_MAX_AGE  seconds the private apt lists are trusted before
#                            'apt-get update' runs again (default 3600; 0 = always)

if [[ -n "${ZSPP_TRIXIE_SOURCED:-}" ]]; then
	return 0
fi
ZSPP_TRIXIE_SOURCED=1

TRIXIE_SUITE=trixie
TRIXIE_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

# host_apt_sources: "URI SUITE" for every enabled deb source of this machine,
# from one-line .list files and deb822 .sources files.
host_apt_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[[ -f $f ]] || continue
		sed -nE 's/^[[:space:]]*deb[[:space:]]+(\[[^]]*\][[:space:]]+)?([^[:space:]]+)[[:space:]]+([^[:space:]]+).*/\2 \3/p' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -f $f ]] || continue
		awk 'function flush(   nu, ns, i, j, u, s) {
				if (deb && !off) {
					nu = split(uris, u, " "); ns = split(suites, s, " ")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				}
				deb = 0; off = 0; uris = ""; suites = ""
			}
			/^[[:space:]]*#/ { next }
			/^[[:space:]]*$/ { flush(); next }
			{ k = tolower($1); v = $0; sub(/^[^:]*:[[:space:]]*/, "", v) }
			k == "types:" { if ((" " v " ") ~ / deb /) deb = 1 }
			k == "uris:" { uris = v }
			k == "suites:" { suites = v }
			k == "enabled:" && tolower(v) == "no" { off = 1 }
			END { flush() }' "$f"
	done
}

# host_mirror SUFFIX: the URI the host fetches its own release's suite
# <codename>SUFFIX from ("" = the main archive, "-security"); Debian's
# deb.debian.org when the host's sources do not say.
host_mirror() {
	local suffix=$1 codename uri
	codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-bookworm}")
	uri=$(host_apt_sources | awk -v s="$codename$suffix" '$2 == s { print $1 }' | sed -n 1p)
	if [[ -z $uri ]]; then
		uri=http://deb.debian.org/debian$suffix
		warn "no apt source for $codename$suffix in /etc/apt/sources.list{,.d}: using $uri"
	fi
	printf '%s\n' "${uri%/}"
}

# trixie_dir: the trixie cache directory, with the private apt configuration
# written (it follows the host's mirrors, so it is rewritten every time).
trixie_dir() {
	local tx main sec
	tx=$(cache_dir trixie)
	mkdir -p "$tx/apt/lists/partial" "$tx/apt/cache/archives/partial" "$tx/apt/preferences.d"
	main=$(host_mirror "") sec=$(host_mirror -security)
	{
		echo "# zspp's private apt sources for Debian 13 (scripts/trixie.sh); not the host's."
		echo "deb [signed-by=$TRIXIE_KEYRING] $main $TRIXIE_SUITE main"
		echo "deb [signed-by=$TRIXIE_KEYRING] $main $TRIXIE_SUITE-updates main"
		echo "deb [signed-by=$TRIXIE_KEYRING] $sec $TRIXIE_SUITE-security main"
	} >"$tx/apt/sources.list.tmp"
	# Replaced only when it changes: apt rebuilds its package cache (seconds)
	# whenever the sources file is newer than it.
	if cmp -s "$tx/apt/sources.list.tmp" "$tx/apt/sources.list"; then
		rm -f "$tx/apt/sources.list.tmp"
	else
		mv "$tx/apt/sources.list.tmp" "$tx/apt/sources.list"
	fi
	# An empty dpkg status: what the host has installed is no business of trixie's apt.
	[[ -f $tx/apt/status ]] || : >"$tx/apt/status"
	printf '%s\n' "$tx"
}

# tapt CMD ARGS...: apt-get / apt-cache CMD with the private trixie configuration.
tapt() {
	local cmd=$1 tx
	shift
	tx="$ZSPP_CACHE/trixie"
	"$cmd" -o Dir::Etc::sourcelist="$tx/apt/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$tx/apt/lists" -o Dir::Cache="$tx/apt/cache" \
		-o Dir::State::status="$tx/apt/status" -o Dir::Etc::preferences="$tx/apt/preferences" \
		-o Dir::Etc::preferencesparts="$tx/apt/preferences.d" -o Acquire::Languages=none "$@"
}

# trixie_update: refresh the private lists when older than ZSPP_TRIXIE_APT_MAX_AGE
# (Debian's kernels move: the release must come from the archive, but every
# script of one check run need not ask it again).
trixie_update() {
	local tx stamp age max=${ZSPP_TRIXIE_APT_MAX_AGE:-3600} lk
	tx=$(trixie_dir)
	stamp="$tx/apt/lists/.zspp-updated"
	exec {lk}>"$tx/apt/.lock"
	flock "$lk"
	age=$(($(now_s) - $(stat -c %Y "$stamp" 2>/dev/null || echo 0)))
	if ((age >= max)); then
		log "apt-get update of the private trixie sources ($tx/apt/sources.list)"
		if tapt apt-get update -qq >"$tx/apt/update.log" 2>&1 && ! grep -E '^(W|E): ' "$tx/apt/update.log" >/dev/null; then
			touch "$stamp"
		elif [[ -f $stamp ]]; then
			warn "apt-get update of the trixie sources failed ($(grep -E '^(W|E): ' "$tx/apt/update.log" | sed -n 1p)); using the lists from $(date -r "$stamp" '+%F %T')"
		else
			cat "$tx/apt/update.log" >&2
			exec {lk}>&-
			die "apt-get update of Debian 13's sources failed (suites $TRIXIE_SUITE, $TRIXIE_SUITE-updates, $TRIXIE_SUITE-security from $tx/apt/sources.list; the trixie keys come from the host's debian-archive-keyring, 2023.3 or later)"
		fi
	fi
	exec {lk}>&-
}

# tcandidate PKG: the version apt would install from trixie ("" if none).
tcandidate() {
	tapt apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: \([0-9].*\)$/\1/p' | sed -n 1p
}

# trixie_krel: Debian 13's newest 6.12 kernel release, e.g. 6.12.118+deb13-amd64:
# the one trixie's linux-image-amd64 meta package points at, else (should trixie
# move to another series) the newest linux-image-6.12.*+deb13-amd64. Never pinned.
# The answer, with its headers' version, is kept in apt/resolved until the lists
# are updated again (each apt-cache run costs seconds; a check run asks often).
trixie_krel() {
	local krel ver tx resolved
	trixie_update
	tx="$ZSPP_CACHE/trixie"
	resolved="$tx/apt/resolved"
	if [[ $resolved -nt $tx/apt/lists/.zspp-updated && $resolved -nt $tx/apt/sources.list ]]; then
		read -r krel ver <"$resolved" || true
		if [[ -n ${krel:-} && -n ${ver:-} ]]; then
			printf '%s\n' "$krel"
			return 0
		fi
	fi
	krel=$(tapt apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\([0-9][^ ]*-amd64\)$/\1/p' | sed -n 1p)
	if [[ $krel != 6.12.*+deb13-amd64 ]]; then
		log "trixie's linux-image-amd64 points at '${krel:-nothing}', not a 6.12 kernel: taking the newest linux-image-6.12.*+deb13-amd64"
		krel=$(tapt apt-cache pkgnames linux-image-6.12. 2>/dev/null |
			sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb13-amd64\)$/\1/p' | sort -V | tail -n 1)
	fi
	[[ -n $krel ]] ||
		die "Debian 13's apt sources ($tx/apt/sources.list) know no linux-image-6.12.*+deb13-amd64"
	ver=$(tcandidate "linux-headers-$krel")
	[[ -n $ver ]] ||
		die "trixie has linux-image-$krel but no linux-headers-$krel (suites $TRIXIE_SUITE, $TRIXIE_SUITE-security in $tx/apt/sources.list)"
	printf '%s %s\n' "$krel" "$ver" >"$resolved.tmp"
	mv "$resolved.tmp" "$resolved"
	printf '%s\n' "$krel"
}

# theaders_version KREL: the version of linux-headers-KREL trixie would install.
theaders_version() {
	local krel ver resolved="$ZSPP_CACHE/trixie/apt/resolved"
	if [[ -f $resolved ]] && read -r krel ver <"$resolved" && [[ $krel == "$1" && $(trixie_krel) == "$1" ]]; then
		printf '%s\n' "$ver"
	else
		tcandidate "linux-headers-$1"
	fi
}

# trixie_run [--overlay DIR] [--bind SRC[:DEST]]... ROOT CMD...: run CMD chrooted
# in ROOT with /proc, /sys, /dev, /dev/pts and each SRC (at DEST, default the
# same path) mounted, in a private mount namespace (unshare -m): the mounts exist
# only for CMD and vanish with its last process, even if it is killed with
# SIGKILL, so nothing is ever left mounted on the host or in the shared cache and
# no trap is needed. --overlay DIR: ROOT is only the lower layer of an overlayfs
# whose changes go to DIR/upper (the caller removes DIR): the cached chroot stays
# as it was. The environment is reset (env -i); pass variables as CMD arguments.
trixie_run() {
	local overlay="" binds=() root
	while (($#)); do
		case $1 in
		--overlay) overlay=$2; shift 2 ;;
		--bind) binds+=("$2"); shift 2 ;;
		*) break ;;
		esac
	done
	root=$1
	shift
	need_cmd unshare util-linux
	if [[ -n $overlay ]]; then
		mkdir -p "$overlay/upper" "$overlay/work" "$overlay/merged"
	fi
	# shellcheck disable=SC2016 # the script is expanded by the inner bash
	unshare --mount --propagation private bash -euo pipefail -c '
		root=$1 overlay=$2 nb=$3
		shift 3
		if [[ -n $overlay ]]; then
			mount -t overlay zspp-trixie -o "lowerdir=$root,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/merged"
			root=$overlay/merged
		fi
		mount -t proc proc "$root/proc"
		mount --bind /sys "$root/sys"
		mount --bind /dev "$root/dev"
		mount --bind /dev/pts "$root/dev/pts"
		for ((i = 0; i < nb; i++)); do
			src=${1%%:*} dst=${1#*:}
			shift
			mkdir -p "$root$dst"
			mount --bind "$src" "$root$dst"
		done
		exec chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
			DEBIAN_FRONTEND=noninteractive "$@"
	' trixie-run "$root" "$overlay" "${#binds[@]}" "${binds[@]}" "$@"
}

# trixie_chroot KREL [IMAGE_DEB]: print the path of a trixie chroot ready to build
# modules for KREL (made if missing or out of date; takes ~3-4 min cold).
# IMAGE_DEB, the linux-image-KREL .deb already downloaded, saves a second download.
trixie_chroot() {
	local krel=$1 imgdeb=${2:-} tx root tmp ver key tarball mirror lk d start
	tx=$(trixie_dir)
	root="$tx/chroot-$krel"
	ver=$(theaders_version "$krel")
	[[ -n $ver ]] || die "no linux-headers-$krel in Debian 13's apt sources ($tx/apt/sources.list)"
	key="linux-headers-$krel=$ver"
	exec {lk}>"$tx/.chroot.lock"
	flock "$lk"
	if [[ $(cat "$root/.zspp-ready" 2>/dev/null) != "$key" ]]; then
		start=$(now_s)
		need_cmd debootstrap debootstrap
		mirror=$(host_mirror "")
		tarball="$tx/$TRIXIE_SUITE-minbase.tgz"
		tmp="$tx/chroot-$krel.tmp"
		rm -rf --one-file-system "$tmp"
		# debootstrap mounts /proc and /sys in its target: in a private mount
		# namespace, an interrupted run cannot leave them mounted.
		minbase_tarball "$TRIXIE_SUITE" "$tarball" "$mirror" "$tx/make-tarball.log"
		log "creating the trixie chroot for $key (debootstrap from $tarball, then apt; log $tx/chroot.log)"
		if ! unshare --mount --propagation private debootstrap --variant=minbase --unpack-tarball="$tarball" \
			"$TRIXIE_SUITE" "$tmp" "$mirror" >"$tx/chroot.log" 2>&1; then
			# A stale tarball (the archive moved on): fetch again once.
			warn "debootstrap from the cached $tarball failed; fetching $TRIXIE_SUITE afresh"
			rm -rf --one-file-system "$tmp" "$tarball"
			unshare --mount --propagation private debootstrap --variant=minbase "$TRIXIE_SUITE" "$tmp" "$mirror" \
				>"$tx/chroot.log" 2>&1 ||
				{ tail -n 20 "$tx/chroot.log" >&2; die "debootstrap $TRIXIE_SUITE from $mirror failed (log: $tx/chroot.log)"; }
		fi
		# The chroot's apt uses the same trixie sources, with trixie's own keyring.
		sed "s|signed-by=$TRIXIE_KEYRING|signed-by=/usr/share/keyrings/debian-archive-keyring.gpg|" \
			"$tx/apt/sources.list" >"$tmp/etc/apt/sources.list"
		cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
		# The headers depend on the image package, which runs update-initramfs:
		# this chroot never boots (the QEMU guests get a busybox initramfs), so
		# skip that minute-long step the way live-build and pbuilder do.
		chroot "$tmp" dpkg-divert --local --rename --add /usr/sbin/update-initramfs >>"$tx/chroot.log" 2>&1
		ln -sf /bin/true "$tmp/usr/sbin/update-initramfs"
		# The chroot's downloads are kept beside it, for the next rebuild.
		mkdir -p "$tx/debs"
		if [[ -n $imgdeb && -f $imgdeb ]]; then
			ln -f "$imgdeb" "$tx/debs/" 2>/dev/null || cp "$imgdeb" "$tx/debs/"
		fi
		if ! trixie_run --bind "$tx/debs:/var/cache/apt/archives" "$tmp" bash -euc '
			apt-get update -q
			apt-get install -y -q --no-install-recommends build-essential make kmod pahole xz-utils dkms \
				"linux-headers-$1=$2" "linux-image-$1=$2"
			apt-get autoclean -q' _ "$krel" "$ver" >>"$tx/chroot.log" 2>&1; then
			tail -n 20 "$tx/chroot.log" >&2
			die "installing build-essential, make, kmod, pahole, dkms and linux-headers-$krel=$ver from Debian 13 ($TRIXIE_SUITE, $TRIXIE_SUITE-security) in the chroot failed (log: $tx/chroot.log)"
		fi
		[[ -f $tmp/lib/modules/$krel/build/Makefile ]] ||
			die "linux-headers-$krel installed in the chroot, but $tmp/lib/modules/$krel/build/Makefile is missing"
		printf '%s\n' "$key" >"$tmp/.zspp-ready"
		rm -rf --one-file-system "$root"
		mv "$tmp" "$root"
		log "trixie chroot ready in $(($(now_s) - start))s: $root ($(chroot "$root" gcc --version | sed -n 1p))"
	fi
	# Chroots for older releases are of no further use.
	for d in "$tx"/chroot-*; do
		[[ $d == "$root" || $d == *.tmp || ! -d $d ]] || rm -rf --one-file-system "$d"
	done
	exec {lk}>&-
	printf '%s\n' "$root"
}

# trixie_selftests KREL: print the tools/testing/selftests directory of trixie's
# linux-source-6.12 of the same version as linux-image-KREL, holding only what
# tests/harness/zswap_peer.py builds (kselftest.h, clone3/, cgroup/). The
# package (150 MB, a tarball inside a .deb) is downloaded once per version and
# deleted once those files are out; older versions' files are removed.
trixie_selftests() {
	local krel=$1 tx ver dir tmp top lk d
	tx=$(trixie_dir)
	ver=$(tapt apt-cache show "linux-image-$krel" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n 1)
	[[ -n $ver ]] || die "no linux-image-$krel in Debian 13's apt sources ($tx/apt/sources.list)"
	dir="$tx/src/linux-source-6.12_$ver"
	top=linux-source-6.12
	exec {lk}>"$tx/.src.lock"
	flock "$lk"
	if [[ ! -f $dir/.extracted ]]; then
		log "downloading trixie's linux-source-6.12=$ver (about 150 MB, once) for test_zswap"
		tmp="$dir.tmp"
		rm -rf "$tmp"
		mkdir -p "$tmp/deb" "$tmp/x"
		(cd "$tmp/deb" && tapt apt-get download -q "linux-source-6.12=$ver" >&2) ||
			die "cannot download linux-source-6.12=$ver from Debian 13's apt sources ($tx/apt/sources.list)"
		dpkg -x "$tmp/deb/"*.deb "$tmp/x"
		rm -rf "$tmp/deb"
		mkdir -p "$tmp/src"
		tar -xaf "$tmp/x/usr/src/$top.tar.xz" -C "$tmp/src" --wildcards "$top/tools/testing/selftests/kselftest.h" \
			"$top/tools/testing/selftests/clone3/*" "$top/tools/testing/selftests/cgroup/*"
		rm -rf "$tmp/x"
		printf 'linux-source-6.12=%s\n' "$ver" >"$tmp/src/.extracted"
		rm -rf "$dir"
		mv "$tmp/src" "$dir"
		rm -rf "$tmp"
	fi
	for d in "$tx/src"/linux-source-6.12_*; do
		[[ $d == "$dir" || $d == *.tmp || ! -d $d ]] || rm -rf "$d"
	done
	exec {lk}>&-
	printf '%s\n' "$dir/$top/tools/testing/selftests"
}
