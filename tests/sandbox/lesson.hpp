// lesson.hpp - what a lesson's tests need besides the sandbox: where the learner's
// programs were built, how to word a failure so that it teaches, and hygiene checks
// (open descriptors, children left unreaped) for white-box tests.
//
// Failure text always has the same five parts, so a learner learns to read it once:
//   expected / got / likely cause / read (a lesson section) / reproduce (a command).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "sandbox.hpp"

#ifdef PW_LESSON
#include <gtest/gtest.h>
#endif

namespace pw {

// Path of a learner's program built for this lesson (from PIPEWORKS_BIN_DIR, which
// the grader sets to build/<tree>/<lesson>/bin).
std::string program(const std::string& name);

// A word as you would type it into sh: 'quoted' unless it is plain.
std::string shell_word(const std::string& word);

// A shell command that reruns what r ran, from the kit's top folder.
std::string reproduce(const RunResult& r);

// The failure message for a run: what was expected, what happened (status, output,
// processes left behind, what a hung program was blocked in), the likely cause, the
// lesson section to read and the command to reproduce it. reproduce_override replaces
// the generated command when the run cannot be typed in (e.g. a huge argument).
// lesson_section is a path such as "lessons/01-pipe-echo.md#closing-the-ends-you-do-not-use".
std::string explain_run(const RunResult& r, const std::string& expected, const std::string& cause,
                        const std::string& lesson_section, const std::string& reproduce_override = "");

// The same five parts for a failure that is not about one run (white-box checks).
std::string explain_check(const std::string& expected, const std::string& got, const std::string& cause,
                          const std::string& lesson_section, const std::string& how_to_reproduce);

// A printable, shortened rendering of bytes: "hello\n" (5 bytes), with escapes.
std::string quote(const std::string& bytes, std::size_t max_shown = 160);

// Whether text contains word, ignoring case: "usage", "Usage" and "USAGE" all count,
// since a lesson asks for "a usage line" and not for its spelling.
bool mentions(const std::string& text, const std::string& word);

// Why a run that ended by a signal ended, in a learner's terms: SIGPIPE is not a crash
// (a writer wrote to a pipe or socket whose reader had gone), SIGSEGV and friends are.
// Empty when r was not killed by a signal.
std::string signal_cause(const RunResult& r);

// Random lowercase words, different on every run, so that hard-coded output fails.
std::string random_word(std::size_t length);

// The calling process's open file descriptors (Linux /proc/self/fd, else /dev/fd).
std::vector<int> open_fds();

// Whether a child of the program was among the processes seen while its stdout was
// stalled (RunOptions::interrupt_blocked_writes): the program forked.
bool child_seen_while_stalled(const RunResult& r);

// Why a run left its child behind (running, or a zombie), in the words of every lesson:
// the parent must `wait_call` ("wait()", "waitpid()") for its child before it exits.
std::string left_behind_cause(const std::string& wait_call);

// Children of the calling process that are still running or unreaped (Linux).
std::vector<ProcessInfo> children_of_this_process();

// Why a check failed, filled by name so that each call says what each string is:
//
//   EXPECT_TRUE(pw::Check(r).exits(0).out(message + "\n"))
//       << explain(r, pw::Why().expected("the echo and exit status 0").cause(c).topic("step-5-wait"));
//
// cause(text, anchor) names the likely cause together with the section about THAT cause;
// topic(anchor) is the section of the test's own subject, linked only when the cause names
// none. An anchor is a heading of this lesson ("closing-the-ends-you-do-not-use") or a whole
// "lessons/NN-topic.md#anchor". reproduce() replaces the generated command when a run cannot
// be typed in as it ran (a huge argument); got() says what happened in a check of no run.
class Why {
  public:
    Why& expected(std::string text);
    Why& cause(std::string text, std::string anchor = "");
    Why& topic(std::string anchor);
    Why& reproduce(std::string command);
    Why& got(std::string text);

