#!/usr/bin/env python3
"""format_check.py - the kit's own C++ must match .clang-format.

Usage: format_check.py [--root DIR] [--fix]

Checks solutions/, tests/ (grader support, lesson tests, mistakes, tools) and the given
files in exercises/*/given/; never the rest of exercises/, which belongs to the learner. --fix rewrites the files instead.
Exit 0 when every file matches, 1 otherwise (each file named), 2 without clang-format.
"""
import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from checklib import finish


def kit_sources(root):
    files = []
    for top in ("solutions", "tests"):
        for pattern in ("*.cpp", "*.hpp"):
            files += (root / top).rglob(pattern)
        files += (root / "exercises").glob("*/given/**/" + pattern)
    return sorted(f for f in files if "build" not in f.relative_to(root).parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    parser.add_argument("--fix", action="store_true")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    tool = shutil.which("clang-format")
    if not tool:
        print("format: clang-format is not installed (Debian: apt-get install clang-format); nothing was checked")
        return 2
    files = kit_sources(root)
    if args.fix:
        subprocess.run([tool, "-i", *map(str, files)], cwd=root, check=True)
        print(f"format: {len(files)} files formatted")
        return 0
    # One clang-format for every file: it names each file that differs in its errors
    # ("path:line:col: error: ..."), and one process per file cost 0.13 s each.
    names = [str(f.relative_to(root)) for f in files]
    r = subprocess.run([tool, "--dry-run", "-Werror", *names], cwd=root, capture_output=True, text=True)
    first = {}
    for line in r.stderr.splitlines():
        m = re.match(r"(.+?):\d+:\d+: error: ", line)
        if m and m.group(1) in names:
            first.setdefault(m.group(1), line)
    bad = list(first.values())
    if r.returncode != 0 and not bad:
        bad.append(f"clang-format failed ({r.returncode}): {r.stderr.strip()[:300]}")
    return finish("format", bad, f"{len(files)} files checked, {len(bad)} differ from .clang-format (fix: make format)")


if __name__ == "__main__":
    sys.exit(main())
