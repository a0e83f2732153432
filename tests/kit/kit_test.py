#!/usr/bin/env python3
"""kit_test.py - the kit's own test: `make test`.

Usage:
  kit_test.py [--lesson NN] [--again] [--only WORDS]

Proves the kit: the sandbox proof passes (as root and as an ordinary user), the solutions
get full marks (also shaken), the tools' tests pass, the pristine stubs do not get full
marks, every mistake of each lesson's catalogue (tests/NN-topic/mistakes/*.patch) is caught
by the test it names, with the words it names (and links the section its `# Read:` names),
every correct variant (tests/NN-topic/variants/*.patch) gets full marks, and the kit's
maintenance checks (lessons, diagrams, format, editor files, classroom, forgery) pass.

Each check runs through grade.py's own functions (no `make grade` in between), two per core
(the longest first, and the shaken runs beside them), and ends with a table of where the
time went. A check that passed leaves a stamp in
build/kit/stamps/: the digest of every input it read (its lesson's solution, tests and given
files, the support library, the grader). Next time, a check whose inputs are unchanged
prints "unchanged since it passed" and is not run; any change to an input runs it again.
A clean clone has no stamps, so everything runs; --again ignores the stamps.

Only the Python 3 standard library is used.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grader"))
import grade  # noqa: E402  (grading: build one lesson, run it, points, reports)
from grade import BUILD, KIT  # noqa: E402
import reuse  # noqa: E402  (what the hand-out and platform checks share)

STAMPS = BUILD / "kit" / "stamps"
MISTAKES = BUILD / "mistakes"   # one scratch tree per mistake
VARIANTS = BUILD / "variants"   # one scratch tree per variant
PRISTINE = BUILD / "pristine"   # the stubs as committed
PRISTINE_GRADE = BUILD / "pristine-grade"
SHAKEN = BUILD / "kit" / "shaken"  # the solutions, built once more for the shaken runs
# Checks at a time. One per core always runs. Most of a check's time is spent waiting on
# learner programs that sleep, block or are watched for a hang, so more start, up to three per
# core, while a third of a core or more sits idle (IdleCores); never more than that on a busy
# machine: measured, six compiles at once on two cores each used 1.5 times the CPU of one
# alone, two at once 1.2 times. (With a whole core as the bar, the catalogue's checks ran two
# at a time on 1.5 cores; with half a core, still on 1.55.) Every check gets its time from
# its own deadline, never from the machine being quiet.
CORES = os.cpu_count() or 1
PARALLEL = 3 * CORES
START_WHEN_IDLE = 0.3  # cores idle over the last look
# And beside them, shaken runs: SHAKE holds processes back (100-300 ms at half the forks) and
# pauses calls, so a shaken run sleeps most of its time; measured, six of them used about a
# sixth of a core over their 340 s of slots.
SLEEPY_PARALLEL = 2
# A check's deadline only ends a hang, never judges speed: a loaded machine (two busy loops on
# two cores, a shared CI runner) may take several times as long, and must still pass.
HANG = 3600


# About how long each check takes on an idle 2-core machine: by label, by phase and label, or
# by phase. Only the order checks start in depends on it (the longest first), never a result.
SECONDS = {"classroom_test.py HandOutOfTwoLessons": 150, "classroom_test.py HandOutBuiltFromNothing": 110,
           "forgery_test.py": 60, "3 06-pipe-vs-loopback": 60, "3 05-fifo-messages": 45, "3 04-filter-child": 40,
           "classroom_test.py HandOutOfEveryLesson": 85,
           "classroom_test.py Points Workflow Classroom": 30,
           "1 ": 18, "2 ": 10, "2b": 14, "2c": 1, "3 ": 30, "3b": 10, "4 ": 3, "4b": 6, "5 ": 10}


def expected_seconds(check):
    return SECONDS.get(check.label, SECONDS.get(check.phase[:2] + check.label, SECONDS[check.phase[:2]]))


STARTED = time.monotonic()  # when make test started: each check says when it began


def kit_script(name):
    """A maintenance check's script, beside this one in tests/kit/."""
    return Path(__file__).resolve().parent / name


# ---- the catalogue: headers, and patches applied by patch(1), exactly ---------------------

HEADER = re.compile(r"^#\s*(Mistake|Variant|Replaces|Caught by|Message|Shake|Hangs|Read):\s*(.*?)\s*$", re.M)


class PatchDoesNotApply(Exception):
    pass


