#!/usr/bin/env bash
# dkms-check.sh [options]: exercise dkms.conf as a user would, in a private tree.
#
# Copies the module sources to a private source tree as zspp-<VERSION>, then
# `dkms add` and `dkms build -k` for Debian's stock 6.1 and 6.12 kernels (their
# headers installed), with --dkmstree/--sourcetree/--installtree under
# $ZSPP_CACHE/dkms, so the system's /var/lib/dkms and /usr/src stay untouched.
# Asserts per kernel: the build succeeded, the built module's vermagic is that
# kernel, scripts/check-module.sh passes on it, and the build options given in
# ZSPP_BUILD_OPTS reached the make command. Then loads the dkms-built 6.12
# module in QEMU under the end-to-end workload (tests/harness/e2e.py, small), and
# removes everything with `dkms remove --all`.
#
#   --kernels "K1 K2"   kernels (scripts/fetch-kernel.sh names; default
#                       "stock-6.1 stock-6.12")
#   --boot KERNEL       the kernel whose dkms build is booted (default stock-6.12;
#                       "none" to skip the boot)
#   --keep              keep the private dkms tree afterwards
#
# Prints PASS:/FAIL: lines.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

kernels="stock-6.1 stock-6.12" boot=stock-6.12 keep=0
while (($#)); do
	case $1 in
	--kernels) kernels=$2; shift ;;
	--boot) boot=$2; shift ;;
	--keep) keep=1 ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done
need_cmd dkms dkms
start=$(now_s)

npass=0 nfail=0

ver=$(cat "$ZSPP_ROOT/VERSION")
base=$(cache_dir dkms)
exec 9>"$base/.lock"
flock 9
tree="$base/tree" srct="$base/src" inst="$base/install"
D=(--dkmstree "$tree" --sourcetree "$srct" --installtree "$inst")
cleanup() {
	if ((!keep)); then
		dkms remove -m zspp -v "$ver" --all "${D[@]}" >/dev/null 2>&1 || true
		rm -rf "$tree" "$srct" "$inst" "$base/ko"
	fi
}
trap cleanup EXIT
rm -rf "$tree" "$srct" "$inst" "$base/ko"
mkdir -p "$tree" "$srct/zspp-$ver" "$inst"
# What a source package of zspp ships: the build files and the sources.
cp -a "$ZSPP_ROOT"/{Kbuild,Makefile,VERSION,dkms.conf,include,src} "$srct/zspp-$ver/"
# A build option that must reach make: folding (Documentation/folding.rst), so
# the dkms-built modules are the CONFIG_ZSPP_FOLD=y build (checked below).
export ZSPP_BUILD_OPTS="CONFIG_ZSPP_FOLD=y"

if dkms add -m zspp -v "$ver" "${D[@]}" >"$base/add.log" 2>&1; then
	pass "dkms add zspp/$ver"
else
	fail "dkms add zspp/$ver" "$(tail -n 3 "$base/add.log" | paste -sd '|' -)"
	echo "dkms: $npass passed, $nfail failed"
	exit 1
fi

declare -A ko_of
for k in $kernels; do
	eval "$("$ZSPP_SCRIPTS/fetch-kernel.sh" "$k")"
	log "dkms build -k $KREL"
	if dkms build -m zspp -v "$ver" -k "$KREL" "${D[@]}" >"$base/build-$KREL.log" 2>&1; then
		pass "dkms build -k $KREL"
	else
		fail "dkms build -k $KREL" "$(grep -m3 -iE 'error' "$base/build-$KREL.log" "$tree/zspp/$ver/build/make.log" 2>/dev/null | paste -sd '|' -)"
		continue
	fi
	mdir="$tree/zspp/$ver/$KREL/x86_64/module"
	ko=$(find "$mdir" -name 'zspp.ko*' -print -quit 2>/dev/null || true)
	if [[ -z $ko ]]; then
		fail "dkms module for $KREL" "no zspp.ko* in $mdir"
		continue
	fi
	# Under its own name: the e2e guest loads a module by its file name.
	mkdir -p "$base/ko/$KREL"
	plain="$base/ko/$KREL/zspp.ko"
	case $ko in
	*.ko.xz) xz -dc "$ko" >"$plain" ;;
	*.ko.zst) zstd -qdc "$ko" >"$plain" ;;
	*.ko.gz) gzip -dc "$ko" >"$plain" ;;
	*) cp "$ko" "$plain" ;;
	esac
	ko_of[$k]=$plain
	vm=$(modinfo -F vermagic "$plain" | awk '{print $1}')
	if [[ $vm == "$KREL" ]]; then
		pass "dkms module vermagic $KREL"
	else
		fail "dkms module vermagic $KREL" "vermagic '$vm'"
	fi
	relay "dkms $KREL module" "$ZSPP_SCRIPTS/check-module.sh" "$plain"
	# dkms prints the make command it runs.
	if grep -E "^make .* M=$tree/zspp/$ver/build " "$base/build-$KREL.log" | grep -- " $ZSPP_BUILD_OPTS " >/dev/null; then
		pass "dkms build options reach make ($KREL)"
	else
		fail "dkms build options reach make ($KREL)" "'$ZSPP_BUILD_OPTS' not on the make command in $base/build-$KREL.log"
	fi
	# (grep reads all of nm's output: with -q, nm's SIGPIPE fails the pipe.)
	if nm "$plain" | grep ' __ksymtab_zspp_fold$' >/dev/null; then
		pass "dkms module built with CONFIG_ZSPP_FOLD=y ($KREL)"
	else
		fail "dkms module built with CONFIG_ZSPP_FOLD=y ($KREL)" "no zspp_fold export in $plain"
	fi
done
status=$(dkms status -m zspp -v "$ver" "${D[@]}" 2>&1 || true)
log "dkms status: $(paste -sd ';' - <<<"$status")"

if [[ $boot != none ]]; then
	if [[ -n ${ko_of[$boot]:-} ]]; then
		log "booting the dkms-built module ($boot) under the e2e workload"
		# Small: this proves the packaged build loads and works; e2e-stock-6.12
		# is the full run.
		relay "dkms e2e $boot" "$ZSPP_ROOT/tests/harness/e2e.py" --kernel "$boot" --module "${ko_of[$boot]}" \
			--workdir "$base/e2e-$boot" --mem 16M --pages 8192 2>"$base/e2e-$boot.log"
	else
		fail "dkms e2e $boot" "no dkms-built module for $boot"
	fi
fi
log "total $(($(now_s) - start))s"
echo "dkms: $npass passed, $nfail failed"
[[ $nfail -eq 0 ]]
