// filter_bytes_test.cpp - white-box tests of lesson 04's filter_bytes().
//
// Each test calls the learner's filter_bytes() inside pw::run_function: a sandboxed
// child process of the test, so that a deadlock or a crash fails one test, not the
// suite, and the grader can say what each process was blocked in. Inside that
// process the test also notes the descriptors open before and after the call and
// the children still there afterwards, and sends everything back on its stdout.
// Inputs are random, so that a hard-coded answer fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "filter.hpp"
#include "lesson.hpp"
#include "test_support.hpp"

// Every poll() made in this test binary - the learner's filter.cpp is linked into it -
// goes through here: counted, then made as the same system call. A pump that waits
// for events makes a handful of calls per event; one that spins makes thousands.
std::atomic<long> polls_made{0};
extern "C" int poll(struct pollfd* fds, nfds_t count, int timeout) {
    polls_made.fetch_add(1);
    struct timespec ts = {timeout / 1000, (timeout % 1000) * 1000000L};
    return static_cast<int>(syscall(SYS_ppoll, fds, count, timeout < 0 ? nullptr : &ts, nullptr, 0));
}

namespace {

using pw::explain;

// What one call of filter_bytes did, as seen from inside the sandboxed process.
struct Outcome {
    pw::RunResult run;      // the sandboxed process that made the call
    bool returned = false;  // filter_bytes returned and the report came back
    filter::Status status;
    std::string output;
    std::string leaked_fds;  // descriptors open after the call that were not before
    std::string children;    // children of the caller still there after the call
    std::string call;        // "filter_bytes(<1048576 random bytes>, {"cat"})"
};

std::string argv_text(const std::vector<std::string>& argv) {
    std::string s = "{";
    for (std::size_t i = 0; i < argv.size(); ++i) s += (i ? ", \"" : "\"") + argv[i] + "\"";
    return s + "}";
}

std::string input_text(const std::string& input) {
    if (input.size() <= 40 && input.find('\0') == std::string::npos) {
        std::string q = pw::quote(input);
        return q.substr(0, q.rfind(" ("));  // without the byte count
    }
    return "<" + std::to_string(input.size()) + " bytes of test data>";
}

// Calls filter_bytes(input, argv) in a sandboxed child of the test. `setup` runs
// there first (e.g. to ignore SIGPIPE the way a server would).
Outcome call_filter_bytes(const std::string& input, const std::vector<std::string>& argv, pw::RunOptions options = {},
                          const std::function<void()>& setup = {}) {
    options.output_cap = std::max<std::size_t>(options.output_cap, 2 * input.size() + (1 << 20));
    options.extra_env.push_back("LC_ALL=C");  // sort and tr: byte order, whatever the machine's locale
    Outcome o;
    o.call = "filter_bytes(" + input_text(input) + ", " + argv_text(argv) + ")";
    o.run = pw::run_function(
        [&]() -> int {
            if (setup) setup();
            std::vector<int> before = pw::open_fds();
            filter::FilterOutput r = filter::filter_bytes(input, argv);
            std::string leaked;
            for (int fd : pw::open_fds())
                if (std::find(before.begin(), before.end(), fd) == before.end()) leaked += " " + std::to_string(fd);
            std::string kids;
            for (const auto& k : pw::children_of_this_process())
                kids += " pid " + std::to_string(k.pid) + " (" + k.command + ", state " + k.state + ")";
            std::string error = r.status.error;
            std::replace(error.begin(), error.end(), '\n', ' ');
            std::printf("%d %d %d\n%s\n%s\n%s\n", r.status.exit_code, r.status.signal, r.status.exec_errno,
                        leaked.c_str(), kids.c_str(), error.c_str());
            std::fwrite(r.output.data(), 1, r.output.size(), stdout);
            std::fflush(stdout);
            return 0;
        },
        options);
    // Four header lines, then the output bytes.
    const std::string& out = o.run.out;
    std::size_t at = 0;
    std::vector<std::string> lines;
    while (lines.size() < 4) {
        std::size_t eol = out.find('\n', at);
        if (eol == std::string::npos) break;
        lines.push_back(out.substr(at, eol - at));
        at = eol + 1;
    }
    if (lines.size() == 4 && o.run.ok() && !o.run.out_truncated) {
        std::istringstream(lines[0]) >> o.status.exit_code >> o.status.signal >> o.status.exec_errno;
        o.leaked_fds = lines[1];
        o.children = lines[2];
        o.status.error = lines[3];
        o.output = out.substr(at);
        o.returned = true;
    }
    return o;
}

// What happened, in a learner's words (the "got" part of a failure).
std::string got(const Outcome& o) {
    if (o.run.timed_out) {
        std::string s = "filter_bytes never returned (" + o.run.status() + ").";
        if (!o.run.stuck_report.empty())
            s += " \"The program you ran\" below is the test process that called filter_bytes.\n"
                 "              what each process was doing:\n" +
                 o.run.stuck_report;
        return s;
    }
    if (o.run.term_signal)
        return "the process that called filter_bytes was killed by signal " + std::to_string(o.run.term_signal) + " (" +
               strsignal(o.run.term_signal) + ") inside the call";
    if (!o.returned) return "the call did not complete: " + o.run.status() + ", stderr " + pw::quote(o.run.err);
    std::string s = "output " + pw::quote(o.output, 60) + ", status.error " + pw::quote(o.status.error) +
                    ", exit_code " + std::to_string(o.status.exit_code) + ", signal " +
                    std::to_string(o.status.signal) + ", exec_errno " + std::to_string(o.status.exec_errno);
    if (!o.leaked_fds.empty()) s += "\n              descriptors left open by the call:" + o.leaked_fds;
    if (!o.children.empty()) s += "\n              children left behind (running or unreaped):" + o.children;
    if (!o.run.err.empty()) s += "\n              stderr " + pw::quote(o.run.err);
    return s;
}

// The likely cause of a failed call, computed from what happened. expected_output is
// what the call should have returned (when the test knows it).
std::string cause(const Outcome& o, const std::string* expected_output = nullptr) {
    if (o.run.timed_out) return lesson04::hang_cause(o.run);
    if (o.run.term_signal == SIGPIPE)
        return "your process was killed by SIGPIPE: the child stopped reading its stdin and your next write() to "
               "it raised SIGPIPE. Ignore SIGPIPE while you pump (sigaction SIG_IGN), and treat EPIPE as \"the "
               "child wants no more input\".";
    if (o.run.term_signal) return "the call crashed; rerun the test under gdb to see where.";
    if (!o.returned) return "the test could not read back what filter_bytes returned (see stderr above).";
    if (o.status.error.find("not written yet") != std::string::npos)
        return o.status.error.substr(0, o.status.error.find(' ')) +
               " is still the stub: follow its TODOs in exercises/04-filter-child/filter.cpp.";
    if (!o.leaked_fds.empty())
        return "the call left descriptors open: close both of your pipe ends (and the exec-error pipe) "
               "on every path, and make sure the child's ends are closed in the parent.";
    if (!o.children.empty()) return "the child was not reaped: call waitpid() on it before returning.";
    if (o.status.error.find(": Broken pipe") != std::string::npos)
        return "EPIPE here is not an error: the child stopped reading its stdin (it has all it wants). Close your "
               "end, drop the rest of the input on purpose, and go on reading its output.";
    if (expected_output) {
        const std::string& want = *expected_output;
        if (o.status.signal == SIGPIPE && o.output.size() < want.size())
            return "the child was killed by SIGPIPE while writing its output: you stopped reading (closed) its "
                   "stdout too early. Read the child's stdout until read() returns 0.";
        if (o.output.size() < want.size() && want.compare(0, o.output.size(), o.output) == 0)
            return "the output stops after " + std::to_string(o.output.size()) + " of " + std::to_string(want.size()) +
                   " bytes: read the child's stdout until read() returns 0; a read "
                   "that returns less than you asked for is not the end.";
        if (o.output.size() == want.size() && o.output != want)
            return "the output has the right length but different bytes: are all bytes copied as they are "
                   "(NUL included, no C-string functions)?";
    }
    if (!o.status.error.empty()) return "filter_bytes reported an error where the child succeeded.";
    return "the output is not what the child printed: copy exactly the bytes read() returns.";
}

bool clean(const Outcome& o) {
    return o.returned && o.leaked_fds.empty() && o.children.empty();
}

std::string reproduce(const Outcome& o) {
    return "the test calls " + o.call + " in a child process; rerun it with the 'rerun this test' line below";
}

std::string random_bytes(std::size_t n) {
    static std::mt19937 gen{std::random_device{}()};
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen() & 0xff);
    return s;
}

