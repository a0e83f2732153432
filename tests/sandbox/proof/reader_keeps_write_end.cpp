// reader_keeps_write_end.cpp - a bad program for the grader's own proof: the child
// reads a pipe whose write end it never closed, so it waits forever, and the parent
// waits for it. The sandbox must explain exactly that.
#include <sys/wait.h>
#include <unistd.h>

#include "proof.hpp"

int main() {
    int fds[2];
    pid_t pid = pipe_then_fork(fds);
    if (pid == 0) {
        char c;
        while (read(fds[0], &c, 1) > 0) {
        }
        _exit(0);
    }
    close(fds[0]);
    close(fds[1]);
    waitpid(pid, nullptr, 0);
    return 0;
}
