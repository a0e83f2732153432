#!/usr/bin/env python3
"""classroom_test.py - the classroom and self-paced tools work, in the kit and in a hand-out.

Usage: python3 tests/kit/classroom_test.py     (make test runs it)

Covers: points (a lesson without a line is an error; shares add up exactly); the GitHub
Classroom workflow (parsed: known actions, declared inputs, <ID>_RESULTS for every runner,
one step per lesson); a hand-out of lessons 01-02 (only those lessons everywhere, nothing
advertised that it lacks, every shown command of its lessons runs, Step 0 included); three
submissions (perfect, half done, one whose pipe_echo hangs) graded by `make grade`, by the
GitHub Classroom step in command-grader's stripped environment, and by Gradescope's
run_autograder, agreeing; a hidden private test inside the Gradescope zip; `make class` on
the three, never running a submission's Makefile; the tamper report; and the plain-text
output of progress, hint and watch.
"""
import base64
import concurrent.futures
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import zipfile
from decimal import Decimal
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(KIT / "tests" / "grader"))
import classroom  # noqa: E402
import grade  # noqa: E402
import reuse  # noqa: E402


def kit_sources():
    """The kit's own files, build/ and .git/ left out. Other checks make and delete their
    scratch folders under build/ meanwhile, so walking it would race them (a listing whose
    folder vanished mid-walk); os.walk prunes before it descends."""
    found = []
    for folder, dirs, files in os.walk(KIT):
        dirs[:] = [d for d in dirs if not (Path(folder) == KIT and d in ("build", ".git"))]
        found += [Path(folder) / f for f in files]
    return found


def copy_lesson(src, dest):
    """Copies like a learner's save does: fresh modification times, so make rebuilds."""
    shutil.copytree(src, dest, dirs_exist_ok=True, copy_function=shutil.copyfile)

# Every copy of the kit below compiles an identical file once (where ccache is installed):
# Gradescope's run_autograder starts from an empty build/ for each submission.
ENV = reuse.checks_env()


def sh(cmd, cwd=KIT, env=None, timeout=3600):  # ends only a hang
    r = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout, shell=True)
    return r.returncode, r.stdout + r.stderr


STRIPPED = ("PATH", "HOME", "FORCE_COLOR")  # what autograding-command-grader passes to a command
GRADESCOPE_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                   "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}  # Gradescope's spec
GRADESCOPE_TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                        "tags", "visibility", "extra_data"}


# ---- a tiny parser for the YAML subset classroom.py writes ---------------------------------

def _scalar(text):
    if text.startswith('"'):
        return json.loads(text)  # the double-quoted scalars it writes are JSON strings
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _block(lines, i, indent):
    if lines[i][1].startswith("- "):
        out = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            rest = lines[i][1][2:]
            if re.match(r"^[\w.-]+:( |$)", rest):  # a mapping that starts on the dash's line
                lines[i] = (indent + 2, rest)
                item, i = _block(lines, i, indent + 2)
            else:
                item, i = _scalar(rest), i + 1
            out.append(item)
        return out, i
    out = {}
    while i < len(lines) and lines[i][0] == indent:
        key, colon, rest = lines[i][1].partition(":")
        if not colon:
            raise ValueError(f"not a mapping line: {lines[i][1]!r}")
        rest = rest.strip()
        if rest:
            out[key], i = _scalar(rest), i + 1
        else:
            out[key], i = _block(lines, i + 1, lines[i + 1][0])
    return out, i


