#!/usr/bin/env python3
"""grade.py - builds each lesson, runs its GoogleTest binary, scores it, reports.

Usage:
  grade.py grade [--src exercises|solutions|DIR] [--lesson NN]   grade one tree
  grade.py classroom --lesson NN                                 one GitHub Classroom step

`grade` builds every lesson of the tree on its own (a compile error costs only that
lesson), runs the lesson's tests (which run the learner's programs in the sandbox),
turns GoogleTest's XML into points (tests/grader/points.conf), prints a table and writes
build/grade/<tree>/junit.xml and results.json (Gradescope's format). Exit 0 only at
full marks. `classroom` does the same for one lesson and writes GitHub Classroom's
`result` (see cmd_classroom).

The kit's own test (solutions at full marks, stubs below, the mistake catalogue caught,
correct variants at full marks) is tests/kit/kit_test.py, which imports this module.

Only the Python 3 standard library is used.
"""
import argparse
import base64
import hashlib
import ctypes
import fnmatch
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
import xml.etree.ElementTree as ET
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]

# ---- build paths: the one place Python names them (make names them in tests/grader/common.mk) ----
BUILD = Path("build")
SHARED = BUILD / "shared"                          # what every tree links: support library, test objects
SHAKE_LIB = SHARED / "shake" / "libpipeworks_shake.so"  # make grade SHAKE=N preloads it
TRACER = BUILD / "tools" / "pipetrace"             # make grade TRACE=1 wraps hanging runs with it
LESSON_MK = Path("tests/grader/lesson.mk")         # builds one lesson from one tree
SANDBOX_PROOF = SHARED / "proof" / "sandbox_test"  # the sandbox's own proof
TOOL_TESTS = {tool: SHARED / tool / f"{tool}_test" for tool in ("pipemap", "pipetrace")}
REFERENCE = BUILD / "reference"                    # each lesson's reference programs (its Step 0)
REPORTS = BUILD / "grade"                          # REPORTS/<tree>/junit.xml and results.json


def tools_of(slug):
    """A lesson's grader helpers (tests/NN-topic/tools/), built once for every tree."""
    return SHARED / "tools" / slug


def test_binary(out, slug):
    """The test binary of one lesson built into `out` (a tree's build folder)."""
    return Path(out) / slug / "test" / (f"{slug}_test" + ("_private" if private_tests() else ""))


TEST_BINARY_TIMEOUT = 1800  # seconds for one lesson's whole test binary (each run inside has its own)


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


_cpu = threading.local()  # per thread: the CPU time of the processes run() has waited for


def cpu_seconds():
    """CPU seconds (user + system) that the processes run() ran in this thread used so far,
    with every descendant they waited for: what a check costs the cores, not its wall time."""
    return getattr(_cpu, "seconds", 0.0)


