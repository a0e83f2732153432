#!/usr/bin/env python3
"""points_test.py - proof of the points rule: a bug costs what it is worth.

Usage: points_test.py

A lesson's points are split among its BEHAVIOURS: a plain test is one, and all instances of
a parameterised test ('Prefix/Suite.Name/64KiB') are one, sharing its share; a behaviour may
weigh more ('weight NN Suite.Name W' in tests/grader/points.conf). Checked here on the functions
every report uses: make grade's table (earned), the Classroom result and Gradescope's
results.json (test_entries), and make progress (grade_tree -> earned). Standard library only.
"""
import base64
import json
import os
import shlex
import subprocess
import sys
import unittest
from decimal import Decimal
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grader"))
import grade  # noqa: E402


def tests_of(names, failing=()):
    return [{"name": n, "passed": n not in failing, "message": "" if n not in failing else "no"} for n in names]


# Lesson-04-like: two plain tests and one behaviour tested at ten sizes.
SIZES = [f"FilterBytes/RoundTrip.CatGivesBackEveryByte/{s}" for s in
         ("0B", "1B", "4KiB", "64KiB", "1MiB", "3MiB", "8MiB", "16MiB", "odd", "prime")]
NAMES = ["FilterBytes.UsageErrorExitsTwo", *SIZES, "FilterBytes.ChildIsReaped"]


class Behaviours(unittest.TestCase):
    def test_instances_name_their_behaviour(self):
        self.assertEqual(grade.behaviour("Prefix/Suite.Name/64KiB"), "Suite.Name")
        self.assertEqual(grade.behaviour("Suite/Test.Name/0"), "Test.Name")
        self.assertEqual(grade.behaviour("Suite/0.Name"), "Suite.Name")  # a typed test
        self.assertEqual(grade.behaviour("Suite.Name"), "Suite.Name")

    def test_a_parameterised_test_is_one_behaviour_that_shares_its_share(self):
        parts = grade.test_shares(20, tests_of(NAMES))
        self.assertEqual(sum(parts), Decimal(20))
        third = Decimal("6.67")  # 20 points over three behaviours: 6.67, 6.67, 6.66
        self.assertEqual(parts[0], third)
        self.assertEqual(sum(parts[1:11]), third)  # ten sizes, one behaviour's share
        self.assertEqual(parts[11], Decimal("6.66"))
        self.assertLessEqual(max(parts[1:11]) - min(parts[1:11]), Decimal("0.01"))

    def test_one_bug_at_every_size_costs_one_behaviour(self):
        lost = 20 - grade.earned(20, tests_of(NAMES, failing=SIZES))
        self.assertEqual(Decimal(str(lost)), Decimal("6.67"))
        # Before this rule the same bug cost 10 of 12 equal shares: 16.66 points.
        self.assertLess(lost, 20 * 10 / 12)

    def test_weights_from_points_conf(self):
        conf = (grade.KIT / grade.POINTS_CONF).read_text() + "\nweight 04 FilterBytes.ChildIsReaped 2\n"
        parsed = grade.read_points_conf(conf)
        self.assertEqual(parsed[1], {("04-filter-child", "FilterBytes.ChildIsReaped"): Decimal(2)})
        with mock.patch.object(grade, "read_points_conf", lambda: parsed):
            parts = grade.test_shares(20, tests_of(NAMES), "04-filter-child")
        self.assertEqual(parts[11], Decimal(10))  # weight 2 of 4
        self.assertEqual(parts[0], Decimal(5))
        self.assertEqual(sum(parts), Decimal(20))

    def test_every_weight_names_a_behaviour_of_its_lesson(self):
        table, weights = grade.read_points_conf()
        for (slug, name), _ in weights.items():
            self.assertIn(name, grade.expected_tests(slug), f"points.conf weighs {name}, which {slug} does not test")
        self.assertEqual(sorted(table), grade.all_lessons())

    def test_equal_weights_split_as_before(self):
        for points, count in ((10, 12), (15, 23), (20, 7), (100, 3), (10, 13), (0, 1)):
            parts = grade.shares(points, count)
            self.assertEqual(sum(parts, Decimal(0)), Decimal(points))
            self.assertEqual(parts, sorted(parts, reverse=True))  # the first get the spare cents
            self.assertLessEqual(max(parts) - min(parts), Decimal("0.01"))


