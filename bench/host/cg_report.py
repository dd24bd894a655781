#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Per-operation instruction counts and out-of-line shim calls from callgrind
dumps of core_bench (one dump per phase). Core = functions defined in
src/core; shim = functions declared in include/zspp/shim.h (here the fake
shim: its instruction counts are not the kernel's, its call counts are)."""
import argparse
import re
import sys


def names(header):
    return set(re.findall(r"\b(zspp_\w+)\s*\(", open(header).read()))


def parse(path):
    ids = {}
    fn = fl = None
    cfn = None
    pending_call = False
    excl, fnfile, edges = {}, {}, {}
    desc = ""
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("desc: Trigger:"):
            desc = line.split("Client Request:", 1)[-1].strip() or desc
        m = re.match(r"^(fl|fi|fe|fn|cfn|cfl|cfi|ob|cob)=\((\d+)\)(?: (.*))?$", line)
        if m:
            kind, i, name = m.groups()
            key = ("fn" if kind in ("fn", "cfn") else "fl" if kind in ("fl", "fi", "fe", "cfl", "cfi") else "ob", i)
            if name is not None:
                ids[key] = name
            name = ids.get(key, "?")
            if kind == "fl":
                fl = name
            elif kind == "fn":
                fn = name
                fnfile.setdefault(fn, fl)
            elif kind == "cfn":
                cfn = name
            continue
        if line.startswith("calls="):
            n = int(line.split("=")[1].split()[0])
            edges[(fn, cfn)] = edges.get((fn, cfn), 0) + n
            pending_call = True
            continue
        if line and (line[0].isdigit() or line[0] in "+-*"):
            parts = line.split()
            if len(parts) >= 2:
                if pending_call:
                    pending_call = False  # inclusive cost of the call: not ours
                else:
                    excl[fn] = excl.get(fn, 0) + int(parts[1])
    return desc, excl, fnfile, edges


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nobj", type=int, required=True)
    ap.add_argument("--chain", type=int, required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("dumps", nargs="+")
    a = ap.parse_args()
    shim = names(a.shim) - names(a.api)
    for path in sorted(a.dumps, key=lambda p: int(p.rsplit(".", 1)[-1]) if p.rsplit(".", 1)[-1].isdigit() else 0):
        desc, excl, fnfile, edges = parse(path)
        if not excl:
            continue
        total = sum(excl.values())
        core = sum(v for f, v in excl.items() if "src/core" in (fnfile.get(f) or ""))
        memcpy = sum(v for f, v in excl.items() if "memcpy" in (f or "") or "memmove" in (f or ""))
        calls = {}
        for (caller, callee), n in edges.items():
            if "src/core" in (fnfile.get(caller) or "") and callee in shim:
                calls[callee] = calls.get(callee, 0) + n
        ncalls = sum(calls.values())
        top = sorted(((v, f) for f, v in excl.items() if "src/core" in (fnfile.get(f) or "")), reverse=True)[:5]
        print("PROFILE chain=%d phase=%s ir_per_op=%.0f core_ir_per_op=%.0f memcpy_ir_per_op=%.0f "
              "shim_calls_per_op=%.2f" % (a.chain, desc, total / a.nobj, core / a.nobj, memcpy / a.nobj,
                                          ncalls / a.nobj))
        print("  shim calls/op: " + ", ".join("%s %.2f" % (k, v / a.nobj) for k, v in
                                               sorted(calls.items(), key=lambda kv: -kv[1])))
        print("  core hot (Ir/op): " + ", ".join("%s %.0f" % (re.sub(r"\(.*", "", f), v / a.nobj) for v, f in top))


if __name__ == "__main__":
    sys.exit(main())
