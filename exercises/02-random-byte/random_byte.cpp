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
//
// Read lessons/02-random-byte.md first; it walks through every step below.
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
// system call, and parse_number() for the N of --seed N.
#include "common.hpp"

const char* const kProgram = "random_byte";  // die() starts its messages with it

int main(int argc, char* argv[]) {
    // TODO 1: arguments. Accept nothing (argc == 1), or exactly "--seed N"
    //         (argc == 3, std::strcmp(argv[1], "--seed") == 0, and
    //         parse_number(argv[2], UINT64_MAX, seed) succeeds). Anything else: print
    //         "usage: random_byte [--seed N]" on stderr and return 2.
    (void)argc;
    (void)argv;

    // TODO 2: int pipefd[2]; pipe(pipefd), or die("pipe"). [0] reads, [1] writes.

    // TODO 3: pid_t pid = fork(); then the switch idiom:
    //           case -1: die("fork");
    //           case 0:  the child (TODO 4), which ends with _exit(0)
    //           default: break;  and the parent goes on below (TODO 5)

    // TODO 4 (child): close the read end (the child only writes). Print
    //         "I'm a child, calculating a new value and passing to the parent.".
    //         Draw the byte:
    //             std::mt19937_64 engine(seeded ? seed : std::random_device{}());
    //             std::uniform_int_distribution<int> byte(0, 255);
    //             unsigned char value = static_cast<unsigned char>(byte(engine));
    //         write() that one byte into the write end (it must return 1), close the
    //         write end, print "Number sent to parent <n>" and "Child exiting".
    //         Then fflush(stdout) - _exit() does not flush, and stdout may be a pipe -
    //         and _exit(0).

    // TODO 5 (parent): print "Continuing execution in parent process, new child has
    //         pid: <pid>". Close the write end FIRST (else read() never returns 0).
    //         Read the read end in a loop until read() returns 0 (EOF), keeping the
    //         first byte and counting how many arrived. Close the read end, then
    //         waitpid(pid, &status, 0) to reap the child. If exactly one byte came,
    //         print "Child returned <n>" and return 0 (1 if the child failed);
    //         otherwise say so on stderr and return 1.

    // Check every call: pipe, fork, close, read, write, fflush and waitpid can all fail.
    return 0;
}
