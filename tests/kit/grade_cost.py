#!/usr/bin/env python3
"""grade_cost.py - what a hang costs a learner: the wall time of grading one lesson.

Usage:
  grade_cost.py [--lesson NN]

For the reference solution of each lesson, and for each catalogued mistake of it that
hangs or spins (a `# Hangs: yes` line in its header, tests/NN-topic/mistakes/*.patch),
builds the lesson first, then times one run of the lesson's whole test binary (the
build is not counted: that is what a learner waits for after each edit). Prints a
table with each time's ratio to the solution's, and writes it to
build/grade-cost/grade-cost.md and build/grade-cost/grade-cost.json.

The floors it checks (exit status 1 when one is broken): every hanging or spinning
mistake grades in at most 30 s, and no lesson's worst case takes more than 3 times its
solution's time plus 10 s. A benchmark, not a test: the numbers depend on the machine.

Only the Python 3 standard library is used.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grader"))
import grade  # noqa: E402  (the same lessons, patches and hygiene as the grader)

KIT = grade.KIT
OUT = Path("build/grade-cost")
HANGS = re.compile(r"^#\s*Hangs:\s*yes\s*$", re.M)
MISTAKE_LIMIT = 30.0  # seconds: the most a hanging mistake may cost
WORST_FACTOR, WORST_SLACK = 3.0, 10.0  # a lesson's worst case: at most 3 x solution + 10 s


def hanging_mistakes(slug):
    folder = KIT / "tests" / slug / "mistakes"
    return [p for p in sorted(folder.glob("*.patch")) if HANGS.search(p.read_text())]


def build(slug, src, out):
    """Builds one lesson of one tree; returns the test binary, or None (with the log)."""
    rc, log = grade.build_lesson(slug, src, out, timeout=900)
    if rc != 0:
        print(grade.first_errors(log), file=sys.stderr)
        return None
    return grade.test_binary(out, slug)


def timed_run(slug, binary):
    """One run of the whole test binary: (seconds, tests failed, tests run)."""
    lesson_out = binary.parent.parent
    xml_path = lesson_out / "grade-cost.xml"
    if (KIT / xml_path).exists():
        (KIT / xml_path).unlink()
    env = dict(os.environ, PIPEWORKS_BIN_DIR=str(lesson_out / "bin"), GTEST_COLOR="no")
    start = time.monotonic()
    grade.run([str(binary), f"--gtest_output=xml:{xml_path}", "--gtest_brief=1"], timeout=grade.TEST_BINARY_TIMEOUT,
              env=env)
    seconds = time.monotonic() - start
    grade.kill_leftovers()
    failed = total = 0
    if (KIT / xml_path).exists():
        for case in ET.parse(KIT / xml_path).getroot().iter("testcase"):
            total += 1
            failed += bool(case.findall("failure"))
    return seconds, failed, total


def measure_solution(slug):
    binary = build(slug, "solutions", str(OUT / "solutions"))
    return timed_run(slug, binary) if binary else None


def measure_mistake(slug, patch):
    fields = grade.read_mistake(patch)
    scratch = OUT / "mistakes" / slug / patch.stem
    if (KIT / scratch).exists():
        shutil.rmtree(KIT / scratch)
    shutil.copytree(KIT / "solutions" / slug, KIT / scratch / "src" / slug)
    target = KIT / scratch / "src" / slug / fields["Replaces"]
    target.write_text(grade.apply_patch(target.read_text(), patch.read_text()))
    binary = build(slug, str(scratch / "src"), str(scratch / "out"))
    return timed_run(slug, binary) if binary else None


def main():
    os.chdir(KIT)
    grade.become_subreaper()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson")
    args = parser.parse_args()
    rows, problems = [], []
    for slug in grade.pick_lessons(args.lesson):
        mistakes = hanging_mistakes(slug)
        if not mistakes:
            continue
        print(f"{slug}: the solution ...", flush=True)
        solved = measure_solution(slug)
        if not solved:
            problems.append(f"{slug}: the solution does not build")
            continue
        base = solved[0]
        rows.append({"lesson": slug, "run": "solution", "seconds": round(base, 1), "ratio": 1.0,
                     "failed": solved[1], "tests": solved[2]})
        for patch in mistakes:
            print(f"{slug}: {patch.name} ...", flush=True)
            got = measure_mistake(slug, patch)
            if not got:
                problems.append(f"{slug}/{patch.name}: does not build")
                continue
            rows.append({"lesson": slug, "run": patch.stem, "seconds": round(got[0], 1),
                         "ratio": round(got[0] / base, 2) if base > 0 else None, "failed": got[1], "tests": got[2]})
            if got[0] > MISTAKE_LIMIT:
                problems.append(f"{slug}/{patch.name}: {got[0]:.1f} s, over {MISTAKE_LIMIT:g} s")
            if got[0] > WORST_FACTOR * base + WORST_SLACK:
                problems.append(f"{slug}/{patch.name}: {got[0]:.1f} s, over {WORST_FACTOR:g} x the solution's "
                                f"{base:.1f} s + {WORST_SLACK:g} s")

    lines = ["| lesson | graded | seconds | ratio to the solution | tests failed |", "|---|---|---:|---:|---:|"]
    for r in rows:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:g}x"
        lines.append(f"| {r['lesson']} | {r['run']} | {r['seconds']:.1f} | {ratio} | {r['failed']} of {r['tests']} |")
    table = "\n".join(lines)
    (KIT / OUT).mkdir(parents=True, exist_ok=True)
    floors = (f"Floors: each hanging or spinning mistake <= {MISTAKE_LIMIT:g} s; a lesson's worst case <= "
              f"{WORST_FACTOR:g} x its solution's time + {WORST_SLACK:g} s. Build time excluded.")
    (KIT / OUT / "grade-cost.md").write_text(
        "# What grading costs (one run of each lesson's test binary)\n\n" + table + "\n\n" + floors + "\n" +
        ("".join(f"\n- {p}" for p in problems) + "\n" if problems else ""))
    (KIT / OUT / "grade-cost.json").write_text(json.dumps({"rows": rows, "problems": problems}, indent=2) + "\n")
    print("\n" + table + "\n\n" + floors)
    for p in problems:
        print("  - " + p)
    print(f"\nwritten: {OUT / 'grade-cost.md'}, {OUT / 'grade-cost.json'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
