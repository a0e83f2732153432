#!/usr/bin/env python3
"""classroom.py - the kit in a class and for a learner on their own.

Usage:
  classroom.py progress                      each lesson's state, points and the next step
  classroom.py hint --lesson NN [--reset]    the next hint (one more each time)
  classroom.py watch --lesson NN [--cycles N] [--poll]
                                             re-grade the lesson on every save
  classroom.py handout --dest DIR            a student copy: no solutions, no mistake
                                             catalogue, fresh git history, checksums
  classroom.py gradescope [--out ZIP]        Gradescope autograder zip
  classroom.py github [--check]              write (or check) the GitHub Classroom files
                                             from lessons/ and tests/points.conf

Only the Python 3 standard library is used (inotifywait is used by watch when installed).
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade  # noqa: E402  (the grader: lessons, points, grading one lesson)

KIT = grade.KIT
CHECKSUMS = Path("tests") / "handout.sha256"
PACKAGES_LINE = re.compile(r'^PACKAGES="([^"]*)"', re.M)


def colour(text, code):
    return f"\033[{code}m{text}\033[0m" if sys.stdout.isatty() else text


def lesson_arg(wanted):
    lessons = grade.pick_lessons(wanted)
    if len(lessons) != 1:
        sys.exit("classroom.py: name one lesson, e.g. LESSON=02")
    return lessons[0]


# ---- progress ---------------------------------------------------------------------------

def cmd_progress(_args):
    results = grade.grade_tree("exercises", grade.all_lessons())
    print("\nPipeworks - your progress\n")
    next_step = None
    for r in results:
        total = len(r["tests"])
        passed = sum(t["passed"] for t in r["tests"])
        if r["compile_error"]:
            state, code = "does not compile", "31"
        elif total and passed == total:
            state, code = "done", "32"
        elif passed == 0:
            state, code = "not started", "2"
        else:
            state, code = f"{passed} of {total} tests passing", "33"
        print(f"  {r['lesson']:<24} {colour(f'{state:<26}', code)} {r['points']:>6g} / {r['max']:g} points")
        if next_step is None and state != "done":
            num = r["lesson"][:2]
            if r["compile_error"]:
                next_step = f"make exercises/{r['lesson']}/ compile again, then: make grade LESSON={num}"
            elif passed == 0:
                next_step = (f"read lessons/{r['lesson']}.md, fill in exercises/{r['lesson']}/, "
                             f"then: make grade LESSON={num}")
            else:
                failing = next(t["name"] for t in r["tests"] if not t["passed"])
                next_step = f"make {failing} pass: make grade LESSON={num} says what to read"
    total = sum(r["points"] for r in results)
    maximum = sum(r["max"] for r in results)
    print(f"\n  {'total':<24} {'':<26} {total:>6g} / {maximum:g} points\n")
    print("Next: " + (next_step or "every lesson is done. Well done!"))
    return 0


# ---- hints ------------------------------------------------------------------------------

def hints_of(slug):
    path = KIT / "lessons" / "hints" / f"{slug}.md"
    if not path.exists():
        return []
    parts = re.split(r"^## Hint \d+\s*$", path.read_text(), flags=re.M)
    return [p.strip() for p in parts[1:] if p.strip()]


def cmd_hint(args):
    slug = lesson_arg(args.lesson)
    hints = hints_of(slug)
    if not hints:
        print(f"Lesson {slug} has no hints yet; re-read lessons/{slug}.md and the TODOs in exercises/{slug}/.")
        return 0
    counter = KIT / "build" / "hints" / f"{slug}.count"
    counter.parent.mkdir(parents=True, exist_ok=True)
    if args.reset:
        counter.unlink(missing_ok=True)
        print(f"Hints for {slug} start again from the first.")
        return 0
    shown = int(counter.read_text()) if counter.exists() else 0
    shown = min(shown + 1, len(hints))
    counter.write_text(str(shown))
    for i in range(shown):
        print(colour(f"Hint {i + 1} of {len(hints)}", "1") + "\n" + hints[i] + "\n")
    if shown < len(hints):
        print(f"(run `make hint LESSON={slug[:2]}` again for the next one)")
    else:
        print(f"(that was the last hint; `make hint LESSON={slug[:2]} RESET=1` starts over)")
    return 0


# ---- watch ------------------------------------------------------------------------------

def snapshot(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def wait_for_change(folder, before, use_poll):
    """Returns once folder differs from the snapshot `before` (taken before grading, so
    that a save made while the grader ran is not missed)."""
    while snapshot(folder) == before:
        if not use_poll and shutil.which("inotifywait"):
            # Wakes on the next event; the loop re-checks, with a timeout against lost events.
            subprocess.run(["inotifywait", "-qq", "-r", "-t", "2", "-e", "close_write,moved_to,create,delete,attrib",
                            str(folder)])
        else:
            time.sleep(0.5)


def cmd_watch(args):
    slug = lesson_arg(args.lesson)
    folder = KIT / "exercises" / slug
    cycles = 0
    while True:
        before = snapshot(folder)
        if sys.stdout.isatty():
            print("\033[2J\033[H", end="")
        results = [grade.grade_lesson(slug, "exercises", "build/exercises", grade.points_table().get(slug, 10.0))]
        grade.print_table("exercises", results)
        print(grade.next_step(results))
        cycles += 1
        print(f"\n[watch {cycles}] waiting for you to save a file in exercises/{slug}/ (Ctrl-C stops)", flush=True)
        if args.cycles and cycles >= args.cycles:
            return 0
        wait_for_change(folder, before, args.poll)


# ---- hand-out ----------------------------------------------------------------------------

def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=KIT, capture_output=True, check=True).stdout
    return [Path(p) for p in out.decode().split("\0") if p]


def for_students(path):
    parts = path.parts
    return not (parts[0] == "solutions" or "mistakes" in parts or path.name == "INSTRUCTORS.md")


def checksum_targets(root):
    """The files whose change makes a score untrustworthy: the tests, the grader, and the
    given files the learner codes against (exercises/*/given/)."""
    files = [p for p in (root / "tests").rglob("*") if p.is_file()]
    files += [p for p in (root / "exercises").glob("*/given/**/*") if p.is_file()]
    files += [root / "Makefile"] + [p for p in (root / ".github").rglob("*") if p.is_file()]
    return sorted(p.relative_to(root) for p in files if p.relative_to(root) != CHECKSUMS and "__pycache__" not in p.parts)


def write_checksums(root):
    lines = [f"{hashlib.sha256((root / p).read_bytes()).hexdigest()}  {p.as_posix()}" for p in checksum_targets(root)]
    (root / CHECKSUMS).write_text("\n".join(lines) + "\n")


def cmd_handout(args):
    if not args.dest:
        sys.exit("classroom.py: say where: make handout DEST=../pipeworks-student")
    dest = Path(args.dest).resolve()
    if dest.exists() and any(dest.iterdir()):
        sys.exit(f"classroom.py: {args.dest} exists and is not empty; name a new folder")
    files = [p for p in tracked_files() if for_students(p)]
    for p in files:
        (dest / p).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KIT / p, dest / p)
    write_checksums(dest)
    git = ["git", "-C", str(dest)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    who = []
    if subprocess.run(["git", "config", "user.email"], capture_output=True).returncode != 0:
        who = ["-c", "user.name=Pipeworks hand-out", "-c", "user.email=handout@pipeworks.invalid"]
    subprocess.run(["git", "-C", str(dest), *who, "commit", "-q", "-m", "Pipeworks hand-out"], check=True)
    print(f"hand-out: {len(files)} files in {args.dest} (no solutions/, no mistake catalogue), "
          f"fresh git history, test checksums in {CHECKSUMS}")
    print(f"try it:   cd {args.dest} && make grade")
    return 0


# ---- Gradescope --------------------------------------------------------------------------

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends {packages}
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. The kit (with its own tests) is in
# $ROOT/source; the student's repository is in $ROOT/submission. Only the student's
# exercises/ are used, so edited tests in a submission change nothing.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source" || exit 1
mkdir -p "$ROOT/results"
if [ ! -d "$ROOT/submission/exercises" ]; then
  printf '{"score": 0, "output": "The submission has no exercises/ folder: submit your whole Pipeworks repository."}\\n' \\
    > "$ROOT/results/results.json"
  exit 0
fi
rm -rf build
mv exercises exercises.kit
cp -R "$ROOT/submission/exercises" exercises
# The given files (exercises/*/given/) are the kit's, whatever the submission holds.
for given in exercises.kit/*/given; do
  target="exercises/${given#exercises.kit/}"
  rm -rf "$target" && mkdir -p "$(dirname "$target")" && cp -R "$given" "$target"
done
rm -rf exercises.kit
python3 tests/grader/grade.py grade --src exercises > "$ROOT/results/grade.log" 2>&1
cp build/grade/exercises/results.json "$ROOT/results/results.json"
"""


def cmd_gradescope(args):
    out = KIT / args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    packages = PACKAGES_LINE.search((KIT / ".ci" / "run").read_text()).group(1)
    files = [p for p in tracked_files() if p.parts[0] != "solutions" and "mistakes" not in p.parts]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name, data, executable=False):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        add("setup.sh", SETUP_SH.format(packages=packages), executable=True)
        add("run_autograder", RUN_AUTOGRADER, executable=True)
        for p in files:
            # Gradescope unzips everything into /autograder/source.
            add(p.as_posix(), (KIT / p).read_bytes(), os.access(KIT / p, os.X_OK))
    print(f"gradescope: {out.relative_to(KIT)} ({len(files)} kit files, setup.sh, run_autograder)")
    print("upload it as the assignment's autograder; students submit their whole repository")
    return 0


# ---- GitHub Classroom ----------------------------------------------------------------------

AUTOGRADING = Path(".github") / "classroom" / "autograding.json"
WORKFLOW = Path(".github") / "workflows" / "classroom.yml"


def github_files():
    """The two GitHub Classroom files, generated from the lessons and their points."""
    import json
    packages = PACKAGES_LINE.search((KIT / ".ci" / "run").read_text()).group(1)
    setup = f"sudo apt-get update -qq && sudo apt-get install -y -qq {packages}"
    table = grade.points_table()
    lessons = [(slug, table.get(slug, 10.0)) for slug in grade.all_lessons()]
    tests = [{"name": slug, "setup": setup if i == 0 else "", "run": f"make grade LESSON={slug[:2]}", "input": "",
              "output": "", "comparison": "included", "timeout": 10, "points": int(pts) if pts == int(pts) else pts}
             for i, (slug, pts) in enumerate(lessons)]
    autograding = json.dumps({"tests": tests}, indent=2) + "\n"
    y = ["name: GitHub Classroom Workflow", "",
         "# Generated by `python3 tests/grader/classroom.py github` from lessons/ and tests/points.conf;",
         "# make test checks that it is up to date. Each lesson is its own test, graded by the same",
         "# command as `make grade`, with its points and a timeout in minutes.",
         "on:", "  - push", "  - workflow_dispatch", "", "permissions:", "  checks: write", "  actions: read",
         "  contents: read", "", "jobs:", "  build:", "    name: Autograding", "    runs-on: ubuntu-latest",
         "    if: github.actor != 'github-classroom[bot]'", "    steps:", "      - uses: actions/checkout@v4",
         "      - name: Install the kit's packages", f"        run: {setup}"]
    ids = []
    for slug, pts in lessons:
        ident = f"lesson-{slug[:2]}"
        ids.append(ident)
        y += [f"      - name: {slug}", f"        id: {ident}",
              "        uses: classroom-resources/autograding-command-grader@v1", "        with:",
              f"          test-name: {slug}", "          setup-command: ''",
              f"          command: make grade LESSON={slug[:2]}", "          timeout: 10", f"          max-score: {pts:g}"]
    y += ["      - name: Autograding Reporter", "        uses: classroom-resources/autograding-grader-reporter@v1",
          "        env:"]
    y += [f'          {i.upper()}_RESULTS: "${{{{steps.{i}.outputs.result}}}}"' for i in ids]
    y += ["        with:", "          runners: " + ",".join(ids)]
    return {AUTOGRADING: autograding, WORKFLOW: "\n".join(y) + "\n"}


def cmd_github(args):
    stale = []
    for path, text in github_files().items():
        current = (KIT / path).read_text() if (KIT / path).exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            (KIT / path).parent.mkdir(parents=True, exist_ok=True)
            (KIT / path).write_text(text)
            print(f"github: wrote {path}")
    if stale:
        print("github: out of date (run: python3 tests/grader/classroom.py github): " + ", ".join(stale))
        return 1
    return 0


def main():
    os.chdir(KIT)
    grade.become_subreaper()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("progress")
    h = sub.add_parser("hint")
    h.add_argument("--lesson", required=True)
    h.add_argument("--reset", action="store_true")
    w = sub.add_parser("watch")
    w.add_argument("--lesson", required=True)
    w.add_argument("--cycles", type=int, default=0)
    w.add_argument("--poll", action="store_true")
    o = sub.add_parser("handout")
    o.add_argument("--dest", required=True)
    g = sub.add_parser("gradescope")
    g.add_argument("--out", default="build/gradescope/autograder.zip")
    c = sub.add_parser("github")
    c.add_argument("--check", action="store_true")
    args = parser.parse_args()
    handlers = {"progress": cmd_progress, "hint": cmd_hint, "watch": cmd_watch, "handout": cmd_handout,
                "gradescope": cmd_gradescope, "github": cmd_github}
    try:
        sys.exit(handlers[args.command](args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