class EveryReportAgrees(unittest.TestCase):
    def result(self, failing):
        tests = tests_of(NAMES, failing)
        return {"lesson": "04-filter-child", "max": 20.0, "compile_error": None, "tests": tests,
                "points": grade.earned(20.0, tests, "04-filter-child")}

    def test_table_gradescope_and_classroom_add_the_same_shares(self):
        r = self.result(failing=SIZES[:3] + ["FilterBytes.ChildIsReaped"])
        gradescope = json.loads(json.dumps(grade.gradescope_results([r])), parse_float=Decimal)
        self.assertEqual(gradescope["score"], Decimal(str(r["points"])))
        self.assertEqual(sum(t["score"] for t in gradescope["tests"]), Decimal(str(r["points"])))
        self.assertEqual(sum(t["max_score"] for t in gradescope["tests"]), Decimal(20))
        _, encoded = grade.classroom_result([r])
        decoded = json.loads(base64.b64decode(encoded), parse_float=Decimal)
        self.assertEqual(sum(t["score"] for t in decoded["tests"]), Decimal(str(r["points"])))
        self.assertEqual(decoded["max_score"], Decimal(20))
        # 6.67 (usage) + 7 of the ten sizes' 6.67 split in tenths
        sizes = grade.test_shares(20, tests_of(NAMES))[1:11]
        self.assertEqual(Decimal(str(r["points"])), Decimal("6.67") + sum(sizes[3:]))


class ReportsNameInstances(unittest.TestCase):
    """score_report: a parameterised behaviour counts as the instances the report names."""

    def score(self, xml, expected, params, rc=1):
        path = grade.KIT / grade.BUILD / "kit" / "points_test.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(xml)
        try:
            with mock.patch.object(grade, "parameterised_tests", lambda slug: params):
                return grade.score_report("04-filter-child", expected, path, rc, "")
        finally:
            path.unlink()

    def test_instances_are_scored_and_a_missing_behaviour_fails(self):
        xml = ('<testsuites><testsuite name="FilterBytes/RoundTrip">'
               '<testcase classname="FilterBytes/RoundTrip" name="Cat/1B" status="run"/>'
               '<testcase classname="FilterBytes/RoundTrip" name="Cat/4KiB" status="run">'
               '<failure message="short"/></testcase></testsuite>'
               '<testsuite name="FilterBytes"><testcase classname="FilterBytes" name="Usage" status="run"/>'
               '</testsuite></testsuites>')
        got = self.score(xml, ["FilterBytes.Usage", "RoundTrip.Cat", "RoundTrip.Other"],
                         {"RoundTrip.Cat", "RoundTrip.Other"})
        self.assertEqual([(t["name"], t["passed"]) for t in got],
                         [("FilterBytes.Usage", True), ("FilterBytes/RoundTrip.Cat/1B", True),
                          ("FilterBytes/RoundTrip.Cat/4KiB", False), ("RoundTrip.Other", False)])
        self.assertIn("never reported", got[3]["message"])
        parts = grade.test_shares(10, got)
        self.assertEqual([str(p) for p in parts], ["3.34", "1.67", "1.66", "3.33"])

    def test_a_skipped_test_fails_and_says_why(self):
        xml = ('<testsuites><testsuite name="Trace"><testcase classname="Trace" name="Hang" status="run" '
               'result="skipped"><skipped message="t.cpp:9&#x0A;ptrace: Operation not permitted"/></testcase>'
               '<testcase classname="Trace" name="Bare" status="run" result="skipped"><skipped/></testcase>'
               '</testsuite></testsuites>')
        got = self.score(xml, ["Trace.Hang", "Trace.Bare"], set(), rc=0)
        self.assertFalse(got[0]["passed"])
        self.assertEqual(got[0]["message"], "skipped, so it proved nothing: ptrace: Operation not permitted")
        self.assertEqual(got[1]["message"], "skipped, so it proved nothing: the test gave no reason")

    def test_a_filter_names_a_parameterised_behaviour(self):
        self.assertTrue(grade.filter_wants("RoundTrip.Cat", True, "*/RoundTrip.Cat/*"))
        self.assertTrue(grade.filter_wants("RoundTrip.Cat", True, "Sizes/RoundTrip.Cat/4KiB"))
        self.assertFalse(grade.filter_wants("RoundTrip.Cat", True, "*/RoundTrip.Other/*"))
        self.assertFalse(grade.filter_wants("RoundTrip.Cat", False, "Sizes/RoundTrip.Cat/4KiB"))


