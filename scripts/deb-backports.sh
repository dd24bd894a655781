#!/usr/bin/env bash
# deb-backports.sh [--deb FILE] [--keep]: zspp-dkms on a Debian 13 system that
# follows trixie-backports, whose kernels (Linux 7.x) have no zpool interface,
# in a chroot (no QEMU; trixie never enters the host's apt sources).
#
# A cached trixie chroot (debootstrap minbase; apt sources trixie,
# trixie-updates, trixie-security and trixie-backports inside the chroot only;
# resolved on the host with a private apt configuration in
# $ZSPP_CACHE/deb-backports/apt) holds dkms, g++, initramfs-tools, systemd,
# the packaging tools, Debian 13's stock 6.12 kernel (linux-headers-6.12.*+deb13-amd64,
# which pulls its image) and the headers of the newest 7.x kernel in
# trixie-backports (never pinned: the newest linux-headers-N.*+deb13-amd64 with
# N >= 7), with that kernel's image downloaded but not installed. It is made
# again when either headers package moves (flock-protected; made in a .tmp
# directory and renamed). Each run works in an overlay of it (the cache never
# changes) and asserts:
#   - `apt install ./zspp-dkms_*.deb` exits 0, `dpkg --audit` is empty, dkms
#     status says installed for 6.12 and has no entry for 7.x, whose build
#     dkms skipped (BUILD_EXCLUSIVE_CONFIG; `dkms install -k 7.x` exits 77,
#     "skipped", not a failure);
#   - a build by hand against the 7.x headers stops with zspp's one line, no
#     compiler error;
#   - on a kernel without zpool (faked: a tmpfs over
#     /sys/module/zswap/parameters with 7.x's files and no zpool, in the
#     chroot's private mount namespace) zspp.service's script and zspp-enable
#     say so, change nothing and exit 0 (the service's ExecCondition exits 1:
#     skipped), and `zspp-enable --status [--json]` gives that reason (and,
#     with a zpool file added, "not-built": no module for the running kernel);
#   - `apt install -t trixie-backports linux-image-<7.x>` exits 0 (the kernel's
#     dkms autoinstall skips zspp), `dpkg --audit` is empty, its initramfs is
#     built and holds no zspp (the hook has nothing to add), 6.12's still does;
#   - `apt purge zspp-dkms` exits 0 and leaves nothing;
#   - `make deb` (scripts/deb-build.sh) run inside trixie builds a
#     lintian-clean package (lintian 2.122); trixie's lintian passes the
#     package under test (built on Debian 12), the host's passes trixie's.
#   --deb FILE  the package to test (default build/deb/zspp-dkms_VERSION_all.deb,
#               from `make deb`)
#   --keep      keep the run's overlay (upper layer) for inspection
#
# Prints PASS:/FAIL: lines and "deb-backports: N passed, M failed".
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/trixie.sh
. "$ZSPP_SCRIPTS/trixie.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }
ver=$(cat "$ZSPP_ROOT/VERSION")
deb=$ZSPP_ROOT/build/deb/zspp-dkms_${ver}_all.deb keep=0
while (($#)); do
	case $1 in
	--deb) deb=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
[[ -f $deb ]] || die "no package $deb: run 'make deb' first (or give --deb FILE)"
deb=$(realpath "$deb")
need_cmd debootstrap debootstrap
need_cmd unshare util-linux
need_cmd python3 python3
start=$(now_s)

cache=$(cache_dir deb-backports)
exec 9>"$cache/.lock"
flock 9

# The private apt configuration (host side): resolves the kernels.
mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/apt/preferences.d" "$cache/debs/partial"
main=$(host_mirror "") sec=$(host_mirror -security)
{
	echo "# zspp's private apt sources for Debian 13 + backports (scripts/deb-backports.sh); not the host's."
	for s in trixie trixie-updates trixie-backports; do
		echo "deb [signed-by=$TRIXIE_KEYRING] $main $s main"
	done
	echo "deb [signed-by=$TRIXIE_KEYRING] $sec trixie-security main"
} >"$cache/apt/sources.list.tmp"
if cmp -s "$cache/apt/sources.list.tmp" "$cache/apt/sources.list"; then rm -f "$cache/apt/sources.list.tmp"; else mv "$cache/apt/sources.list.tmp" "$cache/apt/sources.list"; fi
[[ -f $cache/apt/status ]] || : >"$cache/apt/status"
bapt() {
	local cmd=$1
	shift
	"$cmd" -o Dir::Etc::sourcelist="$cache/apt/sources.list" -o Dir::Etc::sourceparts=- \
		-o Dir::State::Lists="$cache/apt/lists" -o Dir::Cache="$cache/apt/cache" \
		-o Dir::State::status="$cache/apt/status" -o Dir::Etc::preferences="$cache/apt/preferences" \
		-o Dir::Etc::preferencesparts="$cache/apt/preferences.d" -o Acquire::Languages=none "$@"
}
stamp=$cache/apt/lists/.zspp-updated
if (($(now_s) - $(stat -c %Y "$stamp" 2>/dev/null || echo 0) >= ${ZSPP_TRIXIE_APT_MAX_AGE:-3600})) ||
	[[ $cache/apt/sources.list -nt $stamp ]]; then
	log "apt-get update of the private trixie + backports sources ($cache/apt/sources.list)"
	if bapt apt-get update -qq >"$cache/apt/update.log" 2>&1 && ! grep -E '^(W|E): ' "$cache/apt/update.log" >/dev/null; then
		touch "$stamp"
	elif [[ -f $stamp ]]; then
		warn "apt-get update failed; using the lists from $(date -r "$stamp" '+%F %T')"
	else
		cat "$cache/apt/update.log" >&2
		die "apt-get update of Debian 13's sources (with trixie-backports) failed"
	fi
fi
candidate() { bapt apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: \([0-9].*\)$/\1/p' | sed -n 1p; }
# Debian 13's stock kernel: what trixie's linux-image-amd64 points at (backports
# are pinned below it by default, so this is trixie's own).
k6=$(bapt apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: linux-image-\(6\.12\.[0-9]*+deb13-amd64\)$/\1/p' | sort -V | sed -n '$p')
# The newest 7.x (or later) kernel with headers: trixie-backports'.
k7=$(bapt apt-cache pkgnames linux-headers- 2>/dev/null |
	sed -nE 's/^linux-headers-(([7-9]|[1-9][0-9])\.[0-9]+\.[0-9]+\+deb13-amd64)$/\1/p' | sort -V | sed -n '$p')
[[ -n $k6 ]] || die "trixie's linux-image-amd64 points at no linux-image-6.12.*+deb13-amd64"
[[ -n $k7 ]] || die "trixie-backports has no linux-headers-7.*+deb13-amd64 (or later)"
v6=$(candidate "linux-headers-$k6") v7=$(candidate "linux-headers-$k7") vi7=$(candidate "linux-image-$k7")
[[ -n $v6 && -n $v7 ]] || die "no version for linux-headers-$k6 ($v6) or linux-headers-$k7 ($v7)"
[[ -n $vi7 ]] || die "trixie-backports has linux-headers-$k7 but no linux-image-$k7"
echo "kernel: $k6"
echo "kernel: $k7"
log "Debian 13 stock kernel $k6 ($v6); newest backports kernel $k7 ($v7)"

# The cached chroot, made when missing or when a kernel moved.
root=$cache/chroot
key="zspp-deb-backports 1 linux-headers-$k6=$v6 linux-headers-$k7=$v7"
if [[ $(cat "$root/.zspp-ready" 2>/dev/null) != "$key" ]]; then
	cstart=$(now_s)
	tmp=$cache/chroot.tmp
	rm -rf --one-file-system "$tmp"
	mkdir -p "$tmp"
	tarball=$ZSPP_CACHE/trixie/trixie-minbase.tgz
	if [[ ! -s $tarball ]]; then
		tarball=$cache/trixie-minbase.tgz
		if [[ ! -s $tarball ]]; then
			log "debootstrap --make-tarball (trixie minbase; cached in $tarball)"
			rm -rf --one-file-system "$cache/tb"
			unshare --mount --propagation private debootstrap --variant=minbase --make-tarball="$tarball.tmp" \
				trixie "$cache/tb" "$main" >"$cache/make-tarball.log" 2>&1 ||
				{ tail -n 20 "$cache/make-tarball.log" >&2; die "debootstrap --make-tarball trixie failed (log: $cache/make-tarball.log)"; }
			mv "$tarball.tmp" "$tarball"
			rm -rf --one-file-system "$cache/tb"
		fi
	fi
	log "creating the cached chroot for $key (log: $cache/chroot.log)"
	debootstrap_minbase trixie "$tmp" "$main" "$tarball" "$cache/chroot.log"
	# The chroot's own apt sources: the private ones, with trixie's keyring.
	sed "s|signed-by=$TRIXIE_KEYRING|signed-by=/usr/share/keyrings/debian-archive-keyring.gpg|" \
		"$cache/apt/sources.list" >"$tmp/etc/apt/sources.list"
	cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
	# Small initramfs images (the hook is what is tested; MODULES=most costs a
	# minute a kernel). Not a conffile of any package.
	mkdir -p "$tmp/etc/initramfs-tools/conf.d"
	printf 'MODULES=list\nCOMPRESS=gzip\n' >"$tmp/etc/initramfs-tools/conf.d/zspp-deb-backports"
	if ! (renice -n 10 -p "$BASHPID" >/dev/null && trixie_run --bind "$cache/debs:/var/cache/apt/archives" "$tmp" bash -euc '
		k6=$1 v6=$2 k7=$3 v7=$4 vi7=$5
		apt-get update -q
		apt-get install -y -q --no-install-recommends dkms g++ build-essential make kmod xz-utils \
			initramfs-tools systemd dpkg-dev debhelper dh-dkms lintian "linux-headers-$k6=$v6"
		apt-get install -y -q --no-install-recommends -t trixie-backports "linux-headers-$k7=$v7"
		# The 7.x image: downloaded now, installed by each run.
		apt-get install -y -q --no-install-recommends --download-only -t trixie-backports "linux-image-$k7=$vi7"
		apt-get autoclean -q' _ "$k6" "$v6" "$k7" "$v7" "$vi7") >>"$cache/chroot.log" 2>&1; then
		tail -n 20 "$cache/chroot.log" >&2
		die "installing the tools and kernels in the trixie chroot failed (log: $cache/chroot.log)"
	fi
	[[ -f $tmp/lib/modules/$k6/build/Makefile && -f $tmp/lib/modules/$k7/build/Makefile ]] ||
		die "headers for $k6 and $k7 installed, but a build/Makefile is missing (log: $cache/chroot.log)"
	printf '%s\n' "$key" >"$tmp/.zspp-ready"
	rm -rf --one-file-system "$root"
	mv "$tmp" "$root"
	log "cached chroot ready in $(($(now_s) - cstart))s: $root"
fi
# What 7.x's configuration says (the premise of the test).
if grep -E '^CONFIG_ZPOOL=' "$root/lib/modules/$k7/build/.config" >/dev/null; then
	warn "$k7 has CONFIG_ZPOOL: this test expects a kernel without the zpool interface"
fi
log "CONFIG_ZPOOL: $k6 $(sed -n 's/^CONFIG_ZPOOL=//p' "$root/lib/modules/$k6/build/.config"), $k7 ${k7:+$(sed -n 's/^CONFIG_ZPOOL=//p' "$root/lib/modules/$k7/build/.config")}"

out=$cache/run ov=$cache/overlay
rm -rf --one-file-system "$out" "$ov"
mkdir -p "$out" "$cache/pkg"
cleanup() {
	if ((keep)); then log "overlay kept: $ov/upper"; else rm -rf --one-file-system "$ov"; fi
}
trap cleanup EXIT
rm -f "$cache"/pkg/*.deb
cp "$deb" "$cache/pkg/"
pkg=/tmp/zspp-pkg/${deb##*/}

# One session in an overlay of the cached chroot. Each step's output goes to
# $out/STEP.log and its status to $out/STEP.rc; facts go to $out/*.txt. The
# host judges them afterwards.
log "chroot session: install, 7.x kernel, purge, make deb (log: $out/session.log)"
sstart=$(now_s)
# shellcheck disable=SC2016 # expanded by the chroot's bash
(renice -n 10 -p "$BASHPID" >/dev/null && trixie_run --overlay "$ov" --bind "$cache/debs:/var/cache/apt/archives" --bind "$cache/pkg:/tmp/zspp-pkg" \
	--bind "$out:/tmp/zspp-out" --bind "$ZSPP_ROOT:/tmp/zspp-src" "$root" bash -uo pipefail -c '
	k6=$1 k7=$2 ver=$3 pkg=$4 o=/tmp/zspp-out
	step() {
		local name=$1 rc=0
		shift
		"$@" >"$o/$name.log" 2>&1 || rc=$?
		echo "$rc" >"$o/$name.rc"
		return 0
	}
	facts() {
		local tag=$1 k
		dpkg --audit >"$o/$tag-audit.txt" 2>&1 || true
		dkms status zspp >"$o/$tag-dkms-status.txt" 2>&1 || true
		find /lib/modules /usr/lib/modules -name "zspp.ko*" >"$o/$tag-ko.txt" 2>/dev/null || true
		for k in "$k6" "$k7"; do
			if [ -e "/boot/initrd.img-$k" ]; then
				lsinitramfs "/boot/initrd.img-$k" 2>&1 | grep -E "/zspp\.ko" >"$o/$tag-initrd-$k.txt" || true
			else
				echo "no /boot/initrd.img-$k" >"$o/$tag-initrd-$k.txt"
			fi
		done
	}
	# dpkg without fsync in this run'"'"'s overlay (thrown away after the run).
	echo force-unsafe-io >/etc/dpkg/dpkg.cfg.d/zspp-deb-backports-unsafe-io
	step install apt-get install -y -q --no-install-recommends "$pkg"
	facts installed
	ls -d "/var/lib/dkms/zspp/$ver/$k7" >"$o/installed-k7-tree.txt" 2>&1 || true
	step dkms-k7 dkms install -m zspp -v "$ver" -k "$k7"
	rm -rf /tmp/hand && cp -r "/usr/src/zspp-$ver" /tmp/hand
	step hand make -C "/lib/modules/$k7/build" M=/tmp/hand modules

	# A booted system on a kernel without the zpool interface, faked: 7.x
	# zswap has these parameters and no zpool (only in this namespace), and
	# /run/systemd/system says systemd runs (only in this overlay).
	pz=/sys/module/zswap/parameters
	if mount -t tmpfs zspp-fake-zswap "$pz"; then
		mkdir -p /run/systemd/system
		echo N >"$pz/enabled"; echo lzo-rle >"$pz/compressor"; echo 20 >"$pz/max_pool_percent"
		echo 90 >"$pz/accept_threshold_percent"; echo Y >"$pz/shrinker_enabled"
		step nozpool-zswap /usr/lib/zspp/zspp-zswap
		step nozpool-check /usr/lib/zspp/zspp-zswap --check
		step nozpool-enable zspp-enable
		step nozpool-boot zspp-enable --boot
		rmdir /run/systemd/system
		systemctl is-enabled zspp.service >"$o/nozpool-is-enabled.txt" 2>&1 || true
		ls /etc/default/grub.d/ >"$o/nozpool-grubd.txt" 2>&1 || true
		ls "$pz" >"$o/nozpool-params.txt"
		cat "$pz/enabled" >"$o/nozpool-enabled.txt"
		step nozpool-status zspp-enable --status
		step nozpool-json zspp-enable --status --json
		# The same kernel with a zpool interface: zspp is not built for the
		# running (host) kernel in this chroot, the next reason in line.
		echo zsmalloc >"$pz/zpool"
		step notbuilt-json zspp-enable --status --json
		umount "$pz"
	else
		echo "cannot mount a tmpfs over $pz" >"$o/nozpool-mount.txt"
	fi

	step kernel apt-get install -y -q --no-install-recommends -t trixie-backports "linux-image-$k7"
	facts kernel
	ls -d "/var/lib/dkms/zspp/$ver/$k7" >"$o/kernel-k7-tree.txt" 2>&1 || true
	step purge apt-get purge -y -q zspp-dkms
	facts purged
	ls -d /usr/src/zspp-* /var/lib/dkms/zspp /etc/systemd/system/*.wants/zspp.service \
		/etc/default/grub.d/zspp.cfg /usr/lib/systemd/system/zspp.service /usr/sbin/zspp-enable >"$o/left.txt" 2>/dev/null || true

	# The package built and lintian-checked on Debian 13; trixie'"'"'s lintian on
	# the package under test.
	step deb13 bash /tmp/zspp-src/scripts/deb-build.sh --outdir /tmp/zspp-out/deb13
	step lint13 bash /tmp/zspp-src/scripts/deb-build.sh --lintian-only "$pkg" --outdir /tmp/zspp-out/lint13
' _ "$k6" "$k7" "$ver" "$pkg") >"$out/session.log" 2>&1 || {
	tail -n 20 "$out/session.log" >&2
	fail "deb-backports chroot session" "the session failed (log: $out/session.log)"
}
log "chroot session done in $(($(now_s) - sstart))s"

rc_of() { cat "$out/$1.rc" 2>/dev/null || echo "not run"; }
why() { g -E '^(E|W): |rror' "$out/$1.log" 2>/dev/null | tail -n 3 | paste -sd '|' -; }
stepcheck() {
	if [[ $(rc_of "$1") == 0 ]]; then pass "$2"; else fail "$2" "rc $(rc_of "$1"): $(why "$1") (log: $out/$1.log)"; fi
}
has() { grep -E "$2" "$out/$1" >/dev/null 2>&1; }
flat() { paste -sd '|' - <"$out/$1" 2>/dev/null | cut -c1-300; }
ere() { sed 's/[.+]/\\&/g' <<<"$1"; }
r6=$(ere "$k6") r7=$(ere "$k7") rv=$(ere "$ver")
audit_empty() { # TAG WHEN
	if [[ -f $out/$1-audit.txt && ! -s $out/$1-audit.txt ]]; then
		pass "backports dpkg --audit empty $2"
	else
		fail "backports dpkg --audit empty $2" "$(flat "$1-audit.txt")"
	fi
}

# 1. The package with 6.12 and 7.x headers.
stepcheck install "backports apt install ./${deb##*/} with linux-headers-$k6 and -$k7 exits 0"
audit_empty installed "after the install"
if has installed-dkms-status.txt "^zspp/$rv, $r6, x86_64: installed"; then
	pass "backports dkms status: zspp/$ver installed for $k6"
else
	fail "backports dkms status: zspp/$ver installed for $k6" "$(flat installed-dkms-status.txt)"
fi
if ! has installed-dkms-status.txt "$r7" && ! has installed-k7-tree.txt "^/var/lib/dkms"; then
	pass "backports dkms has no build of zspp for $k7 (no status line, no /var/lib/dkms/zspp/$ver/$k7)"
else
	fail "backports dkms has no build for $k7" "status: $(flat installed-dkms-status.txt); tree: $(flat installed-k7-tree.txt)"
fi
if has install.log "$r7.*([Ss]kipped|BUILD_EXCLUSIVE|no zpool)|([Ss]kipped|BUILD_EXCLUSIVE|no zpool).*$r7" && ! has install.log 'Bad return status|failed for module'; then
	pass "backports the install says $k7 was skipped: $(g -E "$r7.*([Ss]kipped|no zpool)" "$out/install.log" | sed -n 1p | cut -c1-160)"
else
	fail "backports the install says $k7 was skipped" "$(g -iE 'skip|exclu|zpool|fail|bad return' "$out/install.log" | paste -sd '|' - | cut -c1-300)"
fi
if [[ $(rc_of dkms-k7) == 77 ]]; then
	pass "backports dkms install -k $k7 exits 77 (skipped by BUILD_EXCLUSIVE_CONFIG, not failed)"
else
	fail "backports dkms install -k $k7 exits 77" "rc $(rc_of dkms-k7): $(flat dkms-k7.log)"
fi
# 2. A build by hand against 7.x: one clear line, nothing compiled.
nerr=$(g -cE 'error:|Error [0-9]|\*\*\*' "$out/hand.log")
if [[ $(rc_of hand) != 0 ]] && has hand.log 'zspp: kernel .* has no zpool interface' && ! has hand.log 'error:|CC \[M\]|CXX \[M\]'; then
	pass "backports make -C <$k7 headers> M=zspp stops at once: $(g -oE 'zspp: kernel [^ ]+ has no zpool interface[^)]*\)' "$out/hand.log" | sed -n 1p) ($(wc -l <"$out/hand.log") lines, $nerr error lines)"
else
	fail "backports a build by hand against $k7 stops with one line" "rc $(rc_of hand): $(sed -n 1,6p "$out/hand.log" | paste -sd '|' - | cut -c1-300)"
fi
# 3. The service's script and zspp-enable on a kernel without zpool (faked sysfs).
if [[ -f $out/nozpool-mount.txt ]]; then
	fail "backports no-zpool kernel faked" "$(cat "$out/nozpool-mount.txt")"
else
	if [[ $(rc_of nozpool-zswap) == 0 ]] && has nozpool-zswap.log 'no zpool interface' &&
		! has nozpool-params.txt '^zpool$' && has nozpool-enabled.txt '^N$'; then
		pass "backports no zpool: zspp-zswap (zspp.service) says so, changes nothing, exits 0: $(sed -n 1p "$out/nozpool-zswap.log" | cut -c1-160)"
	else
		fail "backports no zpool: zspp-zswap says so, changes nothing, exits 0" "rc $(rc_of nozpool-zswap): $(flat nozpool-zswap.log); params: $(flat nozpool-params.txt); enabled: $(flat nozpool-enabled.txt)"
	fi
	if [[ $(rc_of nozpool-check) == 1 ]] && has nozpool-check.log 'no zpool interface'; then
		pass "backports no zpool: the service's ExecCondition (zspp-zswap --check) exits 1: systemd skips the unit, no failure"
	else
		fail "backports no zpool: zspp-zswap --check exits 1 with the reason" "rc $(rc_of nozpool-check): $(flat nozpool-check.log)"
	fi
	if [[ $(rc_of nozpool-enable) == 0 && $(rc_of nozpool-boot) == 0 ]] && has nozpool-enable.log 'no zpool interface' &&
		has nozpool-is-enabled.txt '^disabled' && ! has nozpool-grubd.txt 'zspp'; then
		pass "backports no zpool: zspp-enable and --boot say so, exit 0, enable nothing (zspp.service $(cat "$out/nozpool-is-enabled.txt"), no grub.d file)"
	else
		fail "backports no zpool: zspp-enable changes nothing" "rc $(rc_of nozpool-enable)/$(rc_of nozpool-boot): $(flat nozpool-enable.log); is-enabled: $(flat nozpool-is-enabled.txt); grub.d: $(flat nozpool-grubd.txt)"
	fi
	if [[ $(rc_of nozpool-status) == 0 ]] && has nozpool-status.log '^zspp: +not in use.*no zpool interface'; then
		pass "backports no zpool: zspp-enable --status: $(g -E '^zspp: ' "$out/nozpool-status.log" | sed -n 1p | cut -c1-160)"
	else
		fail "backports no zpool: zspp-enable --status gives the reason" "rc $(rc_of nozpool-status): $(flat nozpool-status.log)"
	fi
	jr=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); z=d["zspp"]; print(z["in_use"], z["reason"], d["zswap"]["zpool_interface"])' "$out/nozpool-json.log" 2>&1 || true)
	if [[ $(rc_of nozpool-json) == 0 && $jr == "False no-zpool False" ]]; then
		pass "backports no zpool: zspp-enable --status --json parses: zspp.in_use false, reason no-zpool, zswap.zpool_interface false"
	else
		fail "backports no zpool: zspp-enable --status --json" "rc $(rc_of nozpool-json): $jr"
	fi
	jr=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); z=d["zspp"]; print(z["in_use"], z["reason"], d["zswap"]["zpool"])' "$out/notbuilt-json.log" 2>&1 || true)
	if [[ $(rc_of notbuilt-json) == 0 && $jr == "False not-built zsmalloc" ]]; then
		pass "backports zpool zsmalloc, no module for the running kernel: zspp-enable --status --json reason not-built"
	else
		fail "backports zspp-enable --status --json reason not-built" "rc $(rc_of notbuilt-json): $jr"
	fi
fi
# 4. The 7.x kernel installed afterwards.
stepcheck kernel "backports apt install -t trixie-backports linux-image-$k7 exits 0"
if has kernel.log "skipped for module\(s\) zspp" && ! has kernel.log 'failed for module'; then
	pass "backports the kernel's dkms autoinstall skipped zspp: $(g -E 'skipped for module' "$out/kernel.log" | sed -n 1p | cut -c1-160)"
else
	fail "backports the kernel's dkms autoinstall skipped zspp" "$(g -iE 'autoinstall|skip|fail' "$out/kernel.log" | paste -sd '|' - | cut -c1-300)"
fi
audit_empty kernel "after the $k7 kernel"
if has kernel-dkms-status.txt "^zspp/$rv, $r6, x86_64: installed" && ! has kernel-dkms-status.txt "$r7" && ! has kernel-k7-tree.txt '^/var/lib/dkms'; then
	pass "backports dkms status after the kernel: installed for $k6, nothing for $k7"
else
	fail "backports dkms status after the kernel" "$(flat kernel-dkms-status.txt); $(flat kernel-k7-tree.txt)"
fi
if [[ -f $out/kernel-initrd-$k7.txt && ! -s $out/kernel-initrd-$k7.txt ]] && has kernel.log "update-initramfs: Generating /boot/initrd.img-$r7"; then
	pass "backports initrd.img-$k7 built, no zspp.ko in it (the hook had nothing to add)"
else
	fail "backports initrd.img-$k7 built without zspp" "$(flat "kernel-initrd-$k7.txt")"
fi
if has kernel.log "zspp: .*$r7.*no zpool"; then
	pass "backports the initramfs hook says why for $k7: $(g -E "zspp: .*$r7.*no zpool" "$out/kernel.log" | sed -n 1p | cut -c1-160)"
else
	fail "backports the initramfs hook says why for $k7" "no 'zspp: ... no zpool' line in $out/kernel.log"
fi
if [[ -s $out/kernel-initrd-$k6.txt ]] && ! has "kernel-initrd-$k6.txt" '^no '; then
	pass "backports initrd.img-$k6 still has zspp.ko"
else
	fail "backports initrd.img-$k6 has zspp.ko" "$(flat "kernel-initrd-$k6.txt")"
fi
# 5. Purge.
stepcheck purge "backports apt purge zspp-dkms exits 0"
audit_empty purged "after the purge"
left=$(cat "$out/left.txt" "$out/purged-ko.txt" "$out"/purged-initrd-*.txt 2>/dev/null | g -v '^no /boot' | paste -sd ' ' -)
if [[ -z $left ]] && ! has purged-dkms-status.txt zspp; then
	pass "backports purge leaves nothing (sources, dkms tree, modules, initramfs, unit, enable link, grub.d file)"
else
	fail "backports purge leaves nothing" "left: $left $(flat purged-dkms-status.txt)"
fi
# 6. make deb on Debian 13, and lintian both ways.
relay "trixie make deb:" cat "$out/deb13.log"
[[ $(rc_of deb13) == 0 ]] || fail "trixie make deb" "rc $(rc_of deb13) (log: $out/deb13.log)"
relay "trixie lintian on the Debian 12 package:" cat "$out/lint13.log"
deb13=$(sed -n 's/^DEB=//p' "$out/deb13.log" | sed -n '$p')
if [[ -n $deb13 && -f $out/deb13/${deb13##*/} ]]; then
	relay "host lintian on the Debian 13 package:" "$ZSPP_SCRIPTS/deb-build.sh" --lintian-only "$out/deb13/${deb13##*/}" --outdir "$out/lint12"
else
	fail "host lintian on the Debian 13 package" "no package from the trixie build (log: $out/deb13.log)"
fi
log "total $(($(now_s) - start))s"
echo "deb-backports: $npass passed, $nfail failed"
((nfail == 0))
