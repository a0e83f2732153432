// hold.hpp - force the unlucky order of a fork() race, every run: hold the child
// right after fork() until its parent has committed itself.
//
// A race between a parent and its child shows only when the child is slow; SHAKE
// (tests/tools/shake) makes that likely, never certain. hold_first_child() makes it
// certain: it runs `program` in a process of its own under ptrace, stops the first
// child that process forks at its very first instruction, and keeps it stopped until
// the parent does one of:
//   - sleeps in a blocking wait for that child (waitpid(pid), or wait() with no other
//     child left running): a parent that waits is correct, so the child is let go;
//   - sleeps in any other blocking call (read, poll, write, a lock, ...): the parent
//     now depends on something, so the child is let go and the order plays out;
//   - exits: the child never ran while the parent lived, which a test reports.
// A parent that runs, or sleeps in nanosleep() ("give the child a moment"), keeps the
// child held: no pause is long enough, which is exactly what the race needs.
//
// Call it inside pw::run_function (the sandbox still guards everything); it makes the
// calling process a child subreaper, so a child its parent left behind is reaped here.
// Linux only (ptrace, /proc/PID/syscall); elsewhere, or where ptrace is not allowed,
// `held` is false and why_not says why.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "lesson.hpp"
#include "sandbox.hpp"

#ifdef PW_LESSON
#include <gtest/gtest.h>
#endif

namespace pw {

// What happened, as plain data (it fits in shared memory: no pointers, no strings).
struct HeldRun {
    bool held = false;       // the first child was stopped right after fork()
    char why_not[160] = "";  // when not: why (no ptrace here, the program never forked, ...)
    pid_t program = 0;       // the process that ran `program`
    pid_t child = 0;         // its first child, held
    enum class Release {
        NotHeld,       // nothing was held
        Waited,        // the parent slept in a wait for the child
        Blocked,       // the parent slept in another blocking call (released_in says which)
        ParentExited,  // the parent exited while its child was still held: it never waited
    } release = Release::NotHeld;
    char released_in[40] = "";  // the parent's call when the child was let go ("read", "wait4", ...)
    int status = 0;             // the program's wait status
};

// Runs program() in a child process (its return value is the exit status) and holds
// its first fork()ed child as described above. Returns when the program has ended
// and, if it left the held child behind, when that child has ended too. `h` is filled
// in as the hold goes, not at the end: put it in memory shared with the test (as
// run_holding_first_child does), and a run the sandbox ends (a deadlock after the
// child was let go, say) still tells whether the child was held and how it was let go.
void hold_first_child(const std::function<int()>& program, HeldRun& h);

// pw::run_function around hold_first_child: runs the program argv[0] (a path) with its
// first child held, in the sandbox. r's exit status is the program's (128+N when signal
// N killed it); `held` says how the hold went.
RunResult run_holding_first_child(const std::vector<std::string>& argv, HeldRun& held, const RunOptions& options = {});

// A HeldRun::Release in words ("the parent slept in read()"), for failure messages.
const char* release_words(HeldRun::Release r);

// Whether nothing could be held because ptrace is not allowed here (a container without
// it, Yama's ptrace_scope 3). A race test has nothing to say then, and skips:
// PW_SKIP_WHERE_PTRACE_IS_REFUSED(h) below.
bool ptrace_refused(const HeldRun& h);

// The likely cause when no child was held although the program ran: "there was no child to
// hold (the program never forked): " + what_it_forks ("pipe_echo forks one child.").
std::string nothing_held(const HeldRun& h, const std::string& what_it_forks);

// The likely cause when the parent exited while its child was still held
// (HeldRun::Release::ParentExited), worded alike in every lesson, each part by name:
//   "a race: pipe_echo exited before its child had even run. The test held it right after
//    fork() and would have let it go as soon as the parent waited for it; <instead>
//    `make grade SHAKE=6` shows the same race now and then."
class RaceCause {
  public:
    explicit RaceCause(std::string program) : program_(std::move(program)) {}
    RaceCause& ended(std::string verb) {  // how the program went: "exited" unless said otherwise
        ended_ = std::move(verb);
        return *this;
    }
    RaceCause& held(std::string what) {  // what was held: "its child" unless said otherwise
        held_ = std::move(what);
        return *this;
    }
    RaceCause& let_go_when(std::string when) {  // "the parent waited for it": what this lesson's parent should do
        when_ = std::move(when);
        return *this;
    }
    RaceCause& instead(std::string what) {  // what the parent did instead, and what to do about it
        instead_ = std::move(what);
        return *this;
    }
    std::string text() const;

  private:
    std::string program_, ended_ = "exited", held_ = "its child", when_ = "the parent waited for it", instead_;
};

// The clauses a race test's check opens with: the first child was held right after fork(),
// and its parent did not exit while it was still held. Add the lesson's own clauses after:
//   EXPECT_TRUE(pw::held_check(r, h, "its child").exits(0).out(...)) << explain(r, why);
Check held_check(const RunResult& r, const HeldRun& h, const std::string& what_was_held);

#ifdef PW_LESSON
namespace in_tests {
using pw::HeldRun;
}  // namespace in_tests

// A race test's Why: what it expected, and - since a held run cannot be typed in - the
// command that shows the same race unforced, now and then.
inline Why race_why(std::string expected) {
    return Why()
        .expected(std::move(expected))
        .reproduce(std::string("make grade LESSON=") + std::string(PW_LESSON).substr(0, 2) +
                   " SHAKE=6   # holds children back at random, so the race shows now and then");
}

// The cause when no child was held: main is still the stub (the run did nothing at all:
// follow the TODOs in exercises/NN-topic/`file`), or the program never forked.
inline std::string nothing_held(const HeldRun& h, const RunResult& r, const std::string& file,
                                const std::string& what_it_forks) {
    if (r.ok() && r.out.empty() && r.err.empty())
        return "nothing happened: is main still the stub? Follow the TODOs in exercises/" + std::string(PW_LESSON) +
               "/" + file + ".";
    return nothing_held(h, what_it_forks);
}

// The opening of every race test: where ptrace is refused there is no race to force, so the
// test skips and says why, instead of failing a learner for the machine.
#define PW_SKIP_WHERE_PTRACE_IS_REFUSED(h) \
    if (pw::ptrace_refused(h))             \
    GTEST_SKIP() << "holding a child needs ptrace, which is not allowed here: " << (h).why_not
#endif

}  // namespace pw
