// pipe_echo_test.cpp - black-box tests of lesson 01's pipe_echo.
//
// Every message is random, so a program that prints a fixed answer fails. Each test
// checks one behaviour; its failure text says what was expected, what happened, the
// likely cause and the lesson section to read.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "lesson.hpp"

namespace {

using pw::explain;
using pw::RunOptions;
using pw::RunResult;

const std::string kProgram = "pipe_echo";
// Larger than the 64 KiB pipe, just under Linux's 128 KiB limit for one argument.
const std::size_t kLargeSize = 128 * 1024 - 1;

RunResult echo(const std::string& message, RunOptions options = {}) {
    return pw::run({pw::program(kProgram), message}, options);
}

std::string large_message() {
    return pw::random_word(kLargeSize);
}

std::string large_reproduce() {
    return pw::program(kProgram) + " \"$(head -c " + std::to_string(kLargeSize) + " /dev/zero | tr '\\0' x)\" | wc -c";
}

// Whether n looks like the size of one read() buffer: a power of two below the pipe's
// 64 KiB (a full pipe's worth is also what a parent's one short write() leaves).
bool one_reads_worth(std::size_t n) {
    return n >= 256 && n < 65536 && (n & (n - 1)) == 0;
}

// Why a run that should have echoed `message` did not, in the learner's terms. The
// cause is computed from what happened, most specific first.
std::string echo_cause(const RunResult& r, const std::string& message) {
    // The child printed a prefix of the message, then its newline: it stopped reading early.
    std::size_t printed = r.out.empty() ? 0 : r.out.size() - 1;
    bool prefix_then_newline = !r.out.empty() && r.out.back() == '\n' && printed < message.size() &&
                               r.out.compare(0, printed, message, 0, printed) == 0;
    std::string read_once = "the child printed exactly " + std::to_string(printed) +
                            " bytes and its newline: it called read() once. read() returns at most what is there "
                            "(and at most the buffer's size); loop until it returns 0, which is end of file.";
    if (r.term_signal == SIGPIPE)
        return "SIGPIPE: it wrote to a pipe whose reader had closed it (that is not a crash: the kernel stops a "
               "writer that nobody can read from). The child exited before it read everything the parent sent" +
               (!prefix_then_newline ? std::string(".")
                : one_reads_worth(printed)
                    ? ": " + read_once
                    : " (it printed " + std::to_string(printed) + " of " + std::to_string(message.size()) +
                          " bytes): keep calling read() until it returns 0, which is end of file.");
    if (prefix_then_newline && one_reads_worth(printed)) return read_once;
    if (r.timed_out)
        return "the reader never saw EOF, so the program never ended. Every write end must be closed: "
               "the parent's after writing, the child's before reading (see what each process was "
               "blocked in, above).";
    if (r.term_signal) return "the program crashed; run the reproduce command under gdb to see where.";
    if (r.out.empty() && r.exit_code == 0)
        return "nothing was printed: is main still the stub? Follow the TODOs in exercises/01-pipe-echo/pipe_echo.cpp.";
    if (r.out == message)
        return "the output lacks the final newline: after the copy loop ends, the child writes \"\\n\".";
    if (r.out.size() < message.size() + 1)
        return "bytes went missing: write() can return less than you asked for, and the rest must be "
               "written too. Loop until every byte is out.";
    if (r.out.size() == message.size() + 1 && r.out.back() == '\n' && r.out.compare(0, 1, message, 0, 1) == 0)
        return "the count is right but the bytes are not: after a write() that moved only part of the buffer, the "
               "next write() must continue from where the last one stopped (buf + n), not send the start again.";
    return "the child must copy exactly what it reads from the pipe to stdout, then one newline.";
}

// The lesson section about the diagnosed cause, when there is one; else `fallback`.
std::string echo_section(const RunResult& r, const std::string& message, const std::string& fallback) {
    std::size_t printed = r.out.empty() ? 0 : r.out.size() - 1;
    bool stopped_early = !r.out.empty() && r.out.back() == '\n' && printed < message.size() &&
                         r.out.compare(0, printed, message, 0, printed) == 0 && one_reads_worth(printed);
    if (stopped_early || r.term_signal == SIGPIPE) return "step-3-the-child-reads-until-eof";
    if (r.timed_out) return "closing-the-ends-you-do-not-use";
    return fallback;
}

TEST(PipeEcho, CopiesTheMessageToStdout) {
    std::string message = pw::random_word(12);
    RunResult r = echo(message);
    bool copied = r.out.compare(0, message.size(), message) == 0 && r.out.size() >= message.size();
    EXPECT_TRUE(copied && !r.timed_out) << explain(r, "stdout starting with " + pw::quote(message),
                                                   echo_cause(r, message), "step-3-the-child-reads-until-eof");
}

TEST(PipeEcho, EndsTheOutputWithANewline) {
    std::string message = pw::random_word(12);
    RunResult r = echo(message);
    EXPECT_EQ(r.out, message + "\n") << explain(r, "stdout " + pw::quote(message + "\n"), echo_cause(r, message),
                                                "step-3-the-child-reads-until-eof");
}

TEST(PipeEcho, EchoesAnEmptyMessage) {
    RunResult r = echo("");
    EXPECT_TRUE(r.ok() && r.out == "\n") << explain(
        r, "stdout \"\\n\" and exit status 0: an empty message is still a message", echo_cause(r, ""),
        "step-3-the-child-reads-until-eof");
}

TEST(PipeEcho, ReaderSeesEofAfterWriterCloses) {
    std::string message = pw::random_word(16);
    RunResult r = echo(message);
    EXPECT_TRUE(r.ok() && r.out == message + "\n")
        << explain(r, "the program ends by itself with exit status 0, having echoed " + pw::quote(message + "\n"),
                   echo_cause(r, message), "closing-the-ends-you-do-not-use");
}

TEST(PipeEcho, EchoesAMessageLargerThanThePipe) {
    std::string message = large_message();
    RunOptions options;
    options.timeout_seconds = 15;
    RunResult r = echo(message, options);
    const std::string section_anchor = echo_section(r, message, "when-the-message-is-bigger-than-the-pipe");
    EXPECT_TRUE(r.ok() && r.out == message + "\n")
        << explain(r, "the " + std::to_string(kLargeSize) + "-byte message and a newline on stdout, exit status 0",
                   echo_cause(r, message), section_anchor, large_reproduce());
}

// Stops and continues the writer while its write() is blocked on a full pipe: Linux
// then returns a short count, which a program must notice and continue from.
TEST(PipeEcho, HandlesPartialWrites) {
    std::string message = large_message();
    RunOptions options;
    options.timeout_seconds = 15;
    options.interrupt_blocked_writes = true;
    RunResult r = echo(message, options);
    const std::string section_anchor = echo_section(r, message, "when-the-message-is-bigger-than-the-pipe");
    EXPECT_TRUE(r.ok() && r.out == message + "\n") << explain(
        r, "every byte of the " + std::to_string(kLargeSize) + "-byte message, even when write() is interrupted",
        echo_cause(r, message), section_anchor, large_reproduce() + "   # and press Ctrl-Z then fg while it runs");
}

// While stdout is stalled, both processes are blocked; the child must be pipe_echo's.
TEST(PipeEcho, UsesAChildProcess) {
    std::string message = large_message();
    RunOptions options;
    options.timeout_seconds = 15;
    options.interrupt_blocked_writes = true;
    RunResult r = echo(message, options);
    bool child_seen = false;
    for (const auto& p : r.seen_while_stalled) child_seen = child_seen || p.ppid == r.pid;
    EXPECT_TRUE(child_seen && r.out == message + "\n")
        << explain(r, "a child process of pipe_echo that prints what the parent sends through the pipe",
                   child_seen ? echo_cause(r, message)
                              : "no child of pipe_echo was seen while it wrote: the lesson's program forks, and "
                                "the message travels through the pipe from parent to child.",
                   "step-2-fork-one-process-becomes-two", large_reproduce());
}

TEST(PipeEcho, ParentWaitsForItsChild) {
    std::string message = pw::random_word(10);
    RunResult r = echo(message);
    std::string cause = !r.left_behind.empty()
                            ? "the program exited while its child was still there (running, or a zombie): the "
                              "parent must wait() for its child before it exits."
                            : echo_cause(r, message);
    EXPECT_TRUE(r.left_behind.empty() && r.ok() && r.out == message + "\n")
        << explain(r, "the echo, then a clean exit with no child left behind", cause, "step-5-wait-for-the-child");
}

TEST(PipeEcho, ChildDoesNotRunTheParentsCode) {
    std::string message = pw::random_word(10);
    RunResult r = echo(message);
    bool clean = r.ok() && r.out == message + "\n" && r.err.empty();
    std::string cause = echo_cause(r, message);
    if (!r.err.empty() || r.out.size() > message.size() + 1 || (r.exit_code > 0 && !r.out.empty()))
        cause =
            "after its work the child went on into the parent's code (a second write, close or wait, which "
            "fails or repeats output): end the child with _exit(0).";
    EXPECT_TRUE(clean) << explain(r, "the echo once, nothing on stderr, exit status 0", cause,
                                  "step-2-fork-one-process-becomes-two");
}

TEST(PipeEcho, PrintsUsageWithoutArgument) {
    RunResult r = pw::run({pw::program(kProgram)});
    std::string cause = r.term_signal
                            ? "it crashed: with no argument argv[1] is a null pointer. Check argc first."
                            : "with no MESSAGE, print one usage line on stderr and return 2; check argc first.";
    EXPECT_TRUE(r.exited_with(2) && pw::mentions(r.err, "usage") && r.out.empty())
        << explain(r, "exit status 2, a usage line on stderr, nothing on stdout", cause, "usage-and-errors");
}

TEST(PipeEcho, PrintsUsageWithTwoArguments) {
    RunResult r = pw::run({pw::program(kProgram), "one", "two"});
    EXPECT_TRUE(r.exited_with(2) && pw::mentions(r.err, "usage") && r.out.empty())
        << explain(r, "exit status 2, a usage line on stderr, nothing on stdout",
                   "pipe_echo takes exactly one MESSAGE: argc must be 2; check argc first.", "usage-and-errors");
}

// With only four descriptors allowed, pipe() has no room for its two: EMFILE.
TEST(PipeEcho, ReportsAFailedSystemCall) {
    RunOptions options;
    options.max_open_files = 4;
    RunResult r = pw::run({pw::program(kProgram), "hello"}, options);
    EXPECT_TRUE(r.exited_with(1) && r.err == "pipe_echo: pipe: Too many open files\n")
        << explain(r, "exit status 1 and stderr \"pipe_echo: pipe: Too many open files\\n\"",
                   "check what pipe() returns; on -1 print \"pipe_echo: pipe: \" and strerror(errno), then exit 1.",
                   "usage-and-errors", "(ulimit -n 4; " + pw::program(kProgram) + " hello)");
}

// With stdout closed the child's write fails and it exits 1: pipe_echo's own exit
// status must say so. The parent learns how its child ended only from wait's status.
TEST(PipeEcho, ExitStatusReflectsTheChilds) {
    RunResult r = pw::run({"/bin/sh", "-c", "exec \"$0\" hello >&-", pw::program(kProgram)});
    std::string cause =
        "the child failed (it could not write to stdout) but pipe_echo exited 0: return 0 only "
        "when wait()'s status says the child exited with 0 (WIFEXITED and WEXITSTATUS), else 1.";
    if (r.exited_with(1) && r.err.empty())
        cause =
            "exit status 1, but nothing on stderr: the child must name the call that failed, "
            "\"pipe_echo: write - child: Bad file descriptor\".";
    EXPECT_TRUE(r.exited_with(1) && pw::mentions(r.err, "Bad file descriptor"))
        << explain(r, "exit status 1, and the child's error (Bad file descriptor) on stderr", cause,
                   "step-5-wait-for-the-child", pw::program(kProgram) + " hello >&-; echo $?");
}

}  // namespace
