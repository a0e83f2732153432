// leaky_parent.cpp - a program for pipemap's tests with one deliberate leak: it starts
// `cat` reading a pipe, and keeps the pipe's write end open itself while it waits, so
// cat never sees EOF. The map must show that end as an extra arrow from the parent.
#include <sys/wait.h>
#include <unistd.h>

int main() {
    int fds[2];
    if (pipe(fds) == -1) return 1;
    switch (fork()) {
        case -1:
            return 1;
        case 0:
            if (dup2(fds[0], 0) == -1) _exit(1);
            close(fds[0]);
            close(fds[1]);
            execlp("cat", "cat", static_cast<char*>(nullptr));
            _exit(127);
        default:
            break;
    }
    close(fds[0]);  // the read end is closed; the write end (fds[1]) is the leak
    wait(nullptr);
    return 0;
}
