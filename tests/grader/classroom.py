#!/usr/bin/env python3
"""classroom.py - the kit in a class and for a learner on their own.

Usage:
  classroom.py progress                      each lesson's state, points and the next step
  classroom.py hint --lesson NN [--reset]    the next hint (one more each time)
  classroom.py watch --lesson NN [--cycles N] [--poll]
                                             re-grade the lesson on every save
  classroom.py handout --dest DIR [--lessons 01,02]
                                             a student copy of the chosen lessons: no
                                             solutions, no mistake catalogue, prebuilt
                                             reference programs, fresh git history, checksums
  classroom.py gradescope [--lessons 01,02] [--out ZIP]
                                             Gradescope autograder zip, private tests inside
  classroom.py github [--check]              write (or check) the GitHub Classroom workflow
  classroom.py class --repos DIR [--lessons 01,02] [--timeout S]
                                             grade every student repository in DIR, each in
                                             a fresh copy of the kit: class.csv, class.md

Only the Python 3 standard library is used (inotifywait is used by watch when installed).
"""
import argparse
import csv
import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import grade  # noqa: E402  (the grader: lessons, points, grading one lesson)
import seed  # noqa: E402  (the kit's own objects, reused where a copy has the same files)

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
HINTS_FILE = "lessons/hints/{slug}.md"
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
    # A name may be a behaviour (every instance of a parameterised test) or a pattern:
    # Suite/Fixture.Test/*
    return (any(fnmatch.fnmatchcase(test["name"], name) or grade.behaviour(test["name"]) == name
                for name in hint["tests"])
            or any(c in (test.get("message") or "") for c in hint["causes"]))


def lesson_results(slug):
    """The lesson's tests as last graded, when `make grade` ran after the last edit of
    exercises/<slug>/; else graded now."""
    report = KIT / grade.REPORTS / "exercises" / "results.json"
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
    seen_file = KIT / grade.BUILD / "hints" / f"{slug}.seen"
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
        # Every hint for this failure is seen: the first unseen hint, in the lesson's order
        # (the order of its steps), that fits another failure.
        for i, h in enumerate(hints):
            fitting = [t for t in failing[1:] if hint_fits(h, t)]
            if i not in seen and fitting:
                unseen, target = [i], fitting[0]
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
        results = [grade.grade_lesson(slug, "exercises", str(grade.BUILD / "exercises"), grade.lesson_points(slug))]
        grade.print_table("exercises", results)
        print(grade.next_step(results))
        cycles += 1
        print(f"\n[watch {cycles}] waiting for you to save a file in exercises/{slug}/ (Ctrl-C stops)", flush=True)
        if args.cycles and cycles >= args.cycles:
            return 0
        wait_for_change(folder, before, args.poll)


# ---- choosing lessons: the same choice everywhere -----------------------------------------

KIT_ONLY_TARGETS = ("test", "handout", "gradescope", "class", "bench")  # need solutions/ or are the instructor's
KIT_ONLY = re.compile(r"\n?<!-- kit-only -->.*?<!-- /kit-only -->", re.S)


def chosen_lessons(spec):
    """'01,02' (or slugs) -> ['01-pipe-echo', '02-random-byte']; empty -> every lesson."""
    if not spec:
        return grade.all_lessons()
    chosen = []
    for part in spec.replace(" ", ",").split(","):
        if part:
            chosen += [slug for slug in grade.pick_lessons(part) if slug not in chosen]
    table = grade.points_table()
    for slug in chosen:
        grade.lesson_points(slug, table)  # points before the hand-out: a lesson without a line stops here
    return sorted(chosen)


def of_dropped_lesson(path, dropped):
    return any(part == d or part.startswith(d + "-") or part.startswith(d + ".") for part in path.parts for d in dropped)


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=KIT, capture_output=True, check=True).stdout
    return [Path(p) for p in out.decode().split("\0") if p and (KIT / p).is_file()]


def for_students(path):
    parts = path.parts
    # The catalogue's mistakes and correct variants are patches of the solution: not for students.
    return not (parts[0] == "solutions" or "mistakes" in parts or "variants" in parts
                or path.name == "INSTRUCTORS.md")


def student_files(lessons):
    """The kit's files a student copy of `lessons` holds (before transform())."""
    dropped = [d for d in grade.all_lessons() if d not in lessons]
    return [p for p in tracked_files() if for_students(p) and not of_dropped_lesson(p, dropped)]