def run(cmd, timeout, env=None, cwd=None, on_timeout=None):
    """Runs cmd in its own process group; kills the group on timeout. -> (rc, output).
    on_timeout: called too, for processes the grader may not signal (another uid's)."""
    proc = subprocess.Popen(cmd, cwd=cwd or KIT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    output = []
    reader = threading.Thread(target=lambda: output.append(proc.stdout.read()), daemon=True)
    reader.start()
    reader.join(timeout)
    # wait4(), not Popen.wait(): it also says what the process and its reaped descendants used.
    timed_out = reader.is_alive()
    while not timed_out:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        timed_out = time.monotonic() > deadline
        time.sleep(0.002)  # its output has ended: it is exiting
    if timed_out:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            pass
        if on_timeout:
            on_timeout()
        reader.join()
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    _cpu.seconds = cpu_seconds() + usage.ru_utime + usage.ru_stime
    out = output[0].decode(errors="replace")
    return (None if timed_out else proc.returncode), out


# ---- isolation: learner code runs as a uid of its own ----------------------------------
#
# Each lesson's test binary (the kit's tests, and with them every learner program and, in
# white-box lessons, learner code linked into the binary) runs as RUN_UID, a numeric uid and
# gid with no passwd entry, no groups, no new privileges. It runs in a fresh scratch folder
# (its working directory, HOME and TMPDIR) holding copies of just what the run needs, so it
# needs no access to the kit at all (a kit in a 0750 home still works), and the kit, build/
# and the reports stay the grader's, which that uid cannot write. Only root, or a user with
# passwordless sudo (GitHub's runners, Gradescope), can switch uid; anyone else grades with
# isolation off, and the grade says it is for practice.

RUN_UID_BASE = 62000  # 62000..63999: one uid per grader process, so two graders never sweep each other
RUN_UIDS = 2000
_run_uid = {}  # "uid", and "lock": the open file whose lock keeps it this process's own
_run_uid_guard = threading.Lock()


def run_uid():
    """The uid learner code runs as: $PIPEWORKS_RUN_UID, or one of RUN_UID_BASE's range that
    no other grader on this machine holds. A grader sweeps (kills) every process of its uid,
    so two graders at once (make test's checks beside each other, make class beside a
    student's make grade) must never share one: this process locks (flock) the uid's lock
    file, in the temp folder's pipeworks-run-uids/, for as long as it lives, and a grader
    that finds it locked takes the next. A pid alone did not do: two pids 2000 apart got
    the same uid, and one grader's sweep killed the other's test binaries."""
    if os.environ.get("PIPEWORKS_RUN_UID"):
        return int(os.environ["PIPEWORKS_RUN_UID"])
    with _run_uid_guard:
        if "uid" not in _run_uid:
            import fcntl  # POSIX; only a grader with isolation on (Linux) gets here
            # One folder for every grader's lock files (kept: a file removed while another
            # grader opens it would give two graders two locks of one uid), sticky like /tmp.
            folder = Path(tempfile.gettempdir()) / "pipeworks-run-uids"
            try:
                folder.mkdir()
                folder.chmod(0o1777)
            except FileExistsError:
                pass
            start = os.getpid() % RUN_UIDS
            for i in range(RUN_UIDS):
                uid = RUN_UID_BASE + (start + i) % RUN_UIDS
                try:
                    fd = os.open(folder / f"{uid}.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
                except OSError:
                    continue  # another user's grader made it: not ours to take
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    os.close(fd)
                    continue
                _run_uid.update(uid=uid, lock=fd)
                break
            else:
                raise SystemExit(f"grade.py: every run uid {RUN_UID_BASE}..{RUN_UID_BASE + RUN_UIDS - 1} "
                                 "is held by another grader on this machine")
        return _run_uid["uid"]


def others_can(path, bits):
    """True when a uid that is neither owner nor in the group has these permission bits."""
    try:
        return path.stat().st_mode & bits == bits
    except OSError:
        return False


def reachable_by_others(folder):
    return all(others_can(p, 0o001) for p in [folder, *folder.parents])


def writable_by_others():
    """Kit files or folders (or the kit's parents) another uid could change, if any."""
    found = []
    for parent in [KIT, *KIT.parents]:
        try:
            mode = parent.stat().st_mode
        except OSError:
            continue
        if mode & 0o002 and not (parent != KIT and mode & 0o1000):  # world-writable, no sticky bit
            found.append(str(parent))
    for top, dirs, files in os.walk(KIT):
        if Path(top) == KIT / BUILD:
            dirs[:] = [d for d in dirs if d != "run"]  # the runs' own scratch folders
        for name in dirs + files:
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if st.st_mode & 0o002 and not stat.S_ISLNK(st.st_mode):
                found.append(os.path.relpath(path, KIT))
        if len(found) > 5:
            break
    return found


_ISOLATION = {}


def isolation():
    """How learner code runs in this grade: {"on": bool, "note": text, "sudo": bool}. Decided
    once: root switches uid itself, a user with passwordless sudo through `sudo -n`."""
    if _ISOLATION:
        return _ISOLATION
    uid = run_uid()
    why = None
    sudo = False
    if os.environ.get("PIPEWORKS_ISOLATION") == "off":
        why = "PIPEWORKS_ISOLATION=off was set"
    elif not sys.platform.startswith("linux") or not shutil.which("setpriv"):
        why = "it needs Linux and setpriv (util-linux)"
    elif os.geteuid() != 0:
        probe = ["sudo", "-n", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", "true"]
        try:
            sudo = shutil.which("sudo") is not None and subprocess.run(
                probe, stdin=subprocess.DEVNULL, capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            sudo = False
        if not sudo:
            why = "the grader is neither root nor allowed passwordless sudo, so it cannot switch to another uid"
    if not why:
        loose = writable_by_others()
        if loose:
            why = ("these kit paths are writable by every user, so another uid could change them: "
                   + ", ".join(loose[:5]))
    if why:
        _ISOLATION.update(on=False, sudo=False, note=f"isolation is OFF ({why}): learner code ran as the grader "
                          "and could have changed the kit or the reports, so this grade is for practice only")
    else:
        _ISOLATION.update(on=True, sudo=sudo, note=f"isolation is on: learner code ran as uid {uid}, which cannot "
                          "write the kit, build/ or the reports")
    return _ISOLATION


def scratch_base():
    """Where run folders go: build/run/ when other uids can reach the kit, else the temp folder."""
    inside = KIT / BUILD / "run"
    inside.mkdir(parents=True, exist_ok=True)
    os.chmod(inside, 0o755)
    if not isolation()["on"] or reachable_by_others(inside):  # not when a 0750 home or umask 077 hides it
        return inside
    for base in (Path(tempfile.gettempdir()), Path("/tmp"), Path("/dev/shm")):
        if base.is_dir() and reachable_by_others(base):
            return base
    return inside


def as_run_uid(script, *args):
    """argv that runs `sh -c script sh args...` as root (sudo -n when the grader is a user);
    the script itself switches to the run uid where it says so."""
    return (["sudo", "-n", "--"] if isolation()["sudo"] else []) + ["sh", "-c", script, "sh", *args]


def drop(uid):
    return f"setpriv --reuid={uid} --regid={uid} --clear-groups --no-new-privs --"


def sweep(scratch=None, kill=True):
    """Ends every process of the run uid (alone: nothing else runs as it) and removes the
    run's scratch folder and whatever the uid left in the shared temp folders."""
    if not isolation()["on"]:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        return
    uid = run_uid()
    script = ""
    if kill:
        script += f"{drop(uid)} sh -c 'kill -KILL -1 2>/dev/null'; "
        script += f"find /tmp /var/tmp /dev/shm -maxdepth 1 -user {uid} -exec rm -rf {{}} + 2>/dev/null; "
    if scratch:
        script += 'rm -rf -- "$1"; '
    run(as_run_uid(script + "true", *([str(scratch)] if scratch else [])), timeout=120)


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


POINTS_CONF = Path("tests/grader/points.conf")


def read_points_conf(text=None):
    """tests/grader/points.conf -> ({slug: points}, {(slug, behaviour): weight}). Lines:
    'NN-topic POINTS', and optional 'weight NN Suite.Name W' (a behaviour worth W times one)."""
    lessons = all_lessons()
    table, weights = {}, {}
    text = (KIT / POINTS_CONF).read_text() if text is None else text
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#")[0].strip()
        if not line:
            continue
        words = line.split()
        try:
            if words[0] == "weight" and len(words) == 4:
                slugs = [l for l in lessons if l == words[1] or l.split("-")[0] == words[1].zfill(2)]
                if len(slugs) != 1 or "." not in words[2] or "/" in words[2] or float(words[3]) <= 0:
                    raise ValueError
                weights[(slugs[0], words[2])] = Decimal(words[3])
            elif len(words) == 2:
                table[words[0]] = float(words[1])
            else:
                raise ValueError
        except ValueError:
            sys.exit(f"grade.py: {POINTS_CONF}:{n}: expected 'NN-topic POINTS' or 'weight NN Suite.Name W' "
                     f"(W > 0, a lesson that exists), got {line!r}")
    return table, weights


def points_table():
    """{slug: points} from tests/grader/points.conf: the one place weights live."""
    return read_points_conf()[0]


def lesson_points(slug, table=None):
    """A lesson's points. A lesson without a line in points.conf is an error that names
    it: a silent default would give it a weight nobody chose."""
    table = points_table() if table is None else table
    if slug not in table:
        sys.exit(f"grade.py: lesson {slug} has no line in tests/grader/points.conf; add one, e.g. '{slug} 10'")
    return table[slug]


def behaviour(name):
    """The behaviour a GoogleTest name tests: 'Suite.Name' for a plain test, and for every
    instance of a parameterised one ('Prefix/Suite.Name/64KiB', typed 'Suite/0.Name') the
    same 'Suite.Name': its instances are one behaviour and share its points."""
    suite, _, test = name.partition(".")
    parts = suite.split("/")
    if len(parts) > 1 and parts[-1].isdigit():
        parts = parts[:-1]
    return f"{parts[-1]}.{test.split('/')[0]}"


def shares(max_points, count):
    """Splits max_points in whole cents that add up to exactly max_points. `count` is a
    number of equal parts, or a list of weights (largest remainders get the spare cents, the
    first on ties): 10 points over 12 equal parts are four of 0.84 and eight of 0.83.
    Returns Decimals."""
    weights = [Decimal(1)] * count if isinstance(count, int) else [Decimal(str(w)) for w in count]
    if not weights:
        return []
    cents = int((Decimal(str(max_points)) * 100).to_integral_value())
    total = sum(weights)
    exact = [cents * w / total for w in weights]
    parts = [int(e) for e in exact]  # floors: cents and weights are not negative
    spare = cents - sum(parts)
    for i in sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))[:spare]:
        parts[i] += 1
    return [Decimal(c) / 100 for c in parts]


def test_shares(max_points, tests, slug=None):
    """Each test's share of its lesson's points, in the tests' order: a bug costs what it is
    worth, not how many near-duplicate tests it trips. The lesson's points are split among
    its BEHAVIOURS (see behaviour()), by their weight in points.conf (default 1); the
    instances of a parameterised behaviour split its share equally. Whole cents that add up
    to exactly max_points. The one rule make grade, the Classroom step, Gradescope's
    results and make progress all use."""
    weights = read_points_conf()[1] if slug else {}
    groups = {}
    for i, t in enumerate(tests):
        groups.setdefault(behaviour(t["name"]), []).append(i)
    out = [Decimal(0)] * len(tests)
    for (name, members), share in zip(groups.items(), shares(max_points, [weights.get((slug, b), 1)
                                                                          for b in groups])):
        for i, part in zip(members, shares(share, len(members))):
            out[i] = part
    return out


def earned(max_points, tests, slug=None):
    """A lesson's points: the sum of the shares of its passed tests. Every report (the
    table, results.json, the GitHub Classroom result) adds the same shares, so they agree."""
    return float(sum((s for s, t in zip(test_shares(max_points, tests, slug), tests) if t["passed"]), Decimal(0)))


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
    """In a hand-out, tests/handout.sha256 records the shipped tests, grader and given files
    (exercises/*/given/). Returns the files that differ from it (edited, added or removed),
    or [] when there is no record."""
    record = KIT / "tests" / "handout.sha256"
    if not record.exists():
        return []
    expected = {}
    for line in record.read_text().splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    current = {}
    for p in list((KIT / "tests").rglob("*")) + list((KIT / "exercises").glob("*/given/**/*")) + \
            [KIT / "Makefile"] + list((KIT / ".github").rglob("*")):
        rel = p.relative_to(KIT).as_posix()
        if p.is_file() and rel != "tests/handout.sha256" and "__pycache__" not in p.parts:
            current[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    changed = [n for n in expected if current.get(n) != expected[n]]
    changed += [n for n in current if n not in expected]
    return sorted(changed)


def tidy(message):
    """Drops GoogleTest's first line, the test's file:line (a learner needs what failed, not
    where in tests/), and its 'Value of: ... Actual: false' lines when the test wrote the
    kit's own expected/got/cause block."""
    first, _, rest = message.partition("\n")
    if re.fullmatch(r"\S+:\d+", first.strip()):
        message = rest
    at = message.find("expected:     ")
    if at < 0:
        return message
    return message[at:]


TEST_DEFINITION = re.compile(r"^[ \t]*TEST(_F|_P)?\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)", re.M)


def gtest_matches(name, gtest_filter):
    """GoogleTest's --gtest_filter: 'POSITIVE[:...][-NEGATIVE[:...]]' with * and ?."""
    if not gtest_filter:
        return True
    positive, _, negative = gtest_filter.partition("-")
    wanted = any(fnmatch.fnmatchcase(name, p) for p in (positive or "*").split(":") if p)
    return wanted and not any(fnmatch.fnmatchcase(name, p) for p in negative.split(":") if p)


def defined_tests(slug):
    """[(name, parameterised)] as a lesson's sources (and the private tests) define them, in
    order: 'Suite.Name' per TEST/TEST_F, and per TEST_P its behaviour 'Suite.Name', whose
    instances ('Prefix/Suite.Name/param') only the binary's report can name."""
    folders = [KIT / "tests" / slug] + ([Path(private_tests()) / slug] if private_tests() else [])
    names = []
    for folder in folders:
        for source in sorted(folder.glob("*_test.cpp")):
            text = re.sub(r"/\*.*?\*/", "", source.read_text(errors="replace"), flags=re.S)
            text = re.sub(r"//[^\n]*", "", text)
            names += [(f"{suite}.{name}", kind == "_P") for kind, suite, name in TEST_DEFINITION.findall(text)]
    return names


def filter_wants(name, parameterised, gtest_filter):
    """Whether a GoogleTest filter selects a test (for a parameterised behaviour: any of its
    instances, as '*/Suite.Name/*' or one instance's full name does)."""
    if not gtest_filter or gtest_matches(name, gtest_filter):
        return True
    positive = gtest_filter.partition("-")[0].split(":")
    return parameterised and any(p and behaviour(p) == name for p in positive)


def expected_tests(slug, gtest_filter=None):
    """The tests (behaviours, for parameterised ones) a lesson must report, read from the
    kit's own sources (and the private tests) at grade time: never from the binary, whose
    list a learner's code could forge."""
    return [n for n, param in defined_tests(slug) if filter_wants(n, param, gtest_filter)]


def parameterised_tests(slug):
    return {n for n, param in defined_tests(slug) if param}


def read_report(xml_path):
    """The report as the test binary left it: a regular file, read without following links."""
    fd = os.open(xml_path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise ValueError("the report is not a regular file")
        data = f.read(64 << 20)
    return ET.fromstring(data)


def copy_programs(src, dest, follow_links=True):
    """Copies a file or a folder of programs (modes and times kept) to dest, which must not
    exist yet, by a child process (cp): were this process to write them, a child another of
    its threads forked meanwhile would hold them open for writing until its exec, and an
    exec of one then fails with "Text file busy" (ETXTBSY). make test grades in threads."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-RLp" if follow_links else "-RPp", str(src), str(dest)], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)


def stage_run(slug, binary, lesson_out, shake):
    """A fresh folder for one run: copies of the lesson's programs, test binary, tools and
    given files at their kit-relative paths (messages name the same paths as in the kit),
    a home, a temp folder and the report file. -> (scratch, kit, lesson folder in kit, owned_by_run)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"{slug}-", dir=scratch_base()))
    os.chmod(scratch, 0o711)
    kit = scratch / "kit"
    try:
        rel = (KIT / lesson_out).resolve().relative_to(KIT.resolve())
    except ValueError:
        rel = Path("outside") / slug
    copies = [(KIT / lesson_out / "bin", kit / rel / "bin"), (KIT / binary, kit / rel / "test" / binary.name),
              (KIT / tools_of(slug), kit / tools_of(slug)),
              (KIT / "exercises" / slug / "given", kit / "exercises" / slug / "given")]
    if shake:
        copies.append((KIT / SHAKE_LIB, kit / SHAKE_LIB))
    if os.environ.get("PIPEWORKS_TRACE"):  # make grade TRACE=1: the tracer the sandbox wraps hangs with
        copies.append((Path(os.environ["PIPEWORKS_TRACE"]), kit / TRACER))
    for src, dest in copies:
        if src.exists():
            copy_programs(src, dest)
    # Readable by the run uid whatever the grader's umask; writable only by the grader.
    for top, dirs, files in os.walk(kit):
        os.chmod(top, 0o755)
        for name in files:
            path = os.path.join(top, name)
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)
    for name in ("home", "tmp", "report"):
        (scratch / name).mkdir(mode=0o755)
    # A tree outside the kit (SRC=/some/dir) stages nothing under build/: make it all the same.
    (kit / "build").mkdir(mode=0o755, exist_ok=True)
    xml = scratch / "report" / "results.xml"
    xml.touch(mode=0o644)
    # build/ of the run (lesson 02's tests keep a trace file there), home, temp and the one
    # report file become the run uid's; the report's folder stays the grader's, so the file
    # cannot be swapped for a link or another file, only rewritten by the binary itself.
    owned = [scratch / "home", scratch / "tmp", kit / "build", xml]
    return scratch, kit, rel, owned


SECRET = re.compile(r"TOKEN|SECRET|PASSWORD|CREDENTIAL|_KEY$|^SUDO_|^OLDPWD$")


def run_test_binary(slug, binary, lesson_out, gtest_filter, env, alone, shake=0):
    """Runs one lesson's test binary, as the run uid when isolation is on, in a fresh
    scratch folder; returns the expected tests as dicts (name, passed, message)."""
    expected = expected_tests(slug, gtest_filter)
    scratch, kit, rel, owned = stage_run(slug, binary, lesson_out, shake)
    staged = rel / "test" / binary.name
    xml_path = scratch / "report" / "results.xml"
    env = dict(env, HOME=str(scratch / "home"), TMPDIR=str(scratch / "tmp"), PWD=str(kit),
               PIPEWORKS_BIN_DIR=str(rel / "bin"))
    if shake:
        env["LD_PRELOAD"] = str(kit / SHAKE_LIB)
    if env.get("PIPEWORKS_TRACE"):
        env["PIPEWORKS_TRACE"] = str(kit / TRACER)
    cmd = [str(staged), f"--gtest_output=xml:{xml_path}", "--gtest_brief=1"]
    if gtest_filter:
        cmd.append(f"--gtest_filter={gtest_filter}")
    try:
        if isolation()["on"]:
            uid = run_uid()
            clean = {k: v for k, v in env.items() if not SECRET.search(k)}
            # A PATH folder the run uid cannot search (one under /root, say) would turn exec's
            # "command not found" into "permission denied": the uid gets the folders it can use.
            clean["PATH"] = os.pathsep.join(d for d in env.get("PATH", os.defpath).split(os.pathsep)
                                            if d and Path(d).is_dir() and reachable_by_others(Path(d)))
            # As root: hand the run its four own paths, then become the run uid with only this env.
            script = (f'chown {uid}:{uid} -- "$1" "$2" "$3" "$4" && chmod 0700 "$1" "$2" && shift 4 && '
                      f'exec {drop(uid)} env -i "$@"')
            argv = as_run_uid(script, *map(str, owned), *[f"{k}={v}" for k, v in clean.items()], *cmd)
            rc, log = run(argv, timeout=TEST_BINARY_TIMEOUT, cwd=kit, on_timeout=sweep)
        else:
            # The same for the grader's own uid: a PATH folder it cannot search (a shell that
            # kept another user's PATH) would turn "command not found" into "permission denied".
            env["PATH"] = os.pathsep.join(d for d in env.get("PATH", os.defpath).split(os.pathsep)
                                          if d and os.access(d, os.X_OK))
            rc, log = run(cmd, timeout=TEST_BINARY_TIMEOUT, env=env, cwd=kit)
        if alone:
            sweep()  # nothing of the run uid outlives the run, so nothing rewrites the report now
            kill_leftovers()
        return score_report(slug, expected, xml_path, rc, log, gtest_filter)
    finally:
        sweep(scratch, kill=False)


def score_report(slug, expected, xml_path, rc, log, gtest_filter=None):
    """Reads the report knowing the learner's code could have written it: only the expected
    tests count; one that is not in it fails; a report that contradicts the binary's exit
    status (0: all passed, 1: some failed) counts for nothing."""
    def all_failed(why):
        return [{"name": n, "passed": False,
                 "message": f"never reported: {why}" + (f":\n{log[-3000:]}" if i == 0 and log.strip() else "")}
                for i, n in enumerate(expected)] or [{"name": f"{slug}: tests", "passed": False, "message": why}]
    try:
        root = read_report(xml_path) if os.path.getsize(xml_path) else None
    except (OSError, ValueError, ET.ParseError) as e:
        return all_failed(f"the test binary's report is unreadable ({e})")
    if rc is None:
        return all_failed("the test binary timed out")
    if root is None:
        return all_failed(f"the test binary exited with {rc} before writing its report")
    reported, failed_any = {}, False
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}.{case.get('name')}"
        failures = case.findall("failure")
        failed_any = failed_any or bool(failures)
        message = "\n".join(tidy(f.get("message") or f.text or "") for f in failures)
        skipped = case.find("skipped") is not None or case.get("result") == "skipped"
        if skipped and not failures:
            # A skipped test proved nothing: it earns no points (the kit's tests never skip).
            # GoogleTest puts the reason in the element's text as well as its message; without
            # either, say so rather than end the sentence on a colon.
            mark = case.find("skipped")
            why = tidy((mark.get("message") or mark.text or "") if mark is not None else "").strip()
            message = "skipped, so it proved nothing: " + (why or "the test gave no reason")
        if case.get("status", "run") != "run" and not failures and not skipped:
            continue  # listed but not run (filtered out)
        reported[name] = {"name": name, "passed": not failures and not skipped, "message": message}
    if rc not in (0, 1) or (rc == 0) == failed_any:
        return all_failed(f"the test binary exited with {rc}, which contradicts its report "
                          f"({'some failed' if failed_any else 'all passed'}), so the report is not trusted")
    missing = {"passed": False, "message": "never reported: this expected test is missing from the test "
               "binary's report (it did not run, or the report was cut)"}
    params, out = parameterised_tests(slug), []
    for n in expected:
        if n not in params:
            out.append(reported.get(n) or dict(missing, name=n))
            continue
        # A parameterised behaviour counts as its instances, as the report names them; with
        # none reported it fails as one test.
        instances = [t for name, t in reported.items() if "/" in name and behaviour(name) == n
                     and gtest_matches(name, gtest_filter)]
        out += instances or [dict(missing, name=n)]
    return out


