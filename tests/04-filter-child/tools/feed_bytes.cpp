// feed_bytes.cpp - a grader helper of lesson 04: feeds SIZE pseudo-random bytes to a
// command's stdin without ever holding them in memory, so that the tests can stream
// 256 MiB through filter_through and measure its peak memory.
//
// Usage: feed_bytes SEED SIZE CMD [ARGS...]
//
// The same SEED and SIZE always give the same bytes (every value 0-255, NUL
// included). CMD runs as a child with a pipe as stdin and inherits stdout and stderr;
// feed_bytes writes the bytes, closes the pipe, waits for CMD and exits with its
// status (128 + S when a signal S killed it). If CMD stops reading, the rest is
// dropped. Exit 2 on a usage error, 1 when a system call fails.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "feed_bytes: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: feed_bytes SEED SIZE CMD [ARGS...]\n");
        return 2;
    }
    std::uint64_t state = std::strtoull(argv[1], nullptr, 10) * 2654435761u + 0x9e3779b97f4a7c15ull;
    unsigned long long size = std::strtoull(argv[2], nullptr, 10);
    signal(SIGPIPE, SIG_IGN);  // a command that stops reading gives EPIPE, not death

    int fds[2];
    if (pipe(fds) == -1) die("pipe");
    pid_t pid = fork();
    switch (pid) {
        case -1:
            die("fork");
        case 0:
            signal(SIGPIPE, SIG_DFL);
            if (dup2(fds[0], STDIN_FILENO) == -1) die("dup2");
            if (close(fds[0]) == -1 || close(fds[1]) == -1) die("close - child");
            execvp(argv[3], argv + 3);
            die("execvp");
        default:
            break;
    }
    if (close(fds[0]) == -1) die("close - parent");

    static unsigned char buf[1 << 16];
    while (size > 0) {
        for (std::size_t i = 0; i < sizeof buf; i += 8) {  // xorshift64*
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            std::uint64_t v = state * 0x2545f4914f6cdd1dull;
            std::memcpy(buf + i, &v, 8);
        }
        std::size_t len = size < sizeof buf ? static_cast<std::size_t>(size) : sizeof buf;
        std::size_t done = 0;
        while (done < len) {
            ssize_t n = write(fds[1], buf + done, len - done);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EPIPE)
                size = len = 0;  // CMD stopped reading
            else if (n < 0)
                die("write");
            else
                done += static_cast<std::size_t>(n);
        }
        size -= len;
    }
    if (close(fds[1]) == -1) die("close - parent");

    int status;
    while (waitpid(pid, &status, 0) == -1)
        if (errno != EINTR) die("waitpid");
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
