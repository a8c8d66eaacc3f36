#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Prints 'N passed, M failed' from meson's testlog.json, counting Catch2 test cases.

Several testlog.json paths (e.g. the normal and the sanitizer build) give one total line.
Exit status 1 when anything failed or when no test ran at all.
"""
import json
import re
import sys

ALL = re.compile(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)")
SUM = re.compile(r"^test cases: *(\d+)(?: \| *(\d+) passed)?(?: \| *(\d+) failed)?", re.M)


def main(paths):
    passed = failed = skipped = 0
    lines = []
    for path in paths:
        try:
            lines += open(path, encoding="utf-8").read().splitlines()
        except OSError as e:
            print(f"test-summary: cannot read {path}: {e}")
            failed += 1
    for line in lines:
        if not line.strip():
            continue
        entry = json.loads(line)
        result, out = entry.get("result"), entry.get("stdout") or ""
        if result == "SKIP":
            skipped += 1
            continue
        ok = result in ("OK", "EXPECTEDFAIL")
        m_all, m_sum = ALL.search(out), SUM.search(out)
        if ok and m_all:
            passed += int(m_all.group(1))
        elif m_sum:
            p = int(m_sum.group(2) or 0)
            f = int(m_sum.group(3) or 0)
            if not ok and f == 0:
                f = 1
            passed, failed = passed + p, failed + f
        elif ok:
            passed += 1
        else:
            failed += 1
            print(f"test-summary: {entry.get('name')} {result}")
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["build/meson-logs/testlog.json"]))