def transform(path, data, lessons):
    """A file as the student copy of `lessons` has it: only those lessons' points, table
    rows and workflow steps; no text about what the copy lacks (solutions, INSTRUCTORS.md,
    the instructor's targets)."""
    dropped = [d for d in grade.all_lessons() if d not in lessons]
    name = path.as_posix()
    if name == "tests/grader/points.conf":
        # A lesson's points line, and its 'weight NN Suite.Name W' lines, go with the lesson.
        keep = [l for l in data.decode().splitlines() if not l.split("#")[0].strip() or l.split()[0] in lessons
                or (l.split()[0] == "weight" and any(l.split()[1] in (s, s[:2]) or s[:2] == l.split()[1].zfill(2)
                                                        for s in lessons))]
        return ("\n".join(keep) + "\n").encode()
    if name == WORKFLOW.as_posix():
        return workflow_text(lessons).encode()
    if name == "Makefile":
        targets = "|".join(KIT_ONLY_TARGETS)
        return re.sub(rf"^((?:{targets}):[^#\n]*?)\s*## .*$", r"\1", data.decode(), flags=re.M).encode()
    if name in ("README.md", "lessons/README.md"):
        text = KIT_ONLY.sub("", data.decode())
        kit_only = "|".join(KIT_ONLY_TARGETS)
        lines = [l for l in text.splitlines()
                 if not (l.startswith("|") and any(re.search(rf"\(\s*(?:lessons/)?{d}\.md", l) for d in dropped))
                 and not re.match(rf"^(?:\| `)?make (?:{kit_only})\b", l)]
        return ("\n".join(lines) + "\n").encode()
    return data


def write_student_copy(dest, lessons):
    """Writes the student copy's files of `lessons` (student_files(), transformed) into dest:
    a hand-out's files before its reference programs and git history. -> the files written."""
    files = student_files(lessons)
    for p in files:
        (dest / p).parent.mkdir(parents=True, exist_ok=True)
        (dest / p).write_bytes(transform(p, (KIT / p).read_bytes(), lessons))
        shutil.copymode(KIT / p, dest / p)
    return files


# ---- hand-out ----------------------------------------------------------------------------

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


