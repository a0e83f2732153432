// proof.hpp - the opening most bad programs of the proof share: a pipe, then a child.
#pragma once
#include <unistd.h>

#include <cstdlib>

// Makes a pipe in fds, forks, and returns fork's result (0 in the child). A bad program
// has nothing useful to say when pipe() or fork() fails, so it just exits with status 1.
inline pid_t pipe_then_fork(int fds[2]) {
    if (pipe(fds) == -1) std::exit(1);
    pid_t pid = fork();
    if (pid == -1) std::exit(1);
    return pid;
}
