// slow_child_races_test.cpp - lesson 02's race, forced instead of hoped for.
//
// A parent that sleeps "long enough" and then reads without blocking passes almost
// every run: the child has usually sent its byte by then. `make grade SHAKE=N` holds
// children back at random and catches it now and then. This test catches it every
// run: it holds random_byte's child right after fork() (pw::hold_first_child, ptrace)
// and lets it go only once the parent blocks in a call (read() is the right one) or
// exits. A parent that reads until EOF gets the byte however late it comes.
// (Named to sort after random_byte_test.cpp: on a tie, make grade sends a learner to the
// failure first in the binary's order, and a stub should hear about the basics first.)
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "hold.hpp"
#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

const std::string kProgram = "random_byte";

// The number on the first line of out that matches `pattern` (with one (\d+) group), or -1.
long number_after(const std::string& out, const std::regex& pattern) {
    std::smatch m;
    return std::regex_search(out, m, pattern) ? std::stol(m[1]) : -1;
}

TEST(RandomByteRaces, ParentGetsTheByteOfASlowChild) {
    HeldRun h;
    RunResult r = pw::run_holding_first_child({pw::program(kProgram)}, h);
    PW_SKIP_WHERE_PTRACE_IS_REFUSED(h);
    long sent = number_after(r.out, std::regex(R"(Number sent to parent (\d+))"));
    long returned = number_after(r.out, std::regex(R"(Child returned (\d+))"));
    bool got_it = sent >= 0 && returned == sent;
    bool ok = h.held && r.ok() && got_it;
    std::string cause;
    if (h.held && h.release == HeldRun::Release::ParentExited)
        cause = pw::RaceCause(kProgram)
                    .ended("ended")
                    .let_go_when("the parent blocked in any call")
                    .instead(
                        "the parent never blocked: it looked for the byte without waiting for it (a pause, then "
                        "a non-blocking read(), finds \"no data yet\"). Read until read() returns 0 (EOF): a "
                        "blocking read() waits for the byte, however slow the child is.")
                    .text();
    else if (h.held && h.release == HeldRun::Release::Waited && !ok)
        cause =
            "a race: the parent went on to wait for its child without having blocked in read(): it looked "
            "for the byte before the child (held by the test right after fork()) could send it, and a "
            "non-blocking read() found no data yet. Read until EOF first, then wait.";
    else if (!h.held)
        cause = pw::nothing_held(h, r, "random_byte.cpp", "random_byte forks one child.");
    else if (!ok)
        cause = "with a slow child, the parent did not print the byte the child sent (" + r.status() +
                "). Read until EOF, then wait, then print.";
    EXPECT_TRUE(pw::held_check(r, h, "the child")
                    .exits(0)
                    .that(got_it, "\"Child returned N\" with the N of \"Number sent to parent N\"",
                          "sent " + std::to_string(sent) + ", returned " + std::to_string(returned) +
                              " (-1: no such line) in " + pw::quote(r.out)))
        << explain(r, pw::race_why("with its child held back after fork(), the parent still prints \"Child "
                                   "returned N\" with the N the child sent, and exits with status 0")
                          .cause(cause)
                          .topic("eof-or-no-data-yet"));
}

}  // namespace
