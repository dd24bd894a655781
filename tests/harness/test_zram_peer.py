# SPDX-License-Identifier: GPL-2.0
"""harness.zram_peer's judging on small synthetic inputs: good facts and logs
pass every check, and each broken one fails the check meant to catch it."""
import io
import os
import shutil
import tempfile
import unittest

from harness import check, peer, zram_peer

KREL = "6.1.0-57-amd64"
CRCS = [(0x1234abcd, f"zs_{n}") for n in ("compact", "create_pool", "destroy_pool", "free", "get_total_pages",
                                          "malloc", "map_object", "pool_stats", "unmap_object", "huge_class_size")]
FACTS = dict(krel=KREL, modver=KREL, name="zsmalloc", aliases=["zpool-zsmalloc"], imports=sorted(CRCS, key=lambda c: c[1]),
             ours=sorted(CRCS, key=lambda c: c[1]), theirs=sorted(CRCS, key=lambda c: c[1]),
             deps={"lib": "kernel/mm/zsmalloc.ko", "etc": "updates/dkms/zsmalloc.ko"})

# A boot of tests/zram/guest-init.sh cut to what the checks read; a kernel
# message written into the middle of a ZT line must not hide it.
ZSMALLOC = """\
[    0.000000] Linux version 6.1.0-57-amd64
ZRAM-INIT
ZT ok load
ZT ok ext4-mkfs
ZT ok swap-workload-verified
ZT fail selftest-zram01 ratio
[    3.000000] zram: module verification failed: signature and/or required key missing - tainting kernel
ZRAM-DONE
"""
ZSPP = ZSMALLOC.replace("ZT ok swap-workload-verified", "ZT ok swap-wo[    4.100000] zram0: detected capacity change\n"
                        "rkload-verified\nZT ok zspp-provides-zsmalloc").replace(
    "ZT fail selftest-zram01 ratio", "ZT ok selftest-zram01")


def judge(zsmalloc=ZSMALLOC, zspp=ZSPP, facts=None):
    """(passed names, {failed: why}, {skipped: why})."""
    r = peer.Results(note=lambda m: None)
    zram_peer.host_checks(r, **dict(FACTS, **(facts or {})))
    boots = {}
    if zsmalloc is not None:
        boots["zsmalloc"] = zram_peer.Boot(zsmalloc)
    if zspp is not None:
        boots["zspp"] = zram_peer.Boot(zspp)
    zram_peer.boot_checks(r, boots, "/w")
    zram_peer.compare(r, boots)
    return ([n for ok, n, _ in r.items if ok], {n: w for ok, n, w in r.items if ok is False},
            {n: w for ok, n, w in r.items if ok is None})


