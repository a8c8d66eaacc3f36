#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Builds two tiny downstream projects against socketcap and runs them, in a temp dir:
  pkgconfig/   links the library installed from this build (`meson install --destdir`) through
               socketcap.pc, and runs a session over a loopback socket;
  subproject/  uses this source tree as subprojects/socketcap (a symlink) through
               dependency('socketcap'), and replays a fuzz-style harness over corpus/.
Usage: run-downstream.py SOURCE_ROOT BUILD_ROOT [pkgconfig|subproject ...] [--instrumented]"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def run(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def setup_and_build(src, build, env, *options):
    # plain: no optimisation flags, the quickest compile; -j2: the machine's cores are shared.
    run(["meson", "setup", build, src, "--buildtype=plain", *options], env=env, stdout=subprocess.DEVNULL)
    run(["ninja", "-C", build, "-j2"], env=env, stdout=subprocess.DEVNULL)


def staged_pc_dir(stage: Path) -> Path:
    pcs = list(stage.rglob("socketcap.pc"))
    assert len(pcs) == 1, f"want one socketcap.pc under {stage}, found {pcs}"
    pc = pcs[0]
    # The .pc names the configured prefix; under --destdir everything lives below the stage,
    # so point prefix there (includedir and libdir are relative to it).
    lines = pc.read_text().splitlines()
    prefix = next(l for l in lines if l.startswith("prefix="))[len("prefix="):]
    assert all(l.startswith("prefix=") or "${prefix}" in l or not l.startswith(("includedir=", "libdir="))
               for l in lines), "includedir/libdir outside ${prefix}"
    pc.write_text("\n".join(f"prefix={stage}{prefix}" if l.startswith("prefix=") else l for l in lines) + "\n")
    return pc.parent


def pkgconfig_consumer(here: Path, build_root: Path, tmp: Path, env: dict):
    stage = tmp / "stage"
    run(["meson", "install", "-C", build_root, "--no-rebuild", "--tags", "devel", "--destdir", stage, "--quiet"])
    installed = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
    for want in ("include/socketcap/socketcap.hpp", "include/socketcap/io/impl/session.hpp", "libsocketcap.a"):
        assert any(p.endswith(want) for p in installed), f"{want} not installed: {installed}"
    assert not any(p.endswith("meson.build") for p in installed), installed
    # The Flow protocol is the connector's, not the library's (lib/flow/meson.build).
    assert not any("/socketcap/flow/" in p or "socketcap_flow" in p for p in installed), installed
    env = dict(env, PKG_CONFIG_PATH=str(staged_pc_dir(stage)))
    build = tmp / "pkgconfig-build"
    setup_and_build(here / "pkgconfig", build, env)
    run([build / "upper_capture"])


def subproject_consumer(here: Path, source_root: Path, tmp: Path, env: dict):
    project = tmp / "subproject"
    shutil.copytree(here / "subproject", project)
    (project / "subprojects").mkdir()
    (project / "subprojects" / "socketcap").symlink_to(source_root, target_is_directory=True)
    build = tmp / "subproject-build"
    # force-fallback-for: use the subproject even if an installed socketcap.pc is visible.
    setup_and_build(project, build, env, "--force-fallback-for=socketcap")
    corpus = sorted((here / "subproject" / "corpus").iterdir())
    assert corpus, "empty corpus"
    run([build / "csv_fuzz", *corpus])


def main():
    args = [a for a in sys.argv[1:] if a != "--instrumented"]
    source_root, build_root = Path(args[0]).resolve(), Path(args[1]).resolve()
    which = args[2:] or ["pkgconfig", "subproject"]
    if "--instrumented" in sys.argv and "pkgconfig" in which:
        print("downstream: this build is instrumented (sanitizers/fuzzer); a plain consumer cannot link it")
        sys.exit(77)  # meson: skipped
    here = source_root / "test" / "downstream"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PKG_CONFIG", "MESON"))}
    with tempfile.TemporaryDirectory(prefix="socketcap-downstream-") as tmp:
        if "pkgconfig" in which:
            pkgconfig_consumer(here, build_root, Path(tmp), env)
        if "subproject" in which:
            subproject_consumer(here, source_root, Path(tmp), env)
    print("downstream:", ", ".join(which), "ok")


if __name__ == "__main__":
    main()
