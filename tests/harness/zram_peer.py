#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""zram_peer.py [options]: the stock zram.ko of Debian 12's 6.1 kernel on
Debian's zsmalloc.ko and then on zspp's (built by `make module` next to
zspp.ko; Documentation/zram.rst), one QEMU boot each, the same cases and
inputs in both:
  - on the host: zspp's zsmalloc.ko exports the ten zs_* symbols zram.ko
    imports with the CRCs zram.ko was built against, the same as Debian's
    zsmalloc.ko exports (modversions), and is named zsmalloc with the alias
    zpool-zsmalloc; depmod with the package's configuration keeps the
    kernel's zsmalloc for zram.ko, with zspp-enable --zram's it picks zspp's;
  - ext4 on /dev/zram0: real files (Debian's Python library, 24 MiB)
    written, sha256-verified, verified again after drop_caches; half of them
    deleted and discarded (fstrim: orig_data_size must drop), compact, the
    rest verified again; reset empties the device;
  - zram as swap under a memory cgroup's memory.max: tests/e2e/workload.c
    (every page verified when read back), pages seen going out to swap;
  - mm_stat after each step against the allocator's own debugfs count:
    mem_used_total = pool pages * PAGE_SIZE (zs_get_total_pages), pool
    objects = stored pages that are not same-filled, compr_data_size fits in
    mem_used_total, mem_used_max >= mem_used_total; pages_compacted grows by
    at least what compaction gave back (zspp: equals its own counter, and
    its bytes_stored equals compr_data_size);
  - the kernel's own selftests (tools/testing/selftests/zram: zram01 ext4
    fill + compression ratio, zram02 swap), extracted from linux-source-6.1
    into the cache at run time;
  - each boot's kernel log free of splats (tests/harness/judge.py).
