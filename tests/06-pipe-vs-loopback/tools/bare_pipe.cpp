// bare_pipe.cpp - a bench helper of lesson 06: the two pipe measurements of `make bench`
// done by the barest loops, so that the bench can show what pingpong and blast add.
//
// Usage: bare_pipe roundtrip SIZE COUNT same|cross
//        bare_pipe stream BYTES CHUNK same|cross
//
// roundtrip: parent and child bounce SIZE bytes through two pipes COUNT times; each
//   round trip is timed, and the median is printed. No payload check, no options.
// stream: the child writes BYTES in CHUNK-byte writes into one pipe, the parent reads
//   them; the clock starts when the first piece is in, as in blast. No checksum.
// Both pin the two processes to one CPU (same) or two (cross) and print one JSON
// object: {"median_us": X} or {"gb_per_s": X}. Linux only (sched_setaffinity); exit 2
// on a usage error or elsewhere, 1 when a system call fails.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#endif

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../write_all.hpp"

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "bare_pipe: %s: %s\n", what, std::strerror(errno));
    std::exit(1);
}

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: bare_pipe roundtrip SIZE COUNT same|cross\n"
                 "       bare_pipe stream BYTES CHUNK same|cross\n");
    std::exit(2);
}

double now_us() {
    return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The first CPU this process may use, or the second one for the child of a cross run.
void pin(bool second) {
#ifdef __linux__
    cpu_set_t allowed, one;
    if (sched_getaffinity(0, sizeof allowed, &allowed) == -1) die("sched_getaffinity");
    int seen = 0;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (!CPU_ISSET(c, &allowed) || seen++ != (second ? 1 : 0)) continue;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        if (sched_setaffinity(0, sizeof one, &one) == -1) die("sched_setaffinity");
        return;
    }
    std::fprintf(stderr, "bare_pipe: cross needs two CPUs\n");
    std::exit(2);
#else
    (void)second;
    std::fprintf(stderr, "bare_pipe: pinning needs sched_setaffinity (Linux)\n");
    std::exit(2);
#endif
}

// Loops only where the kernel may really return less: a bare loop, not a careless one
// (writes go through lesson06::write_all, the one write_all contract, in write_all.hpp).

std::size_t read_full(int fd, char* p, std::size_t n) {
    std::size_t got = 0;
    while (got < n) {
        ssize_t k = read(fd, p + got, n - got);
        if (k == -1) die("read");
        if (k == 0) break;
        got += static_cast<std::size_t>(k);
    }
    return got;
}

void reap(pid_t pid) {
    int status;
    if (waitpid(pid, &status, 0) == -1) die("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bare_pipe: the child failed\n");
        std::exit(1);
    }
}

void roundtrip(std::size_t size, long count, bool cross) {
    int ping[2], pong[2];
    if (pipe(ping) == -1 || pipe(pong) == -1) die("pipe");
    std::vector<char> buf(size, 'x');
    const long warmup = std::min(count / 10, 100L);
    pid_t pid = fork();
    if (pid == -1) die("fork");
    if (pid == 0) {  // the echo: read a message, send it back, until EOF
        pin(cross);
        close(ping[1]), close(pong[0]);
        while (read_full(ping[0], buf.data(), size) == size)
            if (!lesson06::write_all(pong[1], buf.data(), size)) die("write");
        _exit(0);
    }
    pin(false);
    close(ping[0]), close(pong[1]);
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(count));
    for (long i = 0; i < warmup + count; ++i) {
        double t0 = now_us();
        if (!lesson06::write_all(ping[1], buf.data(), size)) die("write");
        if (read_full(pong[0], buf.data(), size) != size) die("read (short)");
        if (i >= warmup) samples.push_back(now_us() - t0);
    }
    close(ping[1]), close(pong[0]);  // EOF for the echo
    reap(pid);
    std::sort(samples.begin(), samples.end());
    std::printf("{\"median_us\": %.3f}\n", samples[samples.size() / 2]);
}

void stream(unsigned long long bytes, std::size_t chunk, bool cross) {
    int fds[2];
    if (pipe(fds) == -1) die("pipe");
    std::vector<char> buf(chunk, 'x');
    pid_t pid = fork();
    if (pid == -1) die("fork");
    if (pid == 0) {
        pin(cross);
        close(fds[0]);
        for (unsigned long long done = 0; done < bytes; done += chunk)
            if (!lesson06::write_all(fds[1], buf.data(), chunk)) die("write");
        _exit(0);
    }
    pin(false);
    close(fds[1]);
    double t0 = 0;
    unsigned long long done = 0, timed = bytes;
    for (bool first = true; done < bytes; first = false) {
        std::size_t got = read_full(fds[0], buf.data(), chunk);
        if (got == 0) break;
        if (first) t0 = now_us(), timed = bytes - got;
        done += got;
    }
    double elapsed = now_us() - t0;
    close(fds[0]);
    reap(pid);
    std::printf("{\"gb_per_s\": %.3f}\n", static_cast<double>(timed) / elapsed / 1000.0);
}

unsigned long long number(const char* s) {
    char* end;
    errno = 0;
    unsigned long long v = std::strtoull(s, &end, 10);
    if (errno || end == s || v == 0) usage();
    if (*end == 'K')
        v <<= 10, ++end;
    else if (*end == 'M')
        v <<= 20, ++end;
    if (*end) usage();
    return v;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 5) usage();
    std::string mode = argv[1], where = argv[4];
    if (where != "same" && where != "cross") usage();
    unsigned long long a = number(argv[2]), b = number(argv[3]);
    if (mode == "roundtrip")
        roundtrip(a, static_cast<long>(b), where == "cross");
    else if (mode == "stream" && a % b == 0)
        stream(a, b, where == "cross");
    else
        usage();
    return 0;
}