GTEST_SOURCE = """#include <gtest/gtest.h>
#include <string>
namespace {
class RoundTrip : public ::testing::TestWithParam<int> {};
TEST_P(RoundTrip, CatGivesBackEveryByte) { EXPECT_NE(GetParam(), 4) << "lost bytes at 4 KiB"; }
INSTANTIATE_TEST_SUITE_P(FilterBytes, RoundTrip, ::testing::Values(1, 4, 64),
                         [](const ::testing::TestParamInfo<int>& i) { return std::to_string(i.param) + "KiB"; });
TEST(FilterBytes, UsageErrorExitsTwo) {}
}  // namespace
"""


class RealGoogleTest(unittest.TestCase):
    """The same, end to end: a real TEST_P binary, its real XML report, read by the grader."""

    @classmethod
    def setUpClass(cls):
        cls.dir = grade.KIT / grade.BUILD / "kit" / "points_test"
        cls.dir.mkdir(parents=True, exist_ok=True)
        (cls.dir / "t_test.cpp").write_text(GTEST_SOURCE)
        cxx = shlex.split(os.environ.get("CXX") or "g++")
        subprocess.run([*cxx, "-std=c++17", str(cls.dir / "t_test.cpp"), "-lgtest", "-lgtest_main", "-pthread",
                        "-o", str(cls.dir / "t_test")], check=True)
        cls.defined = [(f"{suite}.{name}", kind == "_P") for kind, suite, name in
                       grade.TEST_DEFINITION.findall(GTEST_SOURCE)]

    def run_binary(self, gtest_filter=None):
        xml = self.dir / "report.xml"
        xml.write_text("")
        argv = [str(self.dir / "t_test"), f"--gtest_output=xml:{xml}"]
        if gtest_filter:
            argv.append(f"--gtest_filter={gtest_filter}")
        rc = subprocess.run(argv, capture_output=True).returncode
        with mock.patch.object(grade, "defined_tests", lambda slug: self.defined):
            expected = grade.expected_tests("04-filter-child", gtest_filter)
            return grade.score_report("04-filter-child", expected, xml, rc, "", gtest_filter)

    def test_the_report_names_each_instance_and_they_share_one_behaviours_points(self):
        self.assertEqual(self.defined, [("RoundTrip.CatGivesBackEveryByte", True),
                                        ("FilterBytes.UsageErrorExitsTwo", False)])
        got = self.run_binary()
        self.assertEqual([(t["name"], t["passed"]) for t in got],
                         [("FilterBytes/RoundTrip.CatGivesBackEveryByte/1KiB", True),
                          ("FilterBytes/RoundTrip.CatGivesBackEveryByte/4KiB", False),
                          ("FilterBytes/RoundTrip.CatGivesBackEveryByte/64KiB", True),
                          ("FilterBytes.UsageErrorExitsTwo", True)])
        self.assertIn("lost bytes at 4 KiB", got[1]["message"])
        self.assertEqual([str(s) for s in grade.test_shares(10, got)], ["1.67", "1.67", "1.66", "5"])
        self.assertEqual(grade.earned(10, got), 8.33)

    def test_the_catalogues_filter_runs_every_instance_of_a_behaviour(self):
        sys.path.insert(0, str(grade.KIT / "tests" / "kit"))
        import kit_test
        with mock.patch.object(grade, "defined_tests", lambda slug: self.defined):
            wanted = kit_test.caught_filter("04-filter-child", "RoundTrip.CatGivesBackEveryByte")
        got = self.run_binary(wanted)
        self.assertEqual([t["name"].rsplit("/", 1)[1] for t in got], ["1KiB", "4KiB", "64KiB"])
        one = self.run_binary("FilterBytes/RoundTrip.CatGivesBackEveryByte/4KiB")
        self.assertEqual([(t["name"], t["passed"]) for t in one],
                         [("FilterBytes/RoundTrip.CatGivesBackEveryByte/4KiB", False)])


if __name__ == "__main__":
    unittest.main(verbosity=1)
