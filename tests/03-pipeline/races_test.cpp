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

using pw::HeldRun;
using pw::RunResult;

const std::string kProgram = "pipeline";

TEST(PipelineRaces, WaitsForAFirstCommandSlowerThanAnyPause) {
    std::string word = pw::random_word(8);
    std::string first = "sh -c 'echo " + word + " >&2'";
    HeldRun h;
    pw::RunOptions options;
    options.timeout_seconds = 10;
    RunResult r = pw::run_holding_first_child({pw::program(kProgram), first, "true"}, h, options);
    if (!h.held && h.program != 0 && std::string(h.why_not).rfind("ptrace is not allowed", 0) == 0)
        GTEST_SKIP() << "holding a child needs ptrace, which is not allowed here: " << h.why_not;
    bool exited_first = h.release == HeldRun::Release::ParentExited;
    std::string cause;
    if (exited_first)
        cause =
            "a race: pipeline exited before its first command had even run. The test held that command "
            "right after fork() and would have let it go as soon as pipeline waited for it; pipeline "
            "waited only for the last command, then reaped the others without blocking (a pause only "
            "makes it likely that they are done, and WNOHANG does not wait). waitpid() every child, "
            "blocking. `make grade SHAKE=6` shows the same race now and then.";
    else if (!h.held)
        cause =
            r.ok() && r.out.empty() && r.err.empty()
                ? "nothing happened: is main still the stub? Follow the TODOs in exercises/03-pipeline/pipeline.cpp."
                : std::string("there was no command to hold (") + h.why_not +
                      "): pipeline forks one child per command.";
    else if (!r.ok() || r.err != word + "\n")
        cause = "with a slow first command, the pipeline went wrong (" + r.status() +
                "): fork every command, close every pipe end, then waitpid() each child.";
    EXPECT_TRUE(h.held && !exited_first && r.ok() && r.err == word + "\n") << pw::explain(
        r,
        "with its first command held back after fork(), pipeline waits for it; once let go, it "
        "prints " +
            pw::quote(word + "\n") + " on stderr, and pipeline exits with status 0",
        cause, "start-them-all-then-wait", "make grade LESSON=03 SHAKE=6   # holds children back at random");
}

}  // namespace
