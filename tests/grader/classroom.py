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
import json
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

def stub_reference(path):
    """The shipped stub of a file of exercises/, as bytes, or None when it cannot be told.
    In a hand-out (tests/handout.sha256 exists) the learner commits on top of the shipped
    stubs, so the stub is the repository's first commit; in the kit itself the committed
    file is the stub (its authors do not edit stubs to solve them)."""
    rel = path.relative_to(KIT).as_posix()
    def git(*cmd):
        try:
            return subprocess.run(["git", *cmd], cwd=KIT, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
    rev = "HEAD"
    if (KIT / CHECKSUMS).exists():
        roots = git("rev-list", "--max-parents=0", "HEAD")
        if roots is None or roots.returncode != 0 or not roots.stdout.split():
            return None
        rev = roots.stdout.split()[-1].decode()
    shown = git("show", f"{rev}:{rel}")
    return shown.stdout if shown is not None and shown.returncode == 0 else None


def untouched(slug):
    """True when every file of exercises/<slug>/ is byte for byte the shipped stub."""
    files = [p for p in sorted((KIT / "exercises" / slug).rglob("*")) if p.is_file()]
    if not files:
        return True
    for p in files:
        stub = stub_reference(p)
        if stub is None or stub != p.read_bytes():
            return False
    return True


def cmd_progress(_args):
    table = grade.points_table()
    results = []
    for slug in grade.all_lessons():
        if untouched(slug):
            # An untouched stub is not started, whatever a test happens to accept of it.
            results.append({"lesson": slug, "max": table.get(slug, 10.0), "points": 0.0, "tests": [],
                            "compile_error": None, "untouched": True})
        else:
            results.extend(grade.grade_tree("exercises", [slug]))
    print("\nPipeworks - your progress\n")
    next_step = None
    for r in results:
        total = len(r["tests"])
        passed = sum(t["passed"] for t in r["tests"])
        if r["compile_error"]:
            state, code = "does not compile", "31"
        elif r.get("untouched"):
            state, code = "not started", "2"
        elif total and passed == total:
            state, code = "done", "32"
        elif passed == 0:
            state, code = "started, no test passing yet", "33"
        else:
            state, code = f"{passed} of {total} tests passing", "33"
        print(f"  {r['lesson']:<24} {colour(f'{state:<30}', code)} {r['points']:>6g} / {r['max']:g} points")
        if next_step is None and state != "done":
            num = r["lesson"][:2]
            if r["compile_error"]:
                next_step = f"make exercises/{r['lesson']}/ compile again, then: make grade LESSON={num}"
            elif r.get("untouched"):
                next_step = (f"read lessons/{r['lesson']}.md, fill in exercises/{r['lesson']}/, "
                             f"then: make grade LESSON={num}")
            else:
                failing = grade.first_failure(r["tests"])
                read = grade.section_of(failing["message"]) if failing else ""
                next_step = (f"make {failing['name'] if failing else 'its tests'} pass"
                             + (f" (read {read})" if read else "") + f": make grade LESSON={num} says why, "
                             f"and make hint LESSON={num} helps")
    total = sum(r["points"] for r in results)
    maximum = sum(r["max"] for r in results)
    print(f"\n  {'total':<24} {'':<30} {total:>6g} / {maximum:g} points\n")
    print("Next: " + (next_step or "every lesson is done. Well done!"))
    return 0


# ---- hints ------------------------------------------------------------------------------

# Where a lesson's hints live: one place, so that moving them moves one line.
HINTS_FILE = "tests/{slug}/hints.md"
FOR_LINE = re.compile(r"^For:\s*(.*)$", re.M)


def hints_of(slug):
    """The lesson's hints, in order: [{'text', 'tests', 'causes'}]. A hint's `For:` line
    names the tests (Suite.Name) and the causes ("words of a failure message") it is for."""
    path = KIT / HINTS_FILE.format(slug=slug)
    if not path.exists():
        return []
    parts = re.split(r"^## Hint \d+\s*$", path.read_text(), flags=re.M)
    hints = []
    for part in parts[1:]:
        if not part.strip():
            continue
        m = FOR_LINE.search(part)
        spec = m.group(1) if m else ""
        causes = re.findall(r'"([^"]+)"', spec)
        tests = [w for w in re.sub(r'"[^"]*"', "", spec).replace(",", " ").split() if "." in w]
        hints.append({"text": FOR_LINE.sub("", part, count=1).strip(), "tests": tests, "causes": causes})
    return hints


def hint_fits(hint, test):
    return test["name"] in hint["tests"] or any(c in (test.get("message") or "") for c in hint["causes"])


def lesson_results(slug):
    """The lesson's tests as last graded, when `make grade` ran after the last edit of
    exercises/<slug>/; else graded now."""
    report = KIT / grade.BUILD / "grade" / "exercises" / "results.json"
    files = [p for p in (KIT / "exercises" / slug).rglob("*") if p.is_file()]
    if report.exists() and files and report.stat().st_mtime > max(p.stat().st_mtime for p in files):
        try:
            data = json.loads(report.read_text())
        except ValueError:
            data = {}
        prefix = f"{slug}: "
        tests = [{"name": t["name"][len(prefix):], "passed": t.get("status") == "passed",
                  "message": t.get("output", "")} for t in data.get("tests", []) if t["name"].startswith(prefix)]
        if tests and not any(t["name"] == "compiles" for t in tests):
            return tests, None
    r = grade.grade_tree("exercises", [slug])[0]
    return r["tests"], r["compile_error"]


def cmd_hint(args):
    slug = lesson_arg(args.lesson)
    hints = hints_of(slug)
    if not hints:
        print(f"Lesson {slug} has no hints yet; re-read lessons/{slug}.md and the TODOs in exercises/{slug}/.")
        return 0
    seen_file = KIT / "build" / "hints" / f"{slug}.seen"
    seen_file.parent.mkdir(parents=True, exist_ok=True)
    if args.reset:
        seen_file.unlink(missing_ok=True)
        print(f"Hints for {slug} start again: every hint counts as unseen.")
        return 0
    seen = {int(n) for n in seen_file.read_text().split()} if seen_file.exists() else set()
    tests, compile_error = lesson_results(slug)
    num = slug[:2]
    if compile_error:
        print(f"exercises/{slug}/ does not compile; `make grade LESSON={num}` shows the compiler's first lines. "
              "Fix those first: a hint about behaviour cannot help before it builds.")
        return 0
    failing = sorted((t for t in tests if not t["passed"]), key=grade.specificity)
    if not failing:
        print(f"Lesson {slug} has full marks: no hint needed. Well done!")
        return 0
    if not any(t["passed"] for t in tests):
        # Nothing passes yet: the hints are written to be taken from the beginning.
        unseen = [i for i in range(len(hints)) if i not in seen]
        if unseen:
            return show_hint(slug, hints, seen, seen_file, unseen[0], "no test passes yet, so from the beginning")
    target = failing[0]
    fits = [i for i, h in enumerate(hints) if hint_fits(h, target)]
    unseen = [i for i in fits if i not in seen]
    if not unseen:
        # Every hint for this failure is seen: the next failure's, else the first unseen at all.
        for t in failing[1:]:
            unseen = [i for i, h in enumerate(hints) if hint_fits(h, t) and i not in seen]
            if unseen:
                target = t
                break
    if not unseen:
        again = fits[0] if fits else None
        print(f"You have seen every hint that fits {target['name']}."
              + (f" The one for it was:\n\n" + colour(f"Hint {again + 1} of {len(hints)}", "1") + "\n"
                 + hints[again]["text"] + "\n" if again is not None else "")
              + f"\n`make grade LESSON={num}` explains the failure; `make hint LESSON={num} RESET=1` starts over.")
        return 0
    return show_hint(slug, hints, seen, seen_file, unseen[0], f"for {target['name']}, your most telling failing test")


def show_hint(slug, hints, seen, seen_file, pick, why):
    seen.add(pick)
    seen_file.write_text(" ".join(str(n) for n in sorted(seen)) + "\n")
    print(colour(f"Hint {pick + 1} of {len(hints)}", "1") + f" ({why}; for: "
          + ", ".join(hints[pick]["tests"] + [f'"{c}"' for c in hints[pick]["causes"]]) + ")\n"
          + hints[pick]["text"] + "\n")
    print(f"(`make hint LESSON={slug[:2]}` again gives the next unseen hint for your first failing test)")
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
    """The files whose change makes a score untrustworthy: the tests and the grader."""
    files = [p for p in (root / "tests").rglob("*") if p.is_file()]
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
rm -rf exercises build
cp -R "$ROOT/submission/exercises" exercises
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
