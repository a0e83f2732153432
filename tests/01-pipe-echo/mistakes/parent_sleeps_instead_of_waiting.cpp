// Mistake: the parent sleeps a moment instead of waiting for its child (a race).
// Replaces: pipe_echo.cpp
// Caught by: PipeEcho.ParentWaitsForItsChild
// Message: the parent must wait() for its child
// Shake: 6
//
// A catalogue entry of lesson 01: the reference solution with one typical learner
// mistake. It passes as it is - the child is almost always done within 50 ms - and
// fails under `make grade SHAKE=6`, when the child is held back after fork().
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

// Prints "pipe_echo: what: reason" and exits 1. Any process may call it: it uses
// _exit, so a child never flushes stdio buffers it copied from its parent.
[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "pipe_echo: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

// write() may move fewer bytes than asked (a signal, a full pipe): loop until all
// of them are out.
void write_all(int fd, const char* buf, size_t len, const char* what) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die(what);
        }
        buf += n;
        len -= static_cast<size_t>(n);
    }
}

// The child: read the pipe until EOF, copy it to stdout, end with a newline.
[[noreturn]] void child(int pipefd[2]) {
    // The write end is unused here. Close it, or read() never returns EOF: EOF comes
    // only when every write end of the pipe is closed, in every process.
    if (close(pipefd[1]) == -1) die("close - child");

    char buf[4096];
    for (;;) {
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n == 0) break;  // EOF: the parent closed its write end
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        write_all(STDOUT_FILENO, buf, static_cast<size_t>(n), "write - child");
    }
    write_all(STDOUT_FILENO, "\n", 1, "write - child");
    if (close(pipefd[0]) == -1) die("close - child");
    _exit(0);  // never return into the parent's code
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MESSAGE\n", argv[0]);
        return 2;
    }
    const char* message = argv[1];

    int pipefd[2];  // [0] is the read end, [1] the write end
    if (pipe(pipefd) == -1) die("pipe");

    switch (fork()) {
        case -1:
            die("fork");
        case 0:
            child(pipefd);  // does not return
        default:
            break;
    }

    // The parent only writes: close the read end it does not use.
    if (close(pipefd[0]) == -1) die("close - parent");
    write_all(pipefd[1], message, std::strlen(message), "write - parent");
    // Closing the write end is what lets the child's read() return EOF.
    if (close(pipefd[1]) == -1) die("close - parent");

    // "The child is surely done after 50 ms": usually true, never promised.
    usleep(50 * 1000);
    int status = 0;
    if (waitpid(-1, &status, WNOHANG) == -1) die("waitpid");
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}