// Random lowercase words, one per line.
std::string random_lines(std::size_t total) {
    std::string s;
    while (s.size() < total) s += pw::random_word(1 + s.size() % 13) + "\n";
    return s;
}

// The check every round trip makes: exact output, success, nothing leaked.
void expect_round_trip(const std::string& input, const std::vector<std::string>& argv, const std::string& want,
                       const std::string& anchor, double timeout = 5) {
    pw::RunOptions options;
    options.timeout_seconds = timeout;
    Outcome o = call_filter_bytes(input, argv, options);
    EXPECT_TRUE(clean(o) && o.status.ok() && o.output == want)
        << explain("it returns " + lesson04::shown(want) +
                       " with an empty status.error, and leaves no descriptor or "
                       "child behind",
                   got(o), cause(o, &want), anchor, reproduce(o));
}

// ---- round trips ------------------------------------------------------------------

TEST(FilterBytes, RoundTripsAnEmptyInputThroughCat) {
    expect_round_trip("", {"cat"}, "", "closing-stdin-is-the-childs-end-of-file");
}

TEST(FilterBytes, RoundTripsOneByteThroughCat) {
    std::string b = pw::random_word(1);
    expect_round_trip(b, {"cat"}, b, "closing-stdin-is-the-childs-end-of-file");
}

