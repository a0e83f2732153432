// list_fds.cpp - a grader helper of lesson 04: prints the file descriptors it was
// started with, so that a test can see what a child inherits.
//
// Usage: list_fds
//
// Prints the open descriptors in increasing order on one line ("0 1 2\n"), leaving
// out the one it opens itself to list them. Exit 1 when it cannot list them.
#include <cstdio>
#include <vector>

#include "../../sandbox/open_fds.hpp"  // header-only: this tool is built on its own

int main() {
    std::vector<int> fds;
    if (!pw::list_open_fds(fds)) {
        std::perror("list_fds: opendir");
        return 1;
    }
    for (std::size_t i = 0; i < fds.size(); ++i) std::printf(i ? " %d" : "%d", fds[i]);
    std::printf("\n");
    return 0;
}
