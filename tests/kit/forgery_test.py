#!/usr/bin/env python3
"""forgery_test.py - a submission cannot touch its grade or the grader's machine.

Usage: python3 tests/kit/forgery_test.py     (make test runs it)
       PIPEWORKS_ISOLATION=off python3 tests/kit/forgery_test.py --unprotected
                                               (the forgers succeed: the check can fail)

Each forger is a correct pipe_echo (lesson 01) that, while it is graded, also tries to
change what the grader reports: it writes a fake test binary over lesson 02's, rewrites a
test source, rewrites tests/grader/points.conf, rewrites the reports, writes into the grader's
$HOME, into another lesson's build folder and over a shared test object (which Gradescope's
image has built before any submission runs). Every step command in STEPS grades, in a
scratch copy of the kit, one submission that tries every forger's writes (each on its own,
each failing on its own); it must get exactly the points an honest
submission with the same real work gets (the reference pipe_echo, the other lessons' stubs),
leave the kit's files unchanged (hashed before and after), and leave none of the forger's
writes anywhere in the kit, its build/ or the grader's home.

Where the grader cannot switch uid (not root, no passwordless sudo), isolation is off and
the grade is for practice: the check says so and is skipped, as there is nothing to prove.
Only the Python 3 standard library is used.
"""
import base64
import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(KIT / "tests" / "grader"))
import grade  # noqa: E402
import classroom  # noqa: E402  (the Classroom step command, as the workflow runs it)
import reuse  # noqa: E402

MARK = "PIPEWORKS-FORGED"
LESSONS = ["01-pipe-echo", "02-random-byte"]  # the forger's lesson, and the lesson it attacks
# Each grading compiles the submission's files in a copy of its own: where ccache is
# installed, an identical file is compiled once (the forger's lesson 01 differs).
ENV = reuse.checks_env()

# A GoogleTest report of one passed test: what the fake test binary writes.
FAKE_BINARY = """#!/bin/sh
# PIPEWORKS-FORGED
for a; do case "$a" in --gtest_output=xml:*) f="${a#--gtest_output=xml:}";; esac; done
printf '<?xml version="1.0"?><testsuites tests="1" failures="0"><testsuite name="F" tests="1" failures="0"><testcase name="Forged" classname="F" status="run" result="completed"/></testsuite></testsuites>' > "$f"
"""

# Each forger: what it writes, as (path, text) pairs. {kit} is the kit being graded, {results}
# the folder the platform reads the grade from, {home} the grader's home; a relative path is
# tried from the program's working directory as well.
FORGERS = {
    "a fake lesson 02 test binary that reports one passed test": [
        ("{kit}/build/exercises/02-random-byte/test/02-random-byte_test", FAKE_BINARY),
        ("build/exercises/02-random-byte/test/02-random-byte_test", FAKE_BINARY)],
    "a rewritten test source": [
        ("{kit}/tests/02-random-byte/random_byte_test.cpp",
         "// PIPEWORKS-FORGED\n#include <gtest/gtest.h>\nTEST(Forged, Passes) {}\n"),
        ("{kit}/tests/02-random-byte/random_bytes_test.cpp", "// PIPEWORKS-FORGED\n")],
    "a rewritten points.conf": [
        ("{kit}/tests/grader/points.conf", "# PIPEWORKS-FORGED\n01-pipe-echo 1000\n02-random-byte 1\n")],
    "rewritten reports": [
        ("{results}/results.json", '{"score": 1000, "max_score": 1000, "output": "PIPEWORKS-FORGED", "tests": []}\n'),
        ("{results}/junit.xml", "<!-- PIPEWORKS-FORGED --><testsuites/>\n"),
        ("{kit}/build/grade/exercises/results.json", '{"score": 1000, "output": "PIPEWORKS-FORGED"}\n')],
    "files in $HOME, in another lesson's build folder and among the shared objects": [
        ("{home}/.bashrc", "echo PIPEWORKS-FORGED\n"),
        # (Gradescope's image has built these before any submission runs: setup.sh)
        ("{kit}/build/shared/tests/02-random-byte/random_bytes_test.o", "PIPEWORKS-FORGED\n"),
        ("{kit}/build/exercises/02-random-byte/obj/random_byte.o", "PIPEWORKS-FORGED\n"),
        ("{kit}/build/exercises/02-random-byte/forged.txt", "PIPEWORKS-FORGED\n"),
        ("{kit}/build/shared/tools/02-random-byte/trace_pipes", "#!/bin/sh\n# PIPEWORKS-FORGED\n")],
}


def cxx_string(text):
    return json.dumps(text)  # a JSON string is a valid C++ string literal for this text


