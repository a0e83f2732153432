// computes_then_exits.cpp - a good program for the grader's own proof: it keeps a CPU
// busy for a second without a system call or a byte moved, then prints and exits. The
// sandbox may watch it, but must not call it spinning, and must let it go unharmed.
#include <chrono>
#include <cstdio>

int main() {
    auto start = std::chrono::steady_clock::now();
    unsigned long long x = 1;
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1000))
        x = x * 6364136223846793005ULL + 1;
    std::printf("done %llu\n", x % 2);
    return 0;
}