def parse_yaml(text):
    lines = [(len(l) - len(l.lstrip(" ")), l.strip()) for l in text.splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    value, end = _block(lines, 0, lines[0][0])
    if end != len(lines):
        raise ValueError(f"unparsed from line {end}: {lines[end]}")
    return value


# ---- INSTRUCTORS.md's "Running a class, in order": each command is one these tests run ---------

GUIDE_PLACES = {"../pipeworks-lab": "handout", "$HOME/private-tests": "private", "../submissions": "repos"}
# Run elsewhere: make test's section 2 grades every lesson's solution (grade.py test).
GUIDE_RUN_BY_MAKE_TEST = {"make grade SRC=solutions"}


def listed_tests(slug, root):
    """How many tests a report of `slug` lists: googletest's own list, from the test binary a
    grading in `root` built, where a parameterised test counts once per instance. (Not the
    kit's own build/solutions, which another check may be relinking.)"""
    binary = root / grade.test_binary(grade.BUILD / "exercises", slug)
    out = subprocess.run([str(binary), "--gtest_list_tests"], capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line.startswith("  "))


def guide_commands():
    text = (KIT / "INSTRUCTORS.md").read_text()
    walk = text[text.index("## Running a class, in order"):]
    walk = walk[:walk.index("\n## ", 5)]
    return [line.strip() for block in re.findall(r"```sh\n(.*?)```", walk, re.S)
            for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]


def guide(part, tmp=None):
    """The one command of the guide's walk-through that contains `part`, with its example
    places mapped into tmp."""
    found = [c for c in guide_commands() if part in c]
    if len(found) != 1:
        raise AssertionError(f"INSTRUCTORS.md's walk-through should show one command with {part!r}: {found}")
    cmd = found[0]
    for place, name in GUIDE_PLACES.items():
        if tmp is not None:
            cmd = cmd.replace(place, str(tmp / name))
    return cmd


def decode_result(encoded):
    return json.loads(base64.b64decode(encoded.strip()).decode())


class Points(unittest.TestCase):
    def test_a_lesson_without_a_points_line_is_an_error_that_names_it(self):
        with self.assertRaises(SystemExit) as e:
            grade.lesson_points("01-pipe-echo", {"02-random-byte": 15.0})
        self.assertIn("01-pipe-echo", str(e.exception))
        self.assertIn("tests/grader/points.conf", str(e.exception))

    def test_shares_add_up_to_exactly_the_lesson_points(self):
        for points, count in ((10, 12), (15, 23), (20, 7), (100, 3), (10, 13), (0, 1)):
            parts = grade.shares(points, count)
            self.assertEqual(len(parts), count)
            self.assertEqual(sum(parts, Decimal(0)), Decimal(points), (points, count, parts))
            self.assertLessEqual(max(parts) - min(parts), Decimal("0.01"))
        # In results.json as written (floats in JSON), read back exactly:
        entries = grade.test_entries([{"lesson": "01-pipe-echo", "max": 10.0, "points": 0, "compile_error": None,
                                       "tests": [{"name": f"T.t{i}", "passed": True, "message": ""}
                                                 for i in range(12)]}])
        text = json.dumps([e["max_score"] for e in entries])
        self.assertEqual(sum(json.loads(text, parse_float=Decimal)), Decimal(10))

    def test_a_partial_result_decodes_to_the_points_earned(self):
        tests = [{"name": f"Suite.Test{i}", "passed": i not in (3, 7), "message": "" if i not in (3, 7) else "no"}
                 for i in range(12)]
        r = {"lesson": "01-pipe-echo", "max": 10.0, "compile_error": None, "tests": tests,
             "points": grade.earned(10.0, tests)}
        result, encoded = grade.classroom_result([r])
        decoded = decode_result(encoded)
        self.assertEqual(decoded, result)
        self.assertEqual(decoded["version"], 1)
        self.assertEqual(decoded["status"], "fail")
        self.assertEqual(decoded["max_score"], 10.0)
        self.assertEqual(sum(Decimal(str(t["score"])) for t in decoded["tests"]), Decimal(str(r["points"])))
        self.assertEqual(r["points"], 8.33)
        for t in decoded["tests"]:
            self.assertEqual(set(t), {"name", "status", "score", "message", "line_no", "duration"})
            self.assertIn(t["status"], ("pass", "fail", "error"))


class Workflow(unittest.TestCase):
    def check_workflow(self, text, lessons):
        wf = parse_yaml(text)
        self.assertEqual(wf, classroom.workflow(lessons), "the YAML does not say what classroom.py meant")
        self.assertEqual(list(wf["jobs"]), ["run-autograding-tests"])  # GitHub Classroom's own job id
        steps = wf["jobs"]["run-autograding-tests"]["steps"]
        for step in steps:
            if "uses" in step:
                self.assertIn(step["uses"], classroom.KNOWN_ACTIONS, f"unknown action {step['uses']}")
                for key in step.get("with", {}):
                    self.assertIn(key, classroom.KNOWN_ACTIONS[step["uses"]],
                                  f"{step['uses']} declares no input {key!r}")
            else:
                self.assertIn("run", step)
        reporters = [s for s in steps if s.get("uses") == classroom.REPORTER]
        self.assertEqual(len(reporters), 1)
        runners = reporters[0]["with"]["runners"].split(",")
        self.assertRegex(reporters[0]["with"]["runners"], r"^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$")  # the reporter's own check
        graded = [s for s in steps if "id" in s]
        self.assertEqual([s["id"] for s in graded], runners)
        self.assertEqual([s["name"] for s in graded], lessons, "one step per lesson, and only those")
        for s in graded:
            self.assertEqual(reporters[0]["env"][f"{s['id'].upper()}_RESULTS"], f"${{{{steps.{s['id']}.outputs.result}}}}")
            self.assertEqual(s["run"], classroom.classroom_step_command(s["name"]))
            self.assertGreater(s["timeout-minutes"], 0)
        self.assertEqual(set(reporters[0]["env"]), {f"{r.upper()}_RESULTS" for r in runners})

    def test_the_kits_workflow_is_up_to_date_and_uses_only_known_actions_and_inputs(self):
        rc, out = sh(f"{sys.executable} tests/grader/classroom.py github --check")
        self.assertEqual(rc, 0, out)
        self.check_workflow((KIT / classroom.WORKFLOW).read_text(), grade.all_lessons())

    def test_the_parser_is_strict(self):
        with self.assertRaises(ValueError):
            parse_yaml("jobs:\n  build\n")
        self.assertEqual(parse_yaml('a:\n  - x\n  - k: "1"\n    v: 2\n'), {"a": ["x", {"k": "1", "v": 2}]})


# A correct pipe_echo with a static initialiser that, while the grader runs it, walks up from
# its working folder and overwrites whatever it finds of the kit (every error ignored, so the
# program itself still behaves).
WALKING_FORGER = r"""#include <fcntl.h>
#include <unistd.h>
#include <string>
namespace {
void forge_write(const std::string& path, const std::string& text) {
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return;
    if (::write(fd, text.data(), text.size()) < 0) {}
    ::close(fd);
}
int forge() {
    std::string up;
    for (int i = 0; i < 12; ++i, up += "../") {
        forge_write(up + "tests/01-pipe-echo/pipe_echo_test.cpp", "// PIPEWORKS-" "FORGED\n");
        forge_write(up + "tests/02-random-byte/random_byte_test.cpp", "// PIPEWORKS-" "FORGED\n");
        forge_write(up + "tests/grader/points.conf", "# PIPEWORKS-" "FORGED\n01-pipe-echo 1000\n02-random-byte 1\n");
        forge_write(up + "build/exercises/02-random-byte/test/02-random-byte_test",
                    "#!/bin/sh\n# PIPEWORKS-" "FORGED\nfor a; do case $a in --gtest_output=xml:*) printf '%s' "
                    "'<testsuites><testsuite><testcase classname=\"F\" name=\"P\"/></testsuite></testsuites>' "
                    "> ${a#--gtest_output=xml:};; esac; done\n");
    }
    return 0;
}
const int forged = forge();
}  // namespace
"""


def solve(dest, slug, mistake=None, only=None):
    """Writes the reference solution of a lesson (or one file of it) into dest/exercises,
    optionally with one catalogued mistake applied."""
    for src in sorted((KIT / "solutions" / slug).iterdir()):
        if only and src.name != only:
            continue
        text = src.read_text()
        if mistake:
            patch = KIT / "tests" / slug / "mistakes" / mistake
            if grade.read_mistake(patch)["Replaces"] == src.name:
                text = grade.apply_patch(text, patch.read_text())
        (dest / "exercises" / slug / src.name).write_text(text)


class HandOutOfTwoLessons(unittest.TestCase):
    """Done-when of the class-ready kit: one hand-out of lessons 01-02, three submissions
    graded by make grade, the GitHub Classroom step (stripped environment), Gradescope's
    run_autograder and make class, all agreeing."""
    LESSONS = ["01-pipe-echo", "02-random-byte"]

    @classmethod
    def setUpClass(cls):
        cls.tmp = Path(tempfile.mkdtemp(prefix="pipeworks-handout-"))
        cls.dest = cls.tmp / "handout"
        rc, out = sh(guide("make handout", cls.tmp))
        assert rc == 0, out
        cls.zip = cls.tmp / "autograder.zip"
        shutil.copyfile(KIT / "build/gradescope/autograder.zip", cls.zip)
        # Three students, each a clone of the hand-out.
        cls.students = {}
        for name in ("perfect", "half", "hangs"):
            repo = cls.tmp / "repos" / name
            rc, out = sh(f"git clone -q {cls.dest} {repo}")
            assert rc == 0, out
            # A student who has built before: the kit's test objects, not their own files.
            # (HandOutBuiltFromNothing builds a hand-out from nothing, as a learner's first make does.)
            reuse.seed_build(repo)
            cls.students[name] = repo
        solve(cls.students["perfect"], "01-pipe-echo")
        solve(cls.students["perfect"], "02-random-byte")
        solve(cls.students["half"], "01-pipe-echo", mistake="no_trailing_newline.patch")
        solve(cls.students["half"], "02-random-byte", only="random_byte.cpp")
        solve(cls.students["hangs"], "01-pipe-echo", mistake="parent_keeps_write_end.patch")  # pipe_echo hangs
        solve(cls.students["hangs"], "02-random-byte")
        cls.points = {}  # student -> {"make grade": {...}, "classroom": {...}, "gradescope": {...}}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_1_handout_keeps_only_the_chosen_lessons_everywhere(self):
        d = self.dest
        self.assertFalse((d / "solutions").exists())
        self.assertFalse((d / "INSTRUCTORS.md").exists())
        self.assertEqual(list(d.glob("tests/*/mistakes")), [])
        self.assertEqual(sorted(p.stem for p in d.glob("lessons/[0-9][0-9]-*.md")), self.LESSONS)
        for folder in ("exercises", "tests"):
            self.assertEqual(sorted(p.name for p in (d / folder).glob("[0-9][0-9]-*")), self.LESSONS, folder)
        self.assertTrue(all(p.name.startswith(("01-", "02-")) for p in d.glob("diagrams/*")))
        self.assertEqual(sorted(grade_points(d)), self.LESSONS)
        Workflow.check_workflow(self, (d / classroom.WORKFLOW).read_text(), self.LESSONS)
        with zipfile.ZipFile(self.zip) as z:
            names = z.namelist()
        self.assertIn("setup.sh", names)
        self.assertIn("run_autograder", names)
        self.assertFalse(any(n.startswith(("solutions/", "lessons/03", "tests/03", "exercises/03")) for n in names))
        self.assertTrue(all((d / "reference" / slug).is_dir() for slug in self.LESSONS))
        rc, log = sh("git log --oneline", cwd=d)
        self.assertEqual(len(log.splitlines()), 1, log)

    def test_2_a_student_copy_advertises_nothing_it_lacks(self):
        d = self.dest
        rc, helped = sh("make -s help", cwd=d)
        self.assertEqual(rc, 0, helped)
        targets = set(re.findall(r"^  make (\S+)", helped, re.M))
        rc, out = sh(f"{sys.executable} tests/kit/editor_check.py", cwd=d)
        self.assertEqual(rc, 0, out)
        for doc in ("README.md", "lessons/README.md", "lessons/01-pipe-echo.md", "lessons/02-random-byte.md"):
            text = (d / doc).read_text()
            for word in ("INSTRUCTORS", "SRC=solutions", "solutions/", "build/solutions", "build.solutions",
                         "kit-only"):
                self.assertNotIn(word, text, f"{doc} mentions {word}")
            # (a path such as `make build/exercises/...` is a file target every copy has)
            for target in re.findall(r"`make ([a-z][a-z_.-]*)\b(?!/)", text):
                self.assertIn(target, targets, f"{doc} advertises `make {target}`, which the hand-out lacks")
            for link in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
                self.assertTrue(((d / doc).parent / link).exists(), f"{doc} links {link}, which the hand-out lacks")
        self.assertNotIn("solutions", helped)
        for gone in ("test", "handout", "gradescope", "class", "bench"):
            self.assertNotIn(gone, targets)

    def grade_by_make_and_classroom(self, repo):
        """What the student sees (make grade), then each GitHub Classroom step in the
        stripped environment command-grader would give it. -> ({make grade}, {classroom}, [decoded])"""
        rc, out = sh("make grade", cwd=repo, timeout=1800)
        by_make = lesson_points_of(repo / "build/grade/exercises/results.json")
        stripped = {k: ENV[k] for k in STRIPPED if k in ENV}
        stripped.setdefault("FORCE_COLOR", "true")
        by_classroom, decoded_all = {}, []
        for slug in self.LESSONS:
            r = subprocess.run(classroom.classroom_step_command(slug), shell=True, cwd=repo, env=stripped,
                               capture_output=True, text=True, timeout=1800)
            if r.returncode != 0:
                raise AssertionError(f"{repo.name} {slug}: the Classroom step failed:\n{r.stdout}{r.stderr}")
            decoded = decode_result((repo / "build/grade/classroom" / f"{slug}.result").read_text())
            decoded_all.append((slug, decoded))
            by_classroom[slug] = float(sum(Decimal(str(t["score"])) for t in decoded["tests"]))
        return by_make, by_classroom, decoded_all

    def test_3_three_submissions_agree_between_make_grade_classroom_and_gradescope(self):
        table = grade.points_table()
        # The hanging student waits out its timeouts: grade the students side by side.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            local = {name: pool.submit(self.grade_by_make_and_classroom, repo) for name, repo in self.students.items()}
            remote = {name: pool.submit(run_gradescope, self.zip, repo, self.tmp / f"gs-{name}")
                      for name, repo in self.students.items()}
            local = {name: f.result() for name, f in local.items()}
            remote = {name: f.result() for name, f in remote.items()}
        for name in self.students:
            by_make, by_classroom, decoded_all = local[name]
            for slug, decoded in decoded_all:
                self.assertEqual(decoded["max_score"], table[slug])
                earned = sum(Decimal(str(t["score"])) for t in decoded["tests"])
                self.assertEqual(decoded["status"], "pass" if earned == Decimal(str(table[slug])) else "fail")
            results, stdout = remote[name]
            self.assertIn("Pipeworks - grading", stdout, "the debug pane (stdout) must show the grading output")
            self.assertLessEqual(set(results), GRADESCOPE_KEYS)
            for t in results["tests"]:
                self.assertLessEqual(set(t), GRADESCOPE_TEST_KEYS)
                self.assertIn(t["status"], ("passed", "failed"))
            by_gradescope = lesson_points_of_data(results)
            self.assertEqual(by_make, by_classroom, name)
            self.assertEqual(by_make, by_gradescope, name)
            type(self).points[name] = by_make
        p = type(self).points
        self.assertEqual(p["perfect"], {s: table[s] for s in self.LESSONS})
        # Partial credit: the half-done student earns some, not all, of each lesson.
        for slug in self.LESSONS:
            self.assertTrue(0 < p["half"][slug] < table[slug], p["half"])
        self.assertTrue(0 < p["hangs"]["01-pipe-echo"] < table["01-pipe-echo"], p["hangs"])
        self.assertEqual(p["hangs"]["02-random-byte"], table["02-random-byte"])

    def test_4_gradescope_private_test_is_inside_hidden_and_resplits_the_lesson(self):
        private = self.tmp / "private" / "01-pipe-echo"
        private.mkdir(parents=True)
        (private / "extra_test.cpp").write_text(PRIVATE_TEST)
        zip_path = self.tmp / "private.zip"
        rc, out = sh(guide("make gradescope", self.tmp))
        self.assertEqual(rc, 0, out)
        self.assertIn("private tests from", out)
        shutil.copyfile(KIT / "build/gradescope/autograder.zip", zip_path)
        with zipfile.ZipFile(zip_path) as z:
            self.assertIn("private-tests/01-pipe-echo/extra_test.cpp", z.namelist())
        results, _ = run_gradescope(zip_path, self.students["perfect"], self.tmp / "gs-private")
        self.assertLessEqual(set(results), GRADESCOPE_KEYS)
        lesson01 = [t for t in results["tests"] if t["name"].startswith("01-pipe-echo: ")]
        # the kit's own tests and the private one share the lesson's points
        self.assertEqual(len(lesson01), listed_tests("01-pipe-echo", self.students["perfect"]) + 1)
        self.assertEqual(sum(Decimal(str(t["max_score"])) for t in lesson01), Decimal(10))
        hidden = [t for t in lesson01 if t["visibility"] == "hidden"]
        self.assertEqual([t["name"] for t in hidden], ["01-pipe-echo: PrivatePipeEcho.EchoesAWordItWasNotShown"])
        self.assertEqual(hidden[0]["status"], "passed")
        self.assertTrue(all(t["visibility"] == "visible" for t in results["tests"] if t not in hidden))
        self.assertEqual(Decimal(str(results["score"])), sum(Decimal(str(t["score"])) for t in results["tests"]))

    def test_5_make_class_grades_each_repository_alone_and_runs_nothing_of_it(self):
        if not type(self).points:
            self.skipTest("needs test_3's points")
        repos = self.tmp / "repos"
        # The first student graded is a forger: a correct pipe_echo that, while it runs,
        # walks up from its working folder and writes over every test source, points.conf
        # and lesson 02 test binary it finds (a shell script reporting one passed test). Its
        # Makefile would write outside its folder on any target, and it edited a test in its
        # repository too: nothing of it may be used, and the students after it must get
        # exactly what they get alone (test_3's points).
        forger = repos / "a-forger"
        rc, out = sh(f"git clone -q {self.dest} {forger}")
        self.assertEqual(rc, 0, out)
        (forger / "exercises/01-pipe-echo/pipe_echo.cpp").write_text(
            WALKING_FORGER + (KIT / "solutions/01-pipe-echo/pipe_echo.cpp").read_text())
        escape = self.tmp / "escaped-from-a-submission"
        (forger / "Makefile").write_text(f"%:\n\ttouch {escape}\n.DEFAULT:\n\ttouch {escape}\n")
        edited = forger / "tests/01-pipe-echo/pipe_echo_test.cpp"
        edited.write_text(edited.read_text() + "\n// made easier\n")
        (self.students["hangs"] / "Makefile").write_text(f"%:\n\ttouch {escape}\n.DEFAULT:\n\ttouch {escape}\n")
        edited = self.students["hangs"] / "tests/01-pipe-echo/pipe_echo_test.cpp"
        edited.write_text(edited.read_text() + "\n// made easier\n")
        for repo in self.students.values():
            shutil.rmtree(repo / "build", ignore_errors=True)
        out_dir = KIT / "build/class"
        shutil.rmtree(out_dir, ignore_errors=True)
        rc, out = sh(guide("make class", self.tmp), timeout=3600)
        self.assertEqual(rc, 0, out)
        self.assertFalse(escape.exists(), "the submission's Makefile ran")
        with (out_dir / "class.csv").open() as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([r["student"] for r in rows], ["a-forger", "half", "hangs", "perfect"])
        table = grade.points_table()
        forged = rows.pop(0)
        self.assertEqual(float(forged["01-pipe-echo"]), table["01-pipe-echo"], forged)  # its real work
        self.assertLess(float(forged["02-random-byte"]), table["02-random-byte"], forged)  # the stub: no forged marks
        self.assertIn("Makefile", forged["note"])
        for r in rows:
            expected = type(self).points[r["student"]]
            for slug in self.LESSONS:
                self.assertEqual(float(r[slug]), expected[slug], r)
            self.assertAlmostEqual(float(r["total"]), sum(expected.values()), places=6)
        note = next(r["note"] for r in rows if r["student"] == "hangs")
        self.assertIn("Makefile", note)
        self.assertIn("tests/01-pipe-echo/pipe_echo_test.cpp", note)
        self.assertEqual(next(r["note"] for r in rows if r["student"] == "perfect"), "")
        self.assertIn("| perfect |", (out_dir / "class.md").read_text())
        forged_files = [str(p) for p in kit_sources() if p.suffix in (".cpp", ".conf", ".py")
                        and b"PIPEWORKS-" b"FORGED" in p.read_bytes()
                        and p.name != "classroom_test.py" and p.name != "forgery_test.py"]
        self.assertEqual(forged_files, [], "the forger's writes landed in the kit")
        self.assertEqual(grade.descendants(os.getpid()), [], "make class left processes running")


    def test_6_a_student_who_edits_the_tests_is_told_so_plainly(self):
        repo = self.tmp / "tamper"
        rc, out = sh(f"git clone -q {self.dest} {repo}")
        self.assertEqual(rc, 0, out)
        reuse.seed_build(repo)
        # The guide's "try it as a student", in a clone of the hand-out.
        rc, out = sh(guide("make reference", self.tmp).replace(str(self.dest), str(repo)))
        self.assertEqual(rc, 2, out)  # make's status when grade.py exits 1: not full marks yet
        self.assertRegex(out, rf"01-pipe-echo\s+0/{listed_tests('01-pipe-echo', repo)}\b")
        self.assertTrue((repo / "build/reference/01-pipe-echo/bin/pipe_echo").exists())
        rc, out = sh("make test", cwd=repo)
        self.assertNotEqual(rc, 0)
        self.assertIn("student hand-out", out)
        test_file = repo / "tests/01-pipe-echo/pipe_echo_test.cpp"
        test_file.write_text(test_file.read_text() + "\n// edited\n")
        rc, out = sh("make grade LESSON=01", cwd=repo)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("cannot be trusted", out)
        self.assertIn("tests/01-pipe-echo/pipe_echo_test.cpp", out)
        self.assertIn("Next: restore the kit's own files (git checkout -- tests Makefile .github exercises/*/given)", out)
        self.assertNotIn("rerun this test: git status", out)
        self.assertNotIn("LESSON=ki", out)


    def test_7_every_command_of_the_instructors_walk_through_is_run_by_these_tests(self):
        used = {guide(part) for part in ("make handout", "make reference", "make gradescope", "make class",
                                         "make grade LESSON=01 SRC=solutions", "grade.py classroom")}
        self.assertEqual(guide("grade.py classroom"), classroom.classroom_step_command("01-pipe-echo"))
        self.assertEqual(set(guide_commands()) - used, GUIDE_RUN_BY_MAKE_TEST)


PRIVATE_TEST = ('#include <gtest/gtest.h>\n#include "lesson.hpp"\n'
                'TEST(PrivatePipeEcho, EchoesAWordItWasNotShown) {\n'
                '    pw::RunResult r = pw::run({pw::program("pipe_echo"), "private"});\n'
                '    EXPECT_EQ(r.out, "private\\n");\n}\n')


def grade_points(root):
    return {l.split()[0]: float(l.split()[1]) for l in (root / "tests/grader/points.conf").read_text().splitlines()
            if l.split("#")[0].strip()}


def lesson_points_of_data(results):
    out = {}
    for t in results["tests"]:
        slug = t["name"].split(": ", 1)[0]
        out[slug] = out.get(slug, Decimal(0)) + Decimal(str(t["score"]))
    return {k: float(v) for k, v in out.items()}


def lesson_points_of(path):
    return lesson_points_of_data(json.loads(path.read_text()))


def run_gradescope(zip_path, submission, root):
    """Gradescope's layout: its image of the zip in source/ (setup.sh run there),
    run_autograder copied beside it, the student's repository in submission/."""
    reuse.gradescope_image(zip_path, root)
    shutil.copyfile(root / "source/run_autograder", root / "run_autograder")
    shutil.copytree(submission, root / "submission", ignore=shutil.ignore_patterns("build"))
    rc, out = sh(f"bash {root / 'run_autograder'}", cwd=root, env=dict(ENV, AUTOGRADER_ROOT=str(root)), timeout=1800)
    assert rc == 0, out
    results = json.loads((root / "results/results.json").read_text())
    shutil.rmtree(root, ignore_errors=True)
    return results, out


class HandOutBuiltFromNothing(unittest.TestCase):
    """A learner's first commands in a fresh hand-out of lesson 01, nothing built and
    nothing seeded: Step 0 (`make -s LESSON=01` builds the support library, the lesson's
    tests, its stub and the learner tools from nothing) and every command the lesson shows.
    Every lesson's Step 0 builds by the same rules (a later lesson adds only its own test
    files), and every lesson's commands run in HandOutOfEveryLesson: one cold build is what
    only this check proves."""

    def test_every_shown_command_of_the_first_lesson_works_in_a_fresh_handout(self):
        tmp = Path(tempfile.mkdtemp(prefix="pipeworks-handout-cold-"))
        try:
            dest = tmp / "handout"
            rc, out = sh(f"make -s handout DEST={dest} LESSONS=01 ZIP={tmp / 'autograder.zip'}")
            self.assertEqual(rc, 0, out)
            rc, out = sh(f"{sys.executable} tests/kit/lessons_check.py --only console", cwd=dest)
            self.assertEqual(rc, 0, out)
            self.assertIn("1 checked, 0 problems", out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class HandOutOfEveryLesson(unittest.TestCase):
    """A learner in a hand-out of the whole kit runs every command every lesson shows
    (Step 0, See it, Watch it, the stub's grade) and sees what the lesson says."""

    def test_every_shown_command_of_every_lesson_works_in_a_full_handout(self):
        tmp = Path(tempfile.mkdtemp(prefix="pipeworks-handout-all-"))
        try:
            dest = tmp / "handout"
            # Its Gradescope zip beside it: build/gradescope/ is HandOutOfTwoLessons', which may
            # run at the same time and reads back the zip its own hand-out wrote.
            rc, out = sh(f"make -s handout DEST={dest} ZIP={tmp / 'autograder.zip'}", timeout=1800)
            self.assertEqual(rc, 0, out)
            self.assertFalse((dest / "solutions").exists())
            # The kit's own objects of identical test sources (compiled with -Werror by the kit's
            # build, so silent): each lesson's `make -s LESSON=NN` builds the learner's side.
            # Lesson 01 is built from nothing in HandOutBuiltFromNothing.
            reuse.seed_build(dest)
            rc, out = sh(f"{sys.executable} tests/kit/lessons_check.py --only console", cwd=dest, timeout=1800)
            self.assertEqual(rc, 0, out)
            self.assertIn(f"{len(grade.all_lessons())} checked, 0 problems", out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class Classroom(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="pipeworks-classroom-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_private_tests_are_picked_up_and_count(self):
        private = self.tmp / "private" / "01-pipe-echo"
        private.mkdir(parents=True)
        (private / "extra_test.cpp").write_text(
            '#include <gtest/gtest.h>\n#include "lesson.hpp"\n'
            'TEST(PrivatePipeEcho, InstructorsExtraCheck) {\n'
            '    pw::RunResult r = pw::run({pw::program("pipe_echo"), "private"});\n'
            '    EXPECT_EQ(r.out, "not what it prints\\n");\n}\n')
        rc, out = sh(guide("make grade LESSON=01 SRC=solutions", self.tmp))
        env = dict(ENV, PIPEWORKS_PRIVATE_TESTS=str(self.tmp / "private"))
        self.assertNotEqual(rc, 0, out)
        self.assertIn("PrivatePipeEcho.InstructorsExtraCheck", out)
        m = re.search(r"01-pipe-echo\s+(\d+)/(\d+)", out)
        self.assertTrue(m and int(m.group(1)) == int(m.group(2)) - 1, out)  # all but the private test
        shares = int(m.group(2))
        self.assertIn("private ones included", out)  # the re-split is said, not silent
        # The private test takes its share of the lesson's 10 points: one share more, adding up
        # to exactly 10, and the failed one is what the solutions lose. Hidden by default.
        results = json.loads((KIT / "build/grade/solutions/results.json").read_text())
        lesson = [t for t in results["tests"] if t["name"].startswith("01-pipe-echo: ")]
        self.assertEqual(len(lesson), shares)
        self.assertEqual(sum(Decimal(str(t["max_score"])) for t in lesson), Decimal(10))
        private_entry = next(t for t in lesson if "PrivatePipeEcho" in t["name"])
        self.assertEqual(private_entry["visibility"], "hidden")
        self.assertEqual(Decimal(str(results["score"])), Decimal(10) - Decimal(str(private_entry["max_score"])))
        # The one place to change it: visibility.conf in the private tests' folder.
        (self.tmp / "private" / "visibility.conf").write_text("* after_published\n")
        sh("make grade LESSON=01 SRC=solutions", env=env)
        results = json.loads((KIT / "build/grade/solutions/results.json").read_text())
        self.assertEqual(next(t for t in results["tests"] if "PrivatePipeEcho" in t["name"])["visibility"],
                         "after_published")

    def test_two_graders_at_once_never_share_a_run_uid(self):
        # A grader sweeps (kills) every process of its run uid when a grading ends. Two at once
        # (make class beside a student's make grade, make test's checks side by side) must hold
        # different uids, even when their pids are equal modulo the uid range, as this second
        # one pretends: a shared uid once killed make test's shaken runs mid-test.
        mine = grade.run_uid()
        code = (f"import os, sys; sys.path.insert(0, sys.argv[1]); import grade; "
                f"os.getpid = lambda: {os.getpid()}; print(grade.run_uid())")
        env = {k: v for k, v in ENV.items() if k != "PIPEWORKS_RUN_UID"}
        r = subprocess.run([sys.executable, "-c", code, str(KIT / "tests" / "grader")], env=env,
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotEqual(int(r.stdout), mine, "a second grader got this grader's run uid")

    def test_a_tree_outside_the_kit_is_graded_like_one_inside(self):
        # An instructor grades a student's folder where it lies: make grade SRC=<any folder>.
        work = self.tmp / "student-work"
        shutil.copytree(KIT / "solutions" / "01-pipe-echo", work / "01-pipe-echo")
        rc, out = sh(f"make grade LESSON=01 SRC={work}")
        self.assertEqual(rc, 0, out)
        full = grade.points_table()["01-pipe-echo"]
        self.assertRegex(out, rf"01-pipe-echo\s+(\d+)/\1\s+{full:g} / {full:g}", out)  # every test, full marks
        self.assertEqual(sorted(p.name for p in work.iterdir()), ["01-pipe-echo"], "grading wrote into the tree")

    def test_progress_is_plain_text_when_not_a_terminal(self):
        rc, out = sh("make progress")
        self.assertEqual(rc, 0, out)
        self.assertNotIn("\033[", out)
        for slug in grade.all_lessons():
            self.assertIn(slug, out)
        self.assertIn("Next: ", out)

    def test_hint_gives_one_more_each_time(self):
        sh("make hint LESSON=01 RESET=1")
        rc1, first = sh("make hint LESSON=01")
        rc2, second = sh("make hint LESSON=01")
        sh("make hint LESSON=01 RESET=1")
        self.assertEqual((rc1, rc2), (0, 0))
        self.assertIn("Hint 1 of", first)
        self.assertNotIn("Hint 2 of", first)
        self.assertIn("Hint 2 of", second)

    def test_watch_regrades_when_a_file_is_saved(self):
        proc = subprocess.Popen([sys.executable, "tests/grader/classroom.py", "watch", "--lesson", "01", "--cycles", "2",
                                 "--poll"], cwd=KIT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            seen = ""
            while "[watch 1]" not in seen:
                line = proc.stdout.readline()
                if not line:
                    break
                seen += line
            self.assertIn("[watch 1]", seen)
            stub = KIT / "exercises/01-pipe-echo/pipe_echo.cpp"
            os.utime(stub)  # "save" the file
            out, _ = proc.communicate(timeout=300)
            self.assertEqual(proc.returncode, 0, seen + out)
            self.assertIn("[watch 2]", out)
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
