// random_byte_test.cpp - black-box tests of lesson 02's random_byte.
//
// The byte is random, so a program that prints a fixed answer fails; with --seed the
// run must repeat. The parent's first line may come before, between or after the
// child's lines, so no test depends on that order - only on "Child returned" coming
// last and on the child's own lines keeping theirs. stdout is a pipe here, as in
// `random_byte | cat`, which is exactly where stdio buffering across fork() bites.
// Two checks need more than the output: tools/trace_pipes (ptrace) shows which pid
// fork() created and which bytes crossed which pipe; where ptrace is not available
// those checks are skipped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "hang.hpp"
#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

const std::string kProgram = "random_byte";

// The five lines of a run, recognised one by one.
enum class Line { Continuing, ChildHello, Sent, ChildExiting, Returned, Other };

struct Transcript {
    std::vector<Line> lines;  // in the order they came out
    long pid = -1;            // from "Continuing ... pid: <pid>"
    long sent = -1;           // from "Number sent to parent <n>"
    long returned = -1;       // from "Child returned <n>"

    int count(Line kind) const {
        int n = 0;
        for (Line l : lines) n += l == kind;
        return n;
    }
    int index(Line kind) const {
        for (std::size_t i = 0; i < lines.size(); ++i)
            if (lines[i] == kind) return static_cast<int>(i);
        return -1;
    }
    bool all_five_once() const {
        return count(Line::Continuing) == 1 && count(Line::ChildHello) == 1 && count(Line::Sent) == 1 &&
               count(Line::ChildExiting) == 1 && count(Line::Returned) == 1 && count(Line::Other) == 0;
    }
};

Transcript read_transcript(const std::string& out) {
    static const std::regex continuing(R"(Continuing execution in parent process, new child has pid: (-?\d+))");
    static const std::regex hello(R"(I'm a child, calculating a new value and passing to the parent\.)");
    static const std::regex sent(R"(Number sent to parent (-?\d+))");
    static const std::regex exiting(R"(Child exiting)");
    static const std::regex returned(R"(Child returned (-?\d+))");
    Transcript t;
    std::istringstream in(out);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_match(line, m, continuing)) {
            t.lines.push_back(Line::Continuing);
            t.pid = std::stol(m[1]);
        } else if (std::regex_match(line, hello)) {
            t.lines.push_back(Line::ChildHello);
        } else if (std::regex_match(line, m, sent)) {
            t.lines.push_back(Line::Sent);
            t.sent = std::stol(m[1]);
        } else if (std::regex_match(line, exiting)) {
            t.lines.push_back(Line::ChildExiting);
        } else if (std::regex_match(line, m, returned)) {
            t.lines.push_back(Line::Returned);
            t.returned = std::stol(m[1]);
        } else {
            t.lines.push_back(Line::Other);
        }
    }
    return t;
}

RunResult random_byte(std::vector<std::string> args = {}, RunOptions options = {}) {
    args.insert(args.begin(), pw::program(kProgram));
    return pw::run(args, options);
}

RunOptions short_run() {
    RunOptions o;
    o.timeout_seconds = 3;  // one byte: a run that takes longer is stuck
    return o;
}

std::string random_seed() {
    static std::mt19937_64 gen{std::random_device{}()};
    return std::to_string(gen() >> 1);
}

// What tools/trace_pipes saw of one run: who forked whom, and every pipe read()/write().
struct Trace {
    bool available = false;
    std::string why_not;         // when unavailable
    long program = -1;           // the pid of random_byte itself (the tool is r.pid)
    std::vector<long> children;  // pids the program forked
    struct Io {
        bool is_write;
        long pid;
        unsigned long long inode;
        long n;
        std::string hex;  // the bytes, up to 64 of them
    };
    std::vector<Io> io;

    bool is_child(long pid) const {
        for (long c : children)
            if (c == pid) return true;
        return false;
    }
};

