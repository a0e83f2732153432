// escapes_with_setsid.cpp - a bad program for the grader's own proof: it forks a
// grandchild that leaves the session (setsid) and sleeps forever, prints the
// grandchild's pid, and exits at once. The sandbox must still find and kill it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

#include "proof.hpp"

int main() {
    int ready[2];
    pid_t child = pipe_then_fork(ready);
    if (child == 0) {
        pid_t grandchild = fork();
        if (grandchild == 0) {
            setsid();
            std::printf("%d\n", static_cast<int>(getpid()));
            std::fflush(stdout);
            close(ready[1]);  // tell the top process the pid is out
            for (;;) pause();
        }
        _exit(0);  // the grandchild is now an orphan
    }
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0) {
    }
    waitpid(child, nullptr, 0);
    return 0;
}
