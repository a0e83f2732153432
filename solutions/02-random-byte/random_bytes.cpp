// random_bytes.cpp - a child sends COUNT random bytes to its parent through a pipe;
// both sides checksum what passed.
//
// Usage: random_bytes COUNT [--seed N]
//
// You are going to send more than a pipe can hold from a child to its parent. The
// parent creates a pipe and forks. The child draws COUNT random bytes with <random>,
// writes them all into the pipe, checksums them, prints "sent COUNT bytes, checksum
// <hex>" and exits. The parent reads the pipe until end of file, checksumming as it
// goes, waits for the child and prints "received COUNT bytes, checksum <hex>": the
// two lines must agree. COUNT is 0 to 1073741824 (1 GiB). The checksum is FNV-1a,
// 64 bits, printed as 16 hex digits. --seed N makes the bytes repeatable. Exit status:
// 0 on success, 2 on a usage error or a bad COUNT, 1 when a system call fails (the
// message names the call) or the bytes did not all arrive.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>

#include "common.hpp"  // given: die(), parse_number(), write_all(), fill_random(), fnv1a()

const char* const kProgram = "random_bytes";  // die() starts its messages with it

namespace {

const std::uint64_t kMaxCount = std::uint64_t{1} << 30;  // 1 GiB
const std::size_t kChunk = 64 * 1024;                    // bytes per write() and per read()

// The child: draw, checksum and send COUNT bytes, a chunk at a time; report; exit.
[[noreturn]] void child(int pipefd[2], std::uint64_t count, bool seeded, std::uint64_t seed) {
    if (close(pipefd[0]) == -1) die("close - child");  // the child only writes

    std::mt19937_64 engine(seeded ? seed : std::random_device{}());
    std::uint64_t hash = kFnvOffsetBasis;
    unsigned char buf[kChunk];
    for (std::uint64_t left = count; left > 0;) {
        std::size_t len = left < kChunk ? static_cast<std::size_t>(left) : kChunk;
        fill_random(engine, buf, len);
        hash = fnv1a(hash, buf, len);
        // Blocks while the pipe is full, until the parent reads: that is why the
        // parent must be reading now, not waiting for this process to end.
        write_all(pipefd[1], buf, len, "write - child");
        left -= len;
    }
    if (close(pipefd[1]) == -1) die("close - child");  // the parent's end of file

    std::printf("sent %llu bytes, checksum %016llx\n", static_cast<unsigned long long>(count),
                static_cast<unsigned long long>(hash));
    // _exit() does not flush stdio, and stdout may be a pipe (fully buffered).
    if (std::fflush(stdout) == EOF) die("fflush - child");
    _exit(0);  // never return into the parent's code
}

}  // namespace

int main(int argc, char* argv[]) {
    bool seeded = argc == 4 && std::strcmp(argv[2], "--seed") == 0;
    if (!(argc == 2 || seeded)) {
        std::fprintf(stderr, "usage: %s COUNT [--seed N]\n", argv[0]);
        return 2;
    }
    std::uint64_t count = 0, seed = 0;
    if (!parse_number(argv[1], kMaxCount, count)) {
        std::fprintf(stderr, "random_bytes: COUNT must be a whole number from 0 to %llu, not \"%s\"\n",
                     static_cast<unsigned long long>(kMaxCount), argv[1]);
        return 2;
    }
    if (seeded && !parse_number(argv[3], UINT64_MAX, seed)) {
        std::fprintf(stderr, "random_bytes: --seed wants a whole number from 0 to %llu, not \"%s\"\n",
                     static_cast<unsigned long long>(UINT64_MAX), argv[3]);
        return 2;
    }

    int pipefd[2];  // [0] is the read end, [1] the write end
    if (pipe(pipefd) == -1) die("pipe");

    if (std::fflush(stdout) == EOF) die("fflush");  // nothing buffered may be copied into the child
    pid_t pid = fork();
    switch (pid) {
        case -1:
            die("fork");
        case 0:
            child(pipefd, count, seeded, seed);  // does not return
        default:
            break;
    }

    // The parent only reads. Its own copy of the write end would keep read() from
    // ever returning end of file.
    if (close(pipefd[1]) == -1) die("close - parent");

    // Read FIRST, wait after. A pipe holds only so much (64 KiB by default on Linux);
    // past that the child's write() blocks until someone reads. A parent that waited
    // for the child before reading would wait forever.
    unsigned char buf[kChunk];
    std::uint64_t received = 0, hash = kFnvOffsetBasis;
    for (;;) {
        ssize_t n = read(pipefd[0], buf, sizeof buf);
        if (n == 0) break;  // EOF: every write end is closed, nothing more can come
        if (n < 0) {
            if (errno == EINTR) continue;
            die("read");
        }
        // read() returns what the pipe holds now, often less than asked: checksum
        // and count exactly the n bytes that arrived.
        hash = fnv1a(hash, buf, static_cast<std::size_t>(n));
        received += static_cast<std::uint64_t>(n);
    }
    if (close(pipefd[0]) == -1) die("close - parent");

    int status;
    if (waitpid(pid, &status, 0) == -1) die("waitpid");  // reap the child: no zombie
    std::printf("received %llu bytes, checksum %016llx\n", static_cast<unsigned long long>(received),
                static_cast<unsigned long long>(hash));
    if (WIFSIGNALED(status)) {
        std::fprintf(stderr, "random_bytes: the child was killed by signal %d (%s)\n", WTERMSIG(status),
                     strsignal(WTERMSIG(status)));
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;  // the child said why on stderr
    if (received != count) {
        std::fprintf(stderr, "random_bytes: expected %llu bytes, received %llu\n",
                     static_cast<unsigned long long>(count), static_cast<unsigned long long>(received));
        return 1;
    }
    return 0;
}