// Runs random_byte under tools/trace_pipes (ptrace). The report goes to a scratch file
// under build/, which the grader runs in.
Trace run_traced(RunResult& r) {
    Trace t;
    char path[] = "build/trace_pipes-XXXXXX";
    int fd = mkstemp(path);
    if (fd == -1) {
        t.why_not = "cannot create a scratch file under build/";
        return t;
    }
    close(fd);
    r = pw::run({pw::tool("trace_pipes"), path, pw::program(kProgram)}, short_run());
    std::ifstream in(path);
    std::string kind;
    bool unavailable = false;
    while (in >> kind) {
        if (kind == "unavailable") {
            std::getline(in, t.why_not);
            unavailable = true;
        } else if (kind == "start") {
            in >> t.program;
        } else if (kind == "fork") {
            long parent, child;
            in >> parent >> child;
            if (parent == t.program) t.children.push_back(child);
        } else if (kind == "write" || kind == "read") {
            Trace::Io io{kind == "write", 0, 0, 0, ""};
            in >> io.pid >> io.inode >> io.n;
            if (io.n > 0) in >> io.hex;
            t.io.push_back(io);
        } else {
            std::string rest;
            std::getline(in, rest);
        }
    }
    std::remove(path);
    t.available = t.program > 0 && !unavailable;
    return t;
}

std::string strace_command() {
    return "strace -f -e trace=clone,read,write " + pw::program(kProgram);
}

// The child went on into the parent's code: a second parent line, pid 0, or an error
// from a close()/read()/waitpid() that the parent's code repeated in the child.
bool child_ran_parents_code(const RunResult& r, const Transcript& t) {
    return t.count(Line::Returned) > 1 || t.count(Line::Continuing) > 1 || t.pid == 0 ||
           r.err.find("- parent") != std::string::npos || r.err.find("waitpid") != std::string::npos ||
           r.err.find("No child processes") != std::string::npos;
}

// Why a run did not produce the five lines with matching numbers, in the learner's terms,
// with the section about that cause.
Why byte_why(const RunResult& r, const Transcript& t) {
    Why why = lesson02::early_why(r, kProgram);
    if (!why.cause_text().empty()) return why;
    if (r.err.find("Resource temporarily unavailable") != std::string::npos)
        return why.cause(
            "a non-blocking read() found no data yet: the child had not written its byte. A pause before reading "
            "only makes that rare; read (blocking) until EOF, which comes exactly when the child is done.",
            "eof-or-no-data-yet");
    if (child_ran_parents_code(r, t))
        return why.cause(
            "after its work the child went on into the parent's code (it printed or failed as a parent a second "
            "time): end the child with _exit(0).",
            "step-2-fork-and-who-is-who");
    if (t.count(Line::Returned) == 1 && t.count(Line::ChildHello) == 0 && t.count(Line::Sent) == 0 &&
        t.count(Line::ChildExiting) == 0)
        return why.cause(
            "the parent got the byte, but the child's three lines never came out. stdout is a pipe here, so printf() "
            "only fills the child's stdio buffer (it is flushed line by line on a terminal only), and _exit() throws "
            "that buffer away. Call fflush(stdout) before _exit(0).",
            "stdout-is-a-pipe-flush-before-_exit");
    if ((t.sent != -1 && (t.sent < 0 || t.sent > 255)) || (t.returned != -1 && (t.returned < 0 || t.returned > 255)))
        return why.cause(
            "a number outside 0..255: a byte held in a plain char is signed on most machines. Keep it in an "
            "unsigned char and print it as an int.",
            "step-1-the-child-sends-one-byte");
    if (t.count(Line::Returned) == 0)
        return why.cause(
            "the parent did not print \"Child returned <n>\": read the byte from the pipe, reap the "
            "child, then print it." +
                std::string(r.err.empty() ? "" : " stderr says why it stopped, above."),
            "step-3-read-then-wait-never-the-other-way-round");
    if (t.sent != t.returned)
        return why.cause(
            "the parent printed a different number from the one the child sent: print the byte that read() put into "
            "the parent's buffer.",
            "step-3-read-then-wait-never-the-other-way-round");
    if (!r.ok()) return why.cause("the program printed its lines but did not exit with status 0: see stderr above.");
    return why.cause("each of the five lines must appear once, spelled exactly as in the lesson.");
}

