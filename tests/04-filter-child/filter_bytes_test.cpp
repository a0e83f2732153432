// filter_bytes_test.cpp - white-box tests of lesson 04's filter_bytes() and filter_stream().
//
// Each test calls the learner's function inside pw::run_function: a sandboxed child
// process of the test, so that a deadlock or a crash fails one test, not the suite,
// and the grader can say what each process was blocked in. That process writes what
// the call returned to its stdout (the output bytes, as they came) and the rest as data
// into memory it shares with the test (the status, the descriptors and children left
// behind, how often it woke up): nothing is turned into text to be parsed back.
// Inputs are random, so that a hard-coded answer fails.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

// Counting wake-ups needs Linux: the raw system calls (syscall) that the counting forms
// of poll, select, epoll, read and write make, and /proc to see a thread asleep. On other
// systems the two tests that count say so and are skipped; every other test runs.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/syscall.h>
#endif

#include "filter.hpp"
#include "lesson.hpp"
#include "process_table.hpp"
#include "test_support.hpp"

// ---- memory shared with the sandboxed caller --------------------------------------------

namespace {

// Mapped before any test forks, so that every sandboxed child writes into the same pages.
template <typename T>
T* shared_object() {
    void* m = mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) std::abort();
    return new (m) T();
}
lesson04::WaitCounts* const counts = shared_object<lesson04::WaitCounts>();

// Only the sandboxed process that calls the learner's code counts its calls (the test
// binary and the sandbox's warden make calls of their own).
bool counting = false;

#ifdef __linux__
void count_wait(std::atomic<long>& kind, bool zero_timeout, bool out_ready) {
    if (!counting) return;
    ++kind;
    if (zero_timeout) ++counts->zero_timeout;
    if (out_ready) ++counts->out_ready;
}

bool any_pollout(const pollfd* fds, nfds_t n, int rc) {
    for (nfds_t i = 0; rc > 0 && i < n; ++i)
        if (fds[i].revents & POLLOUT) return true;
    return false;
}

bool any_set(const fd_set* set, int n, int rc) {
    for (int fd = 0; set && rc > 0 && fd < n; ++fd)
        if (FD_ISSET(fd, set)) return true;
    return false;
}

bool any_epollout(const epoll_event* events, int rc) {
    for (int i = 0; i < rc; ++i)
        if (events[i].events & EPOLLOUT) return true;
    return false;
}

struct KernelSigset {  // pselect6's last argument
    const sigset_t* set;
    std::size_t size;
};
#endif

}  // namespace

// Every call that waits for descriptors, and every read() and write(), made in this test
// binary - the learner's filter.cpp is linked into it - goes through here: counted, then
// made as the same system call. (The _chk forms are what _FORTIFY_SOURCE builds call.)
// Linux only: elsewhere there is no portable way to make the real call from here (no
// syscall(), and the C library may give poll or select another symbol name).
#ifdef __linux__
extern "C" {
int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* timeout, const sigset_t* mask) {
    struct timespec copy, *t = timeout ? &(copy = *timeout) : nullptr;  // the kernel writes what is left
    int rc = static_cast<int>(syscall(SYS_ppoll, fds, n, t, mask, mask ? _NSIG / 8 : 0));
    count_wait(counts->polls, timeout && timeout->tv_sec == 0 && timeout->tv_nsec == 0, any_pollout(fds, n, rc));
    return rc;
}
int poll(struct pollfd* fds, nfds_t n, int timeout) {
    struct timespec t = {timeout / 1000, (timeout % 1000) * 1000000L};
    return ppoll(fds, n, timeout < 0 ? nullptr : &t, nullptr);
}
int __poll_chk(struct pollfd* fds, nfds_t n, int timeout, size_t) {
    return poll(fds, n, timeout);
}
int __ppoll_chk(struct pollfd* fds, nfds_t n, const struct timespec* t, const sigset_t* mask, size_t) {
    return ppoll(fds, n, t, mask);
}
int pselect(int n, fd_set* r, fd_set* w, fd_set* e, const struct timespec* timeout, const sigset_t* mask) {
    struct timespec copy, *t = timeout ? &(copy = *timeout) : nullptr;
    KernelSigset sigs = {mask, _NSIG / 8};
    int rc = static_cast<int>(syscall(SYS_pselect6, n, r, w, e, t, mask ? &sigs : nullptr));
    count_wait(counts->selects, timeout && timeout->tv_sec == 0 && timeout->tv_nsec == 0, any_set(w, n, rc));
    return rc;
}
int select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* timeout) {
    struct timespec t = {0, 0};
    if (timeout) t = {timeout->tv_sec, timeout->tv_usec * 1000};
    int rc = pselect(n, r, w, e, timeout ? &t : nullptr, nullptr);
    return rc;  // (Linux's select also writes the time left into *timeout; nobody here reads it)
}
int epoll_pwait(int ep, struct epoll_event* events, int max, int timeout, const sigset_t* mask) {
    int rc = static_cast<int>(syscall(SYS_epoll_pwait, ep, events, max, timeout, mask, _NSIG / 8));
    count_wait(counts->epolls, timeout == 0, any_epollout(events, rc));
    return rc;
}
int epoll_wait(int ep, struct epoll_event* events, int max, int timeout) {
    return epoll_pwait(ep, events, max, timeout, nullptr);
}
ssize_t read(int fd, void* buf, size_t n) {
    ssize_t rc = syscall(SYS_read, fd, buf, n);
    if (rc == -1 && errno == EAGAIN && counting) ++counts->eagain;
    return rc;
}
ssize_t __read_chk(int fd, void* buf, size_t n, size_t) {
    return read(fd, buf, n);
}
ssize_t write(int fd, const void* buf, size_t n) {
    ssize_t rc = syscall(SYS_write, fd, buf, n);
    if (rc == -1 && errno == EAGAIN && counting) ++counts->eagain;
    return rc;
}
}
#endif

