#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR Apache-2.0
"""Checks that each code block marked `<!-- example: PATH -->` in a Markdown file is an exact
copy of PATH (relative to the source root). Usage: check-doc-blocks.py SOURCE_ROOT DOC.md"""
import re
import sys
from pathlib import Path

root, doc = Path(sys.argv[1]), Path(sys.argv[2])
blocks = re.findall(r"<!-- example: (\S+) -->\n```\w*\n(.*?)```\n", doc.read_text(), re.S)
if not blocks:
    sys.exit(f"{doc}: no marked example blocks")
stale = [path for path, body in blocks if (root / path).read_text() != body]
for path in stale:
    print(f"{doc}: the block for {path} differs from the file; copy the file into the doc")
print(f"{doc}: {len(blocks) - len(stale)} of {len(blocks)} example blocks match their files")
sys.exit(1 if stale else 0)
