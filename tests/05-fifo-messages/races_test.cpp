// races_test.cpp - lesson 05's races, forced instead of hoped for.
//
// A race shows only when the scheduler picks the unlucky order; `make grade SHAKE=N`
// makes that likely, never certain. Each test here puts the program in the unlucky
// order on purpose, every run, so the mistake is caught without SHAKE.
#include <gtest/gtest.h>

#include <string>

#include "fifo_dir.hpp"
#include "lesson.hpp"
#include "message_server.hpp"

namespace {

using fifo_test::FifoDir;
using pw::RunResult;

// Exit statuses of the sandboxed child, read back by the test.
constexpr int kStartFailed = 10;
constexpr int kServeFailed = 11;

// stop() may come before serve() begins (a signal during start-up, a thread quicker
// than the main one): the header promises it works "in any state, even before serve()
// runs". Here stop() is called first, always, and serve() must then return at once.
TEST(MessageServerRaces, StopBeforeServeStillStops) {
    FifoDir dir;
    ASSERT_TRUE(dir.ok());
    RunResult r = pw::run_function([&]() -> int {
        MessageServer server(dir.path());
        if (!server.start()) return kStartFailed;
        server.stop();  // before serve(): the order a quick thread or a signal can produce
        return server.serve() ? 0 : kServeFailed;
    });
    std::string cause;
    if (r.exited_with(kStartFailed))
        cause =
            "start() returned false, so the race could not be tried (is start() still the stub?); the tests of "
            "start() say more.";
    else if (r.exited_with(kServeFailed))
        cause = "serve() returned false (a system call failed) instead of simply returning after the early stop().";
    else if (r.timed_out)
        cause =
            "a race: stop() came before serve() began, and serve() never returned. stop() may come before "
            "serve() begins: the stop it asked for must still count, so serve() never clears stopping_ "
            "(a \"fresh run\" reset forgets it), and the self-pipe's byte stays there to wake poll(). "
            "SHAKE finds this only sometimes; calling stop() first finds it every time.";
    else
        cause = pw::signal_cause(r);
    EXPECT_TRUE(pw::Check(r).exits(0)) << pw::explain(
        r, pw::Why()
               .expected("start(), then stop(), then serve(): serve() returns true at once, because "
                         "stop() was already called")
               .cause(cause)
               .topic("step-5-stop-with-a-self-pipe")
               .reproduce("make grade LESSON=05 SHAKE=3   # holds a thread back so that stop() comes "
                          "first"));
}

}  // namespace
