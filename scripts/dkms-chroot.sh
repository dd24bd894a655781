#!/usr/bin/env bash
# dkms-chroot.sh [KERNEL] [options]: dkms.conf as a Debian 13 user meets it.
#
# In the cached trixie chroot of KERNEL (default deb13-6.12; scripts/trixie.sh),
# which has trixie's dkms, gcc-14 and the kernel's image and headers installed
# as on a real trixie machine: copy the module sources to /usr/src/zspp-VERSION
# (as README.md's "Installing with dkms" says), then `dkms add`, `dkms build -k`,
# `dkms install -k` in dkms's own default trees, and `dkms remove --all`. All of
# it runs on an overlay of the chroot in a private mount namespace, so the cached
# chroot never changes and nothing stays mounted, however the run ends.
# Asserts, as scripts/dkms-check.sh does on the host: each dkms step succeeded;
# the module is installed under /lib/modules/REL/updates/dkms and depmod
# indexed it (modinfo -k REL zspp finds it there); its vermagic is REL; its
# .comment names gcc with the kernel's major version (trixie's gcc-14);
# scripts/check-module.sh passes on it; ZSPP_BUILD_OPTS (CONFIG_ZSPP_FOLD=y)
# reached make; `dkms status` says installed; after `dkms remove --all` the
# module is gone. Then boots the installed module in QEMU on that kernel under
# the end-to-end workload (tests/harness/e2e.py, small).
#
#   --workdir DIR   logs and copies (default $ZSPP_CACHE/dkms-KERNEL)
#   --no-boot       skip the QEMU boot
#
# Prints PASS:/FAIL: lines.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/trixie.sh
. "$(dirname "${BASH_SOURCE[0]}")/trixie.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

kernel=deb13-6.12 workdir="" boot=1
while (($#)); do
	case $1 in
	--workdir) workdir=$2; shift ;;
	--no-boot) boot=0 ;;
	-h | --help) usage 0 ;;
	-*) die "unknown option '$1' (see --help)" ;;
	*) kernel=$1 ;;
	esac
	shift
done
start=$(now_s)
eval "$("$ZSPP_SCRIPTS/fetch-kernel.sh" "$kernel")"
[[ -n $KCHROOT ]] || die "$kernel ($KREL) is not built in a chroot: use scripts/dkms-check.sh for host kernels"
[[ -n $workdir ]] || workdir=$(cache_dir "dkms-$kernel")
mkdir -p "$workdir"
exec 9>"$workdir/.lock"
flock 9

npass=0 nfail=0

ver=$(cat "$ZSPP_ROOT/VERSION")
run="$workdir/run" ovl="$workdir/overlay"
rm -rf "$run" "$ovl"
mkdir -p "$run/src/zspp-$ver"
# The overlay's upper layer only holds this run's changes: drop it however we exit.
trap 'rm -rf "$ovl"' EXIT
# What a source package of zspp ships: the build files and the sources.
cp -a "$ZSPP_ROOT"/{Kbuild,Makefile,VERSION,dkms.conf,include,src} "$run/src/zspp-$ver/"
# A build option that must reach make, as in scripts/dkms-check.sh: folding.
opts="CONFIG_ZSPP_FOLD=y"

log "dkms add/build/install/remove zspp/$ver for $KREL in $KCHROOT (overlay; logs in $run)"
# One chroot session. Each step's output goes to $run/STEP.log, its status to
# $run/STEP.rc; the host judges them afterwards.
# shellcheck disable=SC2016 # expanded by the chroot's bash
trixie_run --overlay "$ovl" --bind "$run" "$KCHROOT" bash -uc '
	ver=$1 krel=$2 out=$3
	export ZSPP_BUILD_OPTS=$4
	step() {
		local name=$1 rc=0
		shift
		"$@" >"$out/$name.log" 2>&1 || rc=$?
		echo "$rc" >"$out/$name.rc"
		return "$rc"
	}
	dkms --version >"$out/dkms-version.log" 2>&1
	cp -a "$out/src/zspp-$ver" /usr/src/
	step add dkms add -m zspp -v "$ver" &&
		step build dkms build --verbose -m zspp -v "$ver" -k "$krel" &&
		step install dkms install -m zspp -v "$ver" -k "$krel"
	cp "/var/lib/dkms/zspp/$ver/$krel/x86_64/log/make.log" "$out/make.log" 2>/dev/null
	step status-installed dkms status -m zspp -v "$ver" -k "$krel"
	# depmod indexed it: modinfo finds the module by name through modules.dep.
	if step modinfo modinfo -k "$krel" -F filename zspp; then
		f=$(cat "$out/modinfo.log")
		cp "$f" "$out/installed-${f##*/}"
	fi
	step remove dkms remove -m zspp -v "$ver" --all
	step modinfo-after-remove modinfo -k "$krel" -F filename zspp
	find "/lib/modules/$krel" -name "zspp.ko*" >"$out/after-remove.files" 2>/dev/null
	true