// The five lines, each once, with the same number sent and returned, and exit status 0.
Check five_lines_check(const RunResult& r, const Transcript& t) {
    return Check(r)
        .exits(0)
        .that(t.all_five_once(), "the five lines, each once", pw::quote(r.out))
        .that(t.sent == t.returned && t.sent >= 0 && t.sent <= 255, "the same byte (0..255) sent and returned",
              "sent " + std::to_string(t.sent) + ", returned " + std::to_string(t.returned));
}

std::string five_lines() {
    return "the five lines of the lesson, each once, \"Number sent to parent <n>\" and \"Child returned <n>\" "
           "with the same n, exit status 0";
}

TEST(RandomByte, ParentPrintsTheValueTheChildSent) {
    RunResult r = random_byte({}, short_run());
    Transcript t = read_transcript(r.out);
    EXPECT_TRUE(five_lines_check(r, t)) << explain(
        r, byte_why(r, t).expected(five_lines()).topic("step-1-the-child-sends-one-byte"));
}

// Under ptrace: the byte the parent prints is the byte that went through the pipe,
// written by its child and read by the parent - not a copy drawn before fork().
TEST(RandomByte, ByteTravelsThroughThePipe) {
    RunResult r;
    Trace trace = run_traced(r);
    Transcript t = read_transcript(r.out);
    bool refused = !trace.why_not.empty() && r.exited_with(77);  // the tracer could not start it at all
    if (r.timed_out || (!r.ok() && !refused)) {
        // A run that hung or failed under the tracer proved something: a failure, never a skip.
        // Its cause comes from a run without the tracer, whose process tree is the program's own.
        RunResult plain = random_byte({}, short_run());
        const RunResult& shown = plain.ok() ? r : plain;
        EXPECT_TRUE(Check(r).ends().exits(0))
            << explain(shown, byte_why(shown, read_transcript(shown.out))
                                  .expected(five_lines() + ", the byte crossing a pipe from the child to the parent")
                                  .topic("step-1-the-child-sends-one-byte")
                                  .reproduce(plain.ok() ? strace_command() : ""));
        return;
    }
    if (!trace.available) {
        if (trace.why_not.empty())
            trace.why_not = " the tracer wrote no report (it " + r.status() + "), so nothing was proved";
        GTEST_SKIP() << "tracing is not available here:" << trace.why_not;
    }
    // The pipes that a child of the program wrote into and the program read from.
    std::set<unsigned long long> child_wrote, program_read;
    for (const auto& io : trace.io) {
        if (io.is_write && trace.is_child(io.pid)) child_wrote.insert(io.inode);
        if (!io.is_write && io.pid == trace.program) program_read.insert(io.inode);
    }
    long written = 0, read = 0;
    std::string bytes;
    for (const auto& io : trace.io) {
        if (!child_wrote.count(io.inode) || !program_read.count(io.inode)) continue;
        if (io.is_write && trace.is_child(io.pid)) written += io.n;
        if (!io.is_write && io.pid == trace.program) {
            read += io.n;
            bytes += io.hex;
        }
    }
    long value = -1;  // the first byte read, when the tool could copy it out
    if (bytes.size() >= 2 && std::isxdigit(static_cast<unsigned char>(bytes[0])) &&
        std::isxdigit(static_cast<unsigned char>(bytes[1])))
        value = std::strtol(bytes.substr(0, 2).c_str(), nullptr, 16);
    const std::string step3 = "step-3-read-then-wait-never-the-other-way-round";
    Why why;
    if (!r.ok() || !t.all_five_once())
        why = byte_why(r, t);
    else if (trace.children.empty())
        why.cause("the program never forked: the byte must come from a child process.", "step-2-fork-and-who-is-who");
    else if (read == 0)
        why.cause("the parent printed " + std::to_string(t.returned) +
                      " without reading it from the pipe its child wrote into: it printed a copy it already had "
                      "(drawn before fork()?). The number must come out of read().",
                  step3);
    else if (written != 1 || read != 1)
        why.cause("exactly one byte must cross the pipe; the child wrote " + std::to_string(written) +
                      " and the parent read " + std::to_string(read) + ".",
                  step3);
    else
        why.cause("the byte that went through the pipe was " + std::to_string(value) +
                      ", but the program printed other numbers: print the byte the child wrote and the parent read.",
                  step3);
    EXPECT_TRUE(
        Check(r)
            .exits(0)
            .that(t.all_five_once(), "the five lines, each once", pw::quote(r.out))
            .that(written == 1 && read == 1, "one byte across the pipe",
                  std::to_string(written) + " written by the child, " + std::to_string(read) + " read by the parent")
            .that(t.sent == value && t.returned == value, "the byte that crossed printed in both lines",
                  "crossed " + std::to_string(value) + ", sent " + std::to_string(t.sent) + ", returned " +
                      std::to_string(t.returned)))
        << explain(r, why.expected("one byte written by the child and read by the parent, and that byte printed in "
                                   "both \"Number sent to parent <n>\" and \"Child returned <n>\"")
                          .topic(step3)
                          .reproduce(strace_command()));
}

