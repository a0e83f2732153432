// proof.hpp - the openings the bad programs of the proof share: a pipe, then a child; a
// child that says one line.
#pragma once
#include <unistd.h>

#include <cstdlib>
#include <cstring>

// Makes a pipe in fds, forks, and returns fork's result (0 in the child). A bad program
// has nothing useful to say when pipe() or fork() fails, so it just exits with status 1.
inline pid_t pipe_then_fork(int fds[2]) {
    if (pipe(fds) == -1) std::exit(1);
    pid_t pid = fork();
    if (pid == -1) std::exit(1);
    return pid;
}

// Forks a child that writes `line` on stdout and exits with `status`; returns the child's
// pid in the parent (exits with status 1 when fork() fails).
inline pid_t fork_child_that_says(const char* line, int status) {
    pid_t pid = fork();
    if (pid == -1) std::exit(1);
    if (pid == 0) {
        (void)!write(1, line, std::strlen(line));
        _exit(status);
    }
    return pid;
}