' _ "$ver" "$KREL" "$run" "$opts" >"$run/session.log" 2>&1 || {
	tail -n 20 "$run/session.log" >&2
	fail "dkms chroot session" "the chroot session failed (log: $run/session.log)"
}
log "$(sed -n 1p "$run/dkms-version.log" 2>/dev/null) in the trixie chroot"

rc_of() { cat "$run/$1.rc" 2>/dev/null || echo "not run"; }
why() { tail -n 3 "$run/$1.log" 2>/dev/null | paste -sd '|' -; }
for s in add build install; do
	if [[ $(rc_of "$s") == 0 ]]; then
		pass "dkms $s zspp/$ver ($KREL)"
	else
		fail "dkms $s zspp/$ver ($KREL)" "rc $(rc_of "$s"): $(why "$s")"
	fi
done
inst=$(cat "$run/modinfo.log" 2>/dev/null || true)
if [[ $(rc_of modinfo) == 0 && $inst == "/lib/modules/$KREL/updates/dkms/zspp.ko"* ]]; then
	pass "dkms installed zspp in /lib/modules/$KREL/updates/dkms, indexed by depmod (${inst##*/})"
else
	fail "dkms installed zspp in /lib/modules/$KREL/updates/dkms" "modinfo -k $KREL zspp: ${inst:-nothing}"
fi
if g -E "^zspp/$ver, $KREL, [^:]*: installed" "$run/status-installed.log" >/dev/null; then
	pass "dkms status: installed ($KREL)"
else
	fail "dkms status: installed ($KREL)" "$(paste -sd '|' - <"$run/status-installed.log" 2>/dev/null)"
fi

plain="$run/zspp.ko"
shopt -s nullglob
got=("$run"/installed-zspp.ko*)
shopt -u nullglob
if ((${#got[@]} > 0)); then
	case ${got[0]} in
	*.ko.xz) xz -dc "${got[0]}" >"$plain" ;;
	*.ko.zst) need_cmd zstd zstd; zstd -qdc "${got[0]}" >"$plain" ;;
	*.ko.gz) gzip -dc "${got[0]}" >"$plain" ;;
	*) cp "${got[0]}" "$plain" ;;
	esac
	vm=$(modinfo -F vermagic "$plain" | awk '{print $1}')
	if [[ $vm == "$KREL" ]]; then
		pass "dkms module vermagic $KREL"
	else
		fail "dkms module vermagic $KREL" "vermagic '$vm'"
	fi
	# Built by the chroot's compiler, the kernel's own major gcc version.
	kgcc=$(kconfig_gcc_version "$KCHROOT$KBUILD/.config")
	comment=$(ko_gcc_comment "$plain")
	majors=$(gcc_majors "$comment")
	log "compiler: $comment (kernel: CONFIG_GCC_VERSION=${kgcc:-?})"
	if [[ -n $kgcc && $majors == "$((kgcc / 10000))" ]]; then
		pass "dkms module built by gcc $majors, the kernel's compiler ($KREL)"
	else
		fail "dkms module built by the kernel's compiler ($KREL)" ".comment '$comment', CONFIG_GCC_VERSION=${kgcc:-?}"
	fi
	relay "dkms $KREL module" "$ZSPP_SCRIPTS/check-module.sh" "$plain"
	if nm "$plain" | grep ' __ksymtab_zspp_fold$' >/dev/null; then
		pass "dkms module built with CONFIG_ZSPP_FOLD=y ($KREL)"
	else
		fail "dkms module built with CONFIG_ZSPP_FOLD=y ($KREL)" "no zspp_fold export in $plain"
	fi
else
	fail "dkms module for $KREL" "no installed zspp.ko* copied out of the chroot (see $run/modinfo.log)"
fi
# dkms build --verbose prints the make command it runs.
if g -E "^make .* M=/var/lib/dkms/zspp/$ver/build $opts modules" "$run/build.log" >/dev/null; then
	pass "dkms build options reach make ($KREL)"
else
	fail "dkms build options reach make ($KREL)" "'$opts' not on the make command in $run/build.log"
fi
if [[ $(rc_of remove) == 0 && $(rc_of modinfo-after-remove) != 0 && ! -s $run/after-remove.files ]]; then
	pass "dkms remove --all removed zspp ($KREL)"
else
	fail "dkms remove --all removed zspp ($KREL)" "remove rc $(rc_of remove), modinfo after: $(cat "$run/modinfo-after-remove.log" 2>/dev/null), files: $(paste -sd ' ' - <"$run/after-remove.files" 2>/dev/null)"
fi

if ((boot)); then
	if [[ -f $plain ]]; then
		log "booting the dkms-installed module on $KREL under the e2e workload"
		# Small: this proves the packaged build loads and works; e2e-stock-deb13
		# is the full run.
		relay "dkms e2e $kernel" "$ZSPP_ROOT/tests/harness/e2e.py" --kernel "$kernel" --module "$plain" \
			--workdir "$workdir/e2e" --mem 16M --pages 8192 2>"$workdir/e2e.log"
	else
		fail "dkms e2e $kernel" "no dkms-built module"
	fi
fi
log "total $(($(now_s) - start))s"
echo "dkms $kernel: $npass passed, $nfail failed"
((nfail == 0))
