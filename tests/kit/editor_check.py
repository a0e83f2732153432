#!/usr/bin/env python3
"""editor_check.py - the files that make the kit fit a learner's editor stay true.

Usage: editor_check.py [--root DIR]

Checks that .devcontainer/devcontainer.json is valid JSON and builds from its Dockerfile;
that the Dockerfile installs exactly the packages .ci/run installs; that .editorconfig
and .clang-format exist; that `make help` and README.md's target table list the same
targets; and that tests/README.md's picture of tests/ matches the tree. Exit 0 when all hold, 1 otherwise, each problem on its own line.
"""
import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from checklib import finish


def ci_packages(root):
    m = re.search(r'^PACKAGES="([^"]*)"', (root / ".ci" / "run").read_text(), re.M)
    return set(m.group(1).split()) if m else set()


def dockerfile_packages(root):
    text = (root / ".devcontainer" / "Dockerfile").read_text().replace("\\\n", " ")
    m = re.search(r"apt-get install\s+(.*?)(?:&&|$)", text, re.M)
    return {w for w in m.group(1).split() if not w.startswith("-")} if m else set()


def help_targets(root):
    out = subprocess.run(["make", "--no-print-directory", "-s", "help"], cwd=root, capture_output=True, text=True)
    return {m.group(1) for m in re.finditer(r"^\s*make (\S+)", out.stdout, re.M)}


def readme_targets(root):
    rows = re.finditer(r"^\| `make(?: ([a-z_.-]+))?[^`]*` \|", (root / "README.md").read_text(), re.M)
    return {m.group(1) or "all" for m in rows}  # plain `make` is the default target, all


def picture_problems(root):
    """tests/README.md draws tests/ in its first code block: every folder and file of the
    shared parts (sandbox/, grader/, kit/, tools/) must be in it, and every name it draws
    must exist, so the picture cannot drift from the tree."""
    readme = root / "tests" / "README.md"
    block = re.search(r"^```\n(tests/\n.*?)^```", readme.read_text(), re.M | re.S)
    if not block:
        return ["tests/README.md has no picture of tests/ (a code block starting 'tests/')"]
    picture = block.group(1)
    drawn = set()
    for line in picture.splitlines()[1:]:
        for name in re.split(r",\s*", line.strip().split("  ")[0]):
            if name.endswith(".hpp/.cpp"):  # x.hpp/.cpp draws both files
                drawn |= {name[:-len("/.cpp")], name[:-len(".hpp/.cpp")] + ".cpp"}
            elif name and "*" not in name and not name.startswith("NN-") and (name.endswith("/") or "." in name):
                drawn.add(name.rstrip("/"))
    problems = []
    tests = root / "tests"
    shared = [d for d in sorted(tests.iterdir()) if d.is_dir() and not re.match(r"\d\d-", d.name)
              and d.name != "__pycache__"]
    for folder in shared:
        if folder.name not in drawn:
            problems.append(f"tests/README.md's picture lacks tests/{folder.name}/")
        for entry in sorted(folder.iterdir()):
            if entry.name != "__pycache__" and entry.name not in drawn:
                problems.append(f"tests/README.md's picture lacks tests/{folder.name}/{entry.name}")
    everything = {p.name for p in tests.rglob("*")}
    for name in sorted(drawn):
        if name.split("/")[-1] not in everything:
            problems.append(f"tests/README.md's picture draws {name}, which tests/ does not have")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[2]))
    root = Path(parser.parse_args().root).resolve()
    problems = []
    try:
        dev = json.loads((root / ".devcontainer" / "devcontainer.json").read_text())
        if dev.get("build", {}).get("dockerfile") != "Dockerfile":
            problems.append(".devcontainer/devcontainer.json does not build from its Dockerfile")
    except (OSError, ValueError) as e:
        problems.append(f".devcontainer/devcontainer.json is not valid JSON: {e}")
    ci, dock = ci_packages(root), dockerfile_packages(root)
    if not ci:
        problems.append(".ci/run has no PACKAGES=\"...\" line")
    if ci != dock:
        problems.append(f"the dev container and .ci/run install different packages: only in the Dockerfile: "
                        f"{sorted(dock - ci)}, only in .ci/run: {sorted(ci - dock)}")
    for name in (".editorconfig", ".clang-format"):
        if not (root / name).exists():
            problems.append(f"{name} is missing")
    helped, documented = help_targets(root), readme_targets(root)
    if helped - documented:
        problems.append(f"README.md's target table lacks: {sorted(helped - documented)}")
    if documented - helped:
        problems.append(f"make help lacks targets README.md documents: {sorted(documented - helped)}")
    problems += picture_problems(root)
    return finish("editor", problems, f"{len(problems)} problems")


if __name__ == "__main__":
    sys.exit(main())