def build_lesson(slug, src, out, timeout=1800, make_vars=()):
    """make -f lesson.mk: one lesson's shared objects, programs and test binary from one tree.
    make_vars: more NAME=VALUE for make (the kit's own test: build flags, see common.mk).
    -> (rc, log); rc None when it timed out."""
    return run(["make", "--no-print-directory", "-s", "-f", str(LESSON_MK), f"LESSON={slug}", f"SRC={src}",
                f"OUT={out}", f"PRIVATE_TESTS={private_tests()}", *make_vars, "shared", "programs", "tests"],
               timeout=timeout)


def grade_lesson(slug, src, out, max_points, gtest_filter=None, alone=True, shake=0, make_vars=()):
    """Builds and tests one lesson of one tree. Returns a dict describing the result.
    alone: no other job runs beside this one, so leftovers may be swept right away.
    make_vars: passed to build_lesson."""
    result = {"lesson": slug, "max": max_points, "points": 0.0, "tests": [], "compile_error": None,
              "isolation": dict(isolation())}
    lesson_out = Path(out) / slug
    binary = test_binary(out, slug)
    # Only what this run builds is ever run: the lesson's programs and test binary are
    # deleted first, so a file left there (by a learner's program, say) is never trusted.
    shutil.rmtree(KIT / lesson_out / "bin", ignore_errors=True)
    for old in (KIT / lesson_out / "test").glob(f"{slug}_test*"):
        old.unlink()
    started = time.time()
    rc, log = build_lesson(slug, src, out, make_vars=make_vars)
    if rc != 0:
        result["compile_error"] = first_errors(log)
        return result
    if not (KIT / binary).is_file() or (KIT / binary).stat().st_mtime < started - 1:
        result["compile_error"] = f"{binary} was not built by this run, so it is not run"
        return result
    result["rerun"] = f"PIPEWORKS_BIN_DIR={lesson_out / 'bin'} {binary}"
    env = dict(os.environ, PIPEWORKS_BIN_DIR=str(lesson_out / "bin"), GTEST_COLOR="no")
    if not shake:
        result["tests"] = run_test_binary(slug, binary, lesson_out, gtest_filter, env, alone)
    else:
        # Each run delays the calls differently (seed k); a test passes only if it passed every time.
        merged = {}
        for k in range(1, shake + 1):
            shaken = dict(env, PIPEWORKS_SHAKE_SEED=str(k))
            for t in run_test_binary(slug, binary, lesson_out, gtest_filter, shaken, alone, shake=shake):
                first = merged.setdefault(t["name"], dict(t))
                if first["passed"] and not t["passed"]:
                    first.update(passed=False, message=f"failed under SHAKE, run {k} of {shake} (reproduce: "
                                 f"LD_PRELOAD={SHAKE_LIB} PIPEWORKS_SHAKE_SEED={k}):\n" + t["message"])
        result["tests"] = list(merged.values())
        result["rerun"] = f"LD_PRELOAD={SHAKE_LIB} PIPEWORKS_SHAKE_SEED=1 " + result["rerun"]
    result["points"] = earned(max_points, result["tests"], slug)
    return result


