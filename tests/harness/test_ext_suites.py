# SPDX-License-Identifier: GPL-2.0
"""harness.ext_suites's judging on small synthetic consoles: good boots pass
every check, each broken one fails the check meant to catch it, and each kind
of case (stress-ng, a selftest with KTAP lines, one without) passes, fails and
skips as the shell version judged it."""
import io
import unittest

from harness import check, ext_suites, peer

CASES = """\
sng vm --vm 2 --verify --timeout 10 --metrics-brief
bg vm-beside-kst --vm 1 --verify --metrics-brief
kst madv_populate
kst mremap_dontunmap
"""
# A boot of tests/ext-suites/guest-init.sh cut to what the checks read.
ZSPP = """\
[    0.000000] Linux version 6.1.192
EXT begin kernel=6.1.192 zpool=zspp cpus_online=0-1
EXT zpool=zspp enabled=Y
@vm stress-ng: info:  [66] successful run completed in 11.73s
EXT-RC vm rc=0 secs=14 zswpout=5586 pswpout=0
@madv_populate TAP version 13
@madv_populate ok 1 MADV_POPULATE_READ with PROT_READ
@madv_populate ok 2 # SKIP MADV_POPULATE_WRITE without THP
EXT-RC madv_populate rc=0 secs=4 zswpout=4066 pswpout=0
@mremap_dontunmap OK
EXT-RC mremap_dontunmap rc=0 secs=0 zswpout=37 pswpout=0
@vm-beside-kst stress-ng: info:  [90] successful run completed in 23.0s
EXT-RC vm-beside-kst rc=0 secs=23 zswpout=11144 pswpout=0
EXT-BG hotplugs=71 compacts=71 shrinks=14 peak_stored_pages=11148
EXT swapoff rc=0 secs=0 stored_pages=0
ZSPP zswap2 chain_size=8 pages=0 objects=0
DMESG-BEGIN
<4>[    1.0] zspp: module verification failed: signature and/or required key missing - tainting kernel
DMESG-END
EXT-END
"""
ZSMALLOC = ZSPP.replace("zpool=zspp", "zpool=zsmalloc")
BOOT_CHECKS = ["guest completed", "2 CPUs online", "zswap uses {zp}", "zswap stored pages",
               "CPU hotplug, compaction and shrinkers ran alongside", "swapoff loaded every entry back",
               "kernel log has no splat (KASAN, lockdep, WARN, BUG)"]
KEYS = ["stress-ng vm", "stress-ng vm-beside-kst (beside the selftests)",
        "kst madv_populate #1 MADV_POPULATE_READ with PROT_READ", "kst madv_populate #2 MADV_POPULATE_WRITE without THP",
        "kst mremap_dontunmap"]


def run(boots, qrc=0):
    """(Results, Verdicts) of judge_boot on each {zpool: console}, then compare."""
    cases, kind = ext_suites.parse_cases(CASES)
    r, v = peer.Results(note=lambda m: None), ext_suites.Verdicts()
    for zp, text in boots.items():
        ext_suites.judge_boot(r, v, zp, text, cases, kind, qrc)
    ext_suites.compare(r, v, list(boots))
    return r, v


def failed(r):
    return {n: w for ok, n, w in r.items if ok is False}


