// forks_many.cpp - a bad program for the grader's own proof: 20 children, each with a
// grandchild that calls setsid(), all asleep; the parent exits once all 40 exist.
// Every one of them must be found and killed.
#include <unistd.h>

int main() {
    int ready[2];
    if (pipe(ready) == -1) return 1;
    for (int i = 0; i < 20; ++i) {
        pid_t pid = fork();
        if (pid == -1) return 1;
        if (pid == 0) {
            if (fork() == 0) {
                setsid();
                if (write(ready[1], "g", 1) != 1) _exit(1);  // one byte per grandchild
            } else if (write(ready[1], "c", 1) != 1) {       // and one per child
                _exit(1);
            }
            for (;;) pause();
        }
    }
    close(ready[1]);
    char c;
    for (int seen = 0; seen < 40 && read(ready[0], &c, 1) == 1; ++seen) {
    }
    return 0;
}