TEST(FilterBytes, RoundTripsOneByteLessThanThePipeHolds) {
    std::string in = random_bytes(65535);
    expect_round_trip(in, {"cat"}, in, "the-deadlock-of-write-all-then-read");
}

TEST(FilterBytes, RoundTripsExactlyWhatThePipeHolds) {
    std::string in = random_bytes(65536);
    expect_round_trip(in, {"cat"}, in, "the-deadlock-of-write-all-then-read");
}

TEST(FilterBytes, RoundTripsOneByteMoreThanThePipeHolds) {
    std::string in = random_bytes(65537);
    expect_round_trip(in, {"cat"}, in, "the-deadlock-of-write-all-then-read");
}

// 1 MiB fills both 64 KiB pipes many times over: write-all-then-read deadlocks here.
TEST(FilterBytes, PumpsAMebibyteThroughCatWithoutDeadlock) {
    std::string in = random_bytes(1 << 20);
    expect_round_trip(in, {"cat"}, in, "the-deadlock-of-write-all-then-read");
}

TEST(FilterBytes, RoundTrips16MebibytesThroughCat) {
    std::string in = random_bytes(16 << 20);
    expect_round_trip(in, {"cat"}, in, "pumping-both-pipes-with-poll", 60);  // 16 MiB: a long cap; a hang ends sooner
}

TEST(FilterBytes, PreservesNulBytes) {
    std::string in = random_bytes(3000) + std::string(100, '\0') + random_bytes(3000);
    expect_round_trip(in, {"cat"}, in, "pumping-both-pipes-with-poll");
}

