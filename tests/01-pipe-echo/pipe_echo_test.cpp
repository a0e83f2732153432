// pipe_echo_test.cpp - black-box tests of lesson 01's pipe_echo.
//
// Every message is random, so a program that prints a fixed answer fails. Each test
// checks ONE behaviour, so that one bug costs one test: the copy (at each size, one
// table), the newline, end of file, partial writes, the child, the wait, usage and
// errors. Its failure text says what was expected, what happened, the likely cause
// computed from what happened, and the lesson section about that cause.
#include <gtest/gtest.h>

#include <csignal>
#include <ostream>
#include <string>

#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

const std::string kProgram = "pipe_echo";
// Larger than the 64 KiB pipe, just under Linux's 128 KiB limit for one argument.
const std::size_t kLargeSize = 128 * 1024 - 1;

RunResult echo(const std::string& message, RunOptions options = {}) {
    if (message.size() > 4096) options.timeout_seconds = 15;
    return pw::run({pw::program(kProgram), message}, options);
}

// The command that reruns a message of `size` letters (too long to show as it ran).
std::string reproduce_size(std::size_t size) {
    return pw::program(kProgram) + " \"$(head -c " + std::to_string(size) + " /dev/zero | tr '\\0' x)\" | wc -c";
}

// What the child copied: stdout without the one newline it adds at the end (whether
// that newline is there is EndsTheOutputWithANewline's business, not the copy's).
std::string copied(const RunResult& r) {
    return !r.out.empty() && r.out.back() == '\n' ? r.out.substr(0, r.out.size() - 1) : r.out;
}

// Whether n looks like the size of one read() buffer: a power of two below the pipe's
// 64 KiB (a full pipe's worth is also what a parent's one short write() leaves).
bool one_reads_worth(std::size_t n) {
    return n >= 256 && n < 65536 && (n & (n - 1)) == 0;
}

// Why a run that should have echoed `message` did not, in the learner's terms, with the
// section about that cause. Computed from what happened, most specific first. Only when
// the test interrupted the parent's writes can a short output come from a short write().
Why echo_why(const RunResult& r, const std::string& message, bool writes_interrupted = false) {
    const std::string step3 = "step-3-the-child-reads-until-eof";
    const std::string big = "when-the-message-is-bigger-than-the-pipe";
    // The child printed a prefix of the message, then its newline: it stopped reading early.
    std::size_t printed = r.out.empty() ? 0 : r.out.size() - 1;
    bool prefix_then_newline = !r.out.empty() && r.out.back() == '\n' && printed < message.size() &&
                               r.out.compare(0, printed, message, 0, printed) == 0;
    std::string read_once = "the child printed exactly " + std::to_string(printed) +
                            " bytes and its newline: it called read() once. read() returns at most what is there "
                            "(and at most the buffer's size); loop until it returns 0, which is end of file.";
    Why why;
    if (r.term_signal == SIGPIPE)
        return why.cause(
            "SIGPIPE: it wrote to a pipe whose reader had closed it (that is not a crash: the kernel stops a "
            "writer that nobody can read from). The child exited before it read everything the parent sent" +
                (!prefix_then_newline ? std::string(".")
                 : one_reads_worth(printed)
                     ? ": " + read_once
                     : " (it printed " + std::to_string(printed) + " of " + std::to_string(message.size()) +
                           " bytes): keep calling read() until it returns 0, which is end of file."),
            step3);
    if (prefix_then_newline && one_reads_worth(printed)) return why.cause(read_once, step3);
    if (prefix_then_newline && !writes_interrupted)
        return why.cause("the child printed the first " + std::to_string(printed) + " of " +
                             std::to_string(message.size()) +
                             " bytes, then its newline: it stopped reading before end of file. Keep calling "
                             "read() until it returns 0.",
                         step3);
    if (r.timed_out)
        return why.cause(
            "the reader never saw EOF, so the program never ended. Every write end must be closed: the parent's "
            "after writing, the child's before reading (see what each process was blocked in, above).",
            "closing-the-ends-you-do-not-use");
    if (r.term_signal) return why.cause(pw::signal_cause(r));
    if (r.out.size() > message.size() + 1 || r.err.find("- parent") != std::string::npos)
        return why.cause(
            "after its work the child went on into the parent's code (a second write, close or wait, which fails "
            "or repeats output): end the child with _exit(0).",
            "step-2-fork-one-process-becomes-two");
    if (r.out.empty() && r.exit_code == 0)
        return why.cause(
            "nothing was printed: is main still the stub? Follow the TODOs in exercises/01-pipe-echo/pipe_echo.cpp.");
    if (r.out == message)
        return why.cause("the output lacks the final newline: after the copy loop ends, the child writes \"\\n\".",
                         step3);
    if (copied(r).size() < message.size())
        return why.cause(
            "bytes went missing: write() can return less than you asked for, and the rest must be written too. "
            "Loop until every byte is out.",
            big);
    if (copied(r) != message && copied(r).size() == message.size() && r.out.compare(0, 1, message, 0, 1) == 0)
        return why.cause(
            "the count is right but the bytes are not: after a write() that moved only part of the buffer, the "
            "next write() must continue from where the last one stopped (buf + n), not send the start again.",
            big);
    return why.cause("the child must copy exactly what it reads from the pipe to stdout, then one newline.");
}

