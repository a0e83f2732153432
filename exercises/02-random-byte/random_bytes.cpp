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
//
// Read lessons/02-random-byte.md first (from "Step 4"); it walks through every step.
// Check your work with:  make grade LESSON=02     Stuck?  make hint LESSON=02
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>

// Given in given/common.hpp (read it, do not edit it): die("call") for a failed
// system call, parse_number() for COUNT and N, write_all() (you wrote it in lesson 01),
// fill_random() for the bytes, and fnv1a() with kFnvOffsetBasis for the checksum.
#include "common.hpp"

const char* const kProgram = "random_bytes";  // die() starts its messages with it

const std::uint64_t kMaxCount = std::uint64_t{1} << 30;  // 1 GiB
const std::size_t kChunk = 64 * 1024;                     // bytes per write() and per read()

int main(int argc, char* argv[]) {
    // TODO 1: arguments: "COUNT" (argc == 2) or "COUNT --seed N" (argc == 4 and
    //         argv[2] is "--seed"); otherwise print "usage: random_bytes COUNT
    //         [--seed N]" on stderr and return 2. Then parse_number(argv[1],
    //         kMaxCount, count): on failure print an error that names COUNT, e.g.
    //         random_bytes: COUNT must be a whole number from 0 to 1073741824, not "abc"
    //         and return 2. Parse N the same way (max UINT64_MAX).
    (void)argc;
    (void)argv;

    // TODO 2: pipe(pipefd), then fork() with the switch idiom (keep the pid).

    // TODO 3 (child): close the read end. Make the engine:
    //             std::mt19937_64 engine(seeded ? seed : std::random_device{}());
    //         Then, while bytes are left: fill a buffer of min(left, kChunk) bytes
    //         with fill_random, add them to the checksum with fnv1a, write_all them
    //         into the write end. Close the write end, print
    //             sent <COUNT> bytes, checksum <16 hex digits>
    //         fflush(stdout) and _exit(0).

    // TODO 4 (parent): close the write end. Then READ FIRST, WAIT AFTER: loop on
    //         read(read end, buf, kChunk) until it returns 0 (EOF). Each read()
    //         returns n bytes, often fewer than you asked for: checksum and count
    //         exactly those n. Close the read end, waitpid(pid, &status, 0), print
    //             received <n> bytes, checksum <16 hex digits>
    //         Return 0 if the child exited with 0 and all COUNT bytes arrived, else
    //         say what went wrong on stderr and return 1.

    // Check every call: pipe, fork, close, read, write, fflush and waitpid can all fail.
    return 0;
}
