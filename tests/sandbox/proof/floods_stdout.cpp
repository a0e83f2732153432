// floods_stdout.cpp - a bad program for the grader's own proof: it writes to stdout
// without end. The sandbox must cap what it keeps and stop it at the timeout.
#include <unistd.h>

#include <cstring>

int main() {
    char buf[65536];
    std::memset(buf, 'y', sizeof buf);
    for (;;)
        if (write(1, buf, sizeof buf) < 0) return 1;
}
