// fd_probe.cpp - a grader helper that a pipeline runs as one of its commands.
//
// Usage: fd_probe LABEL
//
// Reports, on stderr, one line about the process it runs in, then copies stdin to
// stdout, so that it can stand anywhere in a pipeline:
//
//   fd_probe LABEL pid=812 ppid=811 fds=0,1,2 stdin=pipe:55123 stdout=pipe:55124
//
// fds lists its open descriptors (from /proc/self/fd, else /dev/fd); stdin and
// stdout say what fds 0 and 1 are: pipe:INODE, file, tty, other, or closed. Two
// commands joined by one pipe show the same inode. The line goes out in one write()
// (shorter than PIPE_BUF), so the lines of several probes never mix.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "../../sandbox/open_fds.hpp"  // header-only: this tool is built on its own

namespace {

std::string describe(int fd) {
    struct stat st;
    if (fstat(fd, &st) == -1) return "closed";
    if (S_ISFIFO(st.st_mode)) return "pipe:" + std::to_string(st.st_ino);
    if (isatty(fd)) return "tty";
    if (S_ISREG(st.st_mode)) return "file";
    return "other";
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fd_probe LABEL\n");
        return 2;
    }
    // Look before doing anything that could open a descriptor.
    std::vector<int> fds;
    pw::list_open_fds(fds);  // none listed when it cannot: the report then says fds=
    std::string line = std::string("fd_probe ") + argv[1] + " pid=" + std::to_string(getpid()) +
                       " ppid=" + std::to_string(getppid()) + " fds=";
    for (std::size_t i = 0; i < fds.size(); ++i) line += (i ? "," : "") + std::to_string(fds[i]);
    line += " stdin=" + describe(0) + " stdout=" + describe(1) + "\n";
    if (write(2, line.data(), line.size()) == -1) return 1;

    char buf[65536];
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR) continue;
            return 1;  // e.g. fd 0 closed: the report line above says so
        }
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(1, buf + done, static_cast<std::size_t>(n - done));
            if (w < 0) {
                if (errno == EINTR) continue;
                return 1;
            }
            done += w;
        }
    }
}
