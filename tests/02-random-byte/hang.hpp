// hang.hpp - reads RunResult::stuck_report back into facts a test can decide on:
// was the program you ran waiting for its child, was its child blocked writing into a
// full pipe, was someone waiting for end of file on a pipe whose write end it held
// itself? Lesson 02's tests turn those facts into the likely cause of a hang.
//
// The report has one line per process, e.g.
//   - pid 812 (random_bytes, the program you ran) waits for a child to exit (wait/waitpid); ...
//   - pid 813 (random_bytes, child of 812) waits in write() on pipe 55123 (its fd 4), which is full: ...
// (A candidate for tests/support: a structured form of the same report.)
#pragma once

#include <sstream>
#include <string>

#include "sandbox.hpp"

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
    std::istringstream lines(r.stuck_report);
    std::string line;
    while (std::getline(lines, line)) {
        // "pid N (command, the program you ran) ..." or "pid N (command, child of M) ...":
        // who it is comes before the first ')'; later text may name other processes.
        std::size_t who_ends = line.find(')');
        if (who_ends == std::string::npos) continue;
        bool program = line.substr(0, who_ends).find("the program you ran") != std::string::npos;
        if (program) {
            h.program_waits_for_child |= line.find("waits for a child to exit") != std::string::npos;
            bool reads = line.find("waits in read()") != std::string::npos;
            h.program_reads |= reads;
            h.program_reads_own_write_end |=
                reads && line.find("whose write end is still open in: the same process") != std::string::npos;
        } else {
            h.child_writes_full_pipe |=
                line.find("waits in write()") != std::string::npos && line.find("which is full") != std::string::npos;
            h.child_reads |= line.find("waits in read()") != std::string::npos;
        }
    }
    return h;
}

// The likely cause of a timed-out run of either program, in the lesson's words.
inline std::string hang_cause(const pw::RunResult& r) {
    Hang h = read_hang(r);
    if (h.program_waits_for_child && h.child_writes_full_pipe)
        return "the parent waits for the child before reading: past the pipe's capacity the child blocks in "
               "write(), waiting for a reader, while the parent waits for the child to end - neither can go on. "
               "Read until end of file first, then waitpid().";
    if (h.program_reads_own_write_end)
        return "the parent waits in read() for end of file, but it still holds the pipe's write end itself. "
               "EOF comes only when every write end is closed: close pipefd[1] in the parent before its read loop.";
    if (h.program_reads)
        return "the parent waits in read() for end of file, but a write end is still open (see who holds it, "
               "above): every process must close the write end as soon as it has no more to write.";
    if (h.program_waits_for_child)
        return "the parent waits for a child that never ends: see above what the child is blocked in.";
    if (r.stuck_report.empty())
        return "the program did not finish in time (no report of what it was blocked in is available here).";
    return "the program did not finish in time: see above what each process was blocked in.";
}

}  // namespace lesson02
