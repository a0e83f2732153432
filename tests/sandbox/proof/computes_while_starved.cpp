// computes_while_starved.cpp - a good program for the grader's own proof: on the one CPU
// it is given (argv[1]), beside busy processes the test started there, it works for a
// short while without a system call that sleeps or moves a byte, then prints and exits.
// Starved to a sixth of that CPU it wants the CPU for seconds of wall clock: a program
// slowed down by a busy machine, not a spin. The sandbox must let it end.
//   compute  computes for 0.45 s of CPU, less than a spin must use
//   touch    touches memory it has not touched before for 0.6 s of CPU, as a program
//            does that copies its input into a buffer twice as big
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
    bool touch = argc == 3 && std::strcmp(argv[2], "touch") == 0;
    if (argc != 3 || (!touch && std::strcmp(argv[2], "compute") != 0)) {
        std::fprintf(stderr, "usage: computes_while_starved CPU compute|touch\n");
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
    if (!touch) {
        while (cpu_seconds() < 0.45) x = x * 6364136223846793005ULL + 1;
    } else {
        // 16 MiB, touched page by page, then handed back (MADV_DONTNEED) so that the next
        // round touches fresh pages again: the memory in use stays small.
        const std::size_t size = 16u << 20;
        void* block = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED) {
            std::perror("computes_while_starved: mmap");
            return 1;
        }
        char* bytes = static_cast<char*>(block);
        while (cpu_seconds() < 0.6) {
            for (std::size_t i = 0; i < size; i += 4096) bytes[i] = static_cast<char>(++x);
            madvise(block, size, MADV_DONTNEED);
        }
        munmap(block, size);
    }
    std::printf("done %llu\n", x % 2);
    return 0;
}
