// waits_for_its_child.cpp - a program for the grader's own proof that does it right: it
// waits for its child. Held by pw::hold_first_child, the child must be let go as soon
// as the parent waits, and the wait returns the child's status.
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "proof.hpp"

int main() {
    pid_t pid = fork_child_that_says("child\n", 7);
    int status;
    if (waitpid(pid, &status, 0) != pid) return 1;
    std::string line = "parent waited for status " + std::to_string(WEXITSTATUS(status)) + "\n";
    (void)!write(1, line.data(), line.size());
    return 0;
}
