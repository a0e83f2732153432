#!/usr/bin/env python3
"""grade.py - builds each lesson, runs its GoogleTest binary, scores it, reports.

Usage:
  grade.py grade [--src exercises|solutions|DIR] [--lesson NN]   grade one tree
  grade.py test  [--lesson NN]                                   the kit's own test

`grade` builds every lesson of the tree on its own (a compile error costs only that
lesson), runs the lesson's tests (which run the learner's programs in the sandbox),
turns GoogleTest's XML into points (tests/points.conf), prints a table and writes
build/grade/<tree>/junit.xml and results.json (Gradescope's format). Exit 0 only at
full marks.

`test` proves the kit: the sandbox proof passes, the solutions get full marks, the
pristine stubs do not, and every mistake in each lesson's catalogue
(tests/NN-topic/mistakes/*.patch) is caught by the test it names, with the words it names.

Only the Python 3 standard library is used.
"""
import argparse
import hashlib
import concurrent.futures
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
BUILD = Path("build")
SHAKE_LIB = Path("build/shared/shake/libpipeworks_shake.so")  # make grade SHAKE=N preloads it
TEST_BINARY_TIMEOUT = 900  # seconds for one lesson's whole test binary (each run inside has its own)


# ---- process hygiene of the grader itself -------------------------------------------