def forger_source(writes, kit, results, home):
    """The reference pipe_echo, plus a static initialiser that makes the writes (and
    ignores every error, so the program's own behaviour is unchanged)."""
    calls = []
    for path, text in writes:
        path = path.format(kit=kit, results=results, home=home)
        calls.append(f"    forge_write({cxx_string(path)}, {cxx_string(text)});")
    calls.append(f'    if (const char* h = std::getenv("HOME")) forge_write(std::string(h) + "/forged", "{MARK}");')
    evil = "\n".join([
        "#include <fcntl.h>", "#include <unistd.h>", "#include <cstdlib>", "#include <string>",
        "namespace {",
        "void forge_write(const std::string& path, const std::string& text) {",
        "    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);",
        "    if (fd < 0) return;",
        "    if (::write(fd, text.data(), text.size()) < 0) {}",
        "    ::close(fd);",
        "}",
        "int forge() {", *calls, "    return 0;", "}",
        "const int forged = forge();",
        "}  // namespace", ""])
    return evil + (KIT / "solutions/01-pipe-echo/pipe_echo.cpp").read_text()


def submission(dest, source=None):
    """The kit's stubs, with lesson 01's program replaced (reference or forger)."""
    shutil.copytree(KIT / "exercises", dest, dirs_exist_ok=True)
    for lesson in grade.all_lessons():
        if lesson not in LESSONS:
            shutil.rmtree(dest / lesson, ignore_errors=True)
    text = source if source is not None else (KIT / "solutions/01-pipe-echo/pipe_echo.cpp").read_text()
    (dest / "01-pipe-echo/pipe_echo.cpp").write_text(text)


def tracked_files():
    out = subprocess.run(["git", "ls-files", "-z"], cwd=KIT, capture_output=True, check=True).stdout
    return [Path(p) for p in out.decode().split("\0") if p]


def two_lesson_kit(dest):
    """The kit's files for lessons 01 and 02 only (a smaller kit grades faster), with the
    shared build products copied so that only the learner's files are compiled."""
    for rel in tracked_files():
        parts = rel.parts
        if parts[0] in ("solutions", ".github") or "mistakes" in parts or "variants" in parts:
            continue
        slug = next((p for p in parts if p[:2].isdigit() and "-" in p), None)
        if slug and Path(slug).stem not in LESSONS:
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(KIT / rel, dest / rel)
    if (KIT / "build/shared").is_dir():
        grade.copy_programs(KIT / "build/shared", dest / "build/shared", follow_links=False)  # gradings run in threads


