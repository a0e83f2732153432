// hang.hpp - reads RunResult::stuck (what each process was doing when the run hung, as
// data) into facts a test can decide on: was the program you ran waiting for its child,
// was its child blocked writing into a full pipe, was someone waiting for end of file
// on a pipe whose write end it held itself? Lesson 02's tests turn those facts into the
// likely cause of a hang.
// Also what both programs' tests share before that: the causes that come before a run's
// output is worth reading, and the usage-error check.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lesson.hpp"

namespace lesson02 {

struct Hang {
    bool program_waits_for_child = false;      // the program you ran sits in wait()/waitpid()
    bool program_reads = false;                // ... in read()
    bool program_reads_own_write_end = false;  // ... on a pipe whose write end it holds itself
    bool child_writes_full_pipe = false;       // a child sits in write() on a full pipe
    bool child_reads = false;                  // a child sits in read()
};

inline Hang read_hang(const pw::RunResult& r) {
    Hang h;
    if (const pw::ProcessSnapshot* program = r.stuck_program()) {
        h.program_waits_for_child = program->call() == pw::Call::Wait;
        h.program_reads = program->call() == pw::Call::Read;
        h.program_reads_own_write_end = h.program_reads && program->waits_on_its_own_end();
    }
    for (const pw::ProcessSnapshot* child : r.stuck_children()) {
        const pw::OpenChannel* end = child->waited_channel();
        h.child_writes_full_pipe |= child->call() == pw::Call::Write && end && !end->is_socket();
        h.child_reads |= child->call() == pw::Call::Read;
    }
    return h;
}

// The likely cause of a timed-out run of either program, in the lesson's words, with the
// section about that cause.
inline pw::Why hang_why(const pw::RunResult& r) {
    Hang h = read_hang(r);
    pw::Why why;
    if (h.program_waits_for_child && h.child_writes_full_pipe)
        return why.cause(
            "the parent waits for the child before reading: past the pipe's capacity the child blocks in write(), "
            "waiting for a reader, while the parent waits for the child to end - neither can go on. Read until end "
            "of file first, then waitpid().",
            "pipe-capacity-and-the-wait-then-read-deadlock");
    if (h.program_reads_own_write_end)
        return why.cause(
            "the parent waits in read() for end of file, but it still holds the pipe's write end itself. EOF comes "
            "only when every write end is closed: close pipefd[1] in the parent before its read loop.",
            "eof-or-no-data-yet");
    if (h.program_reads)
        return why.cause(
            "the parent waits in read() for end of file, but a write end is still open (see who holds it, above): "
            "every process must close the write end as soon as it has no more to write.",
            "eof-or-no-data-yet");
    if (h.program_waits_for_child)
        return why.cause("the parent waits for a child that never ends: see above what the child is blocked in.");
    if (r.stuck.empty())
        return why.cause("the program did not finish in time (no report of what it was blocked in is available here).");
    return why.cause("the program did not finish in time: see above what each process was blocked in.");
}

// The causes that come before a run's output is worth reading, the same for both programs:
// a hang, a crash, or nothing at all (main is still the stub). Empty when none applies.
inline pw::Why early_why(const pw::RunResult& r, const std::string& program) {
    pw::Why why;
    if (r.timed_out) return hang_why(r);
    if (r.term_signal) return why.cause(pw::signal_cause(r));
    if (r.out.empty() && r.err.empty() && r.exit_code == 0)
        return why.cause("nothing was printed: is main still the stub? Follow the TODOs in exercises/02-random-byte/" +
                         program + ".cpp.");
    return why;
}

// Runs each bad argument list; the first that is not a usage error (exit status 2, a line
// on stderr in the program's own words, nothing on stdout) fails the calling test with
// `cause`, or `crash_cause` when it crashed. One bad case is enough to read.
inline void expect_usage_errors(const std::vector<std::vector<std::string>>& bad,
                                const std::function<pw::RunResult(const std::vector<std::string>&)>& run,
                                const std::string& cause, const std::string& crash_cause) {
    for (const auto& args : bad) {
        pw::RunResult r = run(args);
        pw::Check usage = pw::Check(r).exits(2).that(!r.err.empty(), "a usage line on stderr", "nothing").out("");
        if (usage.passed()) continue;
        EXPECT_TRUE(usage) << pw::explain(r, pw::usage_why(r.term_signal ? crash_cause : cause));
        return;
    }
}

}  // namespace lesson02
