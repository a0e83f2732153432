// races_test.cpp - lesson 03's race, forced instead of hoped for.
//
// A pipeline that waits for its last command and then reaps the others after a
// pause, without blocking, passes almost every run: the others are usually done by
// then. `make grade SHAKE=N` holds children back at random and catches it now and
// then. This test catches it every run: it holds the FIRST command right after fork()
// (pw::hold_first_child, ptrace), before it even runs, and lets it go only once
// pipeline waits for it (waitpid(pid), or wait() with no other command still running)
// or blocks in another call. The last command ends at once; a pipeline that waits for
// every child, blocking, then still waits for the first.
#include <gtest/gtest.h>

#include <string>

#include "hold.hpp"
#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

const std::string kProgram = "pipeline";

TEST(PipelineRaces, WaitsForAFirstCommandSlowerThanAnyPause) {
    std::string word = pw::random_word(8);
    std::string first = "sh -c 'echo " + word + " >&2'";
    HeldRun h;
    RunOptions options;
    options.timeout_seconds = 10;
    RunResult r = pw::run_holding_first_child({pw::program(kProgram), first, "true"}, h, options);
    PW_SKIP_WHERE_PTRACE_IS_REFUSED(h);
    bool exited_first = h.release == HeldRun::Release::ParentExited;
    std::string cause;
    if (exited_first)
        cause = pw::RaceCause(kProgram)
                    .held("its first command")
                    .let_go_when("pipeline waited for it")
                    .instead(
                        "pipeline waited only for the last command, then reaped the others without blocking (a "
                        "pause only makes it likely that they are done, and WNOHANG does not wait). waitpid() "
                        "every child, blocking.")
                    .text();
    else if (!h.held)
        cause = pw::nothing_held(h, r, "pipeline.cpp", "pipeline forks one child per command.");
    else if (!r.ok() || r.err != word + "\n")
        cause = "with a slow first command, the pipeline went wrong (" + r.status() +
                "): fork every command, close every pipe end, then waitpid() each child.";
    EXPECT_TRUE(pw::held_check(r, h, "the first command").exits(0).err(word + "\n"))
        << explain(r, pw::race_why("with its first command held back after fork(), pipeline waits for it; once "
                                   "let go, it prints " +
                                   pw::quote(word + "\n") + " on stderr, and pipeline exits with status 0")
                          .cause(cause)
                          .topic("start-them-all-then-wait"));
}

}  // namespace
