#!/usr/bin/env bash
# qemu-run.sh --kernel IMAGE --initrd FILE [options]
#
# Boot a kernel + initramfs in QEMU (always TCG: KVM hangs on these machines),
# serial console to a log file, bounded by a timeout. The guest ends the run with
# 'reboot -f' (QEMU runs with -no-reboot, so that exits; so does a panic, thanks
# to panic=-1).
#
#   -k, --kernel IMAGE    bzImage / vmlinuz
#   -r, --initrd FILE     initramfs
#   -w, --workdir DIR     where disk images and the log go (default: a new temp dir)
#   -l, --log FILE        console log (default: WORKDIR/console.log)
#   -m, --mem SIZE        guest RAM (default 1024M)
#   -s, --smp N           guest CPUs (default 2)
#   -d, --disk SIZE       add a raw virtio-blk disk of SIZE made with truncate
#                         (repeatable; vda, vdb, ... in order; default: none)
#       --drive FILE      attach an existing raw image FILE as a virtio-blk disk
#                         (repeatable; before the --disk ones, in order; never
#                         created, reset or removed by this script)
#   -a, --append ARGS     extra kernel command line
#       --cmdline ARGS    the whole kernel command line instead of the default
#                         "console=ttyS0 panic=-1 mitigations=off" + --append
#   -t, --timeout SECS    kill QEMU after SECS (default 600); exit status 124 then
#   -e, --echo            also copy the console to stderr while it runs
#       --keep-disks      keep the disk images (default: removed after the run)
#       --serial2 FILE    a second serial port (the guest's ttyS1) written to FILE:
#                         a channel for results with no kernel messages in it and
#                         no PCI device to probe (emptied at each boot)
#       --init-marker RE  a line the guest's /init prints first (grep -E): if the
#                         console has none and shows "Kernel panic", the kernel
#                         died while booting, before /init loaded any module or
#                         ran any test (seen under TCG: an "Oops: int3" in early
#                         initcalls of Debian's 6.12). Boot again, up to
#                         ZSPP_EARLY_PANIC_RETRIES times (default 1); the crashed
#                         console is kept as LOG.early-panic.N. Never use it
#                         for kernels whose tests run before /init (built-in KUnit)
#       --boot-timeout S  with --init-marker: also boot again when the marker
#                         has not shown S seconds after QEMU started (the kernel
#                         hung while booting; seen under TCG: the 6.1 debug
#                         kernel stuck in its RCU-tasks self test 0.45 s into
#                         boot). Only for an /init that prints its marker at
#                         once (not a full Debian boot: deb-boot's marker comes
#                         after systemd, minutes later under TCG)
#
# Whatever the options, a guest whose first report is an int3 trap on a byte
# memory does not hold as int3 (QEMU ran translated code older than the kernel
# text it patched: stale_code_oops in scripts/lib.sh) is booted again, up to
# ZSPP_STALE_CODE_RETRIES times (default 2), with fresh disks; the dead boot's
# console is kept as LOG.stale-code.N and a warning names the trap. Not with
# --drive: such an image keeps what the dead boot wrote.
#
# Exit status: QEMU's (0 after the guest's reboot -f), 124 on timeout.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2; exit "${1:-2}"; }

serial2="" kernel="" initrd="" workdir="" logf="" mem=1024M smp=2 append="" tmo=600 echo=0 keep=0 marker="" fullcmd="" boot_tmo=""
disks=() images=()
while (($#)); do
	case $1 in
	-k | --kernel) kernel=$2; shift ;;
	-r | --initrd) initrd=$2; shift ;;
	-w | --workdir) workdir=$2; shift ;;
	-l | --log) logf=$2; shift ;;
	-m | --mem) mem=$2; shift ;;
	-s | --smp) smp=$2; shift ;;
	-d | --disk) disks+=("$2"); shift ;;
	--drive) images+=("$2"); shift ;;
	-a | --append) append=$2; shift ;;
	--cmdline) fullcmd=$2; shift ;;
	-t | --timeout) tmo=$2; shift ;;
	-e | --echo) echo=1 ;;
	--keep-disks) keep=1 ;;
	--serial2) serial2=$2; shift ;;
	--init-marker) marker=$2; shift ;;
	--boot-timeout) boot_tmo=$2; shift ;;
	-h | --help) usage 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
	shift
done

QEMU=${QEMU:-qemu-system-x86_64}
need_cmd "$QEMU" qemu-system-x86
need_cmd timeout coreutils
[[ -n $kernel && -f $kernel ]] || die "kernel image '${kernel}' not found (--kernel)"
[[ -n $initrd && -f $initrd ]] || die "initramfs '${initrd}' not found (--initrd)"
[[ $tmo =~ ^[0-9]+$ ]] || die "--timeout wants seconds, got '$tmo'"
[[ -z $boot_tmo || $boot_tmo =~ ^[0-9]+$ ]] || die "--boot-timeout wants seconds, got '$boot_tmo'"
tmp_workdir=0
if [[ -z $workdir ]]; then
	workdir=$(mktemp -d "${TMPDIR:-/tmp}/zspp-qemu.XXXXXX")
	# Removed at exit when only the disks and QEMU's own output are in it.
	[[ -n $logf ]] && tmp_workdir=1
fi
mkdir -p "$workdir"
[[ -n $logf ]] || logf="$workdir/console.log"
: >"$logf"

