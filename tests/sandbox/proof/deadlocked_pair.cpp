// deadlocked_pair.cpp - a bad program for the grader's own proof: parent and child
// each read a pipe whose only writer is the other one, and neither ever writes. The
// sandbox must see the deadlock and end the run at once.
#include <unistd.h>

int main() {
    int to_child[2], to_parent[2];
    if (pipe(to_child) == -1 || pipe(to_parent) == -1) return 1;
    pid_t pid = fork();
    if (pid == -1) return 1;
    char c;
    if (pid == 0) {
        ssize_t n = read(to_child[0], &c, 1);  // the parent never writes
        _exit(n == 1 ? 0 : 1);
    }
    ssize_t n = read(to_parent[0], &c, 1);  // and neither does the child
    return n == 1 ? 0 : 1;
}
