#!/usr/bin/env python3
"""checks_test.py - the kit's checkers must be able to fail.

Usage: python3 tests/kit/checks_test.py     (make test runs it)

Each test makes a scratch copy of the kit, breaks ONE thing the way a kit author might
(a lesson's shown output drifts, a heading is renamed under a test's link, a solution is
badly formatted, the dev container's packages drift from CI's), runs the checker on the
copy, and requires it to fail naming the lesson/file, line and difference.
"""
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

KIT = Path(__file__).resolve().parents[2]
CHECKS = KIT / "tests" / "kit"


def scratch_kit():
    """A copy of the kit's text (lessons, tests, solutions, ...) with build/ linked in."""
    dest = Path(tempfile.mkdtemp(prefix="pipeworks-check-"))
    for entry in KIT.iterdir():
        if entry.name in (".git", "build"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, dest / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, dest / entry.name)
    (dest / "build").symlink_to(KIT / "build")
    return dest


def run(*args):
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


class CheckersCanFail(unittest.TestCase):
    def setUp(self):
        self.kit = scratch_kit()

    def tearDown(self):
        shutil.rmtree(self.kit, ignore_errors=True)

    def edit(self, relative, old, new):
        path = self.kit / relative
        text = path.read_text()
        self.assertIn(old, text, f"{relative} no longer contains {old!r}: update this test")
        path.write_text(text.replace(old, new, 1))

    def test_shown_output_drift_fails_with_lesson_line_and_difference(self):
        self.edit("lessons/01-pipe-echo.md", "$ build/reference/01-pipe-echo/bin/pipe_echo \"hello, pipe\"\nhello, pipe\n",
                  "$ build/reference/01-pipe-echo/bin/pipe_echo \"hello, pipe\"\nhello, pipes\n")
        rc, out = run(CHECKS / "lessons_check.py", "--root", self.kit, "--only", "console", "--lesson", "01")
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"lessons/01-pipe-echo\.md:\d+: `build/reference/01-pipe-echo/bin/pipe_echo")
        self.assertIn("hello, pipes", out)  # what the lesson shows
        self.assertIn("      | hello, pipe\n", out)  # what it printed

    def test_renamed_heading_breaks_the_tests_links(self):
        self.edit("lessons/01-pipe-echo.md", "## Closing the ends you do not use", "## Closing unused ends")
        rc, out = run(CHECKS / "lessons_check.py", "--root", self.kit, "--only", "anchors")
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"tests/01-pipe-echo/pipe_echo_test\.cpp:\d+: lessons/01-pipe-echo\.md has no heading "
                              r"with the anchor #closing-the-ends-you-do-not-use")

    def test_formatting_drift_fails_naming_the_file(self):
        self.edit("solutions/01-pipe-echo/pipe_echo.cpp", "    const char* message = argv[1];",
                  "  const char *message=argv[1];")
        rc, out = run(CHECKS / "format_check.py", "--root", self.kit)
        self.assertEqual(rc, 1, out)
        self.assertIn("solutions/01-pipe-echo/pipe_echo.cpp", out)

    def test_devcontainer_package_drift_fails(self):
        self.edit(".devcontainer/Dockerfile", "libgtest-dev", "libgtest-dev strace")
        rc, out = run(CHECKS / "editor_check.py", "--root", self.kit)
        self.assertEqual(rc, 1, out)
        self.assertIn("strace", out)

    def test_a_tests_folder_missing_from_the_picture_fails(self):
        (self.kit / "tests" / "kit" / "new_check.py").write_text("")
        self.edit("tests/README.md", "    grade_cost.py", "    grade_costs.py")
        rc, out = run(CHECKS / "editor_check.py", "--root", self.kit)
        self.assertEqual(rc, 1, out)
        self.assertIn("lacks tests/kit/new_check.py", out)
        self.assertIn("draws grade_costs.py", out)

    def test_a_mistake_that_no_longer_fits_its_solution_is_reported(self):
        sys.path.insert(0, str(KIT / "tests" / "grader"))
        import grade  # noqa: E402

        patch = (KIT / "tests/01-pipe-echo/mistakes/parent_keeps_write_end.patch").read_text()
        solution = (KIT / "solutions/01-pipe-echo/pipe_echo.cpp").read_text()
        self.assertNotEqual(grade.apply_patch(solution, patch), solution)  # it fits the solution as landed
        drifted = solution.replace("// Closing the write end is what lets", "// Closing the write end lets")
        with self.assertRaisesRegex(grade.PatchDoesNotApply, r"patch -F0 does not apply it exactly: .*FAILED"):
            grade.apply_patch(drifted, patch)

    def test_the_kit_as_landed_passes_the_static_checks(self):
        for args in (["lessons_check.py", "--only", "anchors"], ["lessons_check.py", "--only", "front"],
                     ["format_check.py"], ["editor_check.py"]):
            rc, out = run(CHECKS / args[0], "--root", self.kit, *args[1:])
            self.assertEqual(rc, 0, out)