TEST(RandomByte, PrintsTheChildsThreeLines) {
    RunResult r = random_byte({}, short_run());
    Transcript t = read_transcript(r.out);
    bool once = t.count(Line::ChildHello) == 1 && t.count(Line::Sent) == 1 && t.count(Line::ChildExiting) == 1;
    bool in_order =
        t.index(Line::ChildHello) < t.index(Line::Sent) && t.index(Line::Sent) < t.index(Line::ChildExiting);
    Why why = byte_why(r, t);
    if (!(once && in_order) && r.ok() && !child_ran_parents_code(r, t) && t.count(Line::ChildHello) == 1)
        why.cause(
            "the child's three lines must come in this order: \"I'm a child, ...\", \"Number sent to parent <n>\", "
            "\"Child exiting\".",
            "step-1-the-child-sends-one-byte");
    EXPECT_TRUE(Check(r)
                    .that(once, "the child's three lines, once each", pw::quote(r.out))
                    .that(!once || in_order, "them in their order", pw::quote(r.out)))
        << explain(r, why.expected("the child's three lines, once each and in their order, on stdout (a pipe)")
                          .topic("stdout-is-a-pipe-flush-before-_exit")
                          .reproduce(pw::program(kProgram) + " | cat"));
}

TEST(RandomByte, ChildReturnedComesLast) {
    RunResult r = random_byte({}, short_run());
    Transcript t = read_transcript(r.out);
    Why why = byte_why(r, t);
    if (t.all_five_once())
        why.cause(
            "\"Child returned <n>\" came before another line: the parent prints it only after it has read the byte "
            "and reaped the child with waitpid(), and by then the child's lines are out.",
            "step-3-read-then-wait-never-the-other-way-round");
    EXPECT_TRUE(Check(r)
                    .that(t.all_five_once(), "the five lines, each once", pw::quote(r.out))
                    .that(!t.all_five_once() || t.lines.back() == Line::Returned, "\"Child returned <n>\" last",
                          pw::quote(r.out)))
        << explain(r, why.expected(five_lines() + ", \"Child returned <n>\" last")
                          .topic("step-3-read-then-wait-never-the-other-way-round"));
}

