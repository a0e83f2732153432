// pipe_echo.cpp - the EXAMPLES program of pipe(2), in C++.
//
// Usage: pipe_echo MESSAGE
//
// You are going to send a message from one process to another. The parent creates a
// pipe and forks; it writes MESSAGE into the pipe's write end and waits for the child.
// The child reads the pipe until end of file, copies what it read to stdout, adds a
// newline and exits. Exit status: 0 on success, 2 on a usage error, 1 when a system
// call fails (the message names the call).
//
// Read lessons/01-pipe-echo.md first; it walks through every step below.
// Check your work with:  make grade LESSON=01     Stuck?  make hint LESSON=01
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

// Prints "pipe_echo: what: reason" and exits 1. Call it when a system call fails,
// e.g. die("pipe") or die("close - child"). It uses _exit, so a child never
// flushes stdio buffers it copied from its parent.
[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "pipe_echo: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

// Writes all len bytes of buf to fd.
void write_all(int fd, const char* buf, size_t len, const char* what) {
    // TODO: write() may write FEWER bytes than you ask for and returns how many it
    // wrote. Loop until len bytes are out: call write(fd, buf, len); if it returns
    // -1, call die(what) (or try again when errno == EINTR); otherwise move buf
    // forward and len down by the count it returned.
    (void)fd;
    (void)buf;
    (void)len;
    (void)what;
}

int main(int argc, char* argv[]) {
    // TODO 1: exactly one argument, the MESSAGE. Otherwise print
    //         "usage: pipe_echo MESSAGE" on stderr and return 2.
    (void)argc;
    (void)argv;

    // TODO 2: int pipefd[2]; create the pipe with pipe(pipefd). pipefd[0] is the
    //         read end, pipefd[1] the write end. On failure: die("pipe").

    // TODO 3: fork(), with the switch idiom:
    //           case -1: die("fork");
    //           case 0:  the child (TODO 4), which must end with _exit(0)
    //           default: the parent (TODO 5)

    // TODO 4 (child): close the write end first - read() returns EOF only when
    //         EVERY write end is closed, the child's own copy included. Then read
    //         the read end in a loop until read() returns 0 (EOF), writing what you
    //         read to STDOUT_FILENO with write_all. Then write "\n", close the read
    //         end, and _exit(0) so the child never runs the parent's code.

    // TODO 5 (parent): close the read end (unused here), write_all the message
    //         into the write end, close the write end (this is the child's EOF),
    //         then wait(&status) for the child so that no zombie is left.
    //         Return 0 if the child exited with status 0, else 1.

    // Check every call: each of pipe, fork, close, read, write and wait can fail.
    return 0;
}
