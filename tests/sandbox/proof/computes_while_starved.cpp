// computes_while_starved.cpp - a good program for the grader's own proof: on the one CPU
// it is given (argv[1]), beside busy processes the test started there, it computes for a
// short while (0.45 s of CPU) without a system call that sleeps or moves a byte, then
// prints and exits. Starved to a sixth of that CPU it wants the CPU for seconds of wall
// clock: a program slowed down by a busy machine, not a spin. The sandbox must let it end.
#include <sched.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>

double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: computes_while_starved CPU\n");
        return 2;
    }
#ifdef __linux__
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(std::atoi(argv[1]), &one);
    if (sched_setaffinity(0, sizeof one, &one) == -1) {
        std::perror("computes_while_starved: sched_setaffinity");
        return 1;
    }
#endif
    unsigned long long x = 1;
    while (cpu_seconds() < 0.45) x = x * 6364136223846793005ULL + 1;
    std::printf("done %llu\n", x % 2);
    return 0;
}