class JudgeBoot(unittest.TestCase):
    def test_good_boots(self):
        r, v = run({"zsmalloc": ZSMALLOC, "zspp": ZSPP})
        self.assertEqual(failed(r), {})
        names = [n for _, n, _ in r.items]
        want = [f"ext {zp}: " + c.format(zp=zp) for zp in ("zsmalloc", "zspp") for c in BOOT_CHECKS]
        self.assertEqual(names, want + [f"ext {k}" for k in KEYS] + ["ext reference passes cases"])
        self.assertEqual(v.keys, KEYS)
        self.assertEqual((r.passed, r.failed, r.skipped), (19, 0, 1))
        self.assertEqual(v.sums["zspp"]["madv_populate"], (1, 0, 1, "4066", "4", "0"))

    def assertCaught(self, text, name, why_part, zp="zspp", qrc=0):
        r, _ = run({zp: text}, qrc)
        self.assertEqual(list(failed(r)), [name], failed(r))
        self.assertIn(why_part, failed(r)[name])

    def test_guest_not_completed(self):
        self.assertCaught(ZSPP.replace("EXT-END\n", ""), "ext zspp: guest completed", "last line: DMESG-END")
        self.assertCaught(ZSPP.replace("EXT-END", "EXT-ERROR swapon failed\nEXT-END"), "ext zspp: guest completed",
                          "EXT-ERROR swapon failed")
        self.assertCaught(ZSPP, "ext zspp: guest completed", "qemu rc=124", qrc=124)

    def test_one_cpu(self):
        self.assertCaught(ZSPP.replace("cpus_online=0-1", "cpus_online=0"), "ext zspp: 2 CPUs online", "cpus_online=0")

    def test_wrong_zpool(self):
        self.assertCaught(ZSPP.replace("EXT zpool=zspp", "EXT zpool=zbud"), "ext zspp: zswap uses zspp", "zpool=zbud")
        self.assertCaught(ZSPP.replace("enabled=Y", "enabled=N"), "ext zspp: zswap uses zspp", "enabled=N")

    def test_nothing_stored(self):
        self.assertCaught(ZSPP.replace("peak_stored_pages=11148", "peak_stored_pages=0"),
                          "ext zspp: zswap stored pages", "zswpout over the cases 20833")
        none = ZSPP
        for n in ("5586", "4066", "37", "11144"):
            none = none.replace(f"zswpout={n}", "zswpout=0")
        self.assertCaught(none, "ext zspp: zswap stored pages", "zswpout over the cases 0")

    def test_background_did_not_run(self):
        for k in ("hotplugs", "compacts", "shrinks"):
            self.assertCaught(ZSPP.replace(f"{k}=", f"{k}=0"), "ext zspp: CPU hotplug, compaction and shrinkers ran "
                              "alongside", f"{k}=0")
        # Without the line, stored pages cannot be judged either.
        r, _ = run({"zspp": ZSPP.replace("EXT-BG", "XEXT-BG")})
        self.assertEqual(sorted(failed(r)), ["ext zspp: CPU hotplug, compaction and shrinkers ran alongside",
                                             "ext zspp: zswap stored pages"])

    def test_swapoff(self):
        self.assertCaught(ZSPP.replace("stored_pages=0\nZSPP", "stored_pages=3\nZSPP"),
                          "ext zspp: swapoff loaded every entry back", "stored_pages=3")
        self.assertCaught(ZSPP.replace("EXT swapoff rc=0", "EXT swapoff rc=1"),
                          "ext zspp: swapoff loaded every entry back", "rc=1")

    def test_splats_in_dump_and_console_but_not_oom(self):
        name = "ext zspp: kernel log has no splat (KASAN, lockdep, WARN, BUG)"
        self.assertCaught(ZSPP.replace("DMESG-END", "<3>[ 9.0] BUG: KASAN: use-after-free in zs_free\nDMESG-END"),
                          name, "BUG: KASAN: use-after-free")
        # A guest that died before its dump: the console's kernel lines.
        self.assertCaught(ZSPP.replace("EXT swapoff", "[ 8.0] WARNING: CPU: 1 PID: 3 at mm/zswap.c:9\nEXT swapoff"),
                          name, "WARNING: CPU: 1")
        # A case's own output is not the kernel's.
        r, _ = run({"zspp": ZSPP.replace("@mremap_dontunmap OK", "@mremap_dontunmap Oops: this is user space")})
        self.assertEqual(failed(r), {})
        oom = ZSPP.replace("EXT swapoff", "[ 5.0] a invoked oom-killer: gfp_mask=0x0\n[ 5.0] Call Trace:\n"
                           "[ 5.1] Out of memory: Killed process 9 (stress-ng)\nEXT swapoff")
        notes = []
        r, v = peer.Results(note=notes.append), ext_suites.Verdicts()
        cases, kind = ext_suites.parse_cases(CASES)
        ext_suites.judge_boot(r, v, "zspp", oom, cases, kind)
        self.assertEqual(failed(r), {})
        self.assertIn("the OOM killer ran 1 time(s)", notes[0])