TEST(RandomByte, ReportsTheChildsPid) {
    RunResult first = random_byte({}, short_run());
    RunResult second = random_byte({}, short_run());
    Transcript a = read_transcript(first.out), b = read_transcript(second.out);
    Check pids = Check(first)
                     .that(a.pid > 0 && b.pid > 0, "a positive pid in each run",
                           std::to_string(a.pid) + " and " + std::to_string(b.pid))
                     .that(a.pid != first.pid && b.pid != second.pid, "not the program's own pid",
                           std::to_string(a.pid) + " printed by pid " + std::to_string(first.pid) + ", " +
                               std::to_string(b.pid) + " by pid " + std::to_string(second.pid))
                     .that(a.pid != b.pid, "a different pid in each run", "both " + std::to_string(a.pid));
    const std::string fork = "step-2-fork-and-who-is-who";
    Why why = byte_why(first, a);
    if (a.count(Line::Continuing) == 1 && first.ok()) {
        if (a.pid == first.pid || b.pid == second.pid)
            why.cause("the parent printed its own pid (the program's pid was " + std::to_string(first.pid) +
                          "): print the value fork() returned in the parent, which is the child's pid.",
                      fork);
        else if (a.pid <= 0)
            why.cause("the pid printed is not a process id: in the parent fork() returns the child's pid (> 0).", fork);
        else if (a.pid == b.pid)
            why.cause("two runs printed the same pid " + std::to_string(a.pid) +
                          ": print the value fork() returned, not a fixed number.",
                      fork);
    }
    EXPECT_TRUE(pids) << explain(first, why.expected("\"new child has pid: <pid>\" with the child's pid: positive, "
                                                     "not the program's own, different in each run (this run's "
                                                     "program was pid " +
                                                     std::to_string(first.pid) + ")")
                                            .topic(fork));
    if (!pids.passed()) return;

    // Under ptrace the pid that fork() created is known: the printed one must be it.
    RunResult traced;
    Trace trace = run_traced(traced);
    if (!trace.available) return;  // the checks above are all that can be done here
    Transcript c = read_transcript(traced.out);
    const std::string forked =
        trace.children.empty() ? std::string("none: it did not fork") : std::to_string(trace.children.front());
    Why traced_why = traced.ok() ? Why().cause(
                                       "the pid printed is not the pid of the child this run forked: print "
                                       "the value fork() returned in the parent.",
                                       fork)
                                 : byte_why(traced, c);
    EXPECT_TRUE(
        Check(traced).exits(0).that(trace.is_child(c.pid), "the pid fork() created, " + forked, std::to_string(c.pid)))
        << explain(traced, traced_why.expected("the pid of the child that random_byte forked (pid " + forked + ")")
                               .topic(fork)
                               .reproduce(strace_command()));
}

TEST(RandomByte, DrawsADifferentValueEachRun) {
    std::vector<long> values;
    RunResult r;
    bool differs = false;
    for (int i = 0; i < 10 && !differs; ++i) {
        r = random_byte({}, short_run());
        Transcript t = read_transcript(r.out);
        if (!r.ok() || t.returned < 0) break;
        values.push_back(t.returned);
        differs = values.front() != values.back();
    }
    Why why = byte_why(r, read_transcript(r.out));
    if (r.ok() && values.size() == 10)
        why.cause("every run printed " + std::to_string(values.front()) +
                      ": the byte must be drawn at random, from a std::mt19937_64 seeded with std::random_device{}() "
                      "when there is no --seed.",
                  "step-1-the-child-sends-one-byte");
    EXPECT_TRUE(Check(r).that(differs, "different numbers over ten runs",
                              std::to_string(values.size()) + " runs, all " +
                                  (values.empty() ? std::string("failed") : std::to_string(values.front()))))
        << explain(r, why.expected("different numbers over ten runs without --seed (the chance that ten random "
                                   "bytes are all equal is about 1 in 10^21)")
                          .topic("step-1-the-child-sends-one-byte"));
}

TEST(RandomByte, SameSeedGivesTheSameValue) {
    std::string seed = random_seed();
    std::vector<long> values;
    RunResult r;
    for (int i = 0; i < 3; ++i) {
        r = random_byte({"--seed", seed}, short_run());
        Transcript t = read_transcript(r.out);
        if (!r.ok() || t.returned < 0) break;
        values.push_back(t.returned);
    }
    bool same = values.size() == 3 && values[0] == values[1] && values[1] == values[2];
    Why why = byte_why(r, read_transcript(r.out));
    std::string got;
    for (long v : values) got += (got.empty() ? "" : ", ") + std::to_string(v);
    if (values.size() == 3 && !same)
        why.cause(
            "three runs with the same seed printed different numbers: with --seed N, seed the engine with N instead "
            "of std::random_device.",
            "seeds-and-repeatable-runs");
    EXPECT_TRUE(Check(r).exits(0).that(same, "the same number three times", got.empty() ? "no number" : got))
        << explain(
               r, why.expected("the same number in three runs with --seed " + seed).topic("seeds-and-repeatable-runs"));
}

