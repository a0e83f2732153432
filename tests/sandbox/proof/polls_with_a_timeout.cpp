// polls_with_a_timeout.cpp - a good program for the grader's own proof: the parent
// polls a pipe nobody writes, with a timeout, four times, while the child waits in
// read() for the parent. Both sleep, but poll's timeout will fire: not a deadlock.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

int main() {
    int quiet[2], wake[2];
    if (pipe(quiet) == -1 || pipe(wake) == -1) return 1;
    pid_t pid = fork();
    if (pid == -1) return 1;
    if (pid == 0) {
        char c;
        _exit(read(wake[0], &c, 1) == 1 ? 0 : 1);  // waits for the parent's byte
    }
    for (int i = 0; i < 4; ++i) {
        pollfd p{quiet[0], POLLIN, 0};
        if (poll(&p, 1, 500) != 0) return 1;  // nobody writes: each poll times out
    }
    if (write(wake[1], "x", 1) != 1) return 1;
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return 1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