def kit_hashes(root, skip=("build", "exercises", ".git")):
    hashes = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if rel.parts[0] in skip or not p.is_file() or "__pycache__" in rel.parts:
            continue
        hashes[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return hashes


def marked(*roots):
    """Files under the roots that hold the forger's mark: its writes that landed. The
    forger's own source, objects and program hold it too, and the platform's log may quote
    its source in a compiler warning, and this file names it: those are not counted (an edit
    of this file is caught by the kit's hashes)."""
    found = []
    for root in roots:
        for p in root.rglob("*"):
            rel = p.as_posix()
            if "/01-pipe-echo/" in rel or "/submission/" in rel or p.name in ("grade.log", "forgery_test.py"):
                continue
            try:
                small = p.is_file() and not p.is_symlink() and p.stat().st_size < (8 << 20)
                if small and MARK.encode() in p.read_bytes():
                    found.append(rel)
            except OSError:
                continue
    return found


def lesson_points(results_json):
    """{lesson: (score, max)} from a Gradescope-format results.json."""
    points = {}
    if not results_json.is_file():
        return {"no results.json": (0.0, 0.0)}
    for t in json.loads(results_json.read_text()).get("tests", []):
        lesson = t["name"].split(": ", 1)[0]
        score, most = points.get(lesson, (0.0, 0.0))
        points[lesson] = (round(score + t["score"], 4), round(most + t["max_score"], 4))
    return points


def sh(cmd, cwd, env, timeout=1800):
    r = subprocess.run(cmd, cwd=cwd, env=env, shell=True, capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


# ---- the step commands: each grades one submission as a platform does ---------------------
# A step: (name, function(work, source) -> (points per lesson, kit folder, its log)).
# work is an empty folder; source is lesson 01's program (None: the reference).

def submitted_kit(work, source, home, results):
    """A two-lesson kit in work/kit whose exercises are the submission (lesson 01's program
    is source's, when given; results is where that platform's reports go, relative to the
    kit). -> (kit, its hashes before grading)"""
    kit = work / "kit"
    two_lesson_kit(kit)
    shutil.rmtree(kit / "exercises")
    src = source(kit=kit, results=kit / results, home=home) if source else None
    submission(kit / "exercises", src)
    return kit, kit_hashes(kit)


def make_grade_step(work, source, home):
    """`make grade LESSON=NN`, one lesson per step, as GitHub Classroom's workflow runs it."""
    kit, before = submitted_kit(work, source, home, "build/grade/exercises")
    points, log = {}, ""
    for lesson in LESSONS:
        _, out = sh(f"make grade LESSON={lesson[:2]}", kit, dict(ENV, HOME=str(home)))
        log += out
        points.update(lesson_points(kit / "build/grade/exercises/results.json"))
    return points, kit, before, log


def gradescope_step(work, source, home):
    """Gradescope's run_autograder on a submission, laid out as classroom_test.py does."""
    root = work / "autograder"
    reuse.gradescope_image(work.parent / "autograder.zip", root)
    for lesson in grade.all_lessons():  # a two-lesson kit, as for make grade
        if lesson not in LESSONS:
            (root / "source/lessons" / f"{lesson}.md").unlink()
    os.chmod(root / "source/run_autograder", 0o755)
    shutil.copyfile(root / "source/run_autograder", root / "run_autograder")
    src = source(kit=root / "source", results=root / "results", home=home) if source else None
    submission(root / "submission/exercises", src)
    before = kit_hashes(root / "source")
    _, log = sh(f"bash {root / 'run_autograder'}", root, dict(ENV, AUTOGRADER_ROOT=str(root), HOME=str(home)))
    return lesson_points(root / "results/results.json"), root / "source", before, log


def classroom_step(work, source, home):
    """GitHub Classroom's lesson steps, as the generated workflow runs them: one
    `grade.py classroom` per lesson under the stripped environment (PATH, HOME and
    FORCE_COLOR only); the points are what the reporter adds up from each step's result."""
    kit, before = submitted_kit(work, source, home, "build/grade")
    stripped = {"PATH": ENV["PATH"], "HOME": str(home), "FORCE_COLOR": "1"}
    points, log = {}, ""
    for lesson in LESSONS:
        _, out = sh(classroom.classroom_step_command(lesson), kit, stripped)
        log += out
        result = kit / grade.CLASSROOM_OUT / f"{lesson}.result"
        if not result.is_file():
            points[lesson] = (0.0, 0.0)
            continue
        decoded = json.loads(base64.b64decode(result.read_text().strip()))
        points[lesson] = (round(sum(t["score"] for t in decoded["tests"]), 4), round(decoded["max_score"], 4))
    return points, kit, before, log


STEPS = [
    ("make grade LESSON=NN", make_grade_step),
    ("GitHub Classroom's step command, stripped environment", classroom_step),
    ("Gradescope run_autograder", gradescope_step),
]


def main():
    # --unprotected runs the forgers with isolation off, to see that this check can fail.
    if not grade.isolation()["on"] and "--unprotected" not in sys.argv:
        print("forgery check skipped: " + grade.isolation()["note"])
        return 0
    problems = []
    top = Path(tempfile.mkdtemp(prefix="forgery-", dir=KIT / "build"))
    os.chmod(top, 0o755)
    try:
        # The autograder zip in this check's own folder, beside every grading's work folder:
        # build/gradescope/'s is what classroom_test.py's hand-outs write.
        rc, out = sh(f"{sys.executable} tests/grader/classroom.py gradescope --out {top / 'autograder.zip'}", KIT, ENV)
        if rc != 0:
            print(out)
            return 1
        def attempt(job):
            """One grading: a step's honest submission (forger None) or one forger."""
            step_name, step, i, forger, writes = job
            work, own_home = top / f"job{i}", top / f"home{i}"
            own_home.mkdir()
            if forger is None:
                points, _, _, log = step(work, None, own_home)
                changed, landed = [], []
            else:
                def source(kit, results, home, writes=writes):
                    return forger_source(writes, kit, results, home)
                points, kit, before, log = step(work, source, own_home)
                after = kit_hashes(kit)
                changed = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
                landed = marked(work, own_home)
            shutil.rmtree(work, ignore_errors=True)
            shutil.rmtree(own_home, ignore_errors=True)
            return step_name, forger, points, changed, landed, log
        # Every step grades an honest submission and one forger that tries every forger's
        # writes at once: each write is tried on its own and fails on its own, and the check
        # names each file changed or written, so one grading per step shows what five would.
        # Two at a time: each grade.py is its own process with its own run uid, and each
        # grading has its own folders.
        forger = f"the {len(FORGERS)} forgers' writes at once"
        print(f"{forger}: " + "; ".join(FORGERS))
        writes = [w for ws in FORGERS.values() for w in ws]
        jobs = [(step_name, step, None, None) for step_name, step in STEPS]
        jobs += [(step_name, step, forger, writes) for step_name, step in STEPS]
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(attempt, [(s, f, i, forger, w) for i, (s, f, forger, w) in enumerate(jobs)]))
        honest = {step_name: points for step_name, forger, points, _, _, _ in outcomes if forger is None}
        for step_name, forger, points, changed, landed, log in outcomes:
            if forger is None:
                if points.get("01-pipe-echo", (0, 1))[0] != points.get("01-pipe-echo", (0, 0))[1] or len(points) != 2:
                    problems.append(f"{step_name}: the honest submission does not score as expected: {points}\n"
                                    + log[-3000:])
                continue
            ok = points == honest[step_name] and not changed and not landed
            print(f"  {'ok     ' if ok else 'FORGED '} {step_name}: {forger}: {points}")
            if points != honest[step_name]:
                problems.append(f"{step_name}: {forger}: points {points}, an honest submission gets "
                                f"{honest[step_name]}\n{log[-3000:]}")
            if changed:
                problems.append(f"{step_name}: {forger}: changed the kit's files: {', '.join(changed)}")
            if landed:
                problems.append(f"{step_name}: {forger}: its writes landed in {', '.join(landed)}")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print(grade.isolation()["note"])
    for p in problems:
        print(" - " + p.replace("\n", "\n   "))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
