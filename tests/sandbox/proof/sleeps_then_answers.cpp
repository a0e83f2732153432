// sleeps_then_answers.cpp - a good program for the grader's own proof: the parent
// waits in read() for a child that sleeps before it writes. Everyone looks asleep, but
// the child's sleep ends by itself: the sandbox must not call this a deadlock.
#include <sys/wait.h>
#include <unistd.h>

#include "proof.hpp"

int main() {
    int fds[2];
    pid_t pid = pipe_then_fork(fds);
    if (pid == 0) {
        sleep(2);
        _exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
    }
    char c;
    if (read(fds[0], &c, 1) != 1) return 1;
    if (waitpid(pid, nullptr, 0) != pid) return 1;
    return 0;
}