TEST(FilterBytes, UppercasesThroughTr) {
    std::string in = random_lines(200000);
    std::string want = in;
    for (auto& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    expect_round_trip(in, {"tr", "a-z", "A-Z"}, want, "pumping-both-pipes-with-poll");
}

TEST(FilterBytes, SortsThroughSort) {
    std::string in = random_lines(2000);
    std::vector<std::string> lines;
    std::istringstream is(in);
    for (std::string l; std::getline(is, l);) lines.push_back(l + "\n");
    std::sort(lines.begin(), lines.end());
    std::string want;
    for (const auto& l : lines) want += l;
    expect_round_trip(in, {"sort"}, want, "pumping-both-pipes-with-poll");
}

// sort prints nothing until its input ends, then 1 MiB at once: the output must be
// read after the child's stdin is closed, until end of file, before waitpid.
TEST(FilterBytes, DrainsTheOutputAfterClosingStdin) {
    std::string in = random_lines(1 << 20);
    std::vector<std::string> lines;
    std::istringstream is(in);
    for (std::string l; std::getline(is, l);) lines.push_back(l + "\n");
    std::sort(lines.begin(), lines.end());
    std::string want;
    for (const auto& l : lines) want += l;
    expect_round_trip(in, {"sort"}, want, "closing-stdin-is-the-childs-end-of-file");
}

TEST(FilterBytes, CountsThroughWc) {
    std::string in = random_bytes(100000 + std::random_device{}() % 1000);
    expect_round_trip(in, {"wc", "-c"}, std::to_string(in.size()) + "\n", "pumping-both-pipes-with-poll");
}

TEST(FilterBytes, HashesThroughSha256sum) {
    std::string in = random_bytes(300000);
    pw::RunOptions direct;
    direct.stdin_data = in;
    pw::RunResult reference = pw::run({"sha256sum"}, direct);
    ASSERT_TRUE(reference.ok()) << "the test could not run sha256sum itself: " << reference.status();
    expect_round_trip(in, {"sha256sum"}, reference.out, "pumping-both-pipes-with-poll");
}

// The child prints more than one read() returns: every byte up to EOF must be kept.
TEST(FilterBytes, ReadsTheOutputUntilEndOfFile) {
    std::string in = random_bytes(300000);
    expect_round_trip(in, {"cat"}, in, "pumping-both-pipes-with-poll");
}

TEST(FilterBytes, ClosesStdinSoTheChildSeesEndOfFile) {
    std::string in = pw::random_word(20);
    expect_round_trip(in, {"cat"}, in, "closing-stdin-is-the-childs-end-of-file", 3);
}

// head -c 100 exits after 100 bytes: the rest of the input cannot be written (EPIPE,
// or SIGPIPE if it is not ignored) and must be dropped on purpose.
TEST(FilterBytes, StopsFeedingWhenHeadStopsReading) {
    std::string in = random_bytes(1 << 20);
    expect_round_trip(in, {"head", "-c", "100"}, in.substr(0, 100), "when-the-child-stops-reading-sigpipe-and-epipe");
}

// ---- how the child ended ------------------------------------------------------------

TEST(FilterBytes, ReportsTheChildsExitStatus) {
    std::string in = pw::random_word(30);
    Outcome o = call_filter_bytes(in, {"sh", "-c", "cat; exit 3"});
    EXPECT_TRUE(clean(o) && o.status.exit_code == 3 && o.status.signal == 0 && o.output == in &&
                o.status.error == "sh exited with status 3")
        << explain("output " + pw::quote(in) + ", exit_code 3, status.error \"sh exited with status 3\"", got(o),
                   !clean(o) ? cause(o)
                             : "decode the wait status: WIFEXITED(ws) and WEXITSTATUS(ws) give the exit status; "
                               "any status but 0 is an error that names it.",
                   "saying-how-the-child-ended", reproduce(o));
}

TEST(FilterBytes, ReportsTheSignalThatKilledTheChild) {
    Outcome o = call_filter_bytes(pw::random_word(30), {"sh", "-c", "cat >/dev/null; kill -KILL $$"});
    EXPECT_TRUE(clean(o) && o.status.signal == SIGKILL && o.status.error == "sh was killed by signal 9 (Killed)")
        << explain("signal 9, status.error \"sh was killed by signal 9 (Killed)\"", got(o),
                   !clean(o) ? cause(o)
                             : "decode the wait status: WIFSIGNALED(ws) and WTERMSIG(ws) give the signal; name it "
                               "with strsignal().",
                   "saying-how-the-child-ended", reproduce(o));
}

TEST(FilterBytes, ReportsACommandThatCannotBeExecuted) {
    std::string name = "no-such-command-" + pw::random_word(8);
    Outcome o = call_filter_bytes(pw::random_word(30), {name});
    std::string want = "cannot execute " + name + ": No such file or directory";
    EXPECT_TRUE(clean(o) && o.status.exec_errno == ENOENT && o.status.error == want)
        << explain("exec_errno ENOENT (" + std::to_string(ENOENT) + ") and status.error " + pw::quote(want), got(o),
                   !clean(o) ? cause(o)
                             : "when execvp fails, the child must tell the parent why: it writes errno into a "
                               "close-on-exec pipe, and the parent reads it (EOF means exec succeeded).",
                   "when-exec-fails", reproduce(o));
}

// Exit status 127 is also what a command may return by itself: it proves nothing.
TEST(FilterBytes, TellsExitStatus127FromCannotExecute) {
    Outcome o = call_filter_bytes("", {"sh", "-c", "exit 127"});
    EXPECT_TRUE(clean(o) && o.status.exec_errno == 0 && o.status.exit_code == 127 &&
                o.status.error == "sh exited with status 127")
        << explain("exec_errno 0, exit_code 127, status.error \"sh exited with status 127\": sh did run", got(o),
                   !clean(o) ? cause(o)
                             : "a child that exits with 127 by itself was taken for a failed exec: exit status "
                               "127 alone does not prove that exec failed, and cannot carry errno. Let the child "
                               "send errno through a close-on-exec pipe instead.",
                   "when-exec-fails", reproduce(o));
}

// ---- hygiene ----------------------------------------------------------------------------

TEST(FilterBytes, LeavesNoDescriptorOpen) {
    std::string in = pw::random_word(100);
    Outcome ok = call_filter_bytes(in, {"cat"});
    Outcome failed = call_filter_bytes(in, {"no-such-command-" + pw::random_word(8)});
    bool worked = ok.status.ok() && ok.output == in && failed.status.exec_errno == ENOENT;
    for (const Outcome* o : {&ok, &failed})
        EXPECT_TRUE(worked && o->returned && o->leaked_fds.empty())
            << explain("no descriptor open after the call that was not open before it", got(*o), cause(*o),
                       "starting-the-child-with-two-pipes", reproduce(*o));
}

TEST(FilterBytes, LeavesNoChildBehind) {
    std::string in = pw::random_word(100);
    Outcome ok = call_filter_bytes(in, {"cat"});
    Outcome failed = call_filter_bytes(in, {"no-such-command-" + pw::random_word(8)});
    bool worked = ok.status.ok() && ok.output == in && failed.status.exec_errno == ENOENT;
    for (const Outcome* o : {&ok, &failed})
        EXPECT_TRUE(worked && o->returned && o->children.empty())
            << explain("no child of the caller left after the call, running or zombie", got(*o),
                       o->returned && !o->children.empty() ? "the child was not reaped: waitpid() for it on every "
                                                             "path, the failed exec included."
                                                           : cause(*o),
                       "saying-how-the-child-ended", reproduce(*o));
}

// The child must hold its stdin, stdout and stderr, and none of the pipes' other ends.
TEST(FilterBytes, ChildHoldsOnlyItsOwnEnds) {
    std::vector<int> test_fds = pw::open_fds();
    Outcome o = call_filter_bytes("", {pw::tool("list_fds")});
    std::istringstream is(o.output);
    std::string extra;
    for (int fd; is >> fd;)
        if (fd > 2 && std::find(test_fds.begin(), test_fds.end(), fd) == test_fds.end())
            extra += " " + std::to_string(fd);
    EXPECT_TRUE(o.returned && o.status.ok() && !o.output.empty() && extra.empty())
        << explain("the child starts with fds 0, 1 and 2 only (plus what the test itself had open)", got(o),
                   !o.returned || !o.status.ok() ? cause(o)
                                                 : "the child also holds fd" + extra +
                                                       ": after dup2, the child "
                                                       "closes every original pipe end; a leftover write end of its "
                                                       "own stdin would keep it from ever seeing EOF.",
                   "starting-the-child-with-two-pipes", reproduce(o));
}

#ifdef __linux__
// Ignored signals stay ignored across exec. A caller that ignores SIGPIPE (many
// servers do) must still give the command the default, or `yes | head` breaks in it.
TEST(FilterBytes, ChildStartsWithTheDefaultSigpipe) {
    Outcome o = call_filter_bytes("", {"grep", "^SigIgn:", "/proc/self/status"}, {}, [] { signal(SIGPIPE, SIG_IGN); });
    unsigned long long mask = 0;
    bool parsed = std::sscanf(o.output.c_str(), "SigIgn: %llx", &mask) == 1;
    bool ignored = mask & (1ull << (SIGPIPE - 1));
    EXPECT_TRUE(o.returned && o.status.ok() && parsed && !ignored)
        << explain("the command starts with SIGPIPE at its default action, even when the caller ignores it", got(o),
                   parsed && ignored ? "the child inherited SIG_IGN for SIGPIPE, which exec keeps: in the child, "
                                       "before exec, put it back with signal(SIGPIPE, SIG_DFL)."
                                     : cause(o),
                   "when-the-child-stops-reading-sigpipe-and-epipe", reproduce(o));
}
#endif

// Ignoring SIGPIPE is the pump's business while it runs, not the caller's forever.
TEST(FilterBytes, LeavesSigpipeAsItFoundIt) {
    std::string in = pw::random_word(50);
    pw::RunResult r = pw::run_function([&]() -> int {
        filter::FilterOutput out = filter::filter_bytes(in, {"cat"});
        struct sigaction now;
        sigaction(SIGPIPE, nullptr, &now);
        std::printf("%s %s\n", out.output == in ? "output-ok" : "output-wrong",
                    now.sa_handler == SIG_DFL ? "default" : "changed");
        return 0;
    });
    EXPECT_EQ(r.out, "output-ok default\n")
        << explain("after filter_bytes returns, SIGPIPE has its default action again",
                   r.timed_out ? "the call never returned" : "the test process printed " + pw::quote(r.out),
                   r.out.find("changed") != std::string::npos
                       ? "save the old action when you ignore SIGPIPE (sigaction's third argument) and put it "
                         "back before you return."
                       : "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.",
                   "when-the-child-stops-reading-sigpipe-and-epipe",
                   "the test calls filter_bytes(<50 letters>, {\"cat\"}) then looks at SIGPIPE's action");
}

// ---- filter_stream, called directly -------------------------------------------------------

// filter_stream reads in_fd and writes out_fd, but they are the caller's: it must
// leave them open, and leave nothing else open or unreaped.
TEST(FilterStream, KeepsTheCallersDescriptorsOpen) {
    std::string in = pw::random_word(1000);
    pw::RunResult r = pw::run_function([&]() -> int {
        int input[2], output[2];
        if (pipe(input) == -1 || pipe(output) == -1) return 99;
        // The input fits in the pipe: write it all and close, so that in_fd ends.
        if (write(input[1], in.data(), in.size()) != static_cast<ssize_t>(in.size()) || close(input[1]) == -1)
            return 99;
        std::vector<int> before = pw::open_fds();
        filter::StreamResult s = filter::filter_stream(input[0], output[1], {"cat"});
        std::vector<int> after = pw::open_fds();
        bool both_open = fcntl(input[0], F_GETFD) != -1 && fcntl(output[1], F_GETFD) != -1;
        std::string out;
        if (both_open && close(output[1]) == 0) {
            char buf[4096];
            for (ssize_t n; (n = read(output[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
        }
        std::printf("%s|%s|%s|%zu|%s", s.status.error.c_str(), both_open ? "open" : "closed",
                    before == after ? "same" : "changed", pw::children_of_this_process().size(),
                    out == in ? "copied" : "not copied");
        return 0;
    });
    std::string want = "|open|same|0|copied";
    std::string cause = "see what the test process printed: error|in_fd and out_fd|other descriptors|children|output.";
    if (r.timed_out)
        cause = lesson04::hang_cause(r);
    else if (r.out.find("not written yet") != std::string::npos)
        cause = r.out.substr(0, r.out.find(' ')) +
                " is still the stub: follow its TODOs in exercises/04-filter-child/filter.cpp.";
    else if (r.out.find("|closed|") != std::string::npos)
        cause = "filter_stream closed in_fd or out_fd: they belong to the caller. Close only your own pipe ends.";
    else if (r.out.find("|changed|") != std::string::npos)
        cause = "filter_stream left descriptors open (or closed some it did not own): close exactly your pipe ends.";
    EXPECT_EQ(r.out, want) << explain(
        "the test process prints " + pw::quote(want) +
            ": no error, in_fd and out_fd still "
            "open, no other descriptor changed, no child left, the input copied",
        "it printed " + pw::quote(r.out) + " (" + r.status() + ")", cause, "streaming-between-two-descriptors",
        "the test calls filter_stream(read end of a pipe, write end of another, {\"cat\"})");
}

// ---- what a caller has of its own: children, signals, stdio buffers ----------------------

// A caller may have children of its own. filter_bytes must reap its child by pid
// (waitpid), never "any child" (wait), which may take the caller's instead.
TEST(FilterBytes, ReapsOnlyItsOwnChild) {
    std::string in = pw::random_word(50);
    pw::RunResult r = pw::run_function([&]() -> int {
        pid_t mine = fork();
        if (mine == -1) return 99;
        if (mine == 0) _exit(42);
        siginfo_t info;
        if (waitid(P_PID, static_cast<id_t>(mine), &info, WEXITED | WNOWAIT) == -1) return 99;  // ended, unreaped
        filter::FilterOutput out = filter::filter_bytes(in, {"cat"});
        int ws = 0;
        bool still_mine = waitpid(mine, &ws, WNOHANG) == mine && WIFEXITED(ws) && WEXITSTATUS(ws) == 42;
        std::printf("%s|%s|%s", out.output == in ? "output-ok" : "output-wrong",
                    out.status.ok() ? "" : out.status.error.c_str(), still_mine ? "mine-still-mine" : "mine-gone");
        return 0;
    });
    std::string want = "output-ok||mine-still-mine";
    std::string cause = r.timed_out ? lesson04::hang_cause(r)
                                    : "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.";
    if (r.out.find("mine-gone") != std::string::npos)
        cause =
            "filter_bytes reaped the caller's own child (which had exited with 42) instead of its own: wait() "
            "takes any child. Reap exactly yours with waitpid(pid, &status, 0).";
    EXPECT_EQ(r.out, want) << explain("the test process prints " + pw::quote(want) +
                                          ": the output, no error, and the caller's own child still there to reap",
                                      "it printed " + pw::quote(r.out) + " (" + r.status() + ")", cause,
                                      "saying-how-the-child-ended",
                                      "the test forks a child of its own that exits with 42, then calls "
                                      "filter_bytes(<50 letters>, {\"cat\"})");
}

// A caller may have a signal handler (a timer, a SIGCHLD watcher). Each signal makes
// the blocking call it lands in fail with EINTR: not an error, only "call it again".
TEST(FilterBytes, CarriesOnWhenASignalInterruptsACall) {
    std::string in = pw::random_word(256 * 1024);
    pw::RunResult r = pw::run_function(
        [&]() -> int {
            struct sigaction tick;
            std::memset(&tick, 0, sizeof tick);
            tick.sa_handler = [](int) {};
            sigemptyset(&tick.sa_mask);
            tick.sa_flags = 0;  // no SA_RESTART: a blocking call the signal lands in fails with EINTR
            if (sigaction(SIGALRM, &tick, nullptr) == -1) return 99;
            struct itimerval every = {{0, 1000}, {0, 1000}};  // a signal every millisecond
            if (setitimer(ITIMER_REAL, &every, nullptr) == -1) return 99;
            // The command waits before it reads, so the pump waits too, and is interrupted.
            filter::FilterOutput out = filter::filter_bytes(in, {"sh", "-c", "sleep 0.3; exec cat"});
            struct itimerval off = {{0, 0}, {0, 0}};
            setitimer(ITIMER_REAL, &off, nullptr);
            std::printf("%s|%s", out.output == in ? "output-ok" : "output-wrong", out.status.error.c_str());
            return 0;
        },
        [] {
            pw::RunOptions o;
            o.timeout_seconds = 15;
            return o;
        }());
    std::string want = "output-ok|";
    std::string cause = r.timed_out ? lesson04::hang_cause(r)
                                    : "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.";
    if (r.out.find("Interrupted system call") != std::string::npos)
        cause =
            "a signal with a handler interrupted a blocking call, which failed with EINTR, and filter_bytes "
            "gave up (" +
            r.out.substr(r.out.find('|') + 1) +
            "). EINTR is not an error: call poll(), read(), write() or waitpid() again.";
    else if (r.out.rfind("output-wrong|", 0) == 0 && r.out.size() == std::string("output-wrong|").size())
        cause =
            "the output came back short with no error: a call that failed with EINTR was taken for the end of "
            "the data. EINTR only means: call it again.";
    EXPECT_EQ(r.out, want) << explain("the whole output and no error, with a SIGALRM handler firing every ms",
                                      "it printed " + pw::quote(r.out) + " (" + r.status() + ")", cause,
                                      "pumping-both-pipes-with-poll",
                                      "the test sets a SIGALRM handler (no SA_RESTART) and a 1 ms interval timer, "
                                      "then calls filter_bytes(<256 KiB>, {\"sh\", \"-c\", \"sleep 0.3; exec "
                                      "cat\"})");
}

// The caller's SIGPIPE action, whatever it is, is the same after the call as before, on
// every way out: here a custom handler, and a command that cannot be executed.
void keep_sigpipe(int) {}
TEST(FilterBytes, RestoresTheCallersSigpipeOnEveryPath) {
    std::string in = pw::random_word(50);
    pw::RunResult r = pw::run_function([&]() -> int {
        struct sigaction mine;
        std::memset(&mine, 0, sizeof mine);
        mine.sa_handler = keep_sigpipe;
        sigemptyset(&mine.sa_mask);
        if (sigaction(SIGPIPE, &mine, nullptr) == -1) return 99;
        std::string seen;
        for (const char* command : {"cat", "pw-no-such-command-04"}) {
            filter::FilterOutput out = filter::filter_bytes(in, {command});
            struct sigaction now;
            sigaction(SIGPIPE, nullptr, &now);
            bool worked = command[0] == 'c' ? out.output == in : !out.status.ok();
            seen += std::string(command) + (now.sa_handler == keep_sigpipe ? ":kept" : ":changed") +
                    (worked ? " " : ":did-not-work ");
        }
        std::printf("%s", seen.c_str());
        return 0;
    });
    std::string want = "cat:kept pw-no-such-command-04:kept ";
    std::string cause = r.timed_out ? lesson04::hang_cause(r)
                                    : "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.";
    if (r.out.find("cat:changed") == 0)
        cause =
            "after a normal run the caller's own SIGPIPE handler was gone: save the old action with "
            "sigaction's third argument and put back exactly that (not SIG_DFL) before you return.";
    else if (r.out.find("pw-no-such-command-04:changed") != std::string::npos)
        cause =
            "when the command could not be executed, filter_bytes returned with SIGPIPE still changed: an "
            "early return must restore the caller's action too (or change it only once the child runs).";
    EXPECT_EQ(r.out, want) << explain("the caller's own SIGPIPE handler in place after each call",
                                      "it printed " + pw::quote(r.out) + " (" + r.status() + ")", cause,
                                      "when-the-child-stops-reading-sigpipe-and-epipe",
                                      "the test installs a SIGPIPE handler, then calls filter_bytes with cat and "
                                      "with a command that does not exist");
}

// A child whose exec failed is a copy of the caller, atexit handlers and stdio buffers
// included: exit() would run the caller's handlers in the child (and flush its copied
// buffers); _exit() does not.
pid_t atexit_owner = 0;
void atexit_check() {
    if (getpid() != atexit_owner) {
        const char said[] = "atexit-ran-in-a-child\n";
        ssize_t n = write(STDERR_FILENO, said, sizeof said - 1);
        (void)n;
    }
}
TEST(FilterBytes, FailedExecLeavesTheCallersAtexitAndStdioAlone) {
    pw::RunResult r = pw::run_function([&]() -> int {
        atexit_owner = getpid();
        if (std::atexit(atexit_check) != 0) return 99;
        std::printf("caller-line ");  // stdout is a pipe here: this waits in the caller's buffer
        filter::FilterOutput out = filter::filter_bytes("x", {"pw-no-such-command-04"});
        std::printf("%s\n", out.status.exec_errno == ENOENT ? "enoent" : "no-enoent");
        return 0;
    });
    std::string want = "caller-line enoent\n";
    bool foreign_exit = r.err.find("atexit-ran-in-a-child") != std::string::npos ||
                        r.out.find("caller-line caller-line") != std::string::npos;
    std::string cause = r.timed_out ? lesson04::hang_cause(r)
                                    : "a command that does not exist must give exec_errno ENOENT: see "
                                      "ReportsACommandThatCannotBeExecuted.";
    if (foreign_exit)
        cause =
            "the child whose exec failed ran the caller's atexit handlers (or flushed its stdio buffers): it "
            "left with exit(), which does both in a copy of the caller. Leave with _exit(127).";
    EXPECT_TRUE(r.out == want && !foreign_exit)
        << explain("\"caller-line enoent\" printed once by the caller, and no atexit handler run in the child",
                   "it printed " + pw::quote(r.out) + " and on stderr " + pw::quote(r.err) + " (" + r.status() + ")",
                   cause, "when-exec-fails",
                   "the test registers an atexit handler and printf()s without flushing, then calls "
                   "filter_bytes(\"x\", {\"pw-no-such-command-04\"})");
}

// A pump that waits for events calls poll() a few times per event. One that does not
// wait (a timeout of 0, or asking for POLLOUT with nothing to write) spins through
// thousands of calls while the command sleeps: the same output, a core burnt.
TEST(FilterBytes, WaitsInPollInsteadOfSpinning) {
    pw::RunResult r = pw::run_function(
        [&]() -> int {
            polls_made = 0;
            filter::FilterOutput out = filter::filter_bytes("x", {"sh", "-c", "sleep 0.3; exec cat"});
            std::printf("%s|%ld", out.output == "x" ? "output-ok" : "output-wrong", polls_made.load());
            return 0;
        },
        [] {
            pw::RunOptions o;
            o.timeout_seconds = 15;
            return o;
        }());
    long polls = -1;
    bool output_ok = std::sscanf(r.out.c_str(), "output-ok|%ld", &polls) == 1;
    const long at_most = 64;  // a handful per event; far below what any spin makes in 0.3 s
    std::string cause =
        r.timed_out ? lesson04::hang_cause(r) : "filter_bytes(\"x\", ...) must work first: see the other tests.";
    if (output_ok && polls > at_most)
        cause = "filter_bytes called poll() " + std::to_string(polls) +
                " times while the command slept: a busy loop that burns a core. Pass poll() a timeout of -1 "
                "(wait), and ask for POLLOUT only while there is input left to write.";
    EXPECT_TRUE(output_ok && polls <= at_most)
        << explain("the output \"x\" with at most " + std::to_string(at_most) + " calls of poll()",
                   "it printed " + pw::quote(r.out) + " (" + r.status() + ")", cause, "pumping-both-pipes-with-poll",
                   "the test calls filter_bytes(\"x\", {\"sh\", \"-c\", \"sleep 0.3; exec cat\"}) and counts "
                   "poll() calls");
}

}  // namespace
