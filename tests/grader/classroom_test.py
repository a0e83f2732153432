#!/usr/bin/env python3
"""classroom_test.py - the classroom and self-paced tools work, in the kit and in a hand-out.

Usage: python3 tests/grader/classroom_test.py     (make test runs it)

Covers: the GitHub Classroom files (valid, every lesson with the grader's points, every
command works), the Gradescope autograder run locally against a fake submission laid out as
Gradescope does, the student hand-out (no solutions, fresh history, `make grade` works, a
solved lesson scores full marks, an edited test is reported), private tests, and the
plain-text output of progress, hint and watch.
"""
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
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(KIT / "tests" / "grader"))
import grade  # noqa: E402


def copy_lesson(src, dest):
    """Copies like a learner's save does: fresh modification times, so make rebuilds."""
    shutil.copytree(src, dest, dirs_exist_ok=True, copy_function=shutil.copyfile)

ENV = {k: v for k, v in os.environ.items() if k not in ("SRC", "LESSON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def sh(cmd, cwd=KIT, env=None, timeout=900):
    r = subprocess.run(cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout, shell=True)
    return r.returncode, r.stdout + r.stderr


class Classroom(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="pipeworks-classroom-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_github_classroom_files_match_the_grader_and_their_commands_work(self):
        rc, out = sh(f"{sys.executable} tests/grader/classroom.py github --check")
        self.assertEqual(rc, 0, out)
        tests = json.loads((KIT / ".github/classroom/autograding.json").read_text())["tests"]
        points = grade.points_table()
        self.assertEqual([t["name"] for t in tests], grade.all_lessons())
        for t in tests:
            self.assertEqual(t["points"], points[t["name"]], t["name"])
            self.assertGreater(t["timeout"], 0)
            # The same command on the reference solutions must work and give full marks.
            rc, out = sh(f"SRC=solutions {t['run']}")
            self.assertEqual(rc, 0, f"`{t['run']}` on the solutions failed:\n{out}")
        workflow = (KIT / ".github/workflows/classroom.yml").read_text()
        for t in tests:
            self.assertIn(f"command: {t['run']}", workflow)

    def test_gradescope_autograder_grades_a_submission(self):
        rc, out = sh("make -s gradescope")
        self.assertEqual(rc, 0, out)
        # Gradescope's layout: the zip is unpacked in /autograder/source, run_autograder is
        # copied to /autograder/, the student's repository is in /autograder/submission.
        root = self.tmp / "autograder"
        with zipfile.ZipFile(KIT / "build/gradescope/autograder.zip") as z:
            z.extractall(root / "source")
            names = z.namelist()
        self.assertIn("setup.sh", names)
        self.assertIn("run_autograder", names)
        self.assertFalse(any(n.startswith("solutions/") for n in names), "the zip must not ship solutions")
        shutil.copyfile(root / "source/run_autograder", root / "run_autograder")
        # A fake submission: lesson 01 solved, the rest still the stubs.
        submission = root / "submission"
        shutil.copytree(KIT / "exercises", submission / "exercises")
        copy_lesson(KIT / "solutions/01-pipe-echo", submission / "exercises/01-pipe-echo")
        env = dict(ENV, AUTOGRADER_ROOT=str(root))
        rc, out = sh(f"bash {root / 'run_autograder'}", cwd=root, env=env)
        self.assertEqual(rc, 0, out)
        results = json.loads((root / "results/results.json").read_text())
        lesson01 = [t for t in results["tests"] if t["name"].startswith("01-pipe-echo: ")]
        self.assertTrue(lesson01 and all(t["score"] == t["max_score"] for t in lesson01), results)
        # Only lesson 01 was solved: the score is its points and what the other stubs earn.
        self.assertAlmostEqual(sum(t["score"] for t in lesson01), grade.points_table()["01-pipe-echo"], places=2)
        self.assertAlmostEqual(results["score"], sum(t["score"] for t in results["tests"]), places=1)
        if len(grade.all_lessons()) > 1:
            self.assertLess(results["score"], results["max_score"])

    def test_handout_has_no_solutions_and_grades_out_of_the_box(self):
        dest = self.tmp / "student"
        rc, out = sh(f"make -s handout DEST={dest}")
        self.assertEqual(rc, 0, out)
        self.assertFalse((dest / "solutions").exists())
        self.assertEqual(list(dest.glob("tests/*/mistakes")), [])
        self.assertTrue((dest / "tests/handout.sha256").exists())
        rc, log = sh("git log --oneline", cwd=dest)
        self.assertEqual(len(log.splitlines()), 1, log)
        rc, out = sh("make grade LESSON=01", cwd=dest)
        self.assertEqual(rc, 2, out)  # make's status when grade.py exits 1: not full marks
        self.assertRegex(out, r"01-pipe-echo\s+0/\d+")
        copy_lesson(KIT / "solutions/01-pipe-echo", dest / "exercises/01-pipe-echo")
        rc, out = sh("make grade LESSON=01", cwd=dest)
        self.assertEqual(rc, 0, out)
        rc, out = sh("make progress", cwd=dest)
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, r"01-pipe-echo\s+done")
        rc, out = sh("make hint LESSON=02", cwd=dest)
        self.assertEqual(rc, 0, out)
        self.assertIn("Hint 1 of", out)
        rc, out = sh("make test", cwd=dest)
        self.assertNotEqual(rc, 0)
        self.assertIn("student hand-out", out)
        # A learner who edits the kit's tests is reported, not trusted.
        test_file = dest / "tests/01-pipe-echo/pipe_echo_test.cpp"
        test_file.write_text(test_file.read_text() + "\n// edited\n")
        rc, out = sh("make grade LESSON=01", cwd=dest)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("cannot be trusted", out)
        self.assertIn("tests/01-pipe-echo/pipe_echo_test.cpp", out)

    def test_private_tests_are_picked_up_and_count(self):
        private = self.tmp / "private" / "01-pipe-echo"
        private.mkdir(parents=True)
        (private / "extra_test.cpp").write_text(
            '#include <gtest/gtest.h>\n#include "lesson.hpp"\n'
            'TEST(PrivatePipeEcho, InstructorsExtraCheck) {\n'
            '    pw::RunResult r = pw::run({pw::program("pipe_echo"), "private"});\n'
            '    EXPECT_EQ(r.out, "not what it prints\\n");\n}\n')
        env = dict(ENV, PIPEWORKS_PRIVATE_TESTS=str(self.tmp / "private"))
        rc, out = sh("make grade LESSON=01 SRC=solutions", env=env)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("PrivatePipeEcho.InstructorsExtraCheck", out)
        m = re.search(r"01-pipe-echo\s+(\d+)/(\d+)", out)
        self.assertTrue(m and int(m.group(1)) == int(m.group(2)) - 1, out)  # all but the private test

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