def read_header(path, required):
    fields = dict(HEADER.findall((KIT / path).read_text()))
    missing = [k for k in required if not fields.get(k)]
    if missing:
        raise PatchDoesNotApply(f"the header lacks {', '.join(missing)}")
    return fields


def read_mistake(path):
    try:
        return read_header(path, ("Mistake", "Replaces", "Caught by", "Message"))
    except PatchDoesNotApply as e:
        raise SystemExit(f"kit_test.py: {path}: {e}")


def patch_exactly(root, patch_text, cwd_name=None):
    """patch -p0 -F0 in `root`: every hunk must apply where it says, no fuzz and no offset,
    or PatchDoesNotApply says what patch said. cwd_name: apply to that one file instead of the
    names in the patch."""
    cmd = ["patch", "-p0", "-F0", "--no-backup-if-mismatch", "--batch", "--reject-file=-", "-d", str(root)]
    if cwd_name:
        cmd.append(cwd_name)
    proc = subprocess.run(cmd, input=patch_text.encode(), capture_output=True, timeout=60)
    said = (proc.stdout + proc.stderr).decode(errors="replace").strip()
    if proc.returncode != 0 or re.search(r"\b(offset|fuzz)\b", said):
        raise PatchDoesNotApply("patch -F0 does not apply it exactly: " + " / ".join(said.splitlines()[-4:]))


