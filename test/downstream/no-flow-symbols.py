#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Linking socketcap gives no Flow code (issue 13): `nm -C` of the core library shows no
socketcap::flow:: symbol, defined or referenced. The check is not vacuous: the core must show
other socketcap:: symbols, and each FLOW_LIBRARY given must show socketcap::flow:: ones.
Usage: no-flow-symbols.py CORE_LIBRARY [FLOW_LIBRARY ...]"""
import subprocess
import sys


def symbols(library):
    out = subprocess.run(["nm", "-C", library], check=True, capture_output=True, text=True).stdout
    return out.splitlines()


def main():
    core, flow_libs = sys.argv[1], sys.argv[2:]
    lines = symbols(core)
    assert any("socketcap::" in l for l in lines), f"no socketcap:: symbol at all in {core}"
    flow = [l for l in lines if "socketcap::flow::" in l]
    assert not flow, f"{core} holds Flow code:\n" + "\n".join(flow[:20])
    for lib in flow_libs:
        assert any("socketcap::flow::" in l for l in symbols(lib)), f"no socketcap::flow:: symbol in {lib}"
    print(f"{core}: no socketcap::flow:: symbol")


if __name__ == "__main__":
    main()
