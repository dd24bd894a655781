# SPDX-License-Identifier: GPL-2.0
# zspp: `make` builds zspp.ko; `make demo` and `make check` do everything else
# (see README.md). Kernel-side work runs in QEMU; downloads and kernel builds
# are cached outside the repo in $(ZSPP_CACHE).

KDIR ?= $(shell scripts/kdir.sh)
export ZSPP_CACHE ?= /var/cache/zspp

.PHONY: all module clean deps host-test kernel-host-test fuzz e2e kunit check demo module-6.12 e2e-6.12 test-zswap dkms-check deb deb-check deb-backports deb-boot deps-demo \
	bench bench-smoke bench-profile bench-workloads bench-scale bench-zram

all: module

module:
	@echo "kernel: $$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$$/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null || echo 'unknown ($(KDIR))')"
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules
	@scripts/check-module.sh zspp.ko
	@if [ -f zsmalloc.ko ]; then scripts/check-module.sh zsmalloc.ko; fi

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	-$(MAKE) -C tests/host clean
	-$(MAKE) -C tests/kernel clean

# Everything `make check` needs from Debian's archive.
deps:
	scripts/install-deps.sh

# Only what `make demo` needs (a fresh machine's first command).
deps-demo:
	scripts/install-deps.sh --demo

host-test:
	$(MAKE) -C tests/host test

kernel-host-test:
	$(MAKE) -C tests/kernel test

fuzz:
	$(MAKE) -C tests/host fuzz

e2e: module
	tests/harness/e2e.py --zpool zspp --module $(CURDIR)/zspp.ko

# Debian's 6.12 kernel: build (in $(ZSPP_CACHE)/build/<release>), e2e, the
# kernel's test_zswap with zsmalloc and zspp side by side, dkms for 6.1 + 6.12.
module-6.12:
	scripts/build-module.sh stock-6.12

e2e-6.12:
	tests/harness/e2e.py --kernel stock-6.12 --zpool zspp --workdir $(ZSPP_CACHE)/e2e-6.12/zspp --mem 32M \
		--module $$(scripts/build-module.sh stock-6.12 2>/dev/null | sed -n 's/^KO=//p')

test-zswap:
	tests/harness/zswap_peer.py

dkms-check:
	scripts/dkms-check.sh

# The Debian package zspp-dkms (debian/, dh-dkms): build/deb/zspp-dkms_<VERSION>_all.deb,
# checked by lintian; deb-check installs it in a throwaway Debian 12 chroot.
deb:
	scripts/deb-build.sh

deb-check: deb
	scripts/deb-check.sh

# Debian 13 + trixie-backports (7.x kernels without zpool) in a cached trixie
# chroot, and the package built and lintian-checked there (scripts/deb-backports.sh).
deb-backports: deb
	scripts/deb-backports.sh

# The package in a real Debian 12 and Debian 13 system image booted in QEMU with
# systemd: zswap on zspp from the first boot, the workload verified through it,
# then apt purge in the booted guest and a clean second boot (scripts/deb-boot.sh);
# then Debian 13 on trixie-backports' 7.x kernel (no zpool: zspp stays out of the way).
deb-boot: deb
	rc=0; for d in bookworm trixie trixie-backports; do scripts/deb-boot.sh --dist $$d || rc=1; done; exit $$rc

demo: deps-demo module
	scripts/demo.sh

check: deps
	scripts/check.sh

# Everything that measures: zspp vs zsmalloc (micro, QEMU) and zbud/z3fold/
# zsmalloc/zspp under zswap (e2e), rewriting Documentation/benchmarks.md's
# tables, its CSV and plot (6.1 and 6.12, -icount, real data; ~45-60 min),
# then the real programs, the scale curve and zram below (hours under TCG).
bench: deps
	scripts/bench.sh
	$(MAKE) bench-workloads
	$(MAKE) bench-scale
	$(MAKE) bench-zram

# The tiny bench run of `make check` (sanity only, no timing asserted).
bench-smoke: deps
	scripts/bench.sh --smoke

# Real programs (a kernel build, xz, zstd, sqlite3, python3, a worker pool)
# on real data through zswap in a memory cgroup, zspp against zsmalloc (zbud
# too) on 6.1 and 6.12, 3 boots each, every output verified
# (bench/workloads/workloads.py; hours under TCG, the kernel build most).
bench-workloads: deps
	/usr/bin/python3 bench/workloads/workloads.py --allocs zsmalloc,zbud,zspp --reps 3 \
		--csv Documentation/benchmarks/workloads.csv

# The scale curve: real data at about 10^4, 10^5 and 10^6 stored pages, zspp
# and zsmalloc on 6.1 and 6.12: bytes per stored page against pool size next
# to the floor, every page verified (bench/scale.py; the 10^6 boots need ~8 GiB
# of RAM each and take most of the time; hours under TCG).
bench-scale: deps
	/usr/bin/python3 bench/scale.py

# zram on real data, zspp's zsmalloc.ko against Debian's under the stock 6.1
# zram.ko, one boot each, the same 64 MiB of this system's files written to
# /dev/zram0 and read back (O_DIRECT, every byte compared) 5 times per boot:
# mem_used per stored page, compr_data_size, median MB/s (bench/zram.py,
# Documentation/benchmarks.md's zram section; ~3 min).
bench-zram: deps
	/usr/bin/python3 bench/zram.py

# Instruction counts of the core's hot paths on the host (callgrind).
bench-profile:
	$(MAKE) -C bench/host profile
