// open_fds.hpp - the open file descriptors of the calling process, in increasing order.
//
// Header-only, so that a one-file grader tool (tests/NN-topic/tools/*.cpp, built with no
// library) lists its descriptors exactly as the sandbox library's pw::open_fds() does:
// from /proc/self/fd (Linux), else /dev/fd (macOS, the BSDs), leaving out the descriptor
// of the directory being read.
#pragma once

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace pw {

// Fills fds and returns true; false (fds empty) when neither directory can be read, and
// errno says why.
inline bool list_open_fds(std::vector<int>& fds) {
    fds.clear();
    DIR* d = opendir("/proc/self/fd");
    if (!d) d = opendir("/dev/fd");
    if (!d) return false;
    int own = dirfd(d);  // the directory stream's own descriptor is not the program's
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        if (fd != own) fds.push_back(fd);
    }
    closedir(d);
    std::sort(fds.begin(), fds.end());
    return true;
}

}  // namespace pw
