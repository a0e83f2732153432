// Mistake: the parent sleeps, then reads without blocking, instead of reading until EOF (a race).
// Replaces: random_byte.cpp
// Caught by: RandomByte.ParentPrintsTheValueTheChildSent
// Message: a non-blocking read() found no data yet
// Shake: 6
//
// A catalogue entry of lesson 02: the reference solution with one typical learner
// mistake. It passes as it is - the child has written its byte within 50 ms - and fails
// under `make grade SHAKE=6`, when the child is held back after fork().
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

namespace {

// Prints "random_byte: what: reason" and exits 1. Any process may call it: it uses
// _exit, so a child never flushes stdio buffers it copied from its parent.
[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "random_byte: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

// Reads a whole decimal number into out: digits only (no sign, no spaces), at most max.
bool parse_number(const char* text, std::uint64_t max, std::uint64_t& out) {
    if (*text < '0' || *text > '9') return false;  // strtoull would accept " 5", "-5" and ""
    errno = 0;
    char* end;
    unsigned long long value = std::strtoull(text, &end, 10);
    if (errno == ERANGE || *end != '\0' || value > max) return false;
    out = value;
    return true;
}

// The child: draw the byte, send it, say so, exit.
[[noreturn]] void child(int pipefd[2], bool seeded, std::uint64_t seed) {
    if (close(pipefd[0]) == -1) die("close - child");  // the child only writes

    std::printf("I'm a child, calculating a new value and passing to the parent.\n");
    // Seeded here, in the child: an engine seeded before fork() would be copied into
    // every child, and they would all draw the same numbers.
    std::mt19937_64 engine(seeded ? seed : std::random_device{}());
    std::uniform_int_distribution<int> byte(0, 255);
    unsigned char value = static_cast<unsigned char>(byte(engine));

    // One byte is written whole or not at all: a pipe write of up to PIPE_BUF bytes
    // is atomic.
    if (write(pipefd[1], &value, 1) != 1) die("write - child");
    // The parent reads until end of file, which comes when this end is closed too.
    if (close(pipefd[1]) == -1) die("close - child");

    std::printf("Number sent to parent %d\n", value);
    std::printf("Child exiting\n");
    // stdout is a pipe or a file here, not always a terminal: then printf only fills a
    // buffer, and _exit() throws buffers away. Flush by hand before leaving.
    if (std::fflush(stdout) == EOF) die("fflush - child");
    _exit(0);  // never return into the parent's code
}

}  // namespace

int main(int argc, char* argv[]) {
    bool seeded = argc == 3 && std::strcmp(argv[1], "--seed") == 0;
    std::uint64_t seed = 0;
    if (!(argc == 1 || seeded) || (seeded && !parse_number(argv[2], UINT64_MAX, seed))) {
        std::fprintf(stderr, "usage: %s [--seed N]   (N: a whole number, 0 to %llu)\n", argv[0],
                     static_cast<unsigned long long>(UINT64_MAX));
        return 2;
    }

    int pipefd[2];  // [0] is the read end, [1] the write end
    if (pipe(pipefd) == -1) die("pipe");

    // Anything still in stdout's buffer now would be copied into the child and could
    // come out twice. Nothing has been printed yet, but flushing first is the habit.
    if (std::fflush(stdout) == EOF) die("fflush");
    pid_t pid = fork();
    switch (pid) {
        case -1:
            die("fork");
        case 0:
            child(pipefd, seeded, seed);  // does not return
        default:
            break;
    }

    std::printf("Continuing execution in parent process, new child has pid: %ld\n", static_cast<long>(pid));
    // Close the write end before reading: while any write end is open - this one
    // included - read() cannot report end of file.
    if (close(pipefd[1]) == -1) die("close - parent");

    // "No more hangs": give the child a moment, then read without blocking. The child
    // is almost always done by then - but nothing promises it.
    usleep(50 * 1000);
    if (fcntl(pipefd[0], F_SETFL, O_NONBLOCK) == -1) die("fcntl");
    unsigned char value = 0;
    std::size_t received = 0;
    ssize_t n = read(pipefd[0], &value, 1);
    if (n < 0) die("read");
    received = static_cast<std::size_t>(n);
    if (close(pipefd[0]) == -1) die("close - parent");

    int status;
    if (waitpid(pid, &status, 0) == -1) die("waitpid");  // reap the child: no zombie
    if (received != 1) {
        std::fprintf(stderr, "random_byte: expected 1 byte from the child, received %zu\n", received);
        return 1;
    }
    std::printf("Child returned %d\n", value);
    return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ? 0 : 1;
}
