// spins_on_pollhup.cpp - a bad program for the grader's own proof: a poll() loop that
// looks only at POLLIN. Once the writer has gone, poll() returns at once with POLLHUP,
// the loop never reads, never ends, and uses a whole CPU. The sandbox must name it.
#include <poll.h>
#include <unistd.h>

#include "proof.hpp"

int main() {
    int fds[2];
    pid_t pid = pipe_then_fork(fds);
    if (pid == 0) {
        close(fds[0]);
        _exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
    }
    close(fds[1]);
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        if (poll(&p, 1, -1) == -1) return 1;
        if (p.revents & POLLIN) {
            char c;
            if (read(fds[0], &c, 1) == -1) return 1;  // the mistake: 0 (EOF) is never checked, POLLHUP never looked at
        }
    }
}