def grade_tree(src, lessons, out=None, shake=0):
    table = points_table()
    for slug in lessons:
        lesson_points(slug, table)  # every lesson named before any is built
    out = out or str(BUILD / src)
    return [grade_lesson(slug, src, out, table[slug], shake=shake) for slug in lessons]


# ---- reports --------------------------------------------------------------------------

def tree_name(src):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", src.strip("/")) or "tree"


VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")  # Gradescope's `visibility`
TEST_MACRO = re.compile(r"^\s*TEST(?:_F|_P)?\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)", re.M)


def private_visibility():
    """Gradescope visibility of each private test, by GoogleTest name. The one place it is
    set: <private tests>/visibility.conf, lines 'Suite.Name VISIBILITY' or '* VISIBILITY'
    (the default for the others); without the file every private test is hidden.
    The kit's own tests are always visible."""
    folder = private_tests()
    if not folder:
        return {}
    default, named = "hidden", {}
    conf = Path(folder) / "visibility.conf"
    if conf.exists():
        for n, line in enumerate(conf.read_text().splitlines(), 1):
            line = line.split("#")[0].strip()
            if not line:
                continue
            parts = line.split()
            if len(parts) != 2 or parts[1] not in VISIBILITIES:
                sys.exit(f"grade.py: {conf}:{n}: expected 'Suite.Name VISIBILITY' or '* VISIBILITY' with one of "
                         f"{', '.join(VISIBILITIES)}; got {line!r}")
            if parts[0] == "*":
                default = parts[1]
            else:
                named[parts[0]] = parts[1]
    out = {}
    for src in sorted(Path(folder).glob("*/*_test.cpp")):
        for suite, name in TEST_MACRO.findall(src.read_text()):
            out[f"{suite}.{name}"] = named.get(f"{suite}.{name}", default)
    return out


