// filter_child.hpp - what the pump in filter.cpp works on: the running child, where the
// bytes come from and go to, two small helpers that keep every check one line, and run(),
// which you write and given/filter_api.cpp calls.
//
// Usage: #include "filter_child.hpp" in filter.cpp; then
//   if (pipe(in) == -1) fail(status, "pipe");                        // "pipe: Too many open files"
//   close_end(child.to_stdin, status, "close - stdin of the child");  // closed once, then -1
//
// This header is given: you do not edit it. You write filter.cpp.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "filter.hpp"

namespace filter {

// Bytes moved by one read(): the pump holds at most one such chunk of input and one of
// output, whatever the size of the data.
constexpr std::size_t kChunk = 64 * 1024;

// A running child and the parent's ends of its two pipes (-1 once closed).
struct Child {
    pid_t pid = -1;
    int to_stdin = -1;     // write end of the pipe that is the child's stdin
    int from_stdout = -1;  // read end of the pipe that is the child's stdout
};

// Where the pump takes its input and puts the output: the only difference between
// filter_bytes (a string in memory) and filter_stream (the caller's descriptors).
struct Ends {
    const char* data = nullptr;  // input not yet written into the child, and how much
    std::size_t left = 0;
    int in_fd = -1;              // where more input comes from once `left` is 0 (-1: nowhere)
    std::string* out = nullptr;  // the output goes here, or else to out_fd
    int out_fd = -1;
    std::uint64_t bytes_in = 0, bytes_out = 0;
};

// Records that one of our own system calls failed, as "what: reason". The first
// failure is the one reported: what went wrong later is often its consequence.
inline void fail(Status& status, const char* what) {
    if (status.error.empty()) status.error = std::string(what) + ": " + std::strerror(errno);
}

// Closes fd (if still open) and marks it closed, so that no end is closed twice.
inline void close_end(int& fd, Status& status, const char* what) {
    if (fd >= 0 && close(fd) == -1) fail(status, what);
    fd = -1;
}

// Starts argv, pumps ends through it and reaps it: filter_bytes and filter_stream are
// this one call (given/filter_api.cpp). You write it, in filter.cpp.
Status run(const std::vector<std::string>& argv, Ends& ends);

}  // namespace filter
