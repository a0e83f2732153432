// hang_causes.hpp - lesson 04's tests: why a filter hung, read from the sandbox's
// report of what each process was blocked in when time ran out.
#pragma once

#include <string>

namespace lesson04 {

inline std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The likely cause of a hang, in a learner's words, from RunResult::stuck_report.
inline std::string hang_cause(const std::string& stuck) {
    if (count(stuck, "waits in write()") >= 2)
        return "both your process and the child wait in write() on full pipes: a deadlock. You write all the "
               "input before reading any output; the child stops reading its stdin once its stdout pipe is "
               "full, and nobody empties that pipe. Feed the input WHILE you read the output (poll).";
    if (stuck.find("waits for a child to exit") != std::string::npos &&
        stuck.find("waits in write()") != std::string::npos)
        return "you wait for the child while it still has output to write, and nobody reads it: after closing "
               "its stdin, read the child's stdout to end of file (read() returns 0) before you wait for it.";
    if (stuck.find("whose write end is still open in: the same process") != std::string::npos)
        return "the child itself still holds the write end of its own stdin, so its read() never sees EOF: "
               "in the child, after dup2, close every original pipe end.";
    if (stuck.find("the program you ran) waits in read()") != std::string::npos && count(stuck, "waits in read()") == 1 &&
        stuck.find("whose write end is still open in: pid") != std::string::npos)
        return "your process waits in read() on a pipe whose write end only the child holds (see above). If it is "
               "the exec-error pipe, mark it close-on-exec (FD_CLOEXEC) so that a successful exec closes it.";
    if (stuck.find("whose write end is still open in") != std::string::npos)
        return "the child waits for more input: close the child's stdin (your write end) once all the input is "
               "written - that close is its end of file.";
    return "it never finished; see above what each process was blocked in.";
}

}  // namespace lesson04
