// races_test.cpp - lesson 01's race, forced instead of hoped for.
//
// A parent that "gives the child a moment" instead of waiting for it passes almost
// every run: the child is usually done in time. `make grade SHAKE=N` holds children
// back at random and catches it now and then. This test catches it every run: it
// holds pipe_echo's child right after fork() (pw::hold_first_child, ptrace) until the
// parent either waits for it - then the child is let go and must echo as usual - or
// exits without having waited.
#include <gtest/gtest.h>

#include <string>

#include "hold.hpp"
#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

const std::string kProgram = "pipe_echo";

TEST(PipeEchoRaces, ParentWaitsEvenForASlowChild) {
    std::string message = pw::random_word(24);
    HeldRun h;
    RunResult r = pw::run_holding_first_child({pw::program(kProgram), message}, h);
    PW_SKIP_WHERE_PTRACE_IS_REFUSED(h);
    bool exited_first = h.release == HeldRun::Release::ParentExited;
    std::string cause;
    if (exited_first)
        cause = pw::RaceCause(kProgram)
                    .instead(
                        "the parent never waited (a pause only makes it likely that the child is done, and "
                        "waitpid() with WNOHANG does not wait). Call wait() (or waitpid() without WNOHANG): it "
                        "returns when the child has ended, however slow it is.")
                    .text();
    else if (!h.held)
        cause = pw::nothing_held(h, r, "pipe_echo.cpp",
                                 "pipe_echo forks one child, which reads the pipe and prints the message.");
    // What this test is about is the wait: the message must come out of the slow child. The
    // final newline is EndsTheOutputWithANewline's, so a missing one costs one test, not two.
    bool echoed = r.out.rfind(message, 0) == 0;
    std::string topic = "step-5-wait-for-the-child";
    if (!exited_first && h.held && r.timed_out) {
        // The hold let the child go when the parent waited: the hang came after, and is not the race.
        cause =
            "the child was let go as soon as the parent waited, so this is not the race: after that the "
            "program never ended (see what each process was blocked in, above). "
            "PipeEcho.ReaderSeesEofAfterWriterCloses fails for the same reason and says more.";
        topic = "closing-the-ends-you-do-not-use";
    } else if (!exited_first && h.held && (!r.ok() || !echoed)) {
        cause = "with a slow child, the echo went wrong: " + r.status() +
                ". Close the parent's read end, write, close the write end, then wait for the child.";
    }
    EXPECT_TRUE(pw::held_check(r, h, "the child")
                    .exits(0)
                    .that(echoed, "stdout starting with " + pw::quote(message), pw::quote(r.out)))
        << explain(r, pw::race_why("with its child held back after fork(), pipe_echo waits for it; once let go, "
                                   "the child echoes " +
                                   pw::quote(message + "\n") + ", and pipe_echo exits with status 0")
                          .cause(cause)
                          .topic(topic));
}

}  // namespace