def quiet_env():
    """The environment for a make of our own: no make around us changes what it does."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES",
                                                             "SRC", "LESSON", "LESSONS", "DEST", "REPOS")}


def build_reference(lessons):
    """Builds the reference programs of `lessons` here, from solutions/ (make reference)."""
    targets = [f"reference.{slug}" for slug in lessons]
    r = subprocess.run(["make", "--no-print-directory", "-s", *targets], cwd=KIT, env=quiet_env(),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"classroom.py: building the reference programs failed:\n{r.stdout}{r.stderr}")
    return {slug: sorted((KIT / grade.REFERENCE / slug / "bin").iterdir()) for slug in lessons}


def cmd_handout(args):
    if not args.dest:
        sys.exit("classroom.py: say where: make handout DEST=../pipeworks-student LESSONS=01,02")
    dest = Path(args.dest).resolve()
    if dest.exists() and any(dest.iterdir()):
        sys.exit(f"classroom.py: {args.dest} exists and is not empty; name a new folder")
    lessons = chosen_lessons(args.lessons)
    files = write_student_copy(dest, lessons)
    # Step 0 of each lesson runs the reference programs: shipped prebuilt, as CS:APP's shell
    # lab ships tshref; `make reference` in the hand-out installs them where the lessons look.
    shipped = 0
    for slug, programs in build_reference(lessons).items():
        (dest / "reference" / slug).mkdir(parents=True, exist_ok=True)
        for program in programs:
            shutil.copy2(program, dest / "reference" / slug / program.name)
            shipped += 1
    write_checksums(dest)
    git = ["git", "-C", str(dest)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    who = []
    if subprocess.run(["git", "config", "user.email"], capture_output=True).returncode != 0:
        who = ["-c", "user.name=Pipeworks hand-out", "-c", "user.email=handout@pipeworks.invalid"]
    subprocess.run(["git", "-C", str(dest), *who, "commit", "-q", "-m", "Pipeworks hand-out"], check=True)
    zip_path = build_gradescope(lessons, KIT / args.zip)
    print(f"hand-out: lessons {', '.join(lessons)} in {args.dest}: {len(files)} files and {shipped} prebuilt "
          f"reference programs (no solutions/, no mistake catalogue), fresh git history, test checksums in {CHECKSUMS}")
    print(f"gradescope: {shown(zip_path)} for the same lessons")
    print(f"try it:   cd {args.dest} && make grade")
    return 0


# ---- Gradescope --------------------------------------------------------------------------

GRADESCOPE_ZIP = grade.BUILD / "gradescope" / "autograder.zip"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image; every submission is then
# graded in a fresh container made from that image.
set -euo pipefail
cd "${{AUTOGRADER_ROOT:-/autograder}}/source"
# The packages the kit uses, those missing only (where apt-get is).
missing=()
for p in {packages}; do
  dpkg-query -W -f='${{Status}}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${{#missing[@]}})) && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${{missing[@]}}"
fi
# The lessons' tests, the support library and the private tests, built into the image once:
# a submission then compiles only its own files and links (run_autograder keeps them).
private=()
if [ -d private-tests ]; then private=(PRIVATE_TESTS="$PWD/private-tests"); fi
make -s -j"$(nproc)" {goals} "${{private[@]}}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. The kit (with its own tests, and the
# instructor's private tests in private-tests/) is in $ROOT/source; the student's
# repository is in $ROOT/submission. Only the submission's exercises/NN-topic/ folders of
# the kit's lessons are used: nothing else of it is run or read, so edited tests,
# Makefiles or scripts in a submission change nothing.
set -u
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT/source" || exit 1
mkdir -p "$ROOT/results"
if [ ! -d "$ROOT/submission/exercises" ]; then
  echo "The submission has no exercises/ folder."
  printf '{"score": 0, "output": "The submission has no exercises/ folder: submit your whole Pipeworks repository."}\\n' \\
    > "$ROOT/results/results.json"
  exit 0
fi
# The image's build of the kit's own files (setup.sh) stays; anything a grading wrote before
# (a run by hand in this folder) goes.
rm -rf build/exercises build/grade
for stub in exercises/*/; do
  slug=$(basename "$stub")
  if [ -d "$ROOT/submission/exercises/$slug" ]; then
    mv "exercises/$slug" "exercises/$slug.kit"
    cp -R "$ROOT/submission/exercises/$slug" "exercises/$slug"
    # The given files (exercises/NN-topic/given/) are the kit's, whatever the submission holds.
    if [ -d "exercises/$slug.kit/given" ]; then
      rm -rf "exercises/$slug/given" && cp -R "exercises/$slug.kit/given" "exercises/$slug/given"
    fi
    rm -rf "exercises/$slug.kit"
  fi
done
# Everything the grader prints goes to stdout as well: Gradescope shows it to the
# instructor in the autograder's debug pane.
python3 tests/grader/grade.py grade --src exercises 2>&1 | tee "$ROOT/results/grade.log"
cp build/grade/exercises/results.json "$ROOT/results/results.json"
"""