def become_subreaper():
    """Orphans of anything we start come back to us, so nothing can outlive the grade."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except (OSError, AttributeError):
            pass


def descendants(root):
    """Pids below root, from /proc (empty where there is no /proc)."""
    children = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


def kill_leftovers():
    for _ in range(100):
        pids = descendants(os.getpid())
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.01)
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break


def run(cmd, timeout, env=None):
    """Runs cmd in its own process group; kills the group on timeout. -> (rc, output)."""
    proc = subprocess.Popen(cmd, cwd=KIT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out.decode(errors="replace")
    return proc.returncode, out.decode(errors="replace")


# ---- lessons and points -------------------------------------------------------------

def all_lessons():
    return sorted(p.stem for p in (KIT / "lessons").glob("[0-9][0-9]-*.md"))


def pick_lessons(wanted):
    lessons = all_lessons()
    if not wanted:
        return lessons
    chosen = [l for l in lessons if l == wanted or l.split("-")[0] == wanted.zfill(2)]
    if not chosen:
        sys.exit(f"grade.py: no lesson {wanted!r}; lessons are: {', '.join(lessons)}")
    return chosen


def points_table():
    """tests/points.conf: 'NN-topic POINTS' per line; the one place weights live."""
    table = {}
    for line in (KIT / "tests" / "points.conf").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            slug, pts = line.split()
            table[slug] = float(pts)
    return table


# ---- grading one lesson -------------------------------------------------------------

def first_errors(log, limit=25):
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if "error" in line:
            return "\n".join(lines[max(0, i - 2):i + limit])
    return "\n".join(lines[-limit:])


def private_tests():
    """An instructor's extra tests: $PIPEWORKS_PRIVATE_TESTS, or private-tests/ when present.
    Laid out like tests/: <dir>/NN-topic/*_test.cpp, linked into that lesson's test binary."""
    folder = os.environ.get("PIPEWORKS_PRIVATE_TESTS") or ("private-tests" if (KIT / "private-tests").is_dir() else "")
    return str(Path(folder).resolve()) if folder else ""


def changed_kit_files():
    """In a hand-out, tests/handout.sha256 records the shipped tests and grader. Returns the
    files that differ from it (edited, added or removed), or [] when there is no record."""
    record = KIT / "tests" / "handout.sha256"
    if not record.exists():
        return []
    expected = {}
    for line in record.read_text().splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    current = {}
    for p in list((KIT / "tests").rglob("*")) + [KIT / "Makefile"] + list((KIT / ".github").rglob("*")):
        rel = p.relative_to(KIT).as_posix()
        if p.is_file() and rel != "tests/handout.sha256" and "__pycache__" not in p.parts:
            current[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    changed = [n for n in expected if current.get(n) != expected[n]]
    changed += [n for n in current if n not in expected]
    return sorted(changed)


def tidy(message):
    """Keeps GoogleTest's file:line, drops its 'Value of: ... Actual: false' lines when
    the test wrote the kit's own expected/got/cause block."""
    at = message.find("expected:     ")
    if at < 0:
        return message
    return message.splitlines()[0] + "\n" + message[at:]


def run_test_binary(slug, binary, xml_path, gtest_filter, env, alone):
    """Runs one lesson's test binary; returns its tests as dicts (name, passed, message)."""
    if xml_path.exists():
        xml_path.unlink()
    cmd = [str(binary), f"--gtest_output=xml:{xml_path}", "--gtest_brief=1"]
    if gtest_filter:
        cmd.append(f"--gtest_filter={gtest_filter}")
    rc, log = run(cmd, timeout=TEST_BINARY_TIMEOUT, env=env)
    if alone:
        kill_leftovers()
    if not xml_path.exists():
        why = "timed out" if rc is None else f"exited with {rc} before writing its report"
        return [{"name": f"{slug}: tests", "passed": False, "message": f"the test binary {why}:\n{log[-3000:]}"}]
    tests = []
    for case in ET.parse(xml_path).getroot().iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        failures = case.findall("failure")
        message = "\n".join(tidy(f.get("message") or f.text or "") for f in failures)
        skipped = case.find("skipped") is not None or case.get("result") == "skipped"
        if skipped and not failures:
            # A skipped test proved nothing: it earns no points (the kit's tests never skip).
            message = "skipped, so it proved nothing: " + ((case.find("skipped").get("message") or "")
                                                           if case.find("skipped") is not None else "")
        tests.append({"name": name, "passed": not failures and not skipped, "message": message})
    return tests


def grade_lesson(slug, src, out, max_points, gtest_filter=None, alone=True, shake=0):
    """Builds and tests one lesson of one tree. Returns a dict describing the result.
    alone: no other job runs beside this one, so leftovers may be swept right away."""
    result = {"lesson": slug, "max": max_points, "points": 0.0, "tests": [], "compile_error": None}
    rc, log = run(["make", "--no-print-directory", "-s", "-f", "tests/grader/lesson.mk",
                   f"LESSON={slug}", f"SRC={src}", f"OUT={out}", f"PRIVATE_TESTS={private_tests()}",
                   "shared", "programs", "tests"], timeout=600)
    if rc != 0:
        result["compile_error"] = first_errors(log)
        return result
    lesson_out = Path(out) / slug
    binary = lesson_out / "test" / (f"{slug}_test" + ("_private" if private_tests() else ""))
    result["rerun"] = f"PIPEWORKS_BIN_DIR={lesson_out / 'bin'} {binary}"
    env = dict(os.environ, PIPEWORKS_BIN_DIR=str(lesson_out / "bin"), GTEST_COLOR="no")
    if not shake:
        result["tests"] = run_test_binary(slug, binary, lesson_out / "results.xml", gtest_filter, env, alone)
    else:
        # Each run delays the calls differently (seed k); a test passes only if it passed every time.
        merged = {}
        for k in range(1, shake + 1):
            shaken = dict(env, LD_PRELOAD=str(KIT / SHAKE_LIB), PIPEWORKS_SHAKE_SEED=str(k))
            for t in run_test_binary(slug, binary, lesson_out / f"results-shake{k}.xml", gtest_filter, shaken, alone):
                first = merged.setdefault(t["name"], dict(t))
                if first["passed"] and not t["passed"]:
                    first.update(passed=False, message=f"failed under SHAKE, run {k} of {shake} (reproduce: "
                                 f"LD_PRELOAD={SHAKE_LIB} PIPEWORKS_SHAKE_SEED={k}):\n" + t["message"])
        result["tests"] = list(merged.values())
        result["rerun"] = f"LD_PRELOAD={SHAKE_LIB} PIPEWORKS_SHAKE_SEED=1 " + result["rerun"]
    passed = sum(t["passed"] for t in result["tests"])
    total = len(result["tests"])
    result["points"] = round(max_points * passed / total, 2) if total else 0.0
    return result


def grade_tree(src, lessons, out=None, shake=0):
    table = points_table()
    out = out or str(BUILD / src)
    return [grade_lesson(slug, src, out, table.get(slug, 10.0), shake=shake) for slug in lessons]


# ---- reports --------------------------------------------------------------------------

def tree_name(src):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", src.strip("/")) or "tree"


def test_entries(results):
    """One entry per test (or per compile error), with its share of the lesson's points."""
    entries = []
    for r in results:
        if r["compile_error"]:
            entries.append({"lesson": r["lesson"], "name": f"{r['lesson']}: compiles", "passed": False,
                            "score": 0.0, "max_score": r["max"],
                            "output": "compile error (the whole lesson scores 0):\n" + r["compile_error"]})
            continue
        share = r["max"] / len(r["tests"]) if r["tests"] else 0.0
        for t in r["tests"]:
            entries.append({"lesson": r["lesson"], "name": f"{r['lesson']}: {t['name']}", "passed": t["passed"],
                            "score": round(share if t["passed"] else 0.0, 6), "max_score": round(share, 6),
                            "output": t["message"]})
    return entries


def write_reports(src, results):
    folder = BUILD / "grade" / tree_name(src)
    folder.mkdir(parents=True, exist_ok=True)
    entries = test_entries(results)
    total = sum(r["points"] for r in results)
    maximum = sum(r["max"] for r in results)
    gradescope = {"score": round(total, 2), "max_score": round(maximum, 2),
                  "output": f"Pipeworks: {total:g} of {maximum:g} points",
                  "tests": [{"name": e["name"], "score": e["score"], "max_score": e["max_score"],
                             "status": "passed" if e["passed"] else "failed", "output": e["output"]}
                            for e in entries]}
    (KIT / folder / "results.json").write_text(json.dumps(gradescope, indent=2) + "\n")

    suites = ET.Element("testsuites", name="pipeworks", tests=str(len(entries)),
                        failures=str(sum(not e["passed"] for e in entries)))
    for r in results:
        mine = [e for e in entries if e["lesson"] == r["lesson"]]
        suite = ET.SubElement(suites, "testsuite", name=r["lesson"], tests=str(len(mine)),
                              failures=str(sum(not e["passed"] for e in mine)))
        for e in mine:
            case = ET.SubElement(suite, "testcase", classname=r["lesson"], name=e["name"].split(": ", 1)[1])
            if not e["passed"]:
                ET.SubElement(case, "failure", message=e["output"].splitlines()[0] if e["output"] else "failed"
                              ).text = e["output"]
    ET.ElementTree(suites).write(KIT / folder / "junit.xml", encoding="utf-8", xml_declaration=True)
    return folder


def print_table(src, results, show_failures=True):
    print(f"\nPipeworks - grading {src}/\n")
    print(f"  {'lesson':<26}{'tests':>10}{'points':>14}")
    for r in results:
        if r["compile_error"]:
            tests = "compile error"
        else:
            tests = f"{sum(t['passed'] for t in r['tests'])}/{len(r['tests'])}"
        print(f"  {r['lesson']:<26}{tests:>10}{r['points']:>8g} / {r['max']:<4g}")
    total = sum(r["points"] for r in results)
    maximum = sum(r["max"] for r in results)
    print(f"  {'total':<26}{'':>10}{total:>8g} / {maximum:<4g}\n")
    if not show_failures:
        return
    for r in results:
        if r["compile_error"]:
            print(f"--- {r['lesson']}: does not compile (0 points for this lesson only):\n{r['compile_error']}\n")
            continue
        failed = [t for t in r["tests"] if not t["passed"]]
        for t in failed[:3]:
            print(f"--- {r['lesson']}: FAILED {t['name']}\n{t['message'].rstrip()}\n"
                  f"rerun this test: {r['rerun']} --gtest_filter={t['name']}\n")
        if len(failed) > 3:
            print(f"    ... and {len(failed) - 3} more failing in {r['lesson']}: "
                  + ", ".join(t["name"] for t in failed[3:]) + "\n")


def next_step(results):
    for r in results:
        num = r["lesson"][:2]
        if r["compile_error"]:
            return f"Next: make exercises/{r['lesson']}/ compile, then run: make grade LESSON={num}"
        failed = [t for t in r["tests"] if not t["passed"]]
        if failed:
            return (f"Next: lesson {r['lesson']}: make {failed[0]['name']} pass (its message above says what to read),"
                    f" then run: make grade LESSON={num}")
    return "Next: every graded lesson has full marks. Well done!"


TAMPERED = ("the kit's own tests or grader differ from the hand-out, so this score cannot be trusted. "
            "Changed: {files}. Restore them (git checkout -- tests Makefile .github) and grade again.")


def cmd_grade(args):
    lessons = pick_lessons(args.lesson)
    if args.shake and not (KIT / SHAKE_LIB).exists():
        sys.exit(f"grade.py: {SHAKE_LIB} is missing: use `make grade SHAKE=N`, which builds it")
    results = grade_tree(args.src, lessons, shake=args.shake)
    changed = changed_kit_files()
    if changed:
        results.append({"lesson": "kit-integrity", "max": 0.0, "points": 0.0, "compile_error": None,
                        "rerun": "git status", "tests": [{"name": "KitIntegrity.TestsAndGraderAreAsHandedOut",
                                                          "passed": False,
                                                          "message": TAMPERED.format(files=", ".join(changed))}]})
    print_table(args.src, results)
    folder = write_reports(args.src, results)
    print(f"Reports: {folder}/junit.xml and {folder}/results.json")
    if changed:
        print("\nWARNING: " + TAMPERED.format(files=", ".join(changed)))
    print(next_step(results))
    full = all(r["points"] >= r["max"] for r in results) and not changed
    return 0 if full else 1


# ---- the kit's own test -------------------------------------------------------------------

HEADER = re.compile(r"^#\s*(Mistake|Replaces|Caught by|Message|Shake):\s*(.*?)\s*$", re.M)
HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@.*\n((?:[ +\\-].*\n?)*)", re.M)


class PatchDoesNotApply(Exception):
    pass


def apply_patch(original, patch):
    """Applies a unified diff exactly: every context and removed line must match the
    original where the hunk says, so a mistake that no longer fits the solution fails
    loudly instead of testing something else."""
    lines = original.splitlines(keepends=True)
    out, pos = [], 0
    for hunk in HUNK.finditer(patch):
        start, count = int(hunk.group(1)), int(hunk.group(2) or 1)
        at = start - 1 if count else start
        if at < pos:
            raise PatchDoesNotApply(f"hunk at line {start} overlaps the one before")
        out.extend(lines[pos:at])
        pos = at
        for line in hunk.group(3).splitlines(keepends=True):
            tag, text = line[0], line[1:]
            if tag == "\\":
                continue
            if tag in " -":
                if pos >= len(lines) or lines[pos] != text:
                    raise PatchDoesNotApply(f"line {pos + 1} of the solution is not {text.rstrip()!r}")
                pos += 1
            if tag in " +":
                out.append(text)
    if not HUNK.search(patch):
        raise PatchDoesNotApply("no hunk in it")
    return "".join(out + lines[pos:])


def read_mistake(path):
    fields = dict(HEADER.findall(path.read_text()))
    missing = [k for k in ("Mistake", "Replaces", "Caught by", "Message") if not fields.get(k)]
    if missing:
        raise SystemExit(f"grade.py: {path}: the header lacks {', '.join(missing)}")
    return fields


def check_mistake(slug, path):
    """Drops one mistake over a scratch copy of the solution; the named test must fail
    and its message must contain the named words."""
    fields = read_mistake(path)
    scratch = BUILD / "mistakes" / slug / path.stem
    src = scratch / "src"
    if (KIT / scratch).exists():
        shutil.rmtree(KIT / scratch)  # always from scratch: nothing stale can pass
    shutil.copytree(KIT / "solutions" / slug, KIT / src / slug)
    target = KIT / src / slug / fields["Replaces"]
    if not target.exists():
        return False, f"{path.name}: Replaces names {fields['Replaces']}, which the solution does not have"
    try:
        target.write_text(apply_patch(target.read_text(), (KIT / path).read_text()))
    except PatchDoesNotApply as e:
        return False, f"{path.name}: no longer applies to solutions/{slug}/{fields['Replaces']} ({e}): update it"
    # A race is caught when shaken. Whether it also passes calm depends on how busy the
    # machine is (a loaded runner makes the race happen unshaken), so that is not asserted.
    shake = int(fields.get("Shake", "0"))
    r = grade_lesson(slug, str(src), str(scratch / "out"), 1.0, gtest_filter=fields["Caught by"], alone=False,
                     shake=shake)
    if r["compile_error"]:
        return False, f"{path.name}: does not compile:\n{r['compile_error']}"
    tests = {t["name"]: t for t in r["tests"]}
    test = tests.get(fields["Caught by"])
    if test is None:
        return False, f"{path.name}: no test named {fields['Caught by']} ran"
    if test["passed"]:
        return False, f"{path.name}: NOT caught - {fields['Caught by']} passed ({fields['Mistake']})"
    if fields["Message"] not in test["message"]:
        return False, (f"{path.name}: caught by {fields['Caught by']}, but its message lacks "
                       f"{fields['Message']!r}:\n{test['message']}")
    how = f" (passes alone, fails under SHAKE={shake})" if shake else ""
    return True, f"{path.name}: caught by {fields['Caught by']} with {fields['Message']!r}{how}"


def pristine_exercises(lessons):
    """The stubs as committed (a learner's edits in exercises/ must not fail the kit's test)."""
    inside_git = run(["git", "rev-parse", "--is-inside-work-tree"], timeout=30)[0] == 0
    if not inside_git:
        return "exercises"
    dest = KIT / BUILD / "pristine"
    if dest.exists():
        shutil.rmtree(dest)
    for slug in lessons:
        for file in sorted((KIT / "exercises" / slug).rglob("*")):
            if not file.is_file():
                continue
            name = file.relative_to(KIT).as_posix()
            committed = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=KIT, capture_output=True)
            path = dest / file.relative_to(KIT / "exercises")
            path.parent.mkdir(parents=True, exist_ok=True)
            # Not committed yet (a kit author's new stub): the working copy is the stub.
            path.write_bytes(committed.stdout if committed.returncode == 0 else file.read_bytes())
    return str(BUILD / "pristine")


def cmd_test(args):
    if not (KIT / "solutions").is_dir():
        print("make test is the kit's own test and needs solutions/, which a student hand-out leaves out.\n"
              "Use `make grade` to grade your work.")
        return 2
    lessons = pick_lessons(args.lesson)
    problems = []
    checks_run = []

    print("== 1. The grader's own proof: bad programs in the sandbox")
    rc, log = run(["build/shared/proof/sandbox_test", "--gtest_brief=1"], timeout=300)
    kill_leftovers()
    print("\n".join(l for l in log.splitlines() if l.startswith(("[  PASSED", "[  FAILED", "[==========]")) or "Failure" in l))
    if rc != 0:
        problems.append("the sandbox proof failed:\n" + log[-4000:])
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # CI may run as root, classrooms do not: prove the sandbox as an ordinary user too.
        rc, log = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       "build/shared/proof/sandbox_test", "--gtest_brief=1"], timeout=300)
        kill_leftovers()
        print("as an ordinary user (uid 65534): " + ("passed" if rc == 0 else "FAILED"))
        if rc != 0:
            problems.append("the sandbox proof failed as an ordinary user:\n" + log[-4000:])

    print("\n== 2. The reference solutions must get full marks")
    solved = grade_tree("solutions", lessons)
    print_table("solutions", solved, show_failures=False)
    for r in solved:
        if r["points"] < r["max"]:
            print_table("solutions", [r])
            problems.append(f"solutions/{r['lesson']} scores {r['points']:g} of {r['max']:g}")

    print("== 2b. pipemap draws known topologies (it runs the reference programs built above)")
    rc, log = run(["build/shared/pipemap/pipemap_test", "--gtest_brief=1"], timeout=600)
    kill_leftovers()
    print("\n".join(l for l in log.splitlines() if l.startswith(("[  PASSED", "[  FAILED", "[==========]"))))
    if rc != 0:
        problems.append("pipemap's tests failed:\n" + log[-4000:])
    checks_run.append("pipemap")

    print("\n== 2b'. pipetrace tells the reference programs' story in order, and how a hang came about")
    rc, log = run(["build/shared/pipetrace/pipetrace_test", "--gtest_brief=1"], timeout=600)
    kill_leftovers()
    print("\n".join(l for l in log.splitlines() if l.startswith(("[  PASSED", "[  FAILED", "[==========]"))))
    if rc != 0:
        problems.append("pipetrace's tests failed:\n" + log[-4000:])
    checks_run.append("pipetrace")

    print("\n== 2c. The reference solutions keep full marks when shaken (make grade SHAKE=2)")
    shaken = grade_tree("solutions", lessons, shake=2)
    print_table("solutions, shaken twice", shaken, show_failures=False)
    for r in shaken:
        if r["points"] < r["max"]:
            print_table("solutions, shaken", [r])
            problems.append(f"solutions/{r['lesson']} loses points under SHAKE=2: a race in the solution or a test")
    checks_run.append("shake")

    print("\n== 3. The pristine exercise stubs must score below full marks")
    stubs_src = pristine_exercises(lessons)
    stubs = grade_tree(stubs_src, lessons, out=str(BUILD / "pristine-grade"))
    print_table("exercises (as shipped)", stubs, show_failures=False)
    for r in stubs:
        if r["compile_error"]:
            problems.append(f"the stub exercises/{r['lesson']} does not compile:\n{r['compile_error']}")
        elif r["points"] >= r["max"]:
            problems.append(f"the stub exercises/{r['lesson']} gets full marks: its tests cannot fail")

    print("== 4. The mistake catalogue: each mistake caught, with its message")
    jobs = []
    for slug in lessons:
        for path in sorted((KIT / "tests" / slug / "mistakes").glob("*.patch")):
            jobs.append((slug, path.relative_to(KIT)))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda j: (j[0],) + check_mistake(*j), jobs))
    kill_leftovers()
    for slug in lessons:
        if not any(o[0] == slug for o in outcomes):
            problems.append(f"lesson {slug} has no mistake catalogue (tests/{slug}/mistakes/*.patch)")
    for slug, ok, text in outcomes:
        print(f"  {'caught ' if ok else 'MISSED '} {slug}/{text.splitlines()[0]}")
        if not ok:
            problems.append(text)
    caught = sum(o[1] for o in outcomes)

    print("\n== 5. Lessons that cannot rot, and the kit's editor files")
    for name, cmd in (("lessons (shown output, anchors, front matter, index)", ["lessons_check.py"]),
                      ("diagrams: each SVG up to date with its source, each source in its lesson", ["diagrams.py", "check"]),
                      ("format of the kit's C++", ["format_check.py"]),
                      ("editor files, make help and README targets", ["editor_check.py"]),
                      ("the checkers themselves can fail", ["checks_test.py"]),
                      ("classroom: GitHub Classroom, Gradescope, hand-out, private tests, progress, hint, watch",
                       ["classroom_test.py"])):
        rc, log = run([sys.executable, f"tests/grader/{cmd[0]}", *cmd[1:]], timeout=900)
        print(f"  {'ok     ' if rc == 0 else 'FAILED '} {name}")
        if rc != 0:
            problems.append(f"{name}:\n{log[-6000:]}")
        checks_run.append(name)
    kill_leftovers()

    left = descendants(os.getpid())
    if left:
        problems.append(f"{len(left)} processes were left behind by the tests: {left}")
    print()
    if problems:
        print("make test FAILED:\n")
        for p in problems:
            print(" - " + p.replace("\n", "\n   "))
    checks = 1 + len(solved) + len(stubs) + len(outcomes) + len(checks_run)
    print(f"sandbox proof, {len(solved)} solutions, {len(stubs)} stubs, {caught}/{len(outcomes)} mistakes caught, "
          f"{len(checks_run)} checks of lessons, format and editor files")
    print(f"kit: {max(checks - len(problems), 0)} passed, {len(problems)} failed")
    return 1 if problems else 0


def main():
    os.chdir(KIT)
    become_subreaper()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one tree")
    g.add_argument("--src", default="exercises")
    g.add_argument("--lesson")
    g.add_argument("--shake", type=int, default=0, help="run the tests N times with random delays (Linux)")
    t = sub.add_parser("test", help="the kit's own test")
    t.add_argument("--lesson")
    args = parser.parse_args()
    sys.exit(cmd_grade(args) if args.command == "grade" else cmd_test(args))


if __name__ == "__main__":
    main()