TEST(RandomByte, ParentReapsTheChild) {
    RunResult r = random_byte({}, short_run());
    Transcript t = read_transcript(r.out);
    Why why = !r.left_behind.empty()
                  ? Why().cause(pw::left_behind_cause("waitpid()"), "step-3-read-then-wait-never-the-other-way-round")
                  : byte_why(r, t);
    EXPECT_TRUE(
        Check(r).nothing_left_behind().exits(0).that(t.all_five_once(), "the five lines, each once", pw::quote(r.out)))
        << explain(r, why.expected(five_lines() + ", and no child left behind")
                          .topic("step-3-read-then-wait-never-the-other-way-round"));
}

TEST(RandomByte, ChildDoesNotRunTheParentsCode) {
    RunResult r = random_byte({}, short_run());
    Transcript t = read_transcript(r.out);
    EXPECT_TRUE(Check(r)
                    .exits(0)
                    .err("")
                    .that(t.all_five_once(), "the five lines, each once", pw::quote(r.out))
                    .that(t.pid != 0, "a real pid in \"new child has pid\"", std::to_string(t.pid)))
        << explain(r,
                   byte_why(r, t).expected(five_lines() + ", nothing on stderr").topic("step-2-fork-and-who-is-who"));
}

TEST(RandomByte, RejectsBadArguments) {
    const std::vector<std::vector<std::string>> bad = {{"--verbose"},
                                                       {"--seed"},
                                                       {"--seed", "x"},
                                                       {"--seed", "-1"},
                                                       {"--seed", "12abc"},
                                                       {"--seed", "99999999999999999999999"},
                                                       {"7"},
                                                       {"--seed", "1", "2"}};
    lesson02::expect_usage_errors(
        bad, [](const std::vector<std::string>& args) { return random_byte(args, short_run()); },
        "random_byte takes nothing, or exactly --seed N with N a whole number (digits only): anything else prints "
        "one usage line on stderr and returns 2, before any fork().",
        "it crashed: check argc before you read argv[1] or argv[2].");
}

// With only four descriptors allowed, pipe() has no room for its two: EMFILE.
TEST(RandomByte, ReportsAFailedSystemCall) {
    RunResult r = random_byte({}, pw::too_few_fds(short_run()));
    EXPECT_TRUE(Check(r).exits(1).err(pw::emfile_err(kProgram)).out("")) << explain(r, pw::emfile_why(kProgram, ""));
}

// With stdout closed the child's fflush fails and it exits 1: random_byte's own exit
// status must say so. The parent learns how its child ended only from waitpid's status.
TEST(RandomByte, ExitStatusReflectsTheChilds) {
    RunResult r = pw::run({"/bin/sh", "-c", "exec \"$0\" >&-", pw::program(kProgram)}, short_run());
    Why why;
    if (r.timed_out || r.term_signal)
        why = byte_why(r, read_transcript(r.out));
    else if (r.exited_with(0) && !r.err.empty())
        why.cause(
            "the child failed (it could not write to stdout) but random_byte exited 0: return 0 only when "
            "waitpid()'s status says the child exited with 0 (WIFEXITED and WEXITSTATUS), else 1.",
            "usage-and-errors");
    else if (r.exited_with(0))
        why.cause(
            "nothing noticed that stdout was closed: the child's fflush(stdout) returns EOF then. Check it "
            "(die(\"fflush - child\")), and return 1 from the parent when waitpid()'s status is not a clean "
            "exit 0. (Or is main still the stub?)",
            "stdout-is-a-pipe-flush-before-_exit");
    else if (r.exited_with(1) && r.err.empty())
        why.cause(
            "exit status 1, but nothing on stderr: the child must name the call that failed, "
            "\"random_byte: fflush - child: Bad file descriptor\".",
            "usage-and-errors");
    EXPECT_TRUE(Check(r).exits(1).err_mentions("Bad file descriptor"))
        << explain(r, why.expected("exit status 1, and the child's error (Bad file descriptor) on stderr")
                          .topic("usage-and-errors")
                          .reproduce(pw::program(kProgram) + " >&-; echo $?"));
}

}  // namespace
