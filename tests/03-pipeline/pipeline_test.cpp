// pipeline_test.cpp - black-box tests of lesson 03's pipeline.
//
// Most tests run the same commands twice, through `pipeline A B C` and through
// `/bin/sh -c 'A | B | C'`, and require the same stdout and exit status: sh is the
// reference. Inputs are random, so hard-coded output fails. The grader's helper
// fd_probe (tests/03-pipeline/tools/fd_probe.cpp), run as one of the commands, reports
// its open descriptors, its parent and the pipes on its fds 0 and 1; that is how the
// plumbing itself is checked. Each failure says what was expected, what happened, the
// likely cause (worked out from what happened) and the lesson section to read.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lesson.hpp"

namespace {

using namespace pw::in_tests;
using Commands = std::vector<std::string>;

const std::string kProgram = "pipeline";

RunOptions with_timeout(double seconds, const std::string& stdin_data = "") {
    RunOptions o;
    o.timeout_seconds = seconds;
    o.stdin_data = stdin_data;
    return o;
}

RunResult pipeline(const Commands& commands, const RunOptions& options = RunOptions()) {
    std::vector<std::string> argv{pw::program(kProgram)};
    argv.insert(argv.end(), commands.begin(), commands.end());
    return pw::run(argv, options);
}

std::string joined(const Commands& commands) {
    std::string s;
    for (const auto& c : commands) s += (s.empty() ? "" : " | ") + c;
    return s;
}

RunResult shell(const Commands& commands, const RunOptions& options = RunOptions()) {
    return pw::run({"/bin/sh", "-c", joined(commands)}, options);
}

// An exit status as sh reports it: 128+N when signal N ended the process.
int sh_status(const RunResult& r) {
    return r.term_signal ? 128 + r.term_signal : r.exit_code;
}

std::string expected_like(const RunResult& want, const Commands& commands) {
    return "stdout " + pw::quote(want.out) + " and exit status " + std::to_string(sh_status(want)) +
           ", as /bin/sh -c " + pw::shell_word(joined(commands)) + " gives";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

bool contains(const std::string& text, const std::string& words) {
    return text.find(words) != std::string::npos;
}

// Random lines of short words from a small alphabet, so that sort and uniq have work.
std::string random_lines(std::size_t count) {
    static std::mt19937 gen{std::random_device{}()};
    std::uniform_int_distribution<int> letter('a', 'f'), len(1, 4);
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        int n = len(gen);
        for (int k = 0; k < n; ++k) text += static_cast<char>(letter(gen));
        text += '\n';
    }
    return text;
}

int random_between(int lo, int hi) {
    static std::mt19937 gen{std::random_device{}()};
    return std::uniform_int_distribution<int>(lo, hi)(gen);
}

// A short command that reruns a pipeline fed with lines of lowercase words:
// printf '%s\n' ab c fe | build/.../pipeline sort 'uniq -c'. Empty when the input is not
// such lines (pw::reproduce's default is then used).
std::string reproduce_with_lines(const Commands& commands, const std::string& data) {
    if (data.empty() || data.back() != '\n' ||
        data.find_first_not_of("abcdefghijklmnopqrstuvwxyz\n") != std::string::npos ||
        std::count(data.begin(), data.end(), '\n') > 100)
        return "";
    std::string s = "printf '%s\\n'";
    for (const auto& line : lines_of(data)) s += " " + line;
    s += " | " + pw::program(kProgram);
    for (const auto& c : commands) s += " " + pw::shell_word(c);
    return s;
}

// ---- the likely cause, worked out from what happened -----------------------------------

// How many children the program had when it hung (zombies included: those were started).
std::size_t children_of_the_program(const RunResult& r) {
    std::size_t n = 0;
    for (const pw::ProcessSnapshot* p : r.stuck_children()) n += p->info.ppid == r.pid;
    return n;
}

// Who holds an end, seen from the process that waits on its other end.
enum class Holder { Self, Parent, OtherCommand };

Holder who_holds(const RunResult& r, const pw::ProcessSnapshot& waiter, const pw::EndHolder& h) {
    if (h.pid == waiter.info.pid) return Holder::Self;
    return h.pid == r.pid ? Holder::Parent : Holder::OtherCommand;
}

// Why a pipeline of n commands never ended, from what each process was blocked in, with
// the section about that cause.
Why hang_why(const RunResult& r, std::size_t n) {
    const std::string close_ends = "close-every-end-you-do-not-use", sigpipe = "sigpipe-why-yes-stops-when-head-exits";
    Why why;
    if (r.stuck.empty())
        return why.cause(
            "the pipeline never ended (this machine cannot say what each process was blocked in). Check that "
            "every process closes every pipe descriptor it does not use, and that all commands start before "
            "the parent waits.");
    const pw::ProcessSnapshot* program = r.stuck_program();
    // Evidence of a wait inside the fork loop: a command waits in write() on a full pipe
    // while the parent waits, and fewer commands than n were ever started.
    if (program && program->call() == pw::Call::Wait && r.stuck_in(pw::Call::Write) > 0 &&
        children_of_the_program(r) < n)
        return why.cause("you waited before starting the rest: pipeline waits for a command while only " +
                             std::to_string(children_of_the_program(r)) + " of its " + std::to_string(n) +
                             " commands are there, and a command that writes more than a pipe holds (64 KiB) waits "
                             "for a reader that was never started: a deadlock. Start every command before you wait.",
                         "start-them-all-then-wait");
    std::vector<std::string> causes;
    std::string anchor;  // the section about the first cause found
    auto add = [&](const std::string& c, const std::string& section) {
        if (anchor.empty()) anchor = section;
        if (std::find(causes.begin(), causes.end(), c) == causes.end()) causes.push_back(c);
    };
    for (const auto& p : r.stuck) {
        const pw::OpenChannel* end = p.waited_channel();
        if (!end || end->is_socket()) continue;
        bool reads = p.call() == pw::Call::Read;
        for (const pw::EndHolder& h : end->other_end) {
            if (h.fd == (reads ? 1 : 0)) continue;  // the command at the other end: it should hold it
            Holder who = who_holds(r, p, h);
            if (reads && who == Holder::Parent)
                add("pipeline itself still holds a write end of the pipe, so the command reading it never sees "
                    "EOF: once every command is forked, the parent must close all its pipe descriptors.",
                    close_ends);
            else if (reads && who == Holder::Self)
                add("a command still holds a write end of the pipe it reads, so it never sees EOF: in each "
                    "child, after dup2, close every pipe descriptor (both ends of every pipe).",
                    close_ends);
            else if (reads)
                add("another command still holds a write end of this pipe: each child must close every pipe "
                    "descriptor, not only the ones it used.",
                    close_ends);
            else if (who == Holder::Parent)
                add("pipeline itself still holds the read end of a pipe whose reader has exited, so the writer "
                    "never gets SIGPIPE: once every command is forked, the parent must close all its pipe "
                    "descriptors.",
                    sigpipe);
            else if (who == Holder::Self)
                add("a command holds the read end of the very pipe it writes into, so when the reader exits it "
                    "never gets SIGPIPE and blocks forever on the full pipe: in each child, close every pipe "
                    "descriptor, read ends too.",
                    sigpipe);
            else
                add("another command holds a read end of this pipe, so when the real reader exits the writer "
                    "never gets SIGPIPE and blocks forever on the full pipe: in each child, close every pipe "
                    "descriptor, read ends too.",
                    sigpipe);
        }
    }
    if (causes.empty()) return why.cause("the pipeline never ended; see above what each process was blocked in.");
    std::string text;
    for (const auto& c : causes) text += (text.empty() ? "" : " Also: ") + c;
    return why.cause(text, anchor);
}

// A line of pipeline's own on stderr that reports a failed system call.
std::string failed_call(const std::string& err) {
    for (const auto& line : lines_of(err))
        if (line.rfind("pipeline: ", 0) == 0 && !contains(line, "command not found")) return line;
    return "";
}

Why call_why(const std::string& line) {
    std::string s = "pipeline reported a failing system call: \"" + line + "\". ";
    Why why;
    if (contains(line, "dup2") && contains(line, "Bad file descriptor"))
        return why.cause(s + "dup2's first argument was already closed: dup2 the pipe ends onto 0 and 1 first, then "
                             "close the pipe descriptors.",
                         "step-3-dup2-puts-a-pipe-end-on-0-or-1");
    if (contains(line, "close") && contains(line, "Bad file descriptor"))
        return why.cause(s + "something was closed twice, or by a process that had closed it already (a child that "
                             "went on running the parent's code?).",
                         "when-exec-fails");
    if (contains(line, "wait") && contains(line, "No child"))
        return why.cause(s + "a process waited for children it does not have: a child must never run the parent's "
                             "code (end it with _exit).",
                         "when-exec-fails");
    return why.cause(s + "read the message: which call, and why.");
}

// Why a run differs from sh's, with the section about that cause.
Why diagnose(const RunResult& r, const RunResult& want, std::size_t n) {
    Why why;
    if (r.timed_out) return hang_why(r, n);
    if (r.term_signal)
        return why.cause(std::string("pipeline itself was killed by a signal (") + strsignal(r.term_signal) +
                         "): run the reproduce command under gdb to see where.");
    if (r.out.empty() && r.err.empty() && r.exit_code == 0 && (!want.out.empty() || sh_status(want) != 0))
        return why.cause(
            "nothing happened: is main still the stub? Follow the TODOs in exercises/03-pipeline/pipeline.cpp.");
    std::string call = failed_call(r.err);
    if (!call.empty()) return call_why(call);
    if (r.out != want.out) {
        if (r.out.empty())
            return why.cause(
                "nothing reached stdout: the last command must keep pipeline's own stdout. Only commands 1 to N-1 "
                "write into a pipe; N commands need N-1 pipes.",
                "n-commands-n-1-pipes");
        return why.cause(
            "the output differs from sh's: command i's stdout must be the write end of pipe i, command i+1's stdin "
            "the read end of the same pipe (dup2(end, fd) in each child), and each command runs once.",
            "step-3-dup2-puts-a-pipe-end-on-0-or-1");
    }
    if (r.exit_code != sh_status(want))
        return why.cause(
            "the output is right but the exit status is not: a pipeline's status is its LAST command's (WEXITSTATUS, "
            "or 128 + WTERMSIG when a signal killed it).",
            "the-exit-status-of-a-pipeline");
    if (!r.left_behind.empty())
        return why.cause("pipeline exited before it had reaped every command: waitpid for each child it forked.",
                         "start-them-all-then-wait");
    return why;
}

// Runs commands through pipeline and through sh with the same stdin; they must agree.
void expect_like_sh(const Commands& commands, const RunOptions& options, const std::string& anchor,
                    const std::string& reproduce = "") {
    RunResult want = shell(commands, options);
    ASSERT_FALSE(want.timed_out || (want.exit_code < 0 && want.term_signal == 0))
        << "the reference run through /bin/sh failed: " << want.status() << "\n"
        << want.err;
    RunResult r = pipeline(commands, options);
    EXPECT_TRUE(Check(r).out(want.out).exits(sh_status(want)).nothing_left_behind()) << explain(
        r, diagnose(r, want, commands.size())
               .expected(expected_like(want, commands))
               .topic(anchor)
               .reproduce(reproduce.empty() ? reproduce_with_lines(commands, options.stdin_data) : reproduce));
}

// ---- fd_probe: what each command of the pipeline saw -------------------------------------

struct Probe {
    std::string label, fds, in, out;
    long pid = 0, ppid = 0;
};

std::string probe(const std::string& label) {
    return pw::tool("fd_probe") + " " + label;
}

// "fd_probe LABEL pid=812 ppid=811 fds=0,1,2 stdin=pipe:55123 stdout=pipe:55124"
std::vector<Probe> probes_in(const std::string& err) {
    std::vector<Probe> found;
    for (const auto& line : lines_of(err)) {
        if (line.rfind("fd_probe ", 0) != 0) continue;
        std::istringstream in(line.substr(9));
        Probe p;
        in >> p.label;
        for (std::string field; in >> field;) {
            auto eq = field.find('=');
            if (eq == std::string::npos) continue;
            std::string key = field.substr(0, eq), value = field.substr(eq + 1);
            if (key == "pid")
                p.pid = std::atol(value.c_str());
            else if (key == "ppid")
                p.ppid = std::atol(value.c_str());
            else if (key == "fds")
                p.fds = value;
            else if (key == "stdin")
                p.in = value;
            else if (key == "stdout")
                p.out = value;
        }
        found.push_back(p);
    }
    return found;
}

const Probe* find_probe(const std::vector<Probe>& probes, const std::string& label) {
    for (const auto& p : probes)
        if (p.label == label) return &p;
    return nullptr;
}

std::vector<std::string> labels(std::size_t n) {
    std::vector<std::string> l;
    for (std::size_t i = 0; i < n; ++i) l.push_back(pw::random_word(6));
    return l;
}

Commands probes_for(const std::vector<std::string>& names) {
    Commands c;
    for (const auto& l : names) c.push_back(probe(l));
    return c;
}

// When a probe did not report at all, why (the same causes as for any failed run).
Why missing_probe_why(const RunResult& r, std::size_t n) {
    if (r.timed_out) return hang_why(r, n);
    std::string call = failed_call(r.err);
    if (!call.empty()) return call_why(call);
    if (r.err.empty() && r.exit_code == 0)
        return Why().cause(
            "no command ran: is main still the stub? Follow the TODOs in exercises/03-pipeline/pipeline.cpp.");
    return Why().cause("not every command ran: fork one child per command, and exec that command in it.",
                       "n-commands-n-1-pipes");
}

// "2 of 3 fd_probe reports": how many of the n commands reported, in a clause.
std::string reports(std::size_t got, std::size_t n) {
    return std::to_string(got) + " of " + std::to_string(n) + " fd_probe reports";
}

// A pipeline of n fd_probes, and what they reported: how every test of the plumbing starts.
struct ProbedRun {
    std::vector<std::string> labels;
    Commands commands;
    RunResult r;
    std::vector<Probe> probes;

