// busy_waits_for_child.cpp - a poor but correct program for the grader's own proof: it
// polls waitpid(WNOHANG) in a loop until its child, which sleeps a second, has ended.
// The same call returns the same 0 again and again, but that can change: the sandbox
// must let it finish.
#include <sys/wait.h>
#include <unistd.h>

int main() {
    pid_t pid = fork();
    if (pid == -1) return 1;
    if (pid == 0) {
        sleep(1);
        _exit(0);
    }
    int status = 0;
    pid_t w;
    while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
    }
    return w == pid && WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