    // The five-part message: of run r when it is not null, else of a white-box check.
    // lesson ("NN-topic") resolves a bare anchor.
    std::string text(const RunResult* r, const std::string& lesson) const;
    // The section the message links: the cause's when it names one, else the topic's.
    std::string section(const std::string& lesson) const;
    const std::string& cause_text() const { return cause_; }

  private:
    std::string expected_, cause_, cause_anchor_, topic_, reproduce_, got_;
};

// Clauses about one run, each of which prints what it wanted and what it got, so that a
// failed EXPECT_TRUE shows both values instead of "Actual: false":
//   EXPECT_TRUE(pw::Check(r).exits(0).out("hi\n").nothing_left_behind())
class Check {
  public:
    explicit Check(const RunResult& r) : r_(r) {}
    Check& exits(int code);                                                   // ended by itself with this exit status
    Check& ends();                                                            // ended by itself (no timeout, no signal)
    Check& out(const std::string& want);                                      // exactly this on stdout
    Check& err(const std::string& want);                                      // exactly this on stderr
    Check& err_mentions(const std::string& word);                             // stderr mentions word, in any case
    Check& nothing_left_behind();                                             // no process of the run outlived it
    Check& usage_error();                                                     // exit 2, "usage" on stderr, no stdout
    Check& forked_while_stalled();                                            // a child of it seen while stdout stalled
    Check& that(bool ok, const std::string& wanted, const std::string& got);  // anything else
    bool passed() const { return failed_.empty(); }
    // "wanted X, got Y" for each clause that failed, one a line.
    const std::string& failures() const { return failed_; }
#ifdef PW_LESSON
    operator ::testing::AssertionResult() const {
        return passed() ? ::testing::AssertionSuccess() : ::testing::AssertionFailure() << "\n" << failed_;
    }
#endif

  private:
    const RunResult& r_;
    std::string failed_;
};

// Lesson tests are compiled with -DPW_LESSON="NN-topic" (the Makefile does it), so
// they name a section by its anchor alone: Why().topic("closing-the-ends").
#ifdef PW_LESSON
// A grader helper program of this lesson (tests/NN-topic/tools/NAME.cpp).
inline std::string tool(const std::string& name) {
    return std::string("build/shared/tools/") + PW_LESSON + "/" + name;
}
inline std::string section(const std::string& anchor) {
    return std::string("lessons/") + PW_LESSON + ".md#" + anchor;
}
// The failure message of run r, or of a check of no run (Why::got says what happened).
inline std::string explain(const RunResult& r, const Why& why) {
    return why.text(&r, PW_LESSON);
}
inline std::string explain(const Why& why) {
    return why.text(nullptr, PW_LESSON);
}
// Why a usage error was expected (Check::usage_error), worded alike in every lesson; the
// cause says what this program takes.
inline Why usage_why(std::string cause) {
    return Why()
        .expected("exit status 2, a usage line on stderr, nothing on stdout")
        .cause(std::move(cause))
        .topic("usage-and-errors");
}
// A failed system call, provoked alike in every lesson: with only four descriptors allowed,
// the program's first pipe() has no room for its two (EMFILE), and the program must say
// so as "PROGRAM: pipe: Too many open files" on stderr and exit 1.
inline RunOptions too_few_fds(RunOptions options = {}) {
    options.max_open_files = 4;
    return options;
}
inline std::string emfile_err(const std::string& program) {
    return program + ": pipe: Too many open files\n";
}
// args: the words after the program in the reproduce command (" hello").
inline Why emfile_why(const std::string& program, const std::string& args) {
    return Why()
        .expected("exit status 1 and stderr \"" + program + ": pipe: Too many open files\\n\"")
        .cause("check what pipe() returns; on -1 print \"" + program + ": pipe: \" and strerror(errno), then exit 1.")
        .topic("usage-and-errors")
        .reproduce("(ulimit -n 4; " + pw::program(program) + args + ")");
}
// The names every lesson test checks and words with, in one declaration instead of a
// using-line each at the top of every test file: `using namespace pw::in_tests;`.
namespace in_tests {
using pw::Check;
using pw::explain;
using pw::RunOptions;
using pw::RunResult;
using pw::Why;
}  // namespace in_tests
#endif

}  // namespace pw