def test_entries(results):
    """One entry per test (or per compile error), with its share of the lesson's points:
    the shares of a lesson add up to exactly its points, and the scores of its passed
    tests to exactly the points it earned."""
    visibility = private_visibility()
    entries = []
    for r in results:
        if r["compile_error"]:
            entries.append({"lesson": r["lesson"], "name": f"{r['lesson']}: compiles", "passed": False,
                            "score": 0.0, "max_score": float(r["max"]), "visibility": "visible", "error": True,
                            "output": "compile error (the whole lesson scores 0):\n" + r["compile_error"]})
            continue
        for share, t in zip(test_shares(r["max"], r["tests"], r["lesson"]), r["tests"]):
            entries.append({"lesson": r["lesson"], "name": f"{r['lesson']}: {t['name']}", "passed": t["passed"],
                            "score": float(share) if t["passed"] else 0.0, "max_score": float(share),
                            "visibility": visibility.get(behaviour(t["name"]), "visible"), "error": t.get("error", False),
                            "output": t["message"]})
    return entries


def total_of(entries):
    return float(sum((Decimal(str(e["score"])) for e in entries), Decimal(0)))


def gradescope_results(results, next_line=""):
    """results.json with only the keys Gradescope documents (score, output, tests; each
    test: name, score, max_score, status, output, visibility)."""
    entries = test_entries(results)
    total = total_of(entries)
    maximum = float(sum((Decimal(str(r["max"])) for r in results), Decimal(0)))
    return {"score": total,
            "output": f"Pipeworks: {total:g} of {maximum:g} points." + (f"\n{next_line}" if next_line else ""),
            "tests": [{"name": e["name"], "score": e["score"], "max_score": e["max_score"],
                       "status": "passed" if e["passed"] else "failed", "output": e["output"],
                       "visibility": e["visibility"]} for e in entries]}


