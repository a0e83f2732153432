// fifo_open_deadlock.cpp - a bad program for the grader's own proof: parent and child
// each open for reading the FIFO the other one should open for writing. A blocking
// open() of a FIFO waits for the other side, so both wait forever.
// Usage: fifo_open_deadlock DIR   (DIR exists and is empty; the test removes it)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    std::string a = std::string(argv[1]) + "/a", b = std::string(argv[1]) + "/b";
    if (mkfifo(a.c_str(), 0600) == -1 || mkfifo(b.c_str(), 0600) == -1) return 1;
    pid_t pid = fork();
    if (pid == -1) return 1;
    int fd = open(pid == 0 ? b.c_str() : a.c_str(), O_RDONLY);  // each waits for a writer
    return fd >= 0 ? 0 : 1;
}