class Cases(unittest.TestCase):
    def test_stress_ng_fails(self):
        bad = ZSPP.replace("EXT-RC vm rc=0", "EXT-RC vm rc=2").replace(
            "@vm stress-ng: info:", "@vm stress-ng: fail:  [66] vm: verify failure\n@vm stress-ng: info:")
        r, _ = run({"zsmalloc": ZSMALLOC, "zspp": bad})
        self.assertEqual(failed(r), {"ext stress-ng vm": "passes with zsmalloc, fail with zspp: exit status 2: "
                                     "stress-ng: fail:  [66] vm: verify failure"})
        # Exit 0 without "successful run completed" is a failure too.
        r, _ = run({"zsmalloc": ZSMALLOC, "zspp": ZSPP.replace("@vm-beside-kst stress-ng: info:  [90] successful run",
                                                               "@vm-beside-kst stress-ng: info:  [90] run")})
        self.assertEqual(list(failed(r)), ["ext stress-ng vm-beside-kst (beside the selftests)"])

    def test_selftest_ktap_lines(self):
        r, _ = run({"zsmalloc": ZSMALLOC, "zspp": ZSPP.replace("@madv_populate ok 1", "@madv_populate not ok 1")})
        self.assertEqual(failed(r), {"ext kst madv_populate #1 MADV_POPULATE_READ with PROT_READ":
                                     "passes with zsmalloc, fail with zspp: not ok 1 MADV_POPULATE_READ with PROT_READ"})
        # Killed after its last line: one more case.
        r, v = run({"zsmalloc": ZSMALLOC, "zspp": ZSPP.replace("EXT-RC madv_populate rc=0", "EXT-RC madv_populate rc=139")})
        self.assertEqual(failed(r), {})
        self.assertEqual(v.res["zspp"]["kst madv_populate exit"], "fail")
        r, _ = run({"zspp": ZSPP.replace("EXT-RC madv_populate rc=0", "EXT-RC madv_populate rc=139")})
        self.assertEqual(failed(r), {"ext kst madv_populate exit on zspp": "exit status 139"})

    def test_selftest_without_ktap(self):
        bad = ZSPP.replace("@mremap_dontunmap OK", "@mremap_dontunmap mremap failed: Error 12").replace(
            "EXT-RC mremap_dontunmap rc=0", "EXT-RC mremap_dontunmap rc=1")
        r, _ = run({"zsmalloc": ZSMALLOC, "zspp": bad})
        self.assertEqual(failed(r), {"ext kst mremap_dontunmap": "passes with zsmalloc, fail with zspp: exit status 1: "
                                     "mremap failed: Error 12"})
        r, _ = run({"zspp": ZSPP.replace("EXT-RC mremap_dontunmap rc=0", "EXT-RC mremap_dontunmap rc=4")})
        self.assertEqual(failed(r), {})
        self.assertEqual(r.skipped, 2)
        # A case that never reported is a failure.
        r, _ = run({"zspp": ZSPP.replace("EXT-RC mremap_dontunmap", "XEXT-RC mremap_dontunmap")})
        self.assertEqual(failed(r), {"ext kst mremap_dontunmap on zspp": "exit status none: "})

    def test_nothing_to_compare(self):
        r, _ = run({"zsmalloc": ZSMALLOC.replace("EXT-RC vm rc=0", "EXT-RC vm rc=3"), "zspp": ZSPP})
        self.assertEqual(failed(r), {})
        self.assertIn(("ext stress-ng vm", "fail with zsmalloc (exit status 3: ), pass with zspp"),
                      [(n, w) for ok, n, w in r.items if ok is None])
        # A reference that passes nothing fails the comparison.
        dead = "[ 0.0] Linux\n"
        r, _ = run({"zsmalloc": dead, "zspp": ZSPP})
        self.assertIn("ext reference passes cases", failed(r))

    def test_ktap_and_table(self):
        r, v = run({"zsmalloc": ZSMALLOC, "zspp": ZSPP})
        out = io.StringIO()
        r.ktap(out)
        self.assertIn("# ext reference passes cases: 4 of 5 with zsmalloc\nok 20 ext reference passes cases\n",
                      out.getvalue())
        self.assertEqual(check.count(out.getvalue().split("\n")), (19, 0))
        cases, _ = ext_suites.parse_cases(CASES)
        t = ext_suites.table(v, cases, ["zsmalloc", "zspp"], "6.1.192")
        self.assertIn("madv_populate        | 1/0/1 4066 0 4s", t)

    def test_sed_ranges(self):
        lines = ["a", "DMESG-BEGIN", "k1", "DMESG-END", "b", "DMESG-BEGIN", "k2"]
        self.assertEqual(ext_suites.sed_range(lines, "DMESG-BEGIN", "DMESG-END"),
                         ["DMESG-BEGIN", "k1", "DMESG-END", "DMESG-BEGIN", "k2"])
        self.assertEqual(ext_suites.without_range(lines, "DMESG-BEGIN", "DMESG-END"), ["a", "b"])

    def test_cases_file(self):
        lines = ext_suites.case_lines("6.1", 10)
        self.assertIn("sng mremap --mremap 2 --mremap-bytes 24M --verify --page-in --timeout 5 --metrics-brief", lines)
        self.assertEqual(lines[-3:], ["kst madv_populate", "kst mremap_test -t 8", "kst mremap_dontunmap"])
        self.assertEqual(ext_suites.case_lines("6.12", 10)[-3:], ["kst cow", "kst madv_populate", "kst mremap_dontunmap"])


if __name__ == "__main__":
    unittest.main()