def classroom_result(results):
    """The `result` a GitHub Classroom step hands to classroom-resources/autograding-grading-reporter:
    base64 of {"version": 1, "status", "max_score", "tests": [...]}. The reporter adds up the
    tests' `score`s for the grade it sends, so they carry the points earned (partial credit)."""
    entries = test_entries(results)

    def status(e):
        return "pass" if e["passed"] else ("error" if e["error"] else "fail")

    tests = [{"name": e["name"], "status": status(e), "score": e["score"], "message": e["output"], "line_no": 0,
              "duration": 0} for e in entries]
    statuses = {t["status"] for t in tests}
    overall = "error" if "error" in statuses else ("fail" if "fail" in statuses or not tests else "pass")
    result = {"version": 1, "status": overall, "max_score": float(sum((Decimal(str(r["max"])) for r in results),
                                                                        Decimal(0))), "tests": tests}
    return result, base64.b64encode(json.dumps(result).encode()).decode()


def write_reports(src, results, next_line=""):
    folder = REPORTS / tree_name(src)
    folder.mkdir(parents=True, exist_ok=True)
    entries = test_entries(results)
    (KIT / folder / "results.json").write_text(json.dumps(gradescope_results(results, next_line), indent=2) + "\n")

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
    if private_tests():
        print(f"  (private tests from {private_tests()} are counted: each lesson's points are shared\n"
              f"   among all its tests, private ones included)\n")
    if not show_failures:
        return
    for r in results:
        if r["compile_error"]:
            print(f"--- {r['lesson']}: does not compile (0 points for this lesson only):\n{r['compile_error']}\n")
            continue
        failed = [t for t in r["tests"] if not t["passed"]]
        for t in failed[:3]:
            print(f"--- {r['lesson']}: FAILED {t['name']}\n{t['message'].rstrip()}\n")
            if r.get("rerun"):
                print(f"rerun this test: {r['rerun']} --gtest_filter={t['name']}\n")
        if len(failed) > 3:
            print(f"    ... and {len(failed) - 3} more failing in {r['lesson']}: "
                  + ", ".join(t["name"] for t in failed[3:]) + "\n")