def build_gradescope(lessons, out):
    """The autograder zip for `lessons`: the student copy's files (same transform as the
    hand-out), the instructor's private tests of those lessons, setup.sh (the packages, and
    the lessons' tests built into the image), run_autograder (one submission)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    packages = PACKAGES_LINE.search((KIT / ".ci" / "run").read_text()).group(1)
    files = student_files(lessons)
    private = grade.private_tests()
    extra = []
    if private:
        folder = Path(private)
        extra = [p for p in sorted(folder.rglob("*")) if p.is_file() and
                 (p.relative_to(folder).parts[0] in lessons or p.relative_to(folder).as_posix() == "visibility.conf")]
    # Written beside its place, then renamed over it: whoever reads the zip meanwhile (an
    # upload, a second make) sees the old one or the new one whole, never half of one.
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
        def add(name, data, executable=False):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o755 if executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
        goals = " ".join(f"shared.{slug}" for slug in lessons)
        add("setup.sh", SETUP_SH.format(packages=packages, goals=goals), executable=True)
        add("run_autograder", RUN_AUTOGRADER, executable=True)
        for p in files:
            # Gradescope unzips everything into /autograder/source.
            add(p.as_posix(), transform(p, (KIT / p).read_bytes(), lessons), os.access(KIT / p, os.X_OK))
        for p in extra:
            add("private-tests/" + p.relative_to(private).as_posix(), p.read_bytes())
    os.replace(partial, out)
    return out


def shown(path):
    """A path as the user would type it: relative to the kit when inside it."""
    path = Path(path).resolve()
    return path.relative_to(KIT).as_posix() if path.is_relative_to(KIT) else str(path)


def cmd_gradescope(args):
    lessons = chosen_lessons(args.lessons)
    out = build_gradescope(lessons, KIT / args.out)
    private = grade.private_tests()
    print(f"gradescope: {shown(out)} for lessons {', '.join(lessons)}, with setup.sh and run_autograder; "
          + (f"private tests from {private} inside" if private else "no private tests (none in private-tests/ "
                                                                       "or $PIPEWORKS_PRIVATE_TESTS)"))
    print("upload it as the assignment's autograder; students submit their whole repository")
    return 0


# ---- GitHub Classroom ----------------------------------------------------------------------

WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
# Every action the workflow uses, with the inputs its action.yml declares (copied from
# classroom-resources/autograding-grading-reporter at v1, commit 43c2d9f: `token`, `runners`).
# actions/checkout is used without inputs. make test checks the workflow against this list.
KNOWN_ACTIONS = {
    "actions/checkout@v4": set(),
    REPORTER: {"token", "runners"},
}
STEP_TIMEOUT_MINUTES = 30  # above the grader's own bounds (build 10 min, test binary 15 min)


def classroom_step_command(slug):
    """The one shell line a lesson's step runs (also what other checks call)."""
    return f"python3 tests/grader/grade.py classroom --lesson {slug[:2]}"


def runner_id(slug):
    # Letters and digits only: the reporter upper-cases it and reads <ID>_RESULTS.
    return f"lesson{slug[:2]}"


def workflow(lessons):
    """The GitHub Classroom workflow, as data: the job GitHub Classroom's own template names
    run-autograding-tests; one step per lesson that runs the kit's grader and sets its own
    `result` (partial credit); the reporter that adds up the tests' scores."""
    packages = PACKAGES_LINE.search((KIT / ".ci" / "run").read_text()).group(1)
    steps = [{"name": "Checkout code", "uses": "actions/checkout@v4"},
             {"name": "Install the kit's packages",
              "run": f"sudo apt-get update -qq && sudo apt-get install -y -qq --no-install-recommends {packages}"}]
    for slug in lessons:
        steps.append({"name": slug, "id": runner_id(slug), "timeout-minutes": STEP_TIMEOUT_MINUTES,
                      "run": classroom_step_command(slug)})
    steps.append({"name": "Autograding Reporter", "uses": REPORTER,
                  "env": {f"{runner_id(s).upper()}_RESULTS": f"${{{{steps.{runner_id(s)}.outputs.result}}}}"
                          for s in lessons},
                  "with": {"runners": ",".join(runner_id(s) for s in lessons)}})
    return {"name": "Autograding Tests", "on": ["push", "repository_dispatch", "workflow_dispatch"],
            "permissions": {"checks": "write", "actions": "read", "contents": "read"},
            "jobs": {"run-autograding-tests": {"runs-on": "ubuntu-latest",
                                               "if": "github.actor != 'github-classroom[bot]'",
                                               "steps": steps}}}


PLAIN = re.compile(r"^[A-Za-z0-9_./@-][A-Za-z0-9 _./@,&;=()-]*$")


