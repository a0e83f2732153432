// kills_its_parent.cpp - a bad program for the grader's own proof: it kills its
// parent. Its parent is the sandbox's warden, not the test, so the test goes on.
#include <signal.h>
#include <unistd.h>

int main() {
    kill(getppid(), SIGKILL);
    usleep(200 * 1000);  // still alive, orphaned, after its warden is gone; the run ends with it
    return 0;
}