serial_args=()
[[ -z $serial2 ]] || serial_args=(-serial "file:$serial2")
drive_args=()
disk_files=()
for f in "${images[@]}"; do
	[[ -f $f ]] || die "disk image '$f' not found (--drive)"
	drive_args+=(-drive "file=$f,format=raw,if=virtio,cache=unsafe")
done
for ((i = 0; i < ${#disks[@]}; i++)); do
	f="$workdir/disk$i.img"
	disk_files+=("$f")
	drive_args+=(-drive "file=$f,format=raw,if=virtio,cache=unsafe")
done
# make_disks: fresh, empty disk images (again before a second boot).
make_disks() {
	local j
	for ((j = 0; j < ${#disks[@]}; j++)); do
		rm -f "${disk_files[j]}"
		truncate -s "${disks[j]}" "${disk_files[j]}" || die "cannot create disk image ${disk_files[j]} of size ${disks[j]}"
	done
}

cleanup() {
	if [[ -n ${tail_pid:-} ]]; then
		kill "$tail_pid" 2>/dev/null || true
		wait "$tail_pid" 2>/dev/null || true
	fi
	if ((!keep)) && ((${#disk_files[@]})); then
		rm -f "${disk_files[@]}"
	fi
	if ((tmp_workdir && !keep)); then
		rm -rf "$workdir"
	fi
}
trap cleanup EXIT

# mitigations=off: nothing to protect in a throw-away guest, and TCG is slow enough.
cmdline="console=ttyS0 panic=-1 mitigations=off${append:+ $append}"
[[ -z $fullcmd ]] || cmdline=$fullcmd

if ((echo)); then
	tail -n +1 -F "$logf" 2>/dev/null >&2 &
	tail_pid=$!
fi

attempt=0 stale=0
while :; do
	make_disks
	[[ -z $serial2 ]] || : >"$serial2"
	log "booting $(basename "$kernel") (TCG, ${smp} CPUs, $mem, timeout ${tmo}s); console: $logf"
	start=$(now_s)
	rc=0
	# -nographic with the serial port sent to a file and no monitor: QEMU does not
	# touch the terminal, and stdin is not read.
	timeout --kill-after=10 "$tmo" "$QEMU" \
		-accel tcg -smp "$smp" -m "$mem" \
		-nographic -no-reboot -nic none \
		-serial "file:$logf" "${serial_args[@]}" -monitor none \
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
		"${drive_args[@]}" </dev/null >"$workdir/qemu.out" 2>&1 &
	qpid=$!
	hung=0
	if [[ -n $marker && -n $boot_tmo ]]; then
		# Watch for /init's first line; give up on a boot that never gets there.
		while kill -0 "$qpid" 2>/dev/null; do
			if tr -d '\r' <"$logf" | grep -E "$marker" >/dev/null; then
				break
			fi
			if (($(now_s) - start >= boot_tmo)); then
				hung=1
				kill "$qpid" 2>/dev/null || true # timeout(1) passes it on to QEMU
				break
			fi
			sleep 2
		done
	fi
	wait "$qpid" || rc=$?
	if [[ -n $marker ]] && ((attempt < ${ZSPP_EARLY_PANIC_RETRIES:-1})) &&
		! tr -d '\r' <"$logf" | grep -E "$marker" >/dev/null &&
		{ ((hung)) || grep -a 'Kernel panic' "$logf" >/dev/null; }; then
		attempt=$((attempt + 1))
		cp "$logf" "$logf.early-panic.$attempt"
		if ((hung)); then
			warn "the kernel hung while booting: no '$marker' from /init after ${boot_tmo}s (last line: $(tail -n 1 "$logf" | tr -d '\r' | cut -c1-100)); booting again (console kept as $logf.early-panic.$attempt)"
		else
			warn "the kernel panicked while booting, before /init ran ($(grep -a -m1 -E 'Oops|BUG:|Kernel panic' "$logf" | tr -d '\r' | cut -c1-100)); booting again (console kept as $logf.early-panic.$attempt)"
		fi
		: >"$logf"
		continue
	fi
	# A guest killed by stale translated code (stale_code_oops, scripts/lib.sh):
	# boot again. Only when every disk is a fresh one of this script's: a --drive
	# image keeps what the dead boot wrote.
	if ((!hung && ${#images[@]} == 0 && stale < ${ZSPP_STALE_CODE_RETRIES:-2})) &&
		report=$(stale_code_oops "$logf"); then
		stale=$((stale + 1))
		cp "$logf" "$logf.stale-code.$stale"
		warn "the guest died of stale translated code under TCG, not of anything it ran ($(paste -sd ' ' - <<<"$report" | sed -E 's/\[ *[0-9.]+\] //g' | cut -c1-140): an int3 trap on a byte memory does not hold as int3; see stale_code_oops in scripts/lib.sh); booting again (console kept as $logf.stale-code.$stale)"
		: >"$logf"
		continue
	fi
	((hung)) && rc=124
	break
done
elapsed=$(($(now_s) - start))

if ((hung)); then
	log "QEMU killed: the kernel never reached /init ('$marker') in ${boot_tmo}s (boots: $((attempt + 1))); console: $logf"
elif ((rc == 124 || rc == 137)); then
	log "QEMU killed after ${tmo}s timeout (guest hung?); console: $logf"
	rc=124
elif ((rc != 0)); then
	log "QEMU exited with status $rc after ${elapsed}s:"
	sed 's/^/  qemu: /' "$workdir/qemu.out" >&2
else
	log "guest finished in ${elapsed}s"
fi
exit "$rc"