    bool all_reported() const { return probes.size() == labels.size(); }
    // A check whose first clause is that every probe reported; the test adds its own.
    Check check() const {
        return Check(r).that(all_reported(), reports(labels.size(), labels.size()),
                             reports(probes.size(), labels.size()));
    }
    // The cause of a missing report first (the commands did not all run), else `otherwise`.
    Why why(const Why& otherwise) const { return all_reported() ? otherwise : missing_probe_why(r, labels.size()); }
};

ProbedRun run_probes(std::size_t n, const RunOptions& options) {
    ProbedRun p;
    p.labels = labels(n);
    p.commands = probes_for(p.labels);
    p.r = pipeline(p.commands, options);
    p.probes = probes_in(p.r.err);
    return p;
}

// ---- comparing with sh -----------------------------------------------------------------

TEST(Pipeline, MatchesShForOneCommand) {
    expect_like_sh({"tr a-z A-Z"}, with_timeout(5, random_lines(50)), "step-4-exec-the-command");
}

TEST(Pipeline, MatchesShForTwoCommands) {
    std::string letter(1, static_cast<char>('a' + random_between(0, 5)));
    expect_like_sh({"grep -v \"" + letter + "\"", "sort -r"}, with_timeout(5, random_lines(200)),
                   "step-3-dup2-puts-a-pipe-end-on-0-or-1");
}

TEST(Pipeline, MatchesShForSevenCommands) {
    expect_like_sh({"cat", "tr a-z A-Z", "sort", "uniq -c", "sort -rn", "head -n 3", "cut -c 9-"},
                   with_timeout(10, random_lines(2000)), "n-commands-n-1-pipes");
}

TEST(Pipeline, PassesQuotedWordsToTheCommand) {
    std::string a = pw::random_word(4), b = pw::random_word(5);
    expect_like_sh({"printf '%s|%s\\n' '" + a + "  x' \"" + b + " \\\"y\\\"\"", "cat"}, with_timeout(5),
                   "how-pipeline-splits-a-command-into-words");
}

// The workshop's own example. man is not installed everywhere (CI images often lack
// it): without it, or without the pipe(2) page, a made-up page goes through cat
// instead, so that the test means the same everywhere.
TEST(Pipeline, MatchesShForTheManPageExample) {
    if (pw::run({"/bin/sh", "-c", "man -w 2 pipe"}, with_timeout(10)).ok()) {
        expect_like_sh({"man 2 pipe", "grep EXAMPLE -A 58"}, with_timeout(20), "purpose");
        return;
    }
    std::string page = random_lines(40) + "EXAMPLE\n" + random_lines(100);
    expect_like_sh({"cat", "grep EXAMPLE -A 58"}, with_timeout(10, page), "purpose");
}

TEST(Pipeline, YesEndsWhenHeadExits) {
    std::string word = pw::random_word(5);
    expect_like_sh({"yes " + word, "head -n " + std::to_string(random_between(2, 9))}, with_timeout(3),
                   "sigpipe-why-yes-stops-when-head-exits");
}

// A signal that pipeline ignores stays ignored in every command it execs: yes would then get
// EPIPE instead of SIGPIPE and complain on stderr, where sh's yes ends quietly.
TEST(Pipeline, CommandsKeepTheDefaultSigpipe) {
    Commands commands{"yes " + pw::random_word(5), "head -n " + std::to_string(random_between(2, 9))};
    RunResult want = shell(commands, with_timeout(3));
    ASSERT_TRUE(Check(want).exits(0).err("")) << "the reference run through /bin/sh failed";
    RunResult r = pipeline(commands, with_timeout(3));
    Why why = diagnose(r, want, commands.size());
    if (!r.timed_out && contains(r.err, "Broken pipe"))
        why.cause(
            "a command got EPIPE (\"Broken pipe\" on stderr) where sh's is killed by SIGPIPE: SIGPIPE is "
            "ignored in it, and an ignored signal stays ignored across exec. pipeline must leave SIGPIPE as "
            "it found it (or set it back to SIG_DFL in each child before execvp).",
            "sigpipe-why-yes-stops-when-head-exits");
    EXPECT_TRUE(Check(r).out(want.out).exits(0).err(""))
        << explain(r, why.expected(expected_like(want, commands) + ", and nothing on stderr")
                          .topic("sigpipe-why-yes-stops-when-head-exits"));
}

TEST(Pipeline, StartsEveryCommandBeforeWaiting) {
    // seq prints about 600 KB: far more than a pipe holds.
    expect_like_sh({"seq " + std::to_string(random_between(100000, 120000)), "sort -rn", "head -n 1"}, with_timeout(8),
                   "start-them-all-then-wait");
}

TEST(Pipeline, Moves64MiBThroughThreeCats) {
    const std::size_t size = 64u << 20;
    std::mt19937 gen{std::random_device{}()};
    RunOptions options = with_timeout(120);  // 64 MiB four times over: a long cap on purpose (a deadlock ends sooner)
    options.stdin_data.resize(size);
    for (std::size_t i = 0; i < size; i += 4) {
        std::uint32_t v = gen();
        std::memcpy(&options.stdin_data[i], &v, 4);
    }
    expect_like_sh({"cat", "cat", "cat", "cksum"}, options, "start-them-all-then-wait",
                   "head -c 67108864 /dev/urandom | " + pw::program(kProgram) + " cat cat cat cksum");
}

TEST(Pipeline, HandlesEmptyInput) {
    expect_like_sh({"cat", "sort", "wc -c"}, with_timeout(5), "close-every-end-you-do-not-use");
}

TEST(Pipeline, ReaderSeesEofWhenEveryWriterIsClosed) {
    expect_like_sh({"cat", "sort", "wc -l"}, with_timeout(3, random_lines(random_between(20, 60))),
                   "close-every-end-you-do-not-use");
}

TEST(Pipeline, FailingMiddleCommandDoesNotDecideTheStatus) {
    // grep finds nothing and exits 1; wc still counts (0) and exits 0.
    expect_like_sh({"echo " + pw::random_word(8), "grep " + pw::random_word(9), "wc -c"}, with_timeout(5),
                   "the-exit-status-of-a-pipeline");
}

TEST(Pipeline, ExitStatusIsTheLastCommands) {
    int first = random_between(3, 60), last = random_between(61, 120);
    Commands commands{"sh -c 'exit " + std::to_string(first) + "'", "cat",
                      "sh -c 'cat >/dev/null; exit " + std::to_string(last) + "'"};
    RunResult r = pipeline(commands, with_timeout(5));
    Why why = r.exited_with(first) ? Why().cause(
                                         "the exit status is the first command's status; a pipeline's "
                                         "status is the LAST command's: keep the status of the last child.",
                                         "the-exit-status-of-a-pipeline")
                                   : diagnose(r, shell(commands, with_timeout(5)), commands.size());
    EXPECT_TRUE(Check(r).exits(last)) << explain(
        r, why.expected("exit status " + std::to_string(last) + ", the last command's")
               .topic("the-exit-status-of-a-pipeline"));
}

TEST(Pipeline, ReportsASignalDeathAs128PlusTheSignal) {
    const char* names[] = {"TERM", "KILL", "HUP", "USR1"};
    std::string name = names[random_between(0, 3)];
    Commands commands{"echo " + pw::random_word(6), "sh -c 'kill -s " + name + " $$'"};
    RunResult want = shell(commands, with_timeout(5));
    RunResult r = pipeline(commands, with_timeout(5));
    Why why = diagnose(r, want, commands.size());
    if (!r.timed_out && r.term_signal == 0 && r.exit_code == 0)
        why.cause("a command killed by signal " + name +
                      " has no exit status (WEXITSTATUS means nothing then): check WIFSIGNALED(status) and return "
                      "128 + WTERMSIG(status), as sh does.",
                  "the-exit-status-of-a-pipeline");
    EXPECT_TRUE(Check(r).out(want.out).exits(sh_status(want)))
        << explain(r, why.expected(expected_like(want, commands) + " (128 + the number of SIG" + name + ")")
                          .topic("the-exit-status-of-a-pipeline"));
}

// ---- commands that cannot be found -----------------------------------------------------

TEST(Pipeline, UnknownCommandPrintsCommandNotFound) {
    std::string name = "no_such_command_" + pw::random_word(6);
    RunResult r = pipeline({name}, with_timeout(5));
    std::string line = "pipeline: " + name + ": command not found\n";
    Why why = Why().cause(r.err == line ? "the message is right; the status of a command that was not found is 127, "
                                          "as in sh."
                                        : "when execvp fails with ENOENT, the child prints \"pipeline: NAME: command "
                                          "not found\" on stderr and calls _exit(127).",
                          "when-exec-fails");
    if (r.timed_out || r.term_signal) why = diagnose(r, RunResult(), 1);
    EXPECT_TRUE(Check(r).exits(127).err(line).out(""))
        << explain(r, why.expected("exit status 127 and stderr " + pw::quote(line)).topic("when-exec-fails"));
}

TEST(Pipeline, UnknownCommandDoesNotStopTheOthers) {
    expect_like_sh({"no_such_command_" + pw::random_word(6), "wc -c"}, with_timeout(5), "when-exec-fails");
}

TEST(Pipeline, ChildEndsWhenExecFails) {
    std::vector<std::string> l = labels(2);
    std::string missing = "no_such_command_" + pw::random_word(6);
    RunResult r = pipeline({probe(l[0]), missing, probe(l[1])}, with_timeout(5));
    std::vector<Probe> probes = probes_in(r.err);
    int not_found = 0, first = 0, last = 0;
    std::vector<std::string> other;
    for (const auto& line : lines_of(r.err)) {
        if (line == "pipeline: " + missing + ": command not found")
            ++not_found;
        else if (line.rfind("fd_probe " + l[0] + " ", 0) == 0)
            ++first;
        else if (line.rfind("fd_probe " + l[1] + " ", 0) == 0)
            ++last;
        else
            other.push_back(line);
    }
    bool stray = false;
    for (const auto& p : probes) stray = stray || p.ppid != r.pid;
    Why why;
    if (r.timed_out)
        why = hang_why(r, 3);
    else if (not_found > 1 || first > 1 || last > 1 || !other.empty() || stray || !r.left_behind.empty())
        why.cause(
            "the child whose exec failed did not end there: it went on with the parent's work (forking commands "
            "again, closing and waiting for what is not its own). After execvp fails, print the message and end the "
            "child with _exit(127).",
            "when-exec-fails");
    else if (not_found == 0)
        why.cause("no \"pipeline: " + missing + ": command not found\" line on stderr: print it when execvp fails.",
                  "when-exec-fails");
    else
        why = missing_probe_why(r, 3);
    EXPECT_TRUE(Check(r)
                    .exits(0)
                    .that(not_found == 1, "one \"command not found\" line", std::to_string(not_found))
                    .that(first == 1 && last == 1, "one report from each fd_probe",
                          std::to_string(first) + " and " + std::to_string(last))
                    .that(other.empty(), "no other line on stderr", std::to_string(other.size()) + " other lines")
                    .that(!stray, "every fd_probe a child of pipeline", "one with another parent")
                    .nothing_left_behind())
        << explain(r, why.expected("exactly three lines on stderr: one from each fd_probe and \"pipeline: " + missing +
                                   ": command not found\"; exit status 0 (the last command's)")
                          .topic("when-exec-fails"));
}

// ---- the plumbing, seen from inside: fd_probe -----------------------------------------------

TEST(Pipeline, EachCommandSeesOnlyStdinStdoutAndStderr) {
    ProbedRun p = run_probes(3, with_timeout(5));
    std::string extra;
    for (const auto& probe : p.probes)
        if (probe.fds != "0,1,2") extra += (extra.empty() ? "" : "; ") + probe.label + " had " + probe.fds;
    Why why = p.why(Why().cause("a command started with more than fds 0, 1 and 2 open (" + extra +
                                    "): pipe ends that it never uses, inherited through fork and kept by exec. In "
                                    "each child, after dup2, close both ends of every pipe.",
                                "close-every-end-you-do-not-use"));
    EXPECT_TRUE(p.check().that(extra.empty(), "fds=0,1,2 in each command", extra)) << explain(
        p.r, why.expected("each of the three commands reports fds=0,1,2").topic("close-every-end-you-do-not-use"));
}

TEST(Pipeline, EveryCommandIsAChildOfPipeline) {
    ProbedRun p = run_probes(3, with_timeout(5));
    const std::string pid = std::to_string(p.r.pid);
    std::string wrong;
    for (const auto& probe : p.probes)
        if (probe.ppid != p.r.pid)
            wrong += (wrong.empty() ? "" : "; ") + probe.label + "'s parent was pid " + std::to_string(probe.ppid);
    Why why = p.why(Why().cause("pipeline (pid " + pid + ") must itself fork every command, as a shell does (" + wrong +
                                    "): fork in the parent's loop, never in a child.",
                                "n-commands-n-1-pipes"));
    EXPECT_TRUE(p.check().that(wrong.empty(), "pid " + pid + " as every command's parent", wrong)) << explain(
        p.r, why.expected("every command's parent is pipeline (pid " + pid + ")").topic("n-commands-n-1-pipes"));
}

TEST(Pipeline, NeighboursShareOnePipe) {
    std::string data = random_lines(30);
    ProbedRun p = run_probes(4, with_timeout(5, data));
    const std::vector<std::string>& l = p.labels;
    const std::vector<Probe>& probes = p.probes;
    const RunResult& r = p.r;
    std::string problem;
    std::set<std::string> joins;
    bool all_ran = true;
    for (std::size_t i = 0; i + 1 < l.size(); ++i) {
        const Probe* a = find_probe(probes, l[i]);
        const Probe* b = find_probe(probes, l[i + 1]);
        if (!a || !b) {
            all_ran = false;
            break;
        }
        if (a->out.rfind("pipe:", 0) != 0 || a->out != b->in) {
            problem = "command " + std::to_string(i + 1) + "'s stdout (" + a->out + ") is not the pipe that command " +
                      std::to_string(i + 2) + " reads (its stdin is " + b->in + ")";
            break;
        }
        joins.insert(a->out);
    }
    if (all_ran && problem.empty()) {
        const Probe* first = find_probe(probes, l.front());
        const Probe* last = find_probe(probes, l.back());
        if (joins.size() != l.size() - 1)
            problem = "the same pipe joins more than one pair of commands";
        else if (joins.count(first->in) || joins.count(last->out))
            problem = "the first command's stdin or the last one's stdout is one of the joining pipes";
        else if (r.out.empty() && last->out.rfind("pipe:", 0) == 0)
            problem = "nothing reached stdout: the last command wrote into a pipe (" + last->out +
                      ") that nobody "
                      "reads, so its output is lost";
        else if (r.out != data)
            problem = "the data did not come through unchanged";
    }
    Why why = !all_ran ? missing_probe_why(r, l.size())
                       : Why().cause(problem +
                                         ". Command i writes into pipe i and command i+1 reads from it: in the child, "
                                         "dup2(pipe's write end, STDOUT_FILENO) and dup2(previous pipe's read end, "
                                         "STDIN_FILENO); the first keeps pipeline's stdin and the last its stdout, so "
                                         "4 commands need 3 pipes.",
                                     "step-3-dup2-puts-a-pipe-end-on-0-or-1");
    EXPECT_TRUE(Check(r)
                    .that(all_ran, reports(l.size(), l.size()), reports(probes.size(), l.size()))
                    .that(problem.empty(), "3 distinct pipes joining neighbours", problem))
        << explain(r, why.expected("3 distinct pipes, each joining one command's stdout to the next one's stdin, and "
                                   "the input on stdout unchanged")
                          .topic("step-3-dup2-puts-a-pipe-end-on-0-or-1")
                          .reproduce(reproduce_with_lines(p.commands, data)));
}

TEST(Pipeline, ReapsEveryCommand) {
    ProbedRun p = run_probes(3, with_timeout(5));
    const RunResult& r = p.r;
    Why why = r.timed_out || r.term_signal ? hang_why(r, p.labels.size())
                                           : Why().cause(
                                                 "pipeline exited while some of its commands were still there "
                                                 "(running, or zombies): waitpid for every child it forked, "
                                                 "not only the last one.",
                                                 "start-them-all-then-wait");
    if (r.left_behind.empty() && !r.timed_out && !p.all_reported()) why = missing_probe_why(r, p.labels.size());
    EXPECT_TRUE(p.check().ends().nothing_left_behind()) << explain(
        r,
        why.expected("all three commands run, and none is left when pipeline exits").topic("start-them-all-then-wait"));
}

// The last command may end first (here it never reads its stdin); pipeline must still
// wait for the others. A pause followed by a non-blocking waitpid passes by luck of
// scheduling: `make grade SHAKE=N` holds a child back after fork() and shows it.
TEST(Pipeline, WaitsForCommandsThatEndAfterTheLast) {
    std::string word = pw::random_word(8);
    Commands commands{"sh -c 'echo " + word + " >&2'", "true"};
    RunResult r = pipeline(commands, with_timeout(5));
    Why why = r.timed_out || r.term_signal
                  ? hang_why(r, commands.size())
                  : Why().cause(
                        "pipeline exited while an earlier command was still running, or a zombie: the last "
                        "command can end first, so waitpid() for every child - blocking, with no pause that "
                        "only makes it likely that the others are done.",
                        "start-them-all-then-wait");
    EXPECT_TRUE(Check(r).exits(0).nothing_left_behind().err(word + "\n"))
        << explain(r, why.expected("exit status 0, " + pw::quote(word + "\n") +
                                   " on stderr from the first command, no command left when pipeline exits")
                          .topic("start-them-all-then-wait"));
}

// ---- usage and errors ----------------------------------------------------------------------

TEST(Pipeline, PrintsUsageWithoutCommands) {
    RunResult r = pw::run({pw::program(kProgram)}, with_timeout(5));
    EXPECT_TRUE(Check(r).usage_error()) << explain(
        r, pw::usage_why("with no COMMAND, print one usage line on stderr and exit 2."));
}

TEST(Pipeline, PrintsUsageForAnEmptyCommand) {
    RunResult r = pipeline({"cat", "  "}, with_timeout(5));
    EXPECT_TRUE(Check(r).usage_error()) << explain(
        r, pw::usage_why("a command with no words (\"\" or \"  \") is a usage error: check what "
                         "split_words gives before starting anything."));
}

// With only four descriptors allowed, the first pipe() has no room for its two: EMFILE.
TEST(Pipeline, ReportsAFailedSystemCall) {
    RunResult r = pipeline({"cat", "cat"}, pw::too_few_fds(with_timeout(5)));
    EXPECT_TRUE(Check(r).exits(1).err(pw::emfile_err(kProgram))) << explain(r, pw::emfile_why(kProgram, " cat cat"));
}

}  // namespace
