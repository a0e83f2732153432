// races_test.cpp - lesson 04's race, forced instead of hoped for.
//
// A parent that gives exec "a moment" and then checks the exec-error pipe without
// blocking passes almost every run: a failed exec has usually reported by then.
// `make grade SHAKE=N` holds children back at random and catches it now and then.
// This test catches it every run: filter_bytes runs in a process whose first child is
// held right after fork() (pw::hold_first_child, ptrace), before it even tries to
// exec, and let go only once the parent blocks in a call (the blocking read() of the
// exec-error pipe, say) or exits. A parent whose read() waits for EOF or an errno
// learns why exec failed however slow the child is.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

#include "filter.hpp"
#include "hold.hpp"
#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

// What filter_bytes returned, in memory shared with the test (the call runs two
// processes away, in the sandbox).
struct Returned {
    bool returned = false;
    int exec_errno = 0;
    int exit_code = -1;
    int signal = 0;
    char error[200] = "";
    HeldRun held;
};

TEST(FilterBytesRaces, ReportsAFailedExecOfASlowChild) {
    std::string name = "no-such-command-" + pw::random_word(8);
    std::string input = pw::random_word(30);
    void* page = mmap(nullptr, sizeof(Returned), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(page, MAP_FAILED) << "mmap: " << std::strerror(errno);
    Returned* got = new (page) Returned();
    RunResult r = pw::run_function([&]() -> int {
        pw::hold_first_child(
            [&]() -> int {
                filter::FilterOutput o = filter::filter_bytes(input, {name});  // yours
                got->exec_errno = o.status.exec_errno;
                got->exit_code = o.status.exit_code;
                got->signal = o.status.signal;
                std::snprintf(got->error, sizeof got->error, "%s", o.status.error.c_str());
                got->returned = true;
                return 0;
            },
            got->held);
        return 0;
    });
    Returned g = *got;
    munmap(page, sizeof(Returned));
    const HeldRun& h = g.held;
    PW_SKIP_WHERE_PTRACE_IS_REFUSED(h);
    std::string want = "cannot execute " + name + ": No such file or directory";
    bool ok = r.ok() && h.held && g.returned && g.exec_errno == ENOENT && g.error == want;
    std::string got_text = "exec_errno " + std::to_string(g.exec_errno) + ", status.error " + pw::quote(g.error) +
                           (g.returned ? "" : " (filter_bytes never returned: " + r.status() + ")");
    std::string cause;
    if (!h.held)
        cause = g.returned && g.exec_errno == 0 && g.error[0] == '\0'
                    ? "filter_bytes returned success without running anything: is it still the stub? Follow the "
                      "TODOs in exercises/04-filter-child/filter.cpp."
                    : pw::nothing_held(h, "filter_bytes forks one child.");
    else if (!g.returned)
        cause = "with a child held back after fork(), filter_bytes did not return (" + r.status() +
                "); the sandbox's report above says where it was.";
    else if (!ok)
        cause = std::string(
                    "a race: the parent decided how exec went before the child had even tried it. The test "
                    "held the child right after fork() and let it go only when the parent blocked (in ") +
                h.released_in +
                "()); by then the parent had already looked at the exec-error pipe without waiting. Read it with a "
                "blocking read(): it returns 0 (EOF) when exec succeeded, or the child's errno when it failed, "
                "however slow the child is. `make grade SHAKE=6` shows the same race now and then.";
    EXPECT_TRUE(pw::held_check(r, h, "the child")
                    .exits(0)
                    .that(g.returned, "filter_bytes returns", r.status())
                    .that(g.exec_errno == ENOENT, "exec_errno ENOENT (" + std::to_string(ENOENT) + ")",
                          std::to_string(g.exec_errno))
                    .that(g.error == want, "status.error " + pw::quote(want), pw::quote(g.error)))
        << explain(pw::race_why("with the child held back after fork(), exec_errno ENOENT (" + std::to_string(ENOENT) +
                                ") and status.error " + pw::quote(want))
                       .got(got_text)
                       .cause(cause)
                       .topic("when-exec-fails"));
}

}  // namespace