// ---- The copy, at each size: one behaviour, one table ------------------------------

struct Size {
    std::size_t bytes;
    const char* name;
};

// Names an instance in googletest's output ("4097Bytes"), not as 16 bytes of hex.
void PrintTo(const Size& size, std::ostream* os) {
    *os << size.name;
}

class CopyBySize : public ::testing::TestWithParam<Size> {};

TEST_P(CopyBySize, EveryByteReachesStdout) {
    const std::size_t size = GetParam().bytes;
    std::string message = pw::random_word(size);
    RunResult r = echo(message);
    Why why =
        echo_why(r, message)
            .expected("the " + std::to_string(size) + "-byte message on stdout (then its newline)")
            .topic(size > 65536 ? "when-the-message-is-bigger-than-the-pipe" : "step-3-the-child-reads-until-eof");
    if (size > 200) why.reproduce(reproduce_size(size));
    EXPECT_TRUE(
        Check(r).that(copied(r) == message, "the " + std::to_string(size) + "-byte message", pw::quote(copied(r))))
        << explain(r, why);
}

// One short message; one more than a 4096-byte read() buffer (a child that reads once stops
// short); one more than the pipe holds; the largest one argument can be.
INSTANTIATE_TEST_SUITE_P(PipeEcho, CopyBySize,
                         ::testing::Values(Size{12, "12Bytes"}, Size{4097, "4097Bytes"}, Size{65537, "64KiBPlus1"},
                                           Size{kLargeSize, "128KiBLess1"}),
                         [](const ::testing::TestParamInfo<Size>& info) { return std::string(info.param.name); });

// ---- One behaviour each ---------------------------------------------------------------

TEST(PipeEcho, EndsTheOutputWithANewline) {
    // An empty message is still a message: its echo is the newline alone.
    for (const std::string& message : {pw::random_word(12), std::string()}) {
        RunResult r = echo(message);
        bool newline = !r.out.empty() && r.out.back() == '\n' && (r.out.size() < 2 || r.out[r.out.size() - 2] != '\n');
        // The newline comes after end of file: a child still waiting for EOF with the whole
        // message copied fails ReaderSeesEofAfterWriterCloses, not this test.
        newline = newline || (r.timed_out && r.out == message);
        EXPECT_TRUE(Check(r).that(newline, "stdout ending in one \"\\n\"", pw::quote(r.out)))
            << explain(r, echo_why(r, message)
                              .expected("stdout " + pw::quote(message + "\n") + ": the message, then one newline")
                              .topic("step-3-the-child-reads-until-eof"));
        if (!newline) break;  // one case is enough to read
    }
}

TEST(PipeEcho, ReaderSeesEofAfterWriterCloses) {
    std::string message = pw::random_word(16);
    RunResult r = echo(message);
    // Ending proves nothing unless a reader ran: the stub ends at once, having printed nothing.
    EXPECT_TRUE(Check(r).ends().that(!r.out.empty(), "the echo", "nothing on stdout")) << explain(
        r, echo_why(r, message)
               .expected("the program ends by itself: the child's read() returns 0 once every write end is closed")
               .topic("closing-the-ends-you-do-not-use"));
}

// Stops and continues the writer while its write() is blocked on a full pipe: Linux
// then returns a short count, which a program must notice and continue from.
TEST(PipeEcho, HandlesPartialWrites) {
    std::string message = pw::random_word(kLargeSize);
    RunOptions options;
    options.interrupt_blocked_writes = true;
    RunResult r = echo(message, options);
    EXPECT_TRUE(Check(r).that(copied(r) == message, "every byte of the message", pw::quote(copied(r))))
        << explain(r, echo_why(r, message, true)
                          .expected("every byte of the " + std::to_string(kLargeSize) +
                                    "-byte message, even when write() is interrupted")
                          .topic("when-the-message-is-bigger-than-the-pipe")
                          .reproduce(reproduce_size(kLargeSize) + "   # and press Ctrl-Z then fg while it runs"));
}