The guest is tests/zram/guest-init.sh; it prints one "ZT ok|fail NAME" line
per case. A case that passes on Debian's zsmalloc must pass on zspp's; one
that fails on Debian's is reported as skipped (nothing to compare). Output:
KTAP (a failure's reason on a "# name: why" line before its "not ok"), then
"zram-peer: N passed, M failed".

  --ko FILE       zspp's zsmalloc.ko (default: zsmalloc.ko in the repo, from `make module`)
  --pages N       swap workload pages (default 24576: 96 MiB through a 48M cgroup)
  --only ALLOC    zsmalloc or zspp: one boot, no comparison
  --timeout SECS  QEMU bound per boot (default 1200)
  --workdir DIR   default $ZSPP_CACHE/zram-peer
  --echo          copy the guest console to stderr
  --check-only    no inputs, no boots: the host checks, then judge the console
                  logs a previous run left in WORKDIR/<alloc>/console.log

python3 tests/harness/zram_peer.py ... (or python3 -m harness.zram_peer with
tests/ on PYTHONPATH). The judging is host_checks(), boot_checks() and
compare(); tests/harness/test_zram_peer.py holds them to small synthetic logs.
"""
import fcntl
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

if __package__ in (None, ""):  # run as a file: tests/harness/zram_peer.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "harness"
    import harness  # noqa: F401
from . import judge, peer  # noqa: E402
from .peer import Die, log  # noqa: E402

peer.Prog.name = "zram-peer"
ROOT = peer.ROOT
DATA_MB = 24
ALLOCS = ("zsmalloc", "zspp")


# ------------------------------------------------------------ the module on the host

def decompressed(path, dest):
    """PATH (.ko or .ko.xz) as a plain .ko at DEST."""
    if path.endswith(".xz"):
        with open(dest, "wb") as out:
            subprocess.run(["xz", "-dc", path], stdout=out, check=True)
    else:
        shutil.copyfile(path, dest)


def export_crcs(ko):
    """[(crc, symbol)] of each zs_* symbol KO exports (__crc_<sym>: offsets
    into __kcrctab_gpl), sorted by symbol."""
    with tempfile.TemporaryDirectory() as tmp:
        plain, tab = os.path.join(tmp, "m.ko"), os.path.join(tmp, "crctab")
        decompressed(ko, plain)
        peer.sh(["objcopy", "-O", "binary", "--only-section=__kcrctab_gpl", plain, tab], "objcopy")
        with open(tab, "rb") as fh:
            crctab = fh.read()
        out = []
        for line in peer.sh(["nm", plain], "nm").split("\n"):
            f = line.split()
            if len(f) >= 3 and f[2].startswith("__crc_zs_"):
                off = int(f[0], 16)
                out.append((int.from_bytes(crctab[off:off + 4], "little"), f[2][len("__crc_"):]))
    return sorted(out, key=lambda c: c[1])


def zram_imports(zram_ko):
    """[(crc, symbol)] of the zs_* symbols zram.ko imports (modprobe --dump-modversions)."""
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "zram.ko")
        decompressed(zram_ko, plain)
        out = []
        for line in peer.sh(["modprobe", "--dump-modversions", plain], "modprobe --dump-modversions").split("\n"):
            crc, _, sym = line.partition("\t")
            if sym.startswith("zs_"):
                out.append((int(crc, 16), sym))
    return sorted(out, key=lambda c: c[1])


def crc_diff(theirs, ours, label="debian"):
    """What differs between two CRC lists, for a failure's reason (LABEL names theirs)."""
    a, b = dict((s, c) for c, s in theirs), dict((s, c) for c, s in ours)
    out = []
    for s in sorted(set(a) | set(b)):
        if a.get(s) != b.get(s):
            fmt = lambda c: "-" if c is None else f"0x{c:08x}"  # noqa: E731
            out.append(f"{s} {label}={fmt(a.get(s))} zspp={fmt(b.get(s))}")
    return "; ".join(out) or "empty"


def modinfo(ko, fld):
    return peer.sh(["modinfo", "-F", fld, ko], f"modinfo {ko}").split("\n")


def depmod_choice(krel, moddir, stock_zs, stock_zram, ko):
    """How the package binds (debian/, Documentation/zram.rst): with dkms's
    updates/dkms/zsmalloc.ko beside the kernel's, depmod under the package's
    /usr/lib/depmod.d file alone must give zram.ko the kernel's zsmalloc; with
    the file zspp-enable --zram writes to /etc/depmod.d (same name), zspp's.
    depmod runs on a copy of the module tree with the two files as its only
    configuration, in kmod's order (-C etc before lib: the same name in an
    earlier directory replaces the later one). {"lib"|"etc": zram.ko's zsmalloc, or ""}."""
    out = {}
    with tempfile.TemporaryDirectory() as dm:
        mods = os.path.join(dm, "tree/lib/modules", krel)
        for d in ("kernel/mm", "kernel/drivers/block/zram", "updates/dkms"):
            os.makedirs(os.path.join(mods, d))
        etc, lib = os.path.join(dm, "etc"), os.path.join(dm, "lib")
        os.makedirs(etc)
        os.makedirs(lib)
        shutil.copy(stock_zs, os.path.join(mods, "kernel/mm"))
        shutil.copy(stock_zram, os.path.join(mods, "kernel/drivers/block/zram"))
        shutil.copyfile(ko, os.path.join(mods, "updates/dkms/zsmalloc.ko"))
        for f in glob.glob(os.path.join(moddir, "modules.builtin*")) + [os.path.join(moddir, "modules.order")]:
            shutil.copy(f, mods)
        shutil.copy(os.path.join(ROOT, "debian/depmod/zspp-zsmalloc.conf"), lib)
        enable = peer.read_text(os.path.join(ROOT, "debian/zspp-enable"))
        for where in ("lib", "etc"):
            conf = os.path.join(etc, "zspp-zsmalloc.conf")
            if os.path.exists(conf):
                os.remove(conf)
            if where == "etc":
                peer.write_text(conf, "".join(line + "\n" for line in peer.lines_of(enable)
                                              if line.startswith("override zsmalloc ")))
            rc = subprocess.run(["depmod", "-b", os.path.join(dm, "tree"), "-C", etc, "-C", lib, krel],
                                stdout=sys.stderr).returncode
            dep = ""
            if rc == 0:
                for line in peer.lines_of(peer.read_text(os.path.join(mods, "modules.dep"))):
                    if line.startswith("kernel/drivers/block/zram/zram.ko: "):
                        dep = line[len("kernel/drivers/block/zram/zram.ko: "):]
            out[where] = dep
    return out


def host_checks(r, krel, modver, name, aliases, imports, ours, theirs, deps):
    """The module on the host, from what modinfo, nm/objcopy, modprobe and
    depmod said (gathered by host_facts)."""
    r.check(modver == krel, f"host-module-built-for-{krel}", f"vermagic {modver}")
    r.check(name == "zsmalloc", "host-module-named-zsmalloc", f"name {name or '?'}")
    r.check("zpool-zsmalloc" in aliases, "host-module-alias-zpool-zsmalloc", f"aliases: {' '.join(aliases) or 'none'}")
    r.check(len(imports) == 10, "host-zram-imports-ten-zs-symbols", str(len(imports)))
    r.check(bool(ours) and ours == theirs, "host-crcs-equal-debian-zsmalloc", crc_diff(theirs, ours))
    r.check(bool(ours) and ours == imports, "host-crcs-equal-zram-imports", crc_diff(imports, ours, "zram"))
    dep = deps.get("lib", "")
    r.check(dep == "kernel/mm/zsmalloc.ko", "host-depmod-default-keeps-kernel-zsmalloc", f"zram.ko: {dep or '?'}")
    dep = deps.get("etc", "")
    r.check(dep == "updates/dkms/zsmalloc.ko", "host-depmod-zspp-enable-zram-picks-zspp", f"zram.ko: {dep or '?'}")


def host_facts(ko, krel, moddir, stock_zs, stock_zram):
    vm = modinfo(ko, "vermagic")[0].split()
    return dict(krel=krel, modver=vm[0] if vm else "", name=modinfo(ko, "name")[0],
                aliases=[a for a in modinfo(ko, "alias") if a], imports=zram_imports(stock_zram),
                ours=export_crcs(ko), theirs=export_crcs(stock_zs),
                deps=depmod_choice(krel, moddir, stock_zs, stock_zram, ko))


# ------------------------------------------------------------ the boots, judged

class Boot:
    """One boot's verdict: finished, its first splats, its ZT case lines."""

    def __init__(self, text):
        text = text.replace("\r", "")
        self.done = "ZRAM-DONE" in judge.lines_of(text)
        self.splat = "|".join(judge.splat_lines(text))
        # The guest's lines with the kernel's taken out, also one the console
        # wrote into the middle of a ZT line (judge.guest_lines).
        self.cases = [line for line in judge.guest_lines(text) if line.startswith("ZT ")]

    def names(self):
        out = []
        for line in self.cases:
            f = line.split()
            if len(f) >= 3:
                out.append(f[2])
        return out

    def status(self, name):
        """Every status NAME reported, sorted, comma-separated ("" = never)."""
        return ",".join(sorted({line.split()[1] for line in self.cases
                                if len(line.split()) >= 3 and line.split()[2] == name}))

    def lines(self, name):
        return [line[:160] for line in self.cases if len(line.split()) >= 3 and line.split()[2] == name]


def boot_checks(r, boots, workdir=""):
    """Each boot finished (ZRAM-DONE) with a clean kernel log."""
    for a, b in boots.items():
        r.check(b.done, f"{a}-boot-completed", f"no ZRAM-DONE (console: {os.path.join(workdir, a, 'console.txt')})")
        r.check(not b.splat, f"{a}-no-kernel-splat", b.splat[:200])


def compare(r, boots):
    """Every case of either boot: on zspp as on Debian's zsmalloc (one boot:
    that boot's cases must pass)."""
    allocs = list(boots)
    ref = allocs[0]
    names = []
    for n in boots[ref].names() + boots[allocs[-1]].names():
        if n not in names:
            names.append(n)
    for n in names:
        if len(allocs) == 1:
            r.check(boots[ref].status(n) == "ok", f"{ref}:{n}", boots[ref].status(n) or "missing")
            continue
        s1, s2 = boots["zsmalloc"].status(n), boots["zspp"].status(n)
        if not s1:
            if s2 == "ok":
                r.pass_(f"zspp:{n}", "zspp only")
            else:
                r.fail(f"zspp:{n}", f"zspp only: {s2 or 'missing'}")
        elif s1 != "ok":
            r.skip(n, f"failed on Debian's zsmalloc too (zspp: {s2 or 'missing'})")
        elif s2 == "ok":
            r.pass_(n)
        else:
            r.fail(n, f"ok on Debian's zsmalloc, {s2 or 'missing'} on zspp: " + "; ".join(boots["zspp"].lines(n)))


# ------------------------------------------------------------ options, inputs, boots

def parse_args(argv):
    a = dict(ko=os.path.join(ROOT, "zsmalloc.ko"), pages="24576", only="", tmo="1200", workdir="", echo=False,
             check_only=False)
    valued = {"--ko": "ko", "--pages": "pages", "--only": "only", "--timeout": "tmo", "--workdir": "workdir"}
    peer.parse_options(argv, __doc__, a, valued, {"--echo": "echo", "--check-only": "check_only"})
    if a["only"] not in ("",) + ALLOCS:
        raise Die(f"--only wants zsmalloc or zspp, not '{a['only']}'")
    if not a["pages"].isdigit():
        raise Die(f"--pages wants a number, not '{a['pages']}'")
    a["allocs"] = [a["only"]] if a["only"] else list(ALLOCS)
    a["workdir"] = a["workdir"] or os.path.join(peer.cache(), "zram-peer")
    return a


def find_first(top, pattern):
    for dirpath, _, files in sorted(os.walk(top)):
        for f in sorted(files):
            if re.fullmatch(pattern, f):
                return os.path.join(dirpath, f)
    return ""


def inputs(workdir, moddir):
    """mkinitramfs.sh -f arguments and modules: the zram selftests, real files,
    bash and mke2fs with their libraries, ext4's and loop's modules (cached)."""
    cache = os.path.join(peer.cache(), "zram")
    os.makedirs(cache, exist_ok=True)
    with open(os.path.join(cache, ".lock"), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        # The kernel's zram selftests, from the linux-source-6.1 package's tarball.
        src_tar = "/usr/src/linux-source-6.1.tar.xz"
        if not os.path.isfile(src_tar):
            log("installing linux-source-6.1 (for tools/testing/selftests/zram)")
            if subprocess.run(["apt-get", "install", "-y", "-q", "linux-source-6.1"], stdout=sys.stderr).returncode:
                subprocess.run(["apt-get", "update", "-qq"], stdout=sys.stderr)
                if subprocess.run(["apt-get", "install", "-y", "-q", "linux-source-6.1"],
                                  stdout=sys.stderr).returncode:
                    raise Die("cannot install linux-source-6.1")
        q = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "linux-source-6.1"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
        src_ver = q.stdout if q.returncode == 0 and q.stdout else str(int(os.stat(src_tar).st_mtime))
        kst = os.path.join(cache, f"selftests-{src_ver}")
        if not os.path.isfile(os.path.join(kst, ".ready")):
            log(f"extracting tools/testing/selftests/zram from {src_tar}")
            shutil.rmtree(kst, ignore_errors=True)
            os.makedirs(kst)
            peer.sh(["tar", "-xJf", src_tar, "-C", kst, "--strip-components=4", "--wildcards",
                     "linux-source-6.1/tools/testing/selftests/zram/*"], "extracting the zram selftests")
            open(os.path.join(kst, ".ready"), "w").close()
        if not (os.path.isfile(os.path.join(kst, "zram/zram01.sh")) and os.path.isfile(
                os.path.join(kst, "zram/zram_lib.sh"))):
            raise Die(f"no zram selftests in {kst}")
        # Real files: the first DATA_MB MiB of Debian's Python library (text and
        # bytecode), with their sha256 sums.
        data = os.path.join(cache, f"data-{DATA_MB}")
        if not os.path.isfile(os.path.join(data, ".ready")):
            log(f"collecting {DATA_MB} MiB of real files from /usr/lib/python3*")
            shutil.rmtree(data, ignore_errors=True)
            os.makedirs(data)
            libdirs = sorted(d for d in glob.glob("/usr/lib/python3.*") if os.path.isdir(d))
            if not libdirs:
                raise Die("no /usr/lib/python3.* for real files")
            libdir = libdirs[0]
            found = peer.sh(["find", ".", "-type", "f", "-size", "-512k", "-printf", "%s %p\n"], "find",
                            cwd=libdir)
            # sort(1) with the locale's order, as the cached lists were made.
            ordered = subprocess.run(["sort", "-k2"], input=found, stdout=subprocess.PIPE, text=True,
                                     errors="surrogateescape").stdout
            total, keep = 0, []
            for line in peer.lines_of(ordered):
                size, _, path = line.partition(" ")
                total += int(size)
                if total <= DATA_MB << 20:
                    keep.append(path)
            peer.write_text(os.path.join(data, "list"), "".join(p + "\n" for p in keep))
            peer.sh(["tar", "-cf", os.path.join(data, "data.tar"), "-C", libdir, "-T", os.path.join(data, "list")])
            sums = peer.sh(["xargs", "-0", "sha256sum"], "sha256sum", cwd=libdir,
                           input="".join(p + "\0" for p in keep))
            peer.write_text(os.path.join(data, "data.sha256"), sums)
            open(os.path.join(data, ".ready"), "w").close()
    nfiles = len(peer.lines_of(peer.read_text(os.path.join(data, "data.sha256"))))
    log(f"real files: {nfiles} ({os.path.getsize(os.path.join(data, 'data.tar')) >> 20}M)")
    # Userland the busybox initramfs lacks: bash (the selftests), mke2fs as
    # mkfs.ext4, and their libraries, from this Debian 12 host.
    files = ["-f", f"{data}/data.tar:/data.tar", "-f", f"{data}/data.sha256:/data.sha256",
             "-f", "/bin/bash:/bin/bash", "-f", "/sbin/mke2fs:/sbin/mkfs.ext4", "-f", "/etc/mke2fs.conf:/etc/mke2fs.conf",
             "-f", "/lib64/ld-linux-x86-64.so.2:/lib64/ld-linux-x86-64.so.2"]
    libs = set()
    for line in peer.sh(["ldd", "/bin/bash", "/sbin/mke2fs"], "ldd").split("\n"):
        f = line.split()
        if len(f) >= 3 and f[1] == "=>" and f[2].startswith("/"):
            libs.add(f[2])
    for lib in sorted(libs):
        files += ["-f", f"{lib}:{lib}"]
    for f in sorted(glob.glob(os.path.join(kst, "zram/*.sh"))):
        files += ["-f", f"{f}:/selftests/zram/{os.path.basename(f)}"]
    # ext4 and what its mount needs are modules on Debian's 6.1, as is loop (the
    # writeback case's backing device); the guest loads them in this order.
    mods = []
    for m in ("crc16", "mbcache", "jbd2", "crc32c_generic", "ext4", "loop"):
        f = find_first(os.path.join(moddir, "kernel"), re.escape(m) + r"\.ko.*")
        if not f:
            raise Die(f"no {m}.ko in {moddir}")
        mods.append(f)
    peer.build_workload(os.path.join(workdir, "workload"))
    return files, mods


def boot(a, alloc, kernel, zs_ko, stock_zram, files, mods):
    """One boot with ALLOC's zsmalloc.ko; its console, without carriage returns."""
    w = os.path.join(a["workdir"], alloc)
    os.makedirs(w, exist_ok=True)
    peer.write_text(os.path.join(w, "zram.conf"), f"ALLOC={alloc}\nPAGES={a['pages']}\n")
    peer.mkinitramfs(["-o", os.path.join(w, "initramfs.cpio.gz"), "-i", os.path.join(ROOT, "tests/zram/guest-init.sh"),
                      "-w", os.path.join(a["workdir"], "workload"), "-c", os.path.join(w, "zram.conf")] + files
                     + [zs_ko, stock_zram] + mods)
    log(f"boot with {alloc}'s zsmalloc.ko")
    t0 = time.time()
    rc = peer.qemu_run(["-k", kernel["VMLINUZ"], "-r", os.path.join(w, "initramfs.cpio.gz"), "-w", w,
                        "-l", os.path.join(w, "console.log"), "-m", "768M", "-s", "2", "-t", a["tmo"],
                        "-a", "zswap.enabled=0", "--init-marker", "ZRAM-INIT", "--boot-timeout", "180"], a["echo"])
    log(f"{alloc}: QEMU exit {rc} after {time.time() - t0:.0f}s")


def judge_boot(workdir, alloc):
    """The console a boot left in WORKDIR/ALLOC: console.txt and cases written
    beside it, its case lines shown on stderr."""
    w = os.path.join(workdir, alloc)
    try:
        text = peer.read_text(os.path.join(w, "console.log")).replace("\r", "")
    except OSError:
        text = ""
    peer.write_text(os.path.join(w, "console.txt"), text)
    b = Boot(text)
    peer.write_text(os.path.join(w, "cases"), "".join(c + "\n" for c in b.cases))
    for line in peer.grep(judge.lines_of(text), r"^(mm_stat|discard|compact|swap|WORKLOAD|  zram0)"):
        sys.stderr.write(f"[{alloc}] {line}\n")
    return b


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    peer.stdout_surrogates()
    a = parse_args(argv)
    start = time.time()
    os.makedirs(a["workdir"], exist_ok=True)
    for cmd, pkg in (("modprobe", "kmod"), ("objcopy", "binutils")):
        if not shutil.which(cmd):
            raise Die(f"'{cmd}' not found: install it with 'apt-get install -y {pkg}'")
    kernel = peer.fetch_kernel("stock-6.1", "--no-headers")
    krel, moddir = kernel.get("KREL", ""), kernel.get("MODDIR", "")
    print(f"kernel: {krel}", flush=True)
    stock_zs = find_first(os.path.join(moddir, "kernel/mm"), r"zsmalloc\.ko.*")
    stock_zram = find_first(os.path.join(moddir, "kernel/drivers/block/zram"), r"zram\.ko.*")
    if not (stock_zs and stock_zram):
        raise Die(f"no zsmalloc.ko/zram.ko in {moddir} (CONFIG_ZSMALLOC=m and CONFIG_ZRAM=m expected)")
    ko = a["ko"]
    if not os.path.isfile(ko):
        raise Die(f"{ko} not found: run 'make module' (it builds zsmalloc.ko on a 6.1 kernel with CONFIG_ZSMALLOC=m)")
    r = peer.Results(note=log)
    host_checks(r, **host_facts(ko, krel, moddir, stock_zs, stock_zram))
    if not a["check_only"]:
        files, mods = inputs(a["workdir"], moddir)
        for alloc in a["allocs"]:
            boot(a, alloc, kernel, ko if alloc == "zspp" else stock_zs, stock_zram, files, mods)
    boots = {alloc: judge_boot(a["workdir"], alloc) for alloc in a["allocs"]}
    boot_checks(r, boots, a["workdir"])
    compare(r, boots)
    r.ktap(sys.stdout)
    print(f"zram-peer: {r.passed} passed, {r.failed} failed ({time.time() - start:.0f}s)", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
