// writes_late_into_a_full_pipe.cpp - a program for the grader's own proof of
// interrupt_blocked_writes: its child fills the stalled stdout at once and blocks there,
// while the parent is still busy (about 0.3 s of computing) before its one write() of
// 256 KiB into the pipe to that child, which holds 64 KiB and is not read meanwhile. The
// sandbox must wait for the parent to block too and interrupt it, so that its write()
// returns a short count: it says on stderr how much its one write() moved.
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <string>

double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int main() {
    int fds[2];
    if (pipe(fds) == -1) return 1;
    pid_t pid = fork();
    if (pid == -1) return 1;
    if (pid == 0) {
        close(fds[1]);
        // Blocks on the stalled stdout until the sandbox lets go of it (interrupted, it
        // goes on with the rest).
        std::string lines(8192, 'x');
        for (std::size_t sent = 0; sent < lines.size();) {
            ssize_t n = write(1, lines.data() + sent, lines.size() - sent);
            if (n < 0) _exit(1);
            sent += static_cast<std::size_t>(n);
        }
        char buf[4096];
        while (read(fds[0], buf, sizeof buf) > 0) {
        }
        _exit(0);
    }
    close(fds[0]);
    unsigned long long x = 1;
    while (cpu_seconds() < 0.3) x = x * 6364136223846793005ULL + 1;
    std::string data(256 * 1024, static_cast<char>('a' + x % 2));
    ssize_t n = write(fds[1], data.data(), data.size());
    std::fprintf(stderr, "%s write: %zd of %zu\n", n == static_cast<ssize_t>(data.size()) ? "whole" : "partial", n,
                 data.size());
    close(fds[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    return 0;
}