// While stdout is stalled, both processes are blocked; the child must be pipe_echo's.
TEST(PipeEcho, UsesAChildProcess) {
    std::string message = pw::random_word(kLargeSize);
    RunOptions options;
    options.interrupt_blocked_writes = true;
    RunResult r = echo(message, options);
    Why why = pw::child_seen_while_stalled(r)
                  ? echo_why(r, message, true)
                  : Why().cause(
                        "no child of pipe_echo was seen while it wrote: the lesson's program forks, "
                        "and the message travels through the pipe from parent to child.");
    EXPECT_TRUE(Check(r).forked_while_stalled())
        << explain(r, why.expected("a child process of pipe_echo that prints what the parent sends through the pipe")
                          .topic("step-2-fork-one-process-becomes-two")
                          .reproduce(reproduce_size(kLargeSize)));
}

TEST(PipeEcho, ParentWaitsForItsChild) {
    std::string message = pw::random_word(10);
    RunResult r = echo(message);
    Why why = !r.left_behind.empty() ? Why().cause(pw::left_behind_cause("wait()"), "step-5-wait-for-the-child")
                                     : echo_why(r, message);
    EXPECT_TRUE(Check(r).ends().nothing_left_behind().that(!r.out.empty(), "an echo", "nothing on stdout")) << explain(
        r, why.expected("the echo, then a clean exit with no child left behind").topic("step-5-wait-for-the-child"));
}

TEST(PipeEcho, ChildDoesNotRunTheParentsCode) {
    std::string message = pw::random_word(10);
    RunResult r = echo(message);
    bool once = !r.out.empty() && r.out.size() <= message.size() + 1;
    Why why = echo_why(r, message);
    if (!r.err.empty() && r.out == message + "\n")
        why.cause(
            "after its work the child went on into the parent's code (a second write, close or wait, which fails "
            "or repeats output): end the child with _exit(0).",
            "step-2-fork-one-process-becomes-two");
    EXPECT_TRUE(Check(r).err("").that(once, "the echo once", pw::quote(r.out))) << explain(
        r,
        why.expected("the echo once, nothing on stderr, exit status 0").topic("step-2-fork-one-process-becomes-two"));
}

TEST(PipeEcho, PrintsUsageWithoutArgument) {
    RunResult r = pw::run({pw::program(kProgram)});
    EXPECT_TRUE(Check(r).usage_error()) << explain(
        r, pw::usage_why(r.term_signal ? "it crashed: with no argument argv[1] is a null pointer. Check argc first."
                                       : "with no MESSAGE, print one usage line on stderr and return 2; check "
                                         "argc first."));
}

TEST(PipeEcho, PrintsUsageWithTwoArguments) {
    RunResult r = pw::run({pw::program(kProgram), "one", "two"});
    EXPECT_TRUE(Check(r).usage_error()) << explain(
        r, pw::usage_why("pipe_echo takes exactly one MESSAGE: argc must be 2; check argc first."));
}

// With only four descriptors allowed, pipe() has no room for its two: EMFILE.
TEST(PipeEcho, ReportsAFailedSystemCall) {
    RunResult r = pw::run({pw::program(kProgram), "hello"}, pw::too_few_fds());
    EXPECT_TRUE(Check(r).exits(1).err(pw::emfile_err(kProgram))) << explain(r, pw::emfile_why(kProgram, " hello"));
}

// With stdout closed the child's write fails and it exits 1: pipe_echo's own exit
// status must say so. The parent learns how its child ended only from wait's status.
TEST(PipeEcho, ExitStatusReflectsTheChilds) {
    RunResult r = pw::run({"/bin/sh", "-c", "exec \"$0\" hello >&-", pw::program(kProgram)});
    std::string cause =
        "the child failed (it could not write to stdout) but pipe_echo exited 0: return 0 only "
        "when wait()'s status says the child exited with 0 (WIFEXITED and WEXITSTATUS), else 1.";
    if (r.exited_with(0) && r.err.empty())
        cause =
            "pipe_echo exited 0 and nothing complained about the closed stdout: no child wrote anything. Is main "
            "still the stub? Follow the TODOs in exercises/01-pipe-echo/pipe_echo.cpp.";
    else if (r.exited_with(1) && r.err.empty())
        cause =
            "exit status 1, but nothing on stderr: the child must name the call that failed, "
            "\"pipe_echo: write - child: Bad file descriptor\".";
    EXPECT_TRUE(Check(r).exits(1).err_mentions("Bad file descriptor"))
        << explain(r, Why()
                          .expected("exit status 1, and the child's error (Bad file descriptor) on stderr")
                          .cause(cause, r.exited_with(0) && r.err.empty() ? "" : "step-5-wait-for-the-child")
                          .topic("step-5-wait-for-the-child")
                          .reproduce(pw::program(kProgram) + " hello >&-; echo $?"));
}

}  // namespace
