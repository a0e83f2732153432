// segfaults.cpp - a bad program for the grader's own proof: it dereferences a null
// pointer. The sandbox must report the signal, not crash the test.
#include <cstdio>

int main() {
    volatile int* nowhere = nullptr;
    std::printf("about to crash\n");
    std::fflush(stdout);
    return *nowhere;
}
