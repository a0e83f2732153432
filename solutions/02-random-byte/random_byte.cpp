// random_byte.cpp - a child draws a random byte and sends it to its parent through a pipe.
//
// Usage: random_byte [--seed N]
//
// You are going to send one value back from a child process to its parent. The parent
// creates a pipe and forks. The child draws a random byte (0 to 255) with <random>,
// writes it into the pipe, says what it sent and exits. The parent reads the pipe until
// end of file, waits for the child and prints the byte it received: the two numbers
// must match. The child seeds its generator from std::random_device, or with N when
// --seed N is given, so that a run can be repeated. Exit status: 0 on success, 2 on a
// usage error, 1 when a system call fails (the message names the call).
//
// Output (the parent's first line may come before, between or after the child's lines;
// "Child returned" is always last):
//   Continuing execution in parent process, new child has pid: <pid>
//   I'm a child, calculating a new value and passing to the parent.
//   Number sent to parent <n>
//   Child exiting
//   Child returned <n>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>

#include "common.hpp"  // given: die(), parse_number()

const char* const kProgram = "random_byte";  // die() starts its messages with it

namespace {

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

    // Read until end of file, not just one byte: only EOF says the child has finished,
    // and counting what arrived shows whether it sent exactly one byte.
    unsigned char buf[64];
    unsigned char value = 0;
    std::size_t received = 0;
    for (;;) {
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n == 0) break;  // EOF: the child closed its write end (or exited)
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        if (received == 0) value = buf[0];
        received += static_cast<std::size_t>(n);
    }
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