namespace {

using lesson04::Cause;
using pw::explain;

// What the sandboxed caller saw after the call, written into shared memory.
struct CallReport {
    bool returned = false;  // filter_bytes returned (the rest is then filled in)
    int exit_code = -1, signal = 0, exec_errno = 0;
    char error[512] = {};
    char leaked_fds[128] = {};  // descriptors open after the call that were not before
    char children[512] = {};    // children of the caller still there after the call
};
CallReport* const report = shared_object<CallReport>();

template <std::size_t N>
void copy_text(char (&to)[N], const std::string& from) {
    std::snprintf(to, N, "%s", from.c_str());
}

// What one call of filter_bytes did, as seen from inside the sandboxed process.
struct Outcome {
    pw::RunResult run;      // the sandboxed process that made the call
    bool returned = false;  // filter_bytes returned and its report came back
    filter::Status status;
    std::string output;      // what filter_bytes returned (the process's stdout)
    std::string leaked_fds;  // " 5 6": descriptors left open by the call
    std::string children;    // " pid 12 (cat, state Z)": children left behind
    lesson04::WaitCounts waits_seen;
    std::string call;  // "filter_bytes(<1048576 bytes of test data>, {"cat"})"
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

void reset_counts() {
    *counts = lesson04::WaitCounts();
}

// Calls filter_bytes(input, argv) in a sandboxed child of the test. `setup` runs there
// first (e.g. to ignore SIGPIPE the way a server would).
Outcome call_filter_bytes(const std::string& input, const std::vector<std::string>& argv, pw::RunOptions options = {},
                          const std::function<void()>& setup = {}) {
    options.output_cap = std::max<std::size_t>(options.output_cap, 2 * input.size() + (1 << 20));
    options.extra_env.push_back("LC_ALL=C");  // sort and tr: byte order, whatever the machine's locale
    Outcome o;
    o.call = "filter_bytes(" + input_text(input) + ", " + argv_text(argv) + ")";
    *report = CallReport();
    reset_counts();
    o.run = pw::run_function(
        [&]() -> int {
            if (setup) setup();
            std::vector<int> before = pw::open_fds();
            counting = true;
            filter::FilterOutput r = filter::filter_bytes(input, argv);
            counting = false;
            std::string leaked, kids;
            for (int fd : pw::open_fds())
                if (std::find(before.begin(), before.end(), fd) == before.end()) leaked += " " + std::to_string(fd);
            for (const auto& k : pw::children_of_this_process())
                kids += " pid " + std::to_string(k.pid) + " (" + k.command + ", state " + k.state + ")";
            report->exit_code = r.status.exit_code;
            report->signal = r.status.signal;
            report->exec_errno = r.status.exec_errno;
            copy_text(report->error, r.status.error);
            copy_text(report->leaked_fds, leaked);
            copy_text(report->children, kids);
            report->returned = true;
            return std::fwrite(r.output.data(), 1, r.output.size(), stdout) == r.output.size() &&
                           std::fflush(stdout) == 0
                       ? 0
                       : 99;
        },
        options);
    o.waits_seen = *counts;
    if (report->returned && o.run.ok() && !o.run.out_truncated) {
        o.returned = true;
        o.status.exit_code = report->exit_code;
        o.status.signal = report->signal;
        o.status.exec_errno = report->exec_errno;
        o.status.error = report->error;
        o.leaked_fds = report->leaked_fds;
        o.children = report->children;
        o.output = o.run.out;
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

// What a call should return. Unset fields are not checked.
struct Want {
    std::optional<std::string> output;
    std::optional<int> exit_code, signal, exec_errno;
    std::optional<std::string> error;
};

std::string describe(const Want& w) {
    std::vector<std::string> parts;
    if (w.output) parts.push_back("output " + lesson04::shown(*w.output));
    if (w.error) parts.push_back("status.error " + pw::quote(*w.error));
    if (w.exit_code) parts.push_back("exit_code " + std::to_string(*w.exit_code));
    if (w.signal) parts.push_back("signal " + std::to_string(*w.signal));
    if (w.exec_errno) parts.push_back("exec_errno " + std::to_string(*w.exec_errno));
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
    return s + "; no descriptor or child left behind";
}

// The fields that differ, both values shown: "exit_code 0 where 3 was expected".
std::string differences(const Outcome& o, const Want& w) {
    std::string s;
    auto add = [&](const std::string& what) { s += (s.empty() ? "" : "; ") + what; };
    if (w.output && o.output != *w.output)
        add("output of " + std::to_string(o.output.size()) + " bytes where " + std::to_string(w.output->size()) +
            " were expected");
    if (w.error && o.status.error != *w.error)
        add("status.error " + pw::quote(o.status.error) + " where " + pw::quote(*w.error) + " was expected");
    if (w.exit_code && o.status.exit_code != *w.exit_code)
        add("exit_code " + std::to_string(o.status.exit_code) + " where " + std::to_string(*w.exit_code) +
            " was expected");
    if (w.signal && o.status.signal != *w.signal)
        add("signal " + std::to_string(o.status.signal) + " where " + std::to_string(*w.signal) + " was expected");
    if (w.exec_errno && o.status.exec_errno != *w.exec_errno)
        add("exec_errno " + std::to_string(o.status.exec_errno) + " where " + std::to_string(*w.exec_errno) +
            " was expected");
    return s;
}

// The likely cause of a failed call, computed from what happened, and the section
// about that cause. `otherwise` is the test's own advice when nothing else explains it.
Cause cause(const Outcome& o, const Want& w, const Cause& otherwise) {
    if (o.run.timed_out) return lesson04::diagnose_hang(o.run, &o.waits_seen);
    if (o.run.term_signal)
        return {
            pw::signal_cause(o.run) +
                (o.run.term_signal == SIGPIPE
                     ? " Here your process was killed by SIGPIPE: the child stopped reading its stdin, and your next "
                       "write() to it raised the signal. "
                       "Ignore SIGPIPE while you pump (sigaction SIG_IGN), and treat EPIPE as \"the child "
                       "wants no more input\"."
                     : ""),
            o.run.term_signal == SIGPIPE ? "when-the-child-stops-reading-sigpipe-and-epipe" : ""};
    if (!o.returned) return {"the test could not read back what filter_bytes returned (see stderr above).", ""};
    if (o.status.error.find("not written yet") != std::string::npos)
        return {o.status.error.substr(0, o.status.error.find(' ')) +
                    " is still the stub: follow its TODOs in exercises/04-filter-child/filter.cpp.",
                "starting-the-child-with-two-pipes"};
    if (!o.leaked_fds.empty())
        return {
            "the call left descriptors open: close both of your pipe ends (and the exec-error pipe) "
            "on every path, and make sure the child's ends are closed in the parent.",
            "starting-the-child-with-two-pipes"};
    if (!o.children.empty())
        return {"the child was not reaped: waitpid() for it on every path, the failed exec included.",
                "saying-how-the-child-ended"};
    if (o.status.error.find(": Broken pipe") != std::string::npos)
        return {
            "EPIPE here is not an error: the child stopped reading its stdin (it has all it wants). Close your "
            "end, drop the rest of the input on purpose, and go on reading its output.",
            "when-the-child-stops-reading-sigpipe-and-epipe"};
    if (w.output) {
        const std::string& want = *w.output;
        if (o.status.signal == SIGPIPE && o.output.size() < want.size())
            return {
                "the child was killed by SIGPIPE while writing its output: you stopped reading (closed) its "
                "stdout too early. Read the child's stdout until read() returns 0.",
                "pumping-both-pipes-with-poll"};
        if (o.output.size() < want.size() && want.compare(0, o.output.size(), o.output) == 0)
            return {"the output stops after " + std::to_string(o.output.size()) + " of " + std::to_string(want.size()) +
                        " bytes: read the child's stdout until read() returns 0; a read "
                        "that returns less than you asked for is not the end.",
                    "pumping-both-pipes-with-poll"};
        if (o.output.size() == want.size() && o.output != want)
            return {
                "the output has the right length but different bytes: are all bytes copied as they are "
                "(NUL included, no C-string functions)?",
                "pumping-both-pipes-with-poll"};
        if (o.output != want)
            return {"the output is not what the child printed: copy exactly the bytes read() returns.",
                    "pumping-both-pipes-with-poll"};
    }
    return otherwise;
}

std::string reproduce(const Outcome& o) {
    return "the test calls " + o.call + " in a child process; rerun it with the 'rerun this test' line below";
}

// The one check of a filter_bytes call: every field the test names as it wants it, and
// nothing left behind. On failure it says both values of each field that differs, the
// likely cause and its section.
::testing::AssertionResult Gives(const Outcome& o, const Want& w, const Cause& otherwise) {
    std::string diff = o.returned ? differences(o, w) : "";
    if (o.returned && diff.empty() && o.leaked_fds.empty() && o.children.empty()) return ::testing::AssertionSuccess();
    Cause c = cause(o, w, otherwise);
    std::string seen = got(o) + (diff.empty() ? "" : "\n              that is: " + diff);
    return ::testing::AssertionFailure() << explain(
               pw::Why().expected(describe(w)).got(seen).cause(c.text, c.anchor).reproduce(reproduce(o)));
}

// What a test that looks into the child's output needs first: the call returned, with no
// error, and the child printed something. `first` is the advice when nothing else explains it.
::testing::AssertionResult ReturnsOutput(const Outcome& o, const std::string& expected, const std::string& first,
                                         const std::string& topic) {
    if (o.returned && o.status.ok() && !o.output.empty()) return ::testing::AssertionSuccess();
    Cause c = cause(o, {}, {first, ""});
    return ::testing::AssertionFailure() << explain(
               pw::Why().expected(expected).got(got(o)).cause(c.text, c.anchor).topic(topic).reproduce(reproduce(o)));
}

// A likely cause that a test reads in the line its sandboxed caller printed.
struct Sign {
    bool seen;
    std::string cause;
};

// The one check of a white-box run that prints one line: the line must be `want`. On
// failure the likely cause is what stopped the run, else the first sign seen, else
// `otherwise`; `why` brings the rest (what was expected, the topic, how to reproduce).
::testing::AssertionResult PrintsLine(const pw::RunResult& r, const std::string& want, const std::vector<Sign>& signs,
                                      const std::string& otherwise, pw::Why why) {
    if (r.out == want) return ::testing::AssertionSuccess();
    std::string cause = otherwise;
    if (r.timed_out) cause = lesson04::hang_cause(r);
    for (auto sign = signs.begin(); !r.timed_out && sign != signs.end(); ++sign)
        if (sign->seen) {
            cause = sign->cause;
            break;
        }
    return ::testing::AssertionFailure() << "the test process printed " << pw::quote(r.out) << ", not "
                                         << pw::quote(want) << "\n"
                                         << explain(r, why.cause(cause));
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

std::string sorted_lines(const std::string& in) {
    std::vector<std::string> lines;
    std::istringstream is(in);
    for (std::string l; std::getline(is, l);) lines.push_back(l + "\n");
    std::sort(lines.begin(), lines.end());
    std::string want;
    for (const auto& l : lines) want += l;
    return want;
}

Want succeeds_with(const std::string& output) {
    return {output, 0, 0, 0, std::string()};
}

// ---- one behaviour at every size: cat gives back every byte --------------------------------

// The sizes that tell a pump apart: nothing, a byte, around one pipe's 64 KiB (what a
// write-all-then-read pump gets away with), more than both pipes hold, and far more.
struct Size {
    const char* name;
    std::size_t bytes;
    double timeout_seconds;
};
const Size kSizes[] = {
    {"0B", 0, 5},
    {"1B", 1, 5},
    {"20B", 20, 5},
    {"6KiB", 6 * 1024, 5},
    {"64KiBMinus1B", 65535, 5},
    {"64KiB", 65536, 5},
    {"64KiBPlus1B", 65537, 5},
    {"293KiB", 300000, 5},
    {"1MiB", 1 << 20, 10},
    {"16MiB", 16 << 20, 60},  // a long cap for 16 MiB: a hang ends sooner
};

class RoundTrip : public ::testing::TestWithParam<Size> {};

// Random bytes, NUL included, through cat: exactly the same bytes must come back, with an
// empty status.error, whatever the size.
TEST_P(RoundTrip, CatGivesBackEveryByte) {
    std::string in = random_bytes(GetParam().bytes);
    pw::RunOptions options;
    options.timeout_seconds = GetParam().timeout_seconds;
    Outcome o = call_filter_bytes(in, {"cat"}, options);
    EXPECT_TRUE(Gives(
        o, succeeds_with(in),
        {"filter_bytes(\"...\", {\"cat\"}) must give back the bytes it was given.", "pumping-both-pipes-with-poll"}));
}

INSTANTIATE_TEST_SUITE_P(FilterBytes, RoundTrip, ::testing::ValuesIn(kSizes),
                         [](const ::testing::TestParamInfo<Size>& info) { return std::string(info.param.name); });

// ---- other commands -------------------------------------------------------------------------

// tr writes as it reads, 200 KB: more than both pipes and tr's buffer hold together, so a
// pump that writes everything before it reads deadlocks here.
TEST(FilterBytes, UppercasesThroughTr) {
    std::string in = random_lines(200000);
    std::string want = in;
    for (auto& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    Outcome o = call_filter_bytes(in, {"tr", "a-z", "A-Z"});
    EXPECT_TRUE(Gives(o, succeeds_with(want),
                      {"tr's output must come back whole: see the other tests.", "pumping-both-pipes-with-poll"}));
}

TEST(FilterBytes, SortsThroughSort) {
    std::string in = random_lines(2000);
    Outcome o = call_filter_bytes(in, {"sort"});
    EXPECT_TRUE(Gives(o, succeeds_with(sorted_lines(in)),
                      {"sort's output must come back whole: see the other tests.", "pumping-both-pipes-with-poll"}));
}

// sort prints nothing until its input ends, then 1 MiB at once: the output must be
// read after the child's stdin is closed, until end of file, before waitpid.
TEST(FilterBytes, DrainsTheOutputAfterClosingStdin) {
    std::string in = random_lines(1 << 20);
    Outcome o = call_filter_bytes(in, {"sort"});
    EXPECT_TRUE(Gives(o, succeeds_with(sorted_lines(in)),
                      {"read the child's stdout until read() returns 0, also after its stdin is closed.",
                       "closing-stdin-is-the-childs-end-of-file"}));
}

TEST(FilterBytes, CountsThroughWc) {
    std::string in = random_bytes(100000 + std::random_device{}() % 1000);
    Outcome o = call_filter_bytes(in, {"wc", "-c"});
    EXPECT_TRUE(Gives(o, succeeds_with(std::to_string(in.size()) + "\n"),
                      {"wc -c must see every byte, then end of file.", "closing-stdin-is-the-childs-end-of-file"}));
}

TEST(FilterBytes, HashesThroughSha256sum) {
    std::string in = random_bytes(300000);
    pw::RunOptions direct;
    direct.stdin_data = in;
    pw::RunResult reference = pw::run({"sha256sum"}, direct);
    ASSERT_TRUE(reference.ok()) << "the test could not run sha256sum itself: " << reference.status();
    Outcome o = call_filter_bytes(in, {"sha256sum"});
    EXPECT_TRUE(Gives(o, succeeds_with(reference.out),
                      {"sha256sum must see every byte unchanged.", "pumping-both-pipes-with-poll"}));
}

// head -c 100 exits after 100 bytes: the rest of the input cannot be written (EPIPE,
// or SIGPIPE if it is not ignored) and must be dropped on purpose.
TEST(FilterBytes, StopsFeedingWhenHeadStopsReading) {
    std::string in = random_bytes(1 << 20);
    Outcome o = call_filter_bytes(in, {"head", "-c", "100"});
    EXPECT_TRUE(Gives(o, succeeds_with(in.substr(0, 100)),
                      {"a child that stops reading is not an error: drop the rest of the input.",
                       "when-the-child-stops-reading-sigpipe-and-epipe"}));
}

// ---- how the child ended ------------------------------------------------------------

TEST(FilterBytes, ReportsTheChildsExitStatus) {
    std::string in = pw::random_word(30);
    Outcome o = call_filter_bytes(in, {"sh", "-c", "cat; exit 3"});
    EXPECT_TRUE(Gives(o, {in, 3, 0, 0, std::string("sh exited with status 3")},
                      {"decode the wait status: WIFEXITED(ws) and WEXITSTATUS(ws) give the exit status; any status "
                       "but 0 is an error that names it.",
                       "saying-how-the-child-ended"}));
}

TEST(FilterBytes, ReportsTheSignalThatKilledTheChild) {
    Outcome o = call_filter_bytes(pw::random_word(30), {"sh", "-c", "cat >/dev/null; kill -KILL $$"});
    EXPECT_TRUE(Gives(o, {std::string(), std::nullopt, SIGKILL, 0, std::string("sh was killed by signal 9 (Killed)")},
                      {"decode the wait status: WIFSIGNALED(ws) and WTERMSIG(ws) give the signal; name it with "
                       "strsignal().",
                       "saying-how-the-child-ended"}));
}

TEST(FilterBytes, ReportsACommandThatCannotBeExecuted) {
    std::string name = "no-such-command-" + pw::random_word(8);
    Outcome o = call_filter_bytes(pw::random_word(30), {name});
    EXPECT_TRUE(Gives(o,
                      {std::nullopt, std::nullopt, 0, ENOENT, "cannot execute " + name + ": No such file or directory"},
                      {"when execvp fails, the child must tell the parent why: it writes errno into a "
                       "close-on-exec pipe, and the parent reads it (EOF means exec succeeded).",
                       "when-exec-fails"}));
}

// Exit status 127 is also what a command may return by itself: it proves nothing.
TEST(FilterBytes, TellsExitStatus127FromCannotExecute) {
    Outcome o = call_filter_bytes("", {"sh", "-c", "exit 127"});
    EXPECT_TRUE(Gives(o, {std::string(), 127, 0, 0, std::string("sh exited with status 127")},
                      {"a child that exits with 127 by itself was taken for a failed exec: exit status 127 alone "
                       "does not prove that exec failed, and cannot carry errno. Let the child send errno "
                       "through a close-on-exec pipe instead.",
                       "when-exec-fails"}));
}

// ---- hygiene ----------------------------------------------------------------------------

// Left open or unreaped, after a run and after a failed exec: the same check, both paths.
TEST(FilterBytes, LeavesNoDescriptorOrChildBehind) {
    std::string in = pw::random_word(100);
    EXPECT_TRUE(Gives(
        call_filter_bytes(in, {"cat"}), succeeds_with(in),
        {"close every descriptor you opened and reap the child, on every path.", "starting-the-child-with-two-pipes"}));
    std::string name = "no-such-command-" + pw::random_word(8);
    EXPECT_TRUE(
        Gives(call_filter_bytes(in, {name}), {std::nullopt, std::nullopt, 0, ENOENT, std::nullopt},
              {"close every descriptor you opened and reap the child, the failed exec included.", "when-exec-fails"}));
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
    EXPECT_TRUE(ReturnsOutput(o, "the child's list of its descriptors, and no error",
                              "filter_bytes must run list_fds first: see the other tests.",
                              "starting-the-child-with-two-pipes"));
    EXPECT_EQ(extra, "") << explain(
        pw::Why()
            .expected("the child starts with fds 0, 1 and 2 only (plus what the test itself had open)")
            .got("the child also holds fd" + extra)
            .cause("after dup2, the child closes every original pipe end, the exec-error pipe's "
                   "read end included; a leftover write end of its own stdin would keep it from "
                   "ever seeing EOF.")
            .topic("starting-the-child-with-two-pipes")
            .reproduce(reproduce(o)));
}

#ifdef __linux__
// Ignored signals stay ignored across exec. A caller that ignores SIGPIPE (many
// servers do) must still give the command the default, or `yes | head` breaks in it.
TEST(FilterBytes, ChildStartsWithTheDefaultSigpipe) {
    Outcome o = call_filter_bytes("", {"grep", "^SigIgn:", "/proc/self/status"}, {}, [] { signal(SIGPIPE, SIG_IGN); });
    ASSERT_TRUE(ReturnsOutput(o, "grep's line \"SigIgn: <mask>\" from the child's /proc/self/status",
                              "filter_bytes must run grep first: see the other tests.",
                              "when-the-child-stops-reading-sigpipe-and-epipe"));
    unsigned long long mask = 0;
    ASSERT_EQ(std::sscanf(o.output.c_str(), "SigIgn: %llx", &mask), 1) << "grep printed " << pw::quote(o.output);
    EXPECT_EQ(mask & (1ull << (SIGPIPE - 1)), 0u) << explain(
        pw::Why()
            .expected("the command starts with SIGPIPE at its default action, even when the caller ignores it")
            .got("the child's " + o.output)
            .cause("the child inherited SIG_IGN for SIGPIPE, which exec keeps: in the child, before exec, put it "
                   "back with signal(SIGPIPE, SIG_DFL).")
            .topic("when-the-child-stops-reading-sigpipe-and-epipe")
            .reproduce(reproduce(o)));
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
    EXPECT_TRUE(PrintsLine(
        r, "output-ok default\n",
        {{r.out.find("changed") != std::string::npos,
          "save the old action when you ignore SIGPIPE (sigaction's third argument) and put it back before you "
          "return."}},
        "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.",
        pw::Why()
            .expected("after filter_bytes returns, SIGPIPE has its default action again")
            .topic("when-the-child-stops-reading-sigpipe-and-epipe")
            .reproduce("the test calls filter_bytes(<50 letters>, {\"cat\"}) then looks at SIGPIPE's action")));
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
    EXPECT_TRUE(PrintsLine(
        r, want,
        {{r.out.find("not written yet") != std::string::npos,
          r.out.substr(0, r.out.find(' ')) +
              " is still the stub: follow its TODOs in exercises/04-filter-child/filter.cpp."},
         {r.out.find("|closed|") != std::string::npos,
          "filter_stream closed in_fd or out_fd: they belong to the caller. Close only your own pipe ends."},
         {r.out.find("|changed|") != std::string::npos,
          "filter_stream left descriptors open (or closed some it did not own): close exactly your pipe ends."}},
        "see what the test process printed: error|in_fd and out_fd|other descriptors|children|output.",
        pw::Why()
            .expected("the test process prints " + pw::quote(want) +
                      ": no error, in_fd and out_fd still open, no other descriptor changed, no child left, the "
                      "input copied")
            .topic("streaming-between-two-descriptors")
            .reproduce("the test calls filter_stream(read end of a pipe, write end of another, {\"cat\"})")));
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
    EXPECT_TRUE(PrintsLine(
        r, want,
        {{r.out.find("mine-gone") != std::string::npos,
          "filter_bytes reaped the caller's own child (which had exited with 42) instead of its own: wait() takes "
          "any child. Reap exactly yours with waitpid(pid, &status, 0)."}},
        "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.",
        pw::Why()
            .expected("the test process prints " + pw::quote(want) +
                      ": the output, no error, and the caller's own child still there to reap")
            .topic("saying-how-the-child-ended")
            .reproduce("the test forks a child of its own that exits with 42, then calls filter_bytes(<50 letters>, "
                       "{\"cat\"})")));
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
            // The command waits before it reads, so the pump waits in poll(), and is interrupted;
            // then it closes its stdout and waits again before it exits, so the caller waits
            // in waitpid(), and is interrupted there too.
            filter::FilterOutput out = filter::filter_bytes(in, {"sh", "-c", "sleep 0.3; cat; exec >&-; sleep 0.3"});
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
    EXPECT_TRUE(PrintsLine(
        r, "output-ok|",
        {{r.out.find("Interrupted system call") != std::string::npos,
          "a signal with a handler interrupted a blocking call, which failed with EINTR, and filter_bytes gave up (" +
              r.out.substr(r.out.find('|') + 1) +
              "). EINTR is not an error: call poll(), read(), write() or waitpid() again."},
         {r.out == "output-wrong|",
          "the output came back short with no error: a call that failed with EINTR was taken for the end of the "
          "data. EINTR only means: call it again."}},
        "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.",
        pw::Why()
            .expected("the whole output and no error, with a SIGALRM handler firing every ms")
            .topic("pumping-both-pipes-with-poll")
            .reproduce("the test sets a SIGALRM handler (no SA_RESTART) and a 1 ms interval timer, then calls "
                       "filter_bytes(<256 KiB>, {\"sh\", \"-c\", \"sleep 0.3; cat; exec >&-; sleep 0.3\"})")));
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
    EXPECT_TRUE(PrintsLine(
        r, "cat:kept pw-no-such-command-04:kept ",
        {{r.out.find("cat:changed") == 0,
          "after a normal run the caller's own SIGPIPE handler was gone: save the old action with sigaction's third "
          "argument and put back exactly that (not SIG_DFL) before you return."},
         {r.out.find("pw-no-such-command-04:changed") != std::string::npos,
          "when the command could not be executed, filter_bytes returned with SIGPIPE still changed: an early "
          "return must restore the caller's action too (or change it only once the child runs)."}},
        "filter_bytes(\"...\", {\"cat\"}) must work first: see the other tests.",
        pw::Why()
            .expected("the caller's own SIGPIPE handler in place after each call")
            .topic("when-the-child-stops-reading-sigpipe-and-epipe")
            .reproduce("the test installs a SIGPIPE handler, then calls filter_bytes with cat and with a command "
                       "that does not exist")));
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
    EXPECT_TRUE(
        pw::Check(r).out(want).that(!foreign_exit, "no atexit handler run in the child", "stderr " + pw::quote(r.err)))
        << explain(r,
                   pw::Why()
                       .expected(
                           "\"caller-line enoent\" printed once by the caller, and no atexit handler run in the child")
                       .cause(cause)
                       .topic("when-exec-fails")
                       .reproduce("the test registers an atexit handler and printf()s without flushing, then calls "
                                  "filter_bytes(\"x\", {\"pw-no-such-command-04\"})"));
}

// ---- CPU use: waiting, not spinning --------------------------------------------------------

// A pump that waits for events wakes up a few times per event. One that does not wait
// (a timeout of 0, POLLOUT asked for with nothing to write, read() or write() tried again
// at once on EAGAIN) wakes up thousands of times while nothing happens: the same output,
// a core burnt. In these tests the data stays silent until the caller's thread has been
// seen asleep (it waits, as it should) or has woken up kProof times (it spins), whichever
// comes first: the counts decide, not a clock. Both the counts and the sleeping thread's
// state need Linux (see the top of the file).
#ifdef __linux__
constexpr long kProof = 4000;   // wake-ups that prove a spin
constexpr long kAtMost = 1000;  // what a waiting pump needs for a whole call here, with room to spare

// Returns once thread `tid` has been seen asleep ('S'), or has woken up kProof times.
void wait_until_quiet_or_spinning(pid_t tid) {
    std::string dir = "/proc/self/task/" + std::to_string(tid);
    while (counts->wakeups() < kProof && pw::process_table::state_letter(dir) != 'S') usleep(200);
}

// The three lowest descriptors from 3 to 9 that are free (sh names only one digit).
std::vector<int> free_low_fds() {
    std::vector<int> open = pw::open_fds(), free;
    for (int fd = 3; fd <= 9 && free.size() < 3; ++fd)
        if (std::find(open.begin(), open.end(), fd) == open.end()) free.push_back(fd);
    return free;
}
// The one check of both tests below: the whole output and no error, in at most kAtMost
// wake-ups while `silent` stayed silent. `first` is the advice when the call itself failed.
void expect_waited(const pw::RunResult& r, const Cause& first, const std::string& silent, const std::string& call) {
    long wakeups = counts->wakeups();
    Cause c = r.timed_out ? lesson04::diagnose_hang(r, counts) : first;
    if (r.out == "output-ok|" && wakeups > kAtMost) c = lesson04::spin_cause(*counts);
    EXPECT_EQ(r.out, "output-ok|") << explain(
        r, pw::Why().expected("the whole output and no error").cause(c.text, c.anchor).reproduce("see below"));
    EXPECT_LE(wakeups, kAtMost) << explain(
        pw::Why()
            .expected("at most " + std::to_string(kAtMost) + " wake-ups in the whole call: it waits while " + silent +
                      " is silent")
            .got("it woke up " + std::to_string(wakeups) + " times: " + counts->text())
            .cause(c.text, c.anchor)
            .reproduce(call));
}
#else
const char* const kNeedsLinux =
    "needs Linux: this test counts how often the call wakes up (it makes poll, select, epoll, read and write "
    "as raw system calls, and reads a thread's state in /proc), which this system cannot do; it cannot tell "
    "a pump that waits from one that spins here, so it proves nothing and is skipped";
#endif

pw::RunOptions long_enough() {
    pw::RunOptions o;
    o.timeout_seconds = 20;
    return o;
}

// A pipe with both ends close-on-exec: pipe2 does it in one call where it exists (Linux);
// elsewhere fcntl does it just after (no other thread of the test forks meanwhile).
int cloexec_pipe(int fds[2]) {
#ifdef __linux__
    return pipe2(fds, O_CLOEXEC);
#else
    if (pipe(fds) == -1) return -1;
    if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1 || fcntl(fds[1], F_SETFD, FD_CLOEXEC) == -1) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    return 0;
#endif
}

TEST(FilterBytes, WaitsWhileTheCommandIsSilent) {
#ifndef __linux__
    GTEST_SKIP() << kNeedsLinux;
#else
    std::string in = random_bytes(200 * 1024);  // more than the pipe holds: the input side waits too
    reset_counts();
    pw::RunResult r = pw::run_function(
        [&]() -> int {
            // The command says it runs (a line on `started`), then reads nothing and writes
            // nothing until the test lets it go on (a line on `gate`), then is cat.
            int started[2], gate[2];
            // Close-on-exec, all but the two copies the command is to have (dup2 clears the flag).
            if (cloexec_pipe(started) == -1 || cloexec_pipe(gate) == -1) return 98;
            std::vector<int> fds = free_low_fds();
            if (fds.size() < 2) return 98;
            if (dup2(started[1], fds[0]) == -1 || dup2(gate[0], fds[1]) == -1) return 98;
            std::string script =
                "echo >&" + std::to_string(fds[0]) + "; read x <&" + std::to_string(fds[1]) + "; exec cat";
            pid_t caller = static_cast<pid_t>(syscall(SYS_gettid));
            std::thread opener([&] {
                char c;
                if (read(started[0], &c, 1) == 1) wait_until_quiet_or_spinning(caller);
                if (write(gate[1], "\n", 1) != 1) std::abort();
            });
            counting = true;
            filter::FilterOutput out = filter::filter_bytes(in, {"sh", "-c", script});
            counting = false;
            close(started[1]);  // had the command never run, the opener stops waiting now
            close(fds[0]);
            opener.join();
            std::printf("%s|%s", out.output == in ? "output-ok" : "output-wrong", out.status.error.c_str());
            return 0;
        },
        long_enough());
    expect_waited(
        r, {"filter_bytes(<200 KiB>, ...) must work first: see the other tests.", "pumping-both-pipes-with-poll"},
        "the command",
        "the test calls filter_bytes(<200 KiB>, {\"sh\", \"-c\", \"<stay silent until let go>; exec cat\"}) "
        "and counts the calls that wait (poll, select, epoll) and the EAGAIN failures of read() and write()");
#endif
}

TEST(FilterStream, WaitsWhileTheInputIsSilent) {
#ifndef __linux__
    GTEST_SKIP() << kNeedsLinux;
#else
    std::string in = random_bytes(2000);
    reset_counts();
    pw::RunResult r = pw::run_function(
        [&]() -> int {
            // Close-on-exec: the command must not hold the write end of its own input's source.
            int input[2], output[2];
            if (cloexec_pipe(input) == -1 || cloexec_pipe(output) == -1) return 98;
            // The first half goes in at once; the second only once the caller waits (or spins).
            if (write(input[1], in.data(), 1000) != 1000) return 98;
            std::string out;
            pid_t caller = static_cast<pid_t>(syscall(SYS_gettid));
            std::thread feeder([&] {
                char buf[1000];
                for (ssize_t n; out.size() < 1000 && (n = read(output[0], buf, sizeof buf)) > 0;)
                    out.append(buf, static_cast<std::size_t>(n));
                if (out.size() == 1000) wait_until_quiet_or_spinning(caller);
                if (write(input[1], in.data() + 1000, 1000) != 1000 || close(input[1]) == -1) std::abort();
            });
            counting = true;
            filter::StreamResult s = filter::filter_stream(input[0], output[1], {"cat"});
            counting = false;
            if (close(output[1]) == -1) return 98;  // had nothing come out, the feeder stops waiting now
            feeder.join();
            char buf[4096];
            for (ssize_t n; (n = read(output[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
            std::printf("%s|%s", out == in ? "output-ok" : "output-wrong", s.status.error.c_str());
            return 0;
        },
        long_enough());
    expect_waited(
        r,
        {"filter_stream(in_fd, out_fd, {\"cat\"}) must work first: see the other tests.",
         "streaming-between-two-descriptors"},
        "its input",
        "the test calls filter_stream(<a pipe that gives 1000 bytes, then nothing until the caller waits, then "
        "1000 more>, <a pipe>, {\"cat\"}) and counts the calls that wait and the EAGAIN failures");
#endif
}

// filter_stream copies the child's output to out_fd with blocking writes: while the
// caller's reader is slow, write() waits, and a signal with a handler makes it fail with
// EINTR, which only means "write the rest again".
void tick(int) {}
TEST(FilterStream, CarriesOnWhenASignalInterruptsAWrite) {
    std::string in = random_bytes(512 * 1024);
    pw::RunResult r = pw::run_function(
        [&]() -> int {
            int input[2], output[2];
            if (cloexec_pipe(input) == -1 || cloexec_pipe(output) == -1) return 98;
            // The helper threads block SIGALRM, so that every tick lands in the caller's thread.
            sigset_t alarm, before;
            sigemptyset(&alarm);
            sigaddset(&alarm, SIGALRM);
            if (pthread_sigmask(SIG_BLOCK, &alarm, &before) != 0) return 98;
            // The feeder stops early (EPIPE, SIGPIPE ignored) if filter_stream gives up and the
            // test closes in_fd: a pump that stops must not leave the test hanging.
            if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) return 98;
            std::thread feeder([&] {
                ssize_t fed = write(input[1], in.data(), in.size());
                (void)fed;  // the whole input, or less when the pump stopped reading
                close(input[1]);
            });
            std::string out;
            std::thread reader([&] {
                usleep(300 * 1000);  // meanwhile out_fd fills up, and the caller waits in write()
                char buf[65536];
                for (ssize_t n; (n = read(output[0], buf, sizeof buf)) > 0;)
                    out.append(buf, static_cast<std::size_t>(n));
            });
            if (pthread_sigmask(SIG_SETMASK, &before, nullptr) != 0) return 98;
            struct sigaction on_tick;
            std::memset(&on_tick, 0, sizeof on_tick);
            on_tick.sa_handler = tick;
            sigemptyset(&on_tick.sa_mask);  // no SA_RESTART: a blocking call the signal lands in fails with EINTR
            struct itimerval every = {{0, 1000}, {0, 1000}};
            if (sigaction(SIGALRM, &on_tick, nullptr) == -1 || setitimer(ITIMER_REAL, &every, nullptr) == -1) return 98;
            filter::StreamResult s = filter::filter_stream(input[0], output[1], {"cat"});
            struct itimerval off = {{0, 0}, {0, 0}};
            setitimer(ITIMER_REAL, &off, nullptr);
            // filter_stream has returned: in_fd and out_fd are the test's to close again.
            if (close(input[0]) == -1 || close(output[1]) == -1) return 98;
            feeder.join();
            reader.join();
            std::printf("%s|%s", out == in ? "output-ok" : "output-wrong", s.status.error.c_str());
            return 0;
        },
        long_enough());
    EXPECT_TRUE(PrintsLine(
        r, "output-ok|",
        {{r.out.find("Interrupted system call") != std::string::npos,
          "a signal with a handler interrupted a blocking call, which failed with EINTR, and filter_stream gave up "
          "(" +
              r.out.substr(r.out.find('|') + 1) +
              "). EINTR is not an error: call write() (or poll(), read()) again; a write_all loop goes on after "
              "EINTR."}},
        "filter_stream(in_fd, out_fd, {\"cat\"}) must work first: see the other tests.",
        pw::Why()
            .expected("the whole output and no error, with a SIGALRM handler firing every ms")
            .topic("streaming-between-two-descriptors")
            .reproduce("the test sets a SIGALRM handler (no SA_RESTART) and a 1 ms interval timer, then calls "
                       "filter_stream(<512 KiB>, <a pipe read only after 0.3 s>, {\"cat\"})")));
}

}  // namespace