RESTORE = "git checkout -- tests Makefile .github exercises/*/given"


# How specific a failure's cause is, from the words the tests compute from the evidence:
# a deadlock or a spin says exactly where to look, SIGPIPE and leaks nearly so, an output
# that differs says least. The learner is sent to the most specific one first.
SPECIFICITY = (
    ("whose write end is still open", 0), ("deadlock", 0), ("busy loop", 1), ("spinning", 1),
    ("is running, not blocked", 1), ("SIGPIPE", 2), ("left behind", 3), ("zombie", 3),
    ("still open", 3), ("never waited", 3), ("crashed", 4), ("timed out", 4), ("never ended", 4),
    ("is main still the stub", 9), ("still the stub", 9), ("nothing was printed", 9), ("nothing arrived", 9),
)


def specificity(test):
    """Lower is more specific (see SPECIFICITY); 5 for a plain mismatch of output."""
    message = test.get("message") or ""
    cause = message[message.find("likely cause:"):] if "likely cause:" in message else message
    # Only the cause itself: the section link below it ("read: ...#the-deadlock-of-...") names
    # the topic of the test, not what happened.
    cause = re.split(r"^(?:read|reproduce):", cause, maxsplit=1, flags=re.M)[0]
    ranks = [rank for words, rank in SPECIFICITY if words in cause]
    return min(ranks) if ranks else 5


