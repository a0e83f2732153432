// leaves_a_zombie.cpp - a bad program for the grader's own proof: its child exits at
// once, and it never waits for it. The sandbox must report the zombie.
#include <unistd.h>

#include "proof.hpp"

int main() {
    int done[2];
    pid_t pid = pipe_then_fork(done);
    if (pid == 0) _exit(0);  // closes its copy of done[1] on the way out
    close(done[1]);
    char c;
    while (read(done[0], &c, 1) > 0) {
    }
    usleep(50 * 1000);  // the child is surely a zombie by now; exit without wait()
    return 0;
}