def yaml_scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if PLAIN.match(value) and not value.endswith(" ") and value.lower() not in ("yes", "no", "true", "false", "on",
                                                                                 "off", "null"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_yaml(value, indent=0):
    """The small YAML subset the workflow needs: mappings, lists, scalars on one line."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                lines.append(f"{pad}{k}:")
                lines += to_yaml(v, indent + 2)
            else:
                lines.append(f"{pad}{k}: {yaml_scalar(v)}")
    else:
        for item in value:
            if isinstance(item, dict):
                inner = to_yaml(item, indent + 2)
                lines.append(f"{pad}- " + inner[0][indent + 2:])
                lines += inner[1:]
            else:
                lines.append(f"{pad}- {yaml_scalar(item)}")
    return lines


def workflow_text(lessons):
    head = ["# Generated by `python3 tests/grader/classroom.py github` from lessons/ and tests/grader/points.conf",
            "# (a hand-out gets its own, for its lessons); make test checks that it is up to date.",
            "# Each lesson's step runs the kit's grader, which sets the step output `result` with",
            "# one score per test, so the reporter records partial credit.", ""]
    return "\n".join(head + to_yaml(workflow(lessons))) + "\n"


def cmd_github(args):
    text = workflow_text(grade.all_lessons())
    current = (KIT / WORKFLOW).read_text() if (KIT / WORKFLOW).exists() else None
    if current == text:
        return 0
    if args.check:
        print(f"github: {WORKFLOW} is out of date (run: python3 tests/grader/classroom.py github)")
        return 1
    (KIT / WORKFLOW).parent.mkdir(parents=True, exist_ok=True)
    (KIT / WORKFLOW).write_text(text)
    print(f"github: wrote {WORKFLOW}")
    return 0


# ---- grading a whole class -----------------------------------------------------------------

CLASS_OUT = grade.BUILD / "class"
SKIP_IN_SUBMISSION = (".git", "build", "reference")  # git's own, build output, the shipped binaries


def copy_regular_files(src, dest):
    """Copies the regular files under src (never a symlink, a FIFO or a device), with fresh
    modification times so that make rebuilds them."""
    for path in sorted(src.rglob("*")):
        if path.is_file() and not path.is_symlink() and not any(p.is_symlink() for p in path.parents):
            target = dest / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)


def changed_outside_exercises(submission, template):
    """The submission's files outside exercises/ that differ from (or are not in) the kit."""
    changed = []
    for path in sorted(submission.rglob("*")):
        rel = path.relative_to(submission)
        if rel.parts[0] in SKIP_IN_SUBMISSION or rel.parts[0] == "exercises" or rel == CHECKSUMS:
            continue
        if path.is_symlink() or not path.is_file():
            if path.is_symlink():
                changed.append(rel.as_posix())
            continue
        mine = template / rel
        if not mine.is_file() or mine.read_bytes() != path.read_bytes():
            changed.append(rel.as_posix())
    return changed


def lesson_scores(results_json, lessons):
    from decimal import Decimal
    data = json.loads(results_json.read_text(), parse_float=Decimal)
    scores = {slug: Decimal(0) for slug in lessons}
    for t in data.get("tests", []):
        slug = t["name"].split(": ", 1)[0]
        if slug in scores:
            scores[slug] += Decimal(str(t["score"]))
    return {slug: float(v) for slug, v in scores.items()}


def build_class_template(template, lessons):
    """One pristine copy of the kit (the student copy of these lessons, plus private tests),
    with the lessons' test objects built once; every student is graded in a fresh copy of it."""
    write_student_copy(template, lessons)
    if (KIT / "private-tests").is_dir():
        shutil.copytree(KIT / "private-tests", template / "private-tests")
    # The kit's own objects of the same files, where its build has them: make finds them up to date.
    seed.seed_build(template)
    for slug in lessons:
        subprocess.run(["make", "--no-print-directory", "-s", "-f", "tests/grader/lesson.mk", f"LESSON={slug}",
                        "SRC=exercises", "shared"], cwd=template, env=quiet_env(), capture_output=True)
    return template


def tree_digest(root):
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def cmd_class(args):
    if not args.repos or not Path(args.repos).is_dir():
        sys.exit("classroom.py: say where the student repositories are: make class REPOS=dir (one folder each)")
    lessons = chosen_lessons(args.lessons)
    repos = Path(args.repos).resolve()
    students = sorted(d for d in repos.iterdir() if d.is_dir() and not d.is_symlink())
    out = KIT / args.out
    out.mkdir(parents=True, exist_ok=True)
    # The pristine kit and what was handed in stay in folders only this user can enter;
    # the copy a student is graded in may be entered by the uid that runs their programs.
    work = Path(tempfile.mkdtemp(prefix="pipeworks-class-"))
    os.chmod(work, 0o711)
    for private in ("kit", "taken"):
        (work / private).mkdir(mode=0o700)
    rows = []
    try:
        # First every submission's exercises/ (regular files only) and its changed files, so
        # that nothing one student's program does can change what another one handed in.
        taken = {}
        template = build_class_template(work / "kit", lessons)
        for student in students:
            notes = []
            for slug in lessons:
                theirs = student / "exercises" / slug
                if theirs.is_dir() and not theirs.is_symlink():
                    copy_regular_files(theirs, work / "taken" / student.name / slug)
                else:
                    notes.append(f"no exercises/{slug}/ (graded the stub)")
            changed = changed_outside_exercises(student, template)
            if changed:
                notes.append("changed files outside exercises/, not used: " + ", ".join(changed[:10])
                             + (f" and {len(changed) - 10} more" if len(changed) > 10 else ""))
            taken[student.name] = notes
        fingerprint = tree_digest(template)
        for student in students:
            notes = taken[student.name]
            if tree_digest(template) != fingerprint:  # proven unchanged before each student, or made again
                shutil.rmtree(template)
                template.mkdir(mode=0o700)
                template = build_class_template(template, lessons)
                fingerprint = tree_digest(template)
                rows[-1][2].append("its grading changed the grader's copy of the kit, which was made again")
            copy = work / "student"
            shutil.copytree(template, copy, symlinks=True)
            os.chmod(copy, 0o755)
            for slug in lessons:
                mine = work / "taken" / student.name / slug
                if mine.is_dir():
                    shutil.rmtree(copy / "exercises" / slug)
                    copy_regular_files(mine, copy / "exercises" / slug)
            # Only the kit's own grader runs, in the copy; nothing of the submission but its
            # exercises/. Bounded in time; whatever it leaves running is killed and reaped.
            proc = subprocess.Popen([sys.executable, "tests/grader/grade.py", "grade", "--src", "exercises"],
                                    cwd=copy, env=quiet_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                log, _ = proc.communicate(timeout=args.timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                log, _ = proc.communicate()
                notes.append(f"grading took longer than {args.timeout} s and was stopped")
            grade.kill_leftovers()
            (out / f"{student.name}.log").write_bytes(log)
            report = copy / grade.REPORTS / "exercises" / "results.json"
            if report.exists():
                shutil.copyfile(report, out / f"{student.name}.json")
                scores = lesson_scores(report, lessons)
            else:
                scores = {slug: 0.0 for slug in lessons}
                notes.append("no report was written")
            rows.append((student.name, scores, notes))
            shutil.rmtree(copy, ignore_errors=True)
            print(f"class: {student.name}: {sum(scores.values()):g} points" + (f" ({'; '.join(notes)})" if notes else ""),
                  flush=True)
    finally:
        grade.kill_leftovers()
        shutil.rmtree(work, ignore_errors=True)
    rows = [(name, scores, "; ".join(notes)) for name, scores, notes in rows]
    table = grade.points_table()
    with open(out / "class.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", *lessons, "total", "note"])
        for name, scores, note in rows:
            w.writerow([name, *(f"{scores[s]:g}" for s in lessons), f"{sum(scores.values()):g}", note])
    md = ["| student | " + " | ".join(lessons) + " | total | note |", "|---" * (len(lessons) + 3) + "|",
          "| *maximum* | " + " | ".join(f"{table[s]:g}" for s in lessons) + f" | {sum(table[s] for s in lessons):g} | |"]
    for name, scores, note in rows:
        md.append(f"| {cell(name)} | " + " | ".join(f"{scores[s]:g}" for s in lessons)
                  + f" | {sum(scores.values()):g} | {cell(note)} |")
    (out / "class.md").write_text("\n".join(md) + "\n")
    print(f"class: {len(rows)} students graded: {shown(out / 'class.csv')}, "
          f"{shown(out / 'class.md')}, and each student's log and results.json beside them")
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
    o.add_argument("--lessons", default="", help="e.g. 01,02 (default: every lesson)")
    o.add_argument("--zip", default=str(GRADESCOPE_ZIP), help="where its Gradescope zip goes")
    g = sub.add_parser("gradescope")
    g.add_argument("--out", default=str(GRADESCOPE_ZIP))
    g.add_argument("--lessons", default="")
    c = sub.add_parser("github")
    c.add_argument("--check", action="store_true")
    k = sub.add_parser("class")
    k.add_argument("--repos", required=True)
    k.add_argument("--lessons", default="")
    k.add_argument("--out", default=str(CLASS_OUT))
    k.add_argument("--timeout", type=int, default=1800, help="seconds for one student's whole grade")
    args = parser.parse_args()
    handlers = {"progress": cmd_progress, "hint": cmd_hint, "watch": cmd_watch, "handout": cmd_handout,
                "gradescope": cmd_gradescope, "github": cmd_github, "class": cmd_class}
    try:
        sys.exit(handlers[args.command](args))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
