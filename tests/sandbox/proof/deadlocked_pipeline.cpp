// deadlocked_pipeline.cpp - a bad program for the grader's own proof: five commands
// of a pipeline each read their pipe, but every process still holds every write end,
// and the parent waits for them. Nothing can ever move; the sandbox must say so.
#include <sys/wait.h>
#include <unistd.h>

int main() {
    const int n = 5;
    int pipes[n][2];
    for (auto& p : pipes)
        if (pipe(p) == -1) return 1;
    for (int i = 0; i < n; ++i) {
        pid_t pid = fork();
        if (pid == -1) return 1;
        if (pid == 0) {
            char c;
            while (read(pipes[i][0], &c, 1) > 0) {  // no process ever closes a write end
            }
            _exit(0);
        }
    }
    while (wait(nullptr) > 0) {
    }
    return 0;
}
