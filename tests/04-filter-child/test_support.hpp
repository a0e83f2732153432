// test_support.hpp - what both of lesson 04's test files share: why a filter hung
// (read from the sandbox's report of what each process was blocked in when time ran
// out), and how to show an expected output.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>

#include "lesson.hpp"

namespace lesson04 {

inline std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The likely cause of a hang, in a learner's words, from RunResult::stuck_report.
// "The program you ran" is the process that called the learner's code.
inline std::string hang_cause(const std::string& stuck) {
    std::string caller;  // the report's line about the caller
    for (std::size_t at = 0; at < stuck.size();) {
        std::size_t eol = std::min(stuck.find('\n', at), stuck.size());
        std::string line = stuck.substr(at, eol - at);
        std::size_t close = line.find(')');  // "  - pid 812 (name, the program you ran) waits in ..."
        if (close != std::string::npos && close >= 19 && line.compare(close - 19, 19, "the program you ran") == 0)
            caller = line;
        at = eol + 1;
    }
    auto has = [](const std::string& text, const char* what) { return text.find(what) != std::string::npos; };
    if (count(stuck, "waits in write()") >= 2)
        return "both your process and the child wait in write() on full pipes: a deadlock. You write all the "
               "input before reading any output; the child stops reading its stdin once its stdout pipe is "
               "full, and nobody empties that pipe. Feed the input WHILE you read the output (poll).";
    if (has(caller, "waits for a child to exit") && has(stuck, "waits in write()"))
        return "you wait for the child while it still has output to write, and nobody reads it: after closing "
               "its stdin, read the child's stdout to end of file (read() returns 0) before you wait for it.";
    if (has(stuck, "whose write end is still open in: the same process"))
        return "the child itself still holds the write end of its own stdin, so its read() never sees EOF: "
               "in the child, after dup2, close every original pipe end.";
    if (has(caller, "waits in read()") && has(caller, "whose write end is still open in: pid") &&
        !has(caller, "at fd 1."))
        return "your process waits in read() on a pipe whose write end the running child still holds at fd 3 or "
               "above: the exec-error pipe? Mark its write end close-on-exec (FD_CLOEXEC), so that a successful "
               "exec closes it and your read() sees EOF at once.";
    if (has(stuck, "whose write end is still open in"))
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