class BuildReuseIsExact(unittest.TestCase):
    """reuse.seed_build (the hand-outs and student clones of classroom_test.py) seeds the kit's
    object only where every source it was built from has the same bytes in the copy: one changed
    header, and every object built from it is compiled again. (Needs the kit built, as make
    test has it.)"""

    def seeded_into(self, change=None):
        import reuse  # noqa: E402

        dest = Path(tempfile.mkdtemp(prefix="pipeworks-reuse-"))
        try:
            shutil.copytree(KIT / "tests", dest / "tests")
            shutil.copytree(KIT / "exercises", dest / "exercises")
            if change:
                path = dest / change
                path.write_text(path.read_text() + "\n// changed\n")
            count = reuse.seed_build(dest)
            seeded = {p.relative_to(dest).as_posix() for p in (dest / "build").rglob("*") if p.is_file()}
            self.assertEqual(count, len(seeded))
            self.assertFalse(any(s.startswith(("build/exercises", "build/solutions")) for s in seeded), seeded)
            return seeded
        finally:
            shutil.rmtree(dest, ignore_errors=True)

    def test_a_changed_header_keeps_every_object_built_from_it_out(self):
        test_object = "build/shared/tests/01-pipe-echo/pipe_echo_test.o"
        library = "build/shared/sandbox/libpipeworks_sandbox.a"
        self.assertIn("tests/sandbox/sandbox.hpp", (KIT / test_object).with_suffix(".d").read_text())
        same = self.seeded_into()
        self.assertIn(test_object, same)
        self.assertIn(library, same)
        self.assertIn("build/shared/pipemap/pipemap.o", same)
        changed = self.seeded_into("tests/sandbox/sandbox.hpp")
        for kept_out in (test_object, "build/shared/sandbox/sandbox.o", library, "build/shared/pipemap/pipemap.o"):
            self.assertNotIn(kept_out, changed)
        self.assertIn("build/shared/tools/03-pipeline/obj/fd_probe.o", changed)  # built from its own file only


class ShownGradesAreTheStubs(unittest.TestCase):
    """Each lesson shows its stub's first grade and ends with "shows N/N": make test's stub
    check compares both with the stub's real grade."""

    def grade(self, passed, total, points, maximum):
        return {"tests": [{"passed": i < passed} for i in range(total)], "points": points, "max": maximum}

    def test_the_shown_grade_of_lesson_01_is_its_stubs(self):
        sys.path.insert(0, str(CHECKS))
        import kit_test
        self.assertIsNone(kit_test.lesson_shows_grade("01-pipe-echo", self.grade(0, 15, 0, 10)))

    def test_one_test_more_fails_naming_the_line_to_show(self):
        sys.path.insert(0, str(CHECKS))
        import kit_test
        problem = kit_test.lesson_shows_grade("01-pipe-echo", self.grade(0, 16, 0, 10))
        self.assertIsNotNone(problem)
        self.assertIn("lessons/01-pipe-echo.md", problem)
        self.assertIn("0/16", problem)

    def test_a_stale_checklist_fails_naming_the_count(self):
        sys.path.insert(0, str(CHECKS))
        import kit_test
        root = Path(tempfile.mkdtemp(prefix="pipeworks-check-"))
        try:
            (root / "lessons").mkdir()
            text = (KIT / "lessons" / "01-pipe-echo.md").read_text()
            self.assertIn("shows 15/15", text)
            (root / "lessons" / "01-pipe-echo.md").write_text(text.replace("shows 15/15", "shows 14/14"))
            problem = kit_test.lesson_shows_grade("01-pipe-echo", self.grade(0, 15, 0, 10), root)
            self.assertIsNotNone(problem)
            self.assertIn("shows 15/15", problem)
        finally:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=1)
