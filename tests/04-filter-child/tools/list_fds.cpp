// list_fds.cpp - a grader helper of lesson 04: prints the file descriptors it was
// started with, so that a test can see what a child inherits.
//
// Usage: list_fds
//
// Prints the open descriptors in increasing order on one line ("0 1 2\n"), leaving
// out the one it opens itself to list them. Exit 1 when it cannot list them.
#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main() {
    DIR* d = opendir("/proc/self/fd");
    if (!d) d = opendir("/dev/fd");
    if (!d) {
        std::perror("list_fds: opendir");
        return 1;
    }
    int own = dirfd(d);
    std::vector<int> fds;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd != own) fds.push_back(fd);
    }
    closedir(d);
    std::sort(fds.begin(), fds.end());
    for (std::size_t i = 0; i < fds.size(); ++i) std::printf(i ? " %d" : "%d", fds[i]);
    std::printf("\n");
    return 0;
}
