// test_support.hpp - what both of lesson 04's test files share: why a filter hung
// (from the sandbox's data on what each process was blocked in), and how to show an
// expected output.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

#include "lesson.hpp"

namespace lesson04 {

// The likely cause of a hang, in a learner's words, from RunResult::stuck (what each
// process was doing). "The program you ran" is the process that called the learner's code.
inline std::string hang_cause(const pw::RunResult& r) {
    if (r.ending == pw::Ending::Spinning) {
        std::string seen = r.spin_call.empty() ? "it used a whole CPU and moved no byte" : r.spin_call;
        if (seen.find("read()") != std::string::npos)
            return "your pump spins: " + seen +
                   ". Once read() has returned 0, that pipe is finished: close it and "
                   "stop polling it (set its pollfd's fd to -1, or leave it out).";
        // The pump of this lesson is a poll() loop: the usual way it spins is this one.
        return "your pump spins: " + seen +
               ". In a poll() loop, end of file on a pipe is POLLHUP, not POLLIN: when the child closes its stdout, "
               "poll() reports POLLHUP on the empty pipe, at once, every time. Treat POLLHUP (any revents) like "
               "POLLIN: read() until it returns 0, then close that fd and stop polling it.";
    }
    const pw::ProcessSnapshot* caller = r.stuck_program();
    bool someone_writes = r.stuck_in(pw::Call::Write) > 0;
    if (r.stuck_in(pw::Call::Write) >= 2)
        return "both your process and the child wait in write() on full pipes: a deadlock. You write all the "
               "input before reading any output; the child stops reading its stdin once its stdout pipe is "
               "full, and nobody empties that pipe. Feed the input WHILE you read the output (poll).";
    if (caller && caller->call() == pw::Call::Wait && someone_writes)
        return "you wait for the child while it still has output to write, and nobody reads it: after closing "
               "its stdin, read the child's stdout to end of file (read() returns 0) before you wait for it.";
    for (const auto& p : r.stuck)
        if (p.call() == pw::Call::Read && p.waits_on_its_own_end())
            return "the child itself still holds the write end of its own stdin, so its read() never sees EOF: "
                   "in the child, after dup2, close every original pipe end.";
    if (caller && caller->call() == pw::Call::Read && caller->waited_channel()) {
        const auto& holders = caller->waited_channel()->other_end;
        bool at_stdout = false;
        for (const auto& h : holders) at_stdout |= h.fd == 1;
        if (!holders.empty() && !at_stdout)
            return "your process waits in read() on a pipe whose write end the running child still holds at fd 3 "
                   "or above: the exec-error pipe? Mark its write end close-on-exec (FD_CLOEXEC), so that a "
                   "successful exec closes it and your read() sees EOF at once.";
    }
    for (const auto& p : r.stuck)
        if (p.call() == pw::Call::Read && p.waited_channel() && !p.waited_channel()->other_end.empty())
            return "the child waits for more input: close the child's stdin (your write end) once all the input is "
                   "written - that close is its end of file.";
    return "it never finished; see above what each process was blocked in.";
}

// Short printable outputs are shown; big or binary ones are described.
inline std::string shown(const std::string& want) {
    bool printable = std::all_of(want.begin(), want.end(),
                                 [](char c) { return std::isprint(static_cast<unsigned char>(c)) || c == '\n'; });
    if (printable && want.size() <= 120) return pw::quote(want);
    return "the " + std::to_string(want.size()) + " bytes the command prints";
}

}  // namespace lesson04
