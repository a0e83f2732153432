// thread_blocks_in_read.cpp - a bad program for the grader's own proof: its main thread
// joins a thread that reads a pipe whose write end the process itself holds. The hang
// report must name the thread's read(), not only the main thread's futex.
#include <unistd.h>

#include <thread>

int main() {
    int fds[2];
    if (pipe(fds) == -1) return 1;
    std::thread reader([&] {
        char c;
        while (read(fds[0], &c, 1) > 0) {
        }
    });
    reader.join();
    return 0;
}
