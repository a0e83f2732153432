// exits_before_its_child.cpp - a bad program for the grader's own proof: it gives its
// child "a moment" instead of waiting for it, then exits. Unheld, the child has almost
// always run by then; held by pw::hold_first_child, it never has, every run.
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "proof.hpp"

int main() {
    pid_t pid = fork_child_that_says("child\n", 0);
    usleep(100 * 1000);  // "a moment": no pause is long enough for a child that is held
    int status;
    const char* line =
        waitpid(pid, &status, WNOHANG) == pid ? "parent saw its child done\n" : "parent exits before its child\n";
    (void)!write(1, line, std::strlen(line));
    return 0;  // without wait(): the bug
}