class ZramPeer(unittest.TestCase):
    def test_good_run(self):
        passed, failed, skipped = judge()
        self.assertEqual(failed, {})
        self.assertEqual(passed, [f"host-module-built-for-{KREL}", "host-module-named-zsmalloc",
                                  "host-module-alias-zpool-zsmalloc", "host-zram-imports-ten-zs-symbols",
                                  "host-crcs-equal-debian-zsmalloc", "host-crcs-equal-zram-imports",
                                  "host-depmod-default-keeps-kernel-zsmalloc", "host-depmod-zspp-enable-zram-picks-zspp",
                                  "zsmalloc-boot-completed", "zsmalloc-no-kernel-splat", "zspp-boot-completed",
                                  "zspp-no-kernel-splat", "load", "ext4-mkfs", "swap-workload-verified",
                                  "zspp:zspp-provides-zsmalloc"])
        # Failed on Debian's zsmalloc: nothing to compare.
        self.assertEqual(skipped, {"selftest-zram01": "failed on Debian's zsmalloc too (zspp: ok)"})

    def assertCaught(self, name, why_part, **kw):
        _, failed, _ = judge(**kw)
        self.assertEqual(list(failed), [name], failed)
        self.assertIn(why_part, failed[name])

    def test_host_checks_each_fail(self):
        self.assertCaught(f"host-module-built-for-{KREL}", "vermagic 6.1.0-56-amd64", facts={"modver": "6.1.0-56-amd64"})
        self.assertCaught("host-module-named-zsmalloc", "zspp", facts={"name": "zspp"})
        self.assertCaught("host-module-alias-zpool-zsmalloc", "none", facts={"aliases": []})
        bad = [(c + 1 if s == "zs_malloc" else c, s) for c, s in FACTS["ours"]]
        _, failed, _ = judge(facts={"ours": bad})
        self.assertEqual(sorted(failed), ["host-crcs-equal-debian-zsmalloc", "host-crcs-equal-zram-imports"])
        self.assertIn("zs_malloc debian=0x1234abcd zspp=0x1234abce", failed["host-crcs-equal-debian-zsmalloc"])
        _, failed, _ = judge(facts={"ours": [], "theirs": []})  # nothing exported: never equal
        self.assertEqual(sorted(failed), ["host-crcs-equal-debian-zsmalloc", "host-crcs-equal-zram-imports"])
        self.assertCaught("host-zram-imports-ten-zs-symbols", "9", facts={"imports": FACTS["imports"][:9]} | {
            "ours": FACTS["imports"][:9], "theirs": FACTS["imports"][:9]})
        self.assertCaught("host-depmod-default-keeps-kernel-zsmalloc", "zram.ko: updates/dkms/zsmalloc.ko",
                          facts={"deps": {"lib": "updates/dkms/zsmalloc.ko", "etc": "updates/dkms/zsmalloc.ko"}})
        self.assertCaught("host-depmod-zspp-enable-zram-picks-zspp", "zram.ko: ?",
                          facts={"deps": {"lib": "kernel/mm/zsmalloc.ko", "etc": ""}})

    def test_boot_not_completed_and_splat(self):
        self.assertCaught("zspp-boot-completed", "no ZRAM-DONE (console: /w/zspp/console.txt)",
                          zspp=ZSPP.replace("ZRAM-DONE\n", ""))
        self.assertCaught("zsmalloc-no-kernel-splat", "BUG: KASAN: use-after-free",
                          zsmalloc=ZSMALLOC.replace("ZRAM-DONE", "[ 5.0] BUG: KASAN: use-after-free in zs_free\nZRAM-DONE"))

    def test_case_fails_or_missing_on_zspp(self):
        self.assertCaught("ext4-mkfs", "ok on Debian's zsmalloc, fail on zspp: ZT fail ext4-mkfs",
                          zspp=ZSPP.replace("ZT ok ext4-mkfs", "ZT fail ext4-mkfs"))
        # Reported twice, once failed: "fail,ok" is not ok.
        self.assertCaught("load", "fail,ok on zspp", zspp=ZSPP.replace("ZT ok load", "ZT ok load\nZT fail load"))
        self.assertCaught("swap-workload-verified", "missing on zspp",
                          zspp=ZSPP.replace("ZT ok swap-wo[", "[").replace("rkload-verified\n", ""))
        self.assertCaught("zspp:zspp-provides-zsmalloc", "zspp only: fail",
                          zspp=ZSPP.replace("ZT ok zspp-provides", "ZT fail zspp-provides"))

    def test_one_allocator(self):
        passed, failed, _ = judge(zsmalloc=None)
        self.assertIn("zspp:selftest-zram01", passed)
        self.assertEqual(failed, {})
        _, failed, _ = judge(zspp=None)
        self.assertEqual(failed, {"zsmalloc:selftest-zram01": "fail"})

    def test_ktap_counted_by_make_check(self):
        r = peer.Results(note=lambda m: None)
        zram_peer.compare(r, {"zsmalloc": zram_peer.Boot(ZSMALLOC), "zspp": zram_peer.Boot(
            ZSPP.replace("ZT ok load", "ZT fail load"))})
        out = io.StringIO()
        r.ktap(out)
        text = out.getvalue()
        self.assertIn("# load: ok on Debian's zsmalloc, fail on zspp: ZT fail load\nnot ok 1 load\n", text)
        self.assertIn("ok 4 selftest-zram01 # SKIP failed on Debian's zsmalloc too", text)
        self.assertEqual(check.count(text.split("\n")), (3, 1))

    def test_judge_boot_writes_cases(self):
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        os.makedirs(os.path.join(d, "zspp"))
        with open(os.path.join(d, "zspp", "console.log"), "w") as fh:
            fh.write(ZSPP.replace("\n", "\r\n"))
        b = zram_peer.judge_boot(d, "zspp")
        self.assertTrue(b.done)
        with open(os.path.join(d, "zspp", "cases")) as fh:
            self.assertIn("ZT ok swap-workload-verified\n", fh.read())


if __name__ == "__main__":
    unittest.main()