def apply_patch(original, patch):
    """The text of `original` with a one-file patch applied exactly (see patch_exactly)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "file").write_text(original)
        patch_exactly(tmp, patch, cwd_name="file")
        return (Path(tmp) / "file").read_text()


def scratch_tree(slug, path, folder, fields):
    """A scratch copy of solutions/<slug> with the patch applied by patch -p0 -F0 (its '--- '
    lines name solutions/<slug>/<file>; several files in order for a variant), and the
    solution's objects seeded beside it so only the changed files are compiled.
    -> (src, out) to build, relative to the kit."""
    scratch = folder / slug / path.stem
    if (KIT / scratch).exists():
        shutil.rmtree(KIT / scratch)  # always from scratch: nothing stale can pass
    shutil.copytree(KIT / "solutions" / slug, KIT / scratch / "solutions" / slug)  # copy2: mtimes kept
    text = (KIT / path).read_text()
    named = re.findall(r"^--- (\S+)", text, re.M)
    want = [f"solutions/{slug}/{n}" for n in fields["Replaces"].split()]
    if named != want:
        raise PatchDoesNotApply(f"its parts patch {named}, but Replaces names {want}")
    for name in want:
        if not (KIT / name).exists():
            raise PatchDoesNotApply(f"Replaces names {name}, which does not exist")
    patch_exactly(KIT / scratch, text)
    seed_objects(slug, scratch / "solutions", scratch / "out")
    return scratch / "solutions", scratch / "out"


def seed_objects(slug, src, out, tree="solutions"):
    """Copies the objects the kit's own build made of tree/<slug> (times kept) into the
    scratch build, with their dependency files pointing at src: make then compiles only the
    files that are newer than their objects there (a mistake's patched file and what
    includes it), and links."""
    built = KIT / BUILD / tree / slug / "obj"
    if not built.is_dir():
        return
    dest = KIT / out / slug / "obj"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(built, dest)
    for dep in dest.rglob("*.d"):
        text = dep.read_text()
        text = re.sub(rf"(?<![\w/.-]){BUILD}/{tree}/{re.escape(slug)}/", f"{out}/{slug}/", text)
        text = re.sub(rf"(?<![\w/.-]){tree}/{re.escape(slug)}/", f"{src}/{slug}/", text)
        stat = dep.stat()
        dep.write_text(text)
        os.utime(dep, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def caught_filter(slug, caught):
    """The GoogleTest filter that runs the named test: all instances of a parameterised one."""
    if "/" not in caught and caught in grade.parameterised_tests(slug):
        return f"*/{caught}/*"
    return caught


# make's variables for a scratch tree (common.mk): no debug information. Nobody debugs a
# mistake or a variant, and GCC makes the same code without -g.
SCRATCH_BUILD = ("DEBUG_INFO=",)


def check_mistake(slug, path):
    """One mistake over a scratch copy of the solution: the named test must fail, its message
    must contain the named words, and with `# Read: #anchor` its read: link that section."""
    try:
        fields = read_header(path, ("Mistake", "Replaces", "Caught by", "Message"))
        src, out = scratch_tree(slug, path, MISTAKES, fields)
    except PatchDoesNotApply as e:
        return False, f"{path.name}: {e}: update it (diff -u against solutions/{slug})"
    caught = fields["Caught by"]
    # A race is caught when shaken. Whether it also passes calm depends on how busy the
    # machine is (a loaded runner makes the race happen unshaken), so that is not asserted.
    shake = int(fields.get("Shake", "0"))
    r = grade.grade_lesson(slug, str(src), str(out), 1.0, gtest_filter=caught_filter(slug, caught), alone=False,
                           shake=shake, make_vars=SCRATCH_BUILD)
    if r["compile_error"]:
        return False, f"{path.name}: does not compile:\n{r['compile_error']}"
    tests = [t for t in r["tests"] if t["name"] == caught or grade.behaviour(t["name"]) == caught]
    if not tests:
        return False, f"{path.name}: no test named {caught} ran"
    failed = [t for t in tests if not t["passed"]]
    if not failed:
        return False, f"{path.name}: NOT caught - {caught} passed ({fields['Mistake']})"
    said = [t for t in failed if fields["Message"] in t["message"]]
    if not said:
        return False, (f"{path.name}: caught by {caught}, but its message lacks "
                       f"{fields['Message']!r}:\n{failed[0]['message']}")
    if fields.get("Read"):
        links = [grade.section_of(t["message"]) for t in said]
        if not any(fields["Read"] in link for link in links):
            return False, (f"{path.name}: caught by {caught} with {fields['Message']!r}, but its read: link is "
                           f"{links[0] or 'missing'}, not the section {fields['Read']}:\n{said[0]['message']}")
    how = f" (fails under SHAKE={shake})" if shake else ""
    read = f", read {fields['Read']}" if fields.get("Read") else ""
    return True, f"{path.name}: caught by {caught} with {fields['Message']!r}{read}{how}"


def check_variant(slug, path):
    """One correct variant over a scratch copy of the solution (exactly as a mistake is
    applied): the WHOLE lesson must then get full marks: the grader checks what the lesson
    specifies, not how the reference happens to be written."""
    try:
        fields = read_header(path, ("Variant", "Replaces"))
        src, out = scratch_tree(slug, path, VARIANTS, fields)
    except PatchDoesNotApply as e:
        return False, f"{path.name}: {e}: update it (diff -u against solutions/{slug})"
    r = grade.grade_lesson(slug, str(src), str(out), 1.0, alone=False, make_vars=SCRATCH_BUILD)
    if r["compile_error"]:
        return False, f"{path.name}: does not compile:\n{r['compile_error']}"
    failed = [t for t in r["tests"] if not t["passed"]]
    if failed or not r["tests"]:
        return False, (f"{path.name}: a correct program ({fields['Variant']}) LOSES points: "
                       + "; ".join(f"{t['name']}: {t['message']}" for t in failed))
    return True, f"{path.name}: full marks ({len(r['tests'])} tests)"


def pristine_exercises(lessons):
    """The stubs as committed (a learner's edits in exercises/ must not fail the kit's test)."""
    inside_git = grade.run(["git", "rev-parse", "--is-inside-work-tree"], timeout=30)[0] == 0
    if not inside_git:
        return "exercises"
    for slug in lessons:
        shutil.rmtree(KIT / PRISTINE / slug, ignore_errors=True)
        for file in sorted((KIT / "exercises" / slug).rglob("*")):
            if not file.is_file():
                continue
            name = file.relative_to(KIT).as_posix()
            committed = subprocess.run(["git", "show", f"HEAD:{name}"], cwd=KIT, capture_output=True)
            path = KIT / PRISTINE / file.relative_to(KIT / "exercises")
            path.parent.mkdir(parents=True, exist_ok=True)
            # Not committed yet (a kit author's new stub): the working copy is the stub.
            text = committed.stdout if committed.returncode == 0 else file.read_bytes()
            path.write_bytes(text)
            if text == file.read_bytes():
                # The working copy's time too: the kit's own build of exercises/ (seeded by the
                # stubs' grade) is then up to date with it, and only an edited stub is compiled.
                stat = file.stat()
                os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return str(PRISTINE)


# ---- stamps: a check whose inputs did not change since it passed is not run again --------

_digests = {}
_digest_lock = threading.Lock()


def file_digest(path):
    with _digest_lock:
        if path not in _digests:
            _digests[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return _digests[path]


def files_under(rel):
    """The files of a kit path (a file, or a folder walked in order), skipping build/ and caches."""
    top = KIT / rel
    if top.is_file():
        return [top]
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in (".git", "__pycache__")
                         and not (Path(folder) == KIT and d == "build"))
        found += [Path(folder) / f for f in sorted(files)]
    return found


def digest(inputs):
    h = hashlib.sha256()
    for rel in inputs:
        for path in files_under(rel):
            h.update(f"{path.relative_to(KIT)}\0{file_digest(path)}\n".encode())
    return h.hexdigest()


def support_paths():
    """The C++ sandbox library with its proof, and the tools (pipemap, pipetrace, shake)."""
    return ["tests/sandbox", "tests/tools"]


def grader_inputs():
    return ["tests/grader/grade.py", str(grade.LESSON_MK), "tests/grader/common.mk", "tests/kit/kit_test.py",
            str(grade.POINTS_CONF), *support_paths(), *([grade.private_tests()] if grade.private_tests() else [])]


def lesson_inputs(slug, tree="solutions"):
    return [f"{tree}/{slug}", f"tests/{slug}", f"exercises/{slug}/given", *grader_inputs()]


WHOLE_KIT = ["."]


# ---- checks and phases -----------------------------------------------------------------------

class Check:
    """One check: a phase, a label, its inputs (for the stamp) and what runs it: run() ->
    (ok, text). `after`: events that must be set before it starts (what it builds on): every
    check but the sandbox proof waits for the build its lesson's solution grade makes of the
    objects all trees share (build/shared), so no two makes write one file at once."""

    def __init__(self, phase, label, inputs, run, after=(), done=None, lock=None, sleepy=False):
        self.phase, self.label, self.inputs, self.run = phase, label, inputs, run
        self.after, self.done, self.lock, self.sleepy = list(after), done, lock, sleepy
        self.ok, self.text, self.seconds, self.skipped = False, "", 0.0, False
        self.cpu = 0.0  # CPU seconds its processes used (grade.cpu_seconds())
        self.started = self.ended = 0.0

    @property
    def stamp(self):
        return KIT / STAMPS / (re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{self.phase}-{self.label}") + ".stamp")


def run_check(check, again):
    for event in check.after:
        event.wait()
    check.started = time.monotonic()
    cpu_before = grade.cpu_seconds()
    try:
        # What a check proves also depends on who runs it and with which compiler.
        key = digest(check.inputs) + f" uid0={os.geteuid() == 0} cxx={os.environ.get('CXX', '')}"
        if not again and check.stamp.exists() and check.stamp.read_text().split("\n")[0] == key:
            check.ok, check.skipped, check.text = True, True, f"{check.label}: unchanged since it passed"
            return check
        try:
            check.ok, check.text = check.run()
        except Exception as e:  # a bug in a check is a failed check, not a crashed kit test
            check.ok, check.text = False, f"{check.label}: {type(e).__name__}: {e}"
        if check.ok:
            check.stamp.parent.mkdir(parents=True, exist_ok=True)
            check.stamp.write_text(key + "\n" + "\n".join(check.inputs) + "\n")
        elif check.stamp.exists():
            check.stamp.unlink()
        return check
    finally:
        check.ended = time.monotonic()
        check.seconds = check.ended - check.started
        check.cpu = grade.cpu_seconds() - cpu_before
        if check.done:
            check.done.set()
        word = "skip  " if check.skipped else ("ok    " if check.ok else "FAILED")
        print(f"  [{word} {check.seconds:6.1f}s cpu {check.cpu:6.1f}s from {check.started - STARTED:5.0f}s] "
              f"{check.phase}: "
              f"{check.text.splitlines()[0] if check.text else ''}", flush=True)


class IdleCores:
    """How many cores sat idle since the last look, from /proc/stat (Linux); None elsewhere,
    and None until half a second has passed: a check just started has not begun to work."""
    WINDOW = 0.5

    def __init__(self):
        self.last = self.sample()

    @staticmethod
    def sample():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        # user nice system idle iowait irq softirq steal: idle and iowait are time nobody ran
        return time.monotonic(), fields[3] + fields[4], sum(fields)

    def look(self):
        now = self.sample()
        if now is None or self.last is None or now[0] - self.last[0] < self.WINDOW:
            return None
        idle, total = now[1] - self.last[1], now[2] - self.last[2]
        self.last = now
        return CORES * idle / total if total else None

    def restart(self):
        self.last = self.sample()


def run_all(checks, again):
    """Runs the checks, one per core and up to PARALLEL while cores sit idle, and beside
    them up to SLEEPY_PARALLEL sleepy ones (the shaken runs: SHAKE pauses most of their
    time away). A slot goes to the first check in `checks` whose `after` events are set and
    whose lock no running check holds: a check that must wait never sits in a slot, so the
    cores stay busy with what can run."""
    changed = threading.Condition()
    pending, held, running = list(checks), set(), {False: 0, True: 0}
    limit = {False: PARALLEL, True: SLEEPY_PARALLEL}
    gauge = IdleCores()
    idle = None  # cores idle over the last window, looked at once per pick

    def ready(c):
        if not (running[c.sleepy] < limit[c.sleepy] and all(e.is_set() for e in c.after)
                and (c.lock is None or c.lock not in held)):
            return False
        # One per core always; beyond that only while cores sat idle.
        return c.sleepy or running[False] < CORES or (idle is not None and idle >= START_WHEN_IDLE)

    def work(c):
        try:
            run_check(c, again)
        finally:
            with changed:
                running[c.sleepy] -= 1
                held.discard(c.lock)
                changed.notify_all()

    threads = []
    with changed:
        while pending:
            idle = gauge.look()
            pick = next((c for c in pending if ready(c)), None)
            if pick is None:
                changed.wait(timeout=IdleCores.WINDOW)  # an `after` event set by a check's end also notifies
                continue
            pending.remove(pick)
            if not pick.sleepy and running[False] >= CORES:
                gauge.restart()  # the next look sees what the machine does with it running
            running[pick.sleepy] += 1
            if pick.lock:
                held.add(pick.lock)
            threads.append(threading.Thread(target=work, args=(pick,), daemon=True))
            threads[-1].start()
    for t in threads:
        t.join()


def tail_lines(log, wanted):
    return "\n".join(l for l in log.splitlines() if l.startswith(wanted))


def make_check(targets):
    def go():
        rc, log = grade.run(["make", "--no-print-directory", "-s", *targets], timeout=HANG)
        return rc == 0, f"make {' '.join(targets)}" + ("" if rc == 0 else f" failed:\n{log[-4000:]}")
    return go


def gtest_check(argv, what, timeout):
    def go():
        rc, log = grade.run(argv, timeout=timeout)
        summary = tail_lines(log, ("[  PASSED", "[  FAILED"))
        if rc != 0:
            return False, f"{what} failed:\n{summary}\n{log[-4000:]}"
        return True, f"{what}: {summary.splitlines()[0] if summary else 'passed'}"
    return go


def listed_behaviours_match(slug, out):
    """The grader reads a lesson's expected tests from its sources; that list must be the one
    GoogleTest itself lists for the build just graded. -> a problem, or None"""
    binary = Path(out) / slug / "test" / f"{slug}_test"
    listing = subprocess.run([str(binary), "--gtest_list_tests"], capture_output=True, text=True, timeout=HANG).stdout
    listed, suite = [], ""
    for line in listing.splitlines():
        if not line.startswith(" "):
            suite = line.split("#")[0].strip()
        elif line.strip():
            listed.append(suite + line.split("#")[0].strip())
    # A parameterised test's instances ('Prefix/Suite.Name/64KiB') are one behaviour.
    behaviours = sorted({grade.behaviour(n) for n in listed})
    expected = sorted(set(grade.expected_tests(slug)))
    if behaviours != expected:
        return (f"{slug}: the tests the grader reads from its sources {expected} differ from GoogleTest's list "
                f"{behaviours}")
    return None


def lesson_shows_grade(slug, r, root=KIT):
    """A lesson shows the stub's grade line (its first `make grade`, a block not run by the
    lessons check) and ends with a checklist of the full count: both must be this grade's.
    -> a problem, or None"""
    lesson = root / "lessons" / f"{slug}.md"
    text = lesson.read_text()
    tests = f"{sum(t['passed'] for t in r['tests'])}/{len(r['tests'])}"
    shown = f"  {slug:<26}{tests:>10}{r['points']:>8g} / {r['max']:<4g}".rstrip()  # as grade.py prints it
    if shown not in (l.rstrip() for l in text.splitlines()):
        return f"lessons/{lesson.name} should show the stub's grade line as make grade prints it:\n{shown}"
    full = f"`make grade LESSON={slug[:2]}` shows {len(r['tests'])}/{len(r['tests'])}"
    if full not in text:
        return f"lessons/{lesson.name}'s checklist should say: {full}"
    return None


def grade_check(slug, src, out, shake, full, seed=False, lists=False):
    """Grades one lesson of a tree: full marks wanted (full=True), or below them (a stub).
    seed: start from the objects the kit's own build made of that tree ("solutions",
    "exercises"): of the same sources, so only a changed file is compiled.
    lists: also check that the tests the grader expects are the ones the binary lists."""
    def go():
        if seed:
            seed_objects(slug, src, out, seed)
        r = grade.grade_lesson(slug, src, out, grade.lesson_points(slug), alone=False, shake=shake)
        passed = sum(t["passed"] for t in r["tests"])
        line = f"{slug}: {passed}/{len(r['tests'])} tests, {r['points']:g} of {r['max']:g}"
        if r["compile_error"]:
            return False, f"{slug} from {src}/ does not compile:\n{r['compile_error']}"
        if full and r["points"] < r["max"]:
            why = " (shaken: a race in the solution or a test)" if shake else ""
            return False, f"{line}: {src}/ loses points{why}:\n" + "\n".join(
                f"{t['name']}: {t['message']}" for t in r["tests"] if not t["passed"])
        if not full and r["points"] >= r["max"]:
            return False, f"{line}: the stub gets full marks: its tests cannot fail"
        if not full and src != "solutions":
            problem = lesson_shows_grade(slug, r)
            if problem:
                return False, f"{line}: {problem}"
        if lists:
            problem = listed_behaviours_match(slug, out)
            if problem:
                return False, problem
        return True, line
    return go


def script_check(label, argv, timeout):
    def go():
        rc, log = grade.run([sys.executable, *map(str, argv)], timeout=timeout)
        if rc == 0:
            return True, f"{argv[0].name}: {label}"
        # A unittest check names what failed on its FAIL:/ERROR: lines and the assertion
        # under each: show those first, a long log's tail would hide them.
        lines = log.splitlines()
        failed = [l for i, l in enumerate(lines) if l.startswith(("FAIL:", "ERROR:"))
                  or (l.startswith(("AssertionError", "    raise", "subprocess.")) and i > 0)]
        return False, (f"{label}:\n" + ("\n".join(l[:400] for l in failed) + "\n...\n" if failed else "")
                       + log[-4000:])
    return go


def all_of(runs):
    """Runs each (ok, text) check in turn, stopping at the first that fails."""
    texts = []
    for run in runs:
        ok, text = run()
        texts.append(text)
        if not ok:
            return False, "\n".join(texts)
    return True, "; ".join(texts)


def in_lesson(slug, outcome):
    ok, text = outcome
    return ok, f"{slug}/{text}"


def plan(lessons, whole):
    """Every check of this run, in the order they start (longest first where independent)."""
    built = {slug: threading.Event() for slug in lessons}
    # The classroom check grades solutions/ in the kit itself (INSTRUCTORS.md's `make grade
    # SRC=solutions`), rebuilding build/solutions/*/bin, whose programs the tools' tests run.
    reference_bins = "build/solutions"
    checks = []
    for slug in lessons:
        # The plain grade builds build/solutions/<slug>, which the catalogue's scratch trees start from.
        checks.append(Check("2 solutions at full marks", slug, lesson_inputs(slug),
                            grade_check(slug, "solutions", str(BUILD / "solutions"), 0, True, lists=True),
                            done=built[slug]))
    if whole:
        # pipemap and pipetrace run the reference programs the solutions' grades built; one
        # check, so that it holds reference_bins once and early, before the classroom check.
        tools = [gtest_check([str(grade.TOOL_TESTS[tool]), "--gtest_brief=1"], what, HANG) for tool, what in (
            ("pipemap", "pipemap draws known topologies"),
            ("pipetrace", "pipetrace tells the reference programs' story, and how a hang came about"))]
        checks.append(Check("2b tools", "pipemap and pipetrace", support_paths() + grader_inputs() + [
            f"solutions/{s}" for s in lessons],
            lambda: all_of(tools), after=built.values(), lock=reference_bins))
        # Most of these read the whole kit (a hand-out of it, every lesson's commands, every
        # C++ file); the two whose inputs are few name them, so they re-run only when those change.
        # The longest start first; the classroom check after the forgery check, so that the
        # tools' check above has finished with build/solutions by then.
        diagrams = ["diagrams", "lessons", str(kit_script("diagrams.py").relative_to(KIT))]
        points = [str(grade.POINTS_CONF), "tests/grader/grade.py", "lessons",
                  str(kit_script("points_test.py").relative_to(KIT))] + [f"tests/{slug}" for slug in lessons]
        # Both hand-out checks run `make handout`, which builds the reference programs in the
        # kit: built once here first, that make finds them up to date and writes nothing.
        references = threading.Event()
        checks.append(Check("2c reference programs", "make reference", WHOLE_KIT, make_check(["reference"]),
                            after=built.values(), done=references))
        for label, script, args, inputs in (
                ("forgery: a submission cannot touch its grade, the kit or the grader's home",
                 "forgery_test.py", [], WHOLE_KIT),
                # The classroom check in four parts that can run side by side: each part writes
                # its own folders (the two-lesson hand-out also build/gradescope and build/class).
                ("classroom: a hand-out of two lessons graded by make grade, GitHub Classroom, Gradescope and "
                 "make class alike", "classroom_test.py", ["HandOutOfTwoLessons"], WHOLE_KIT),
                ("classroom: every shown command of lesson 01 works in a hand-out built from nothing",
                 "classroom_test.py", ["HandOutBuiltFromNothing"], WHOLE_KIT),
                ("classroom: every shown command of every lesson works in a full hand-out", "classroom_test.py",
                 ["HandOutOfEveryLesson"], WHOLE_KIT),
                ("classroom: points, the workflow, private tests, progress, hint, watch", "classroom_test.py",
                 ["Points", "Workflow", "Classroom"], WHOLE_KIT),
                # Every lesson's shown commands run in HandOutOfEveryLesson's full hand-out (the same
                # lesson files, the same commands): here the parts that read the kit's own files.
                ("lessons (anchors, front matter, index)", "lessons_check.py", ["--only", "anchors,front,index"],
                 WHOLE_KIT),
                ("the checkers themselves can fail", "checks_test.py", [], WHOLE_KIT),
                ("diagrams: each SVG up to date with its source, each source in its lesson", "diagrams.py",
                 ["check"], diagrams),
                ("format of the kit's C++", "format_check.py", [], WHOLE_KIT),
                ("editor files, make help and README targets", "editor_check.py", [], WHOLE_KIT),
                ("points: one behaviour, one share, in every report", "points_test.py", [], points)):
            # After the solutions' builds: some copy build/shared, which must not be half-written then.
            # The Classroom part grades solutions/ in the kit (relinking build/solutions/*, whose
            # programs the tools' check runs): one at a time, or one would run a half-linked binary.
            shares_solutions = args == ["Points", "Workflow", "Classroom"]
            checks.append(Check("5 maintenance checks", " ".join([script, *args]), inputs,
                                script_check(label, [kit_script(script), *args], HANG),
                                after=[*built.values(), references],
                                lock=reference_bins if shares_solutions else None))
    checks.append(Check("1 sandbox proof", "bad programs in the sandbox", support_paths() + grader_inputs(),
                        gtest_check([str(grade.SANDBOX_PROOF), "--gtest_brief=1"], "sandbox proof", HANG)))
    if os.geteuid() == 0 and shutil.which("setpriv"):
        # CI may run as root, classrooms do not: prove the sandbox as an ordinary user too.
        checks.append(Check("1 sandbox proof", "as an ordinary user (uid 65534)", support_paths() + grader_inputs(),
                            gtest_check(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                         str(grade.SANDBOX_PROOF), "--gtest_brief=1"],
                                        "sandbox proof as uid 65534", HANG)))
    for slug in lessons:
        checks.append(Check("3 solutions shaken (SHAKE=2)", slug, lesson_inputs(slug),
                            grade_check(slug, "solutions", str(SHAKEN), 2, True, seed="solutions"), after=[built[slug]],
                            sleepy=True))
    for slug in lessons:
        for path in sorted((KIT / "tests" / slug / "mistakes").glob("*.patch")):
            rel = path.relative_to(KIT)
            checks.append(Check("4 mistakes caught", f"{slug}/{path.name}", lesson_inputs(slug) + [str(rel)],
                                (lambda s=slug, p=rel: in_lesson(s, check_mistake(s, p))), after=[built[slug]]))
    for slug in lessons:
        for path in sorted((KIT / "tests" / slug / "variants").glob("*.patch")):
            rel = path.relative_to(KIT)
            checks.append(Check("4b variants at full marks", f"{slug}/{path.name}", lesson_inputs(slug) + [str(rel)],
                                (lambda s=slug, p=rel: in_lesson(s, check_variant(s, p))), after=[built[slug]]))
    stubs = pristine_exercises(lessons)
    for slug in lessons:
        checks.append(Check("3b stubs below full marks", slug, lesson_inputs(slug, stubs) + [f"lessons/{slug}.md"],
                            grade_check(slug, stubs, str(PRISTINE_GRADE), 0, False, seed="exercises"),
                            after=[built[slug]]))
    # What the others build on first, then the longest first: a long check started last
    # would run alone at the end while the other slots stand idle.
    return sorted(checks, key=lambda c: (not c.phase.startswith("2"), -expected_seconds(c)))


def phase_table(checks, wall):
    print(f"\n  {'phase':<34}{'wall s':>8}{'check s':>9}{'cpu s':>8}{'checks':>8}{'run':>5}{'skipped':>9}"
          f"{'failed':>8}")
    for phase in sorted({c.phase for c in checks}):
        mine = [c for c in checks if c.phase == phase]
        span = max(c.ended for c in mine) - min(c.started for c in mine)
        print(f"  {phase:<34}{span:>8.1f}{sum(c.seconds for c in mine):>9.1f}{sum(c.cpu for c in mine):>8.1f}"
              f"{len(mine):>8}"
              f"{sum(not c.skipped for c in mine):>5}{sum(c.skipped for c in mine):>9}{sum(not c.ok for c in mine):>8}")
    at_a_time = f"total ({CORES}-{PARALLEL}+{SLEEPY_PARALLEL} at a time)"
    print(f"  {at_a_time:<34}{wall:>8.1f}{sum(c.seconds for c in checks):>9.1f}"
          f"{sum(c.cpu for c in checks):>8.1f}{len(checks):>8}")


def main():
    os.chdir(KIT)
    grade.become_subreaper()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lesson", help="check one lesson only: its solution, stub, catalogue and variants")
    parser.add_argument("--again", action="store_true", help="run every check, passed before or not")
    parser.add_argument("--only", help="run only the checks whose phase or label contains these words (what they "
                        "build on, e.g. build/solutions, must be there: make all)")
    args = parser.parse_args()
    if not (KIT / "solutions").is_dir():
        print("make test is the kit's own test and needs solutions/, which a student hand-out leaves out.\n"
              "Use `make grade` to grade your work.")
        return 2
    lessons = grade.pick_lessons(args.lesson)
    for slug in lessons:
        grade.lesson_points(slug)  # every lesson has its points before anything is built
    start = time.monotonic()
    print(f"make test: {'lesson ' + lessons[0] if args.lesson else 'the whole kit'}, "
          f"{CORES} to {PARALLEL} checks at a time (more while cores sit idle; and {SLEEPY_PARALLEL} shaken); "
          f"{grade.isolation()['note']}", flush=True)
    checks = plan(lessons, whole=not args.lesson)
    if args.only:
        for c in checks:
            if args.only not in f"{c.phase} {c.label}" and c.done:
                c.done.set()  # what others wait for is there already, or they build it themselves
        checks = [c for c in checks if args.only in f"{c.phase} {c.label}"]
    run_all(checks, args.again)
    grade.sweep()
    grade.kill_leftovers()
    wall = time.monotonic() - start

    problems = [c.text for c in checks if not c.ok]
    for slug in lessons:
        for folder, least in (("mistakes", 1), ("variants", 2)):
            if len(list((KIT / "tests" / slug / folder).glob("*.patch"))) < least:
                problems.append(f"lesson {slug} has fewer than {least} {folder} (tests/{slug}/{folder}/*.patch)")
    left = grade.descendants(os.getpid())
    if left:
        problems.append(f"{len(left)} processes were left behind by the checks: {left}")
    phase_table(checks, wall)
    print()
    if problems:
        print("make test FAILED:\n")
        for p in problems:
            print(" - " + p.replace("\n", "\n   "))
    caught = [c for c in checks if c.phase.startswith("4 ")]
    variants = [c for c in checks if c.phase.startswith("4b")]
    print(f"{sum(c.ok for c in caught)}/{len(caught)} mistakes caught, {sum(c.ok for c in variants)}/{len(variants)} "
          f"correct variants at full marks, {sum(c.skipped for c in checks)} checks unchanged since they passed")
    print(f"kit: {sum(c.ok for c in checks)} passed, {len(problems)} failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
