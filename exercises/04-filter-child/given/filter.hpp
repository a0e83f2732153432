// filter.hpp - lesson 04's library: run a command as a filter, feeding its stdin and
// collecting its stdout through two pipes, with no temporary file and no deadlock.
//
// Usage (from C++):
//   filter::FilterOutput r = filter::filter_bytes("b\na\n", {"sort"});
//   if (!r.status.ok()) std::fprintf(stderr, "%s\n", r.status.error.c_str());
//   // r.output == "a\nb\n"
//
//   filter::StreamResult s = filter::filter_stream(STDIN_FILENO, STDOUT_FILENO, {"tr", "a-z", "A-Z"});
//
// Both functions start argv[0] (looked up in PATH) as a child process whose stdin and
// stdout are pipes to the caller, pump data in both directions at the same time, close
// the child's stdin when the input ends (that close is the child's end of file), read
// its stdout to the end, and reap it. They never leave a child or a descriptor behind,
// never create a file, and never let SIGPIPE kill the caller.
//
// This header is given: you do not edit it. You write filter.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace filter {

// How a filter run ended.
struct Status {
    int exit_code = -1;  // the child's exit status when it exited, else -1
    int signal = 0;      // the signal that killed the child, else 0
    int exec_errno = 0;  // why the command could not be executed (execvp's errno), else 0
    // Empty when the child ran and exited with status 0. Otherwise one line that says
    // which of these happened:
    //   "sort exited with status 3"
    //   "sort was killed by signal 9 (Killed)"
    //   "cannot execute nosuchcmd: No such file or directory"
    //   "pipe: Too many open files"          (a system call of the caller failed)
    std::string error;

    bool ok() const { return error.empty(); }
};

struct FilterOutput {
    Status status;
    std::string output;  // every byte the child wrote to its stdout (also when it failed)
};

// Runs argv with `input` on its stdin and returns what it wrote to its stdout.
// Binary-safe: input and output may hold any bytes, NUL included. If the child stops
// reading before the input ends (e.g. head -c 100), the rest of the input is dropped
// on purpose and the output is still complete.
FilterOutput filter_bytes(const std::string& input, const std::vector<std::string>& argv);

struct StreamResult {
    Status status;
    std::uint64_t bytes_in = 0;   // bytes written into the child's stdin (the pipe took them)
    std::uint64_t bytes_out = 0;  // bytes the child wrote, all copied to out_fd
};

// Streams in_fd through argv into out_fd, in bounded memory whatever the size: bytes
// are read from in_fd only as fast as the child takes them. When the child stops
// reading early, the rest of in_fd is left unread. in_fd and out_fd stay open.
StreamResult filter_stream(int in_fd, int out_fd, const std::vector<std::string>& argv);

}  // namespace filter
