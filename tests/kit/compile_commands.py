#!/usr/bin/env python3
"""compile_commands.py - writes compile_commands.json for clangd, VS Code and CLion.

Usage: compile_commands.py [OUTPUT]   (default: compile_commands.json at the kit's top)

It asks make itself which commands it would run (`make -Bn all`), so the flags, include
paths (tests/sandbox, each lesson's given/ folder, GoogleTest) and defines are exactly
the ones the grader uses, for exercises/, solutions/, tests/ and the sandbox proof.
"""
import json
import shlex
import subprocess
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]


def main():
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else KIT / "compile_commands.json"
    dry = subprocess.run(["make", "-Bn", "--no-print-directory", "all"], cwd=KIT, capture_output=True, text=True)
    if dry.returncode != 0:
        sys.exit("compile_commands.py: `make -Bn all` failed:\n" + dry.stderr)
    entries, seen = [], set()
    for line in dry.stdout.splitlines():
        words = shlex.split(line) if line.startswith(("g++ ", "c++ ", "clang++ ")) else []
        sources = [w for w in words if w.endswith(".cpp")]
        if len(sources) != 1 or sources[0] in seen:
            continue
        seen.add(sources[0])
        entries.append({"directory": str(KIT), "file": sources[0], "arguments": words})
    output.write_text(json.dumps(entries, indent=1) + "\n")
    print(f"compile_commands.py: {len(entries)} files in {output.name}")


if __name__ == "__main__":
    main()
