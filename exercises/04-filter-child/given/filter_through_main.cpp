// filter_through_main.cpp - the program of lesson 04, built on filter_stream().
//
// Usage: filter_through CMD [ARGS...]
//
// Sends its own stdin through CMD and CMD's output to its own stdout, streaming, in
// bounded memory. On stderr it reports "filter_through: N bytes in, M bytes out" (N:
// bytes CMD accepted, M: bytes CMD wrote), then the error, if there was one.
//
// Exit status, the shell's convention:
//   CMD exited with status N     -> N
//   CMD was killed by signal S   -> 128 + S
//   CMD cannot be executed       -> 127 when it was not found, 126 otherwise
//   a system call here failed    -> 1
//   usage error                  -> 2
//
// This file is given: you do not edit it. You write filter.cpp.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "filter.hpp"

int main(int argc, char* argv[]) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: filter_through CMD [ARGS...]\n");
        return 2;
    }
    std::vector<std::string> command(argv + 1, argv + argc);
    filter::StreamResult r = filter::filter_stream(STDIN_FILENO, STDOUT_FILENO, command);

    std::fprintf(stderr, "filter_through: %llu bytes in, %llu bytes out\n", static_cast<unsigned long long>(r.bytes_in),
                 static_cast<unsigned long long>(r.bytes_out));
    const filter::Status& s = r.status;
    if (s.ok()) return 0;
    std::fprintf(stderr, "filter_through: %s\n", s.error.c_str());
    if (s.exec_errno != 0) return s.exec_errno == ENOENT ? 127 : 126;
    if (s.signal != 0) return 128 + s.signal;
    if (s.exit_code > 0) return s.exit_code;
    return 1;
}
