// child_keeps_write_end.cpp - lesson 01's pipe_echo with its best-known mistake, for
// pipetrace's tests: the child never closes its copy of the write end, so its read()
// never sees end of file, and the parent waits for it forever.
//
// Usage: child_keeps_write_end MESSAGE
//
// It hangs on purpose: run it only in the sandbox (pipetrace does), which kills it.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "child_keeps_write_end: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MESSAGE\n", argv[0]);
        return 2;
    }
    int pipefd[2];
    if (pipe(pipefd) == -1) die("pipe");
    switch (fork()) {
        case -1:
            die("fork");
        case 0: {
            // The mistake: no close(pipefd[1]) here. This process holds a write end
            // itself, so the pipe never reports end of file to its own read().
            char buf[4096];
            ssize_t n;
            while ((n = read(pipefd[0], buf, sizeof buf)) > 0)
                if (write(1, buf, static_cast<size_t>(n)) != n) die("write - child");
            if (n == -1) die("read");
            _exit(0);
        }
        default:
            if (close(pipefd[0]) == -1) die("close - parent");
            if (write(pipefd[1], argv[1], std::strlen(argv[1])) == -1) die("write - parent");
            if (close(pipefd[1]) == -1) die("close - parent");
            if (wait(nullptr) == -1) die("wait");
            return 0;
    }
}