def first_failure(tests):
    """The failing test whose cause is most specific (ties: the first in the binary's order)."""
    failed = [t for t in tests if not t["passed"]]
    return min(failed, key=specificity) if failed else None


def section_of(message):
    """The lesson section a failure message links (its 'read:' line), or ''."""
    m = re.search(r"^read:\s+(\S+)", message or "", re.M)
    return m.group(1) if m else ""


def next_step(results):
    if any(r["lesson"] == INTEGRITY for r in results):
        return f"Next: restore the kit's own files ({RESTORE}), then run: make grade"
    for r in results:
        num = r["lesson"][:2]
        if r["compile_error"]:
            return f"Next: make exercises/{r['lesson']}/ compile, then run: make grade LESSON={num}"
        failed = first_failure(r["tests"])
        if failed:
            read = section_of(failed["message"])
            return (f"Next: lesson {r['lesson']}: make {failed['name']} pass"
                    + (f" (read {read})" if read else " (its message above says what to read)")
                    + f", then run: make grade LESSON={num}")
    return "Next: every graded lesson has full marks. Well done!"


INTEGRITY = "kit-integrity"
TAMPERED = ("the kit's own tests or grader differ from the hand-out, so this score cannot be trusted. "
            "Changed: {files}. Restore them (" + RESTORE + ") and grade again.")


def integrity_result(changed):
    """The tamper check as one more 'lesson' of 0 points, so every report shows it."""
    return {"lesson": INTEGRITY, "max": 0.0, "points": 0.0, "compile_error": None,
            "tests": [{"name": "KitIntegrity.TestsAndGraderAreAsHandedOut", "passed": False,
                       "message": TAMPERED.format(files=", ".join(changed))}]}


def cmd_grade(args):
    lessons = pick_lessons(args.lesson)
    if args.shake and not (KIT / SHAKE_LIB).exists():
        sys.exit(f"grade.py: {SHAKE_LIB} is missing: use `make grade SHAKE=N`, which builds it")
    results = grade_tree(args.src, lessons, shake=args.shake)
    changed = changed_kit_files()
    if changed:
        results.append(integrity_result(changed))
    print_table(args.src, results)
    folder = write_reports(args.src, results, next_step(results))
    print(f"Reports: {folder}/junit.xml and {folder}/results.json")
    print(isolation()["note"][0].upper() + isolation()["note"][1:] + ".")
    if changed:
        print("\nWARNING: " + TAMPERED.format(files=", ".join(changed)))
    print(next_step(results))
    full = all(r["points"] >= r["max"] for r in results) and not changed
    return 0 if full else 1


CLASSROOM_OUT = REPORTS / "classroom"


def cmd_classroom(args):
    """One GitHub Classroom step: grades one lesson of exercises/, prints the table (the
    step's log), and sets the step output `result` for the reporter: appended to
    $GITHUB_OUTPUT when the runner sets it, and always written to
    build/grade/classroom/NN-topic.result. Exit 0 whenever a grade was given, partial or
    not (the reporter fails the job on a failed test); needs only PATH and HOME."""
    lessons = pick_lessons(args.lesson)
    if len(lessons) != 1:
        sys.exit("grade.py: classroom grades one lesson: --lesson NN")
    results = grade_tree("exercises", lessons)
    changed = changed_kit_files()
    if changed:
        results.append(integrity_result(changed))
    print_table("exercises", results)
    print(next_step(results))
    _, encoded = classroom_result(results)
    (KIT / CLASSROOM_OUT).mkdir(parents=True, exist_ok=True)
    (KIT / CLASSROOM_OUT / f"{lessons[0]}.result").write_text(encoded + "\n")
    if os.environ.get("GITHUB_OUTPUT"):
        with open(os.environ["GITHUB_OUTPUT"], "a") as out:
            out.write(f"result={encoded}\n")
    print(f"GitHub Classroom result: {sum(r['points'] for r in results):g} of "
          f"{sum(r['max'] for r in results):g} points ({CLASSROOM_OUT / (lessons[0] + '.result')})")
    return 0


def __getattr__(name):
    """The catalogue's helpers moved to tests/kit/kit_test.py; callers that still ask this
    module for them (grade.apply_patch, grade.read_mistake, grade.PatchDoesNotApply) get them
    from there."""
    if name in ("apply_patch", "read_mistake", "PatchDoesNotApply"):
        sys.path.insert(0, str(KIT / "tests" / "kit"))
        import kit_test
        return getattr(kit_test, name)
    raise AttributeError(f"module 'grade' has no attribute {name!r}")


def main():
    os.chdir(KIT)
    become_subreaper()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade one tree")
    g.add_argument("--src", default="exercises")
    g.add_argument("--lesson")
    g.add_argument("--shake", type=int, default=0, help="run the tests N times with random delays (Linux)")
    c = sub.add_parser("classroom", help="one GitHub Classroom step: grade one lesson, set the step output `result`")
    c.add_argument("--lesson", required=True)
    args = parser.parse_args()
    sys.exit({"grade": cmd_grade, "classroom": cmd_classroom}[args.command](args))


if __name__ == "__main__":
    main()
