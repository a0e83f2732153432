// Mistake: pipeline waits for the last command, then pauses and reaps the others without blocking (a race).
// Replaces: pipeline.cpp
// Caught by: Pipeline.WaitsForCommandsThatEndAfterTheLast
// Message: no pause that only makes it likely
// Shake: 6
//
// A catalogue entry of lesson 03: the reference solution with one typical learner
// mistake. It passes as it is - the other commands are done within 50 ms - and fails
// under `make grade SHAKE=6`, when a command is held back after fork().
// pipeline.cpp - what a shell does for `A | B | C`: N commands joined by N-1 pipes.
//
// Usage: pipeline COMMAND [COMMAND ...]
//        e.g.  pipeline "man 2 pipe" "grep EXAMPLE -A 58"
//
// You are going to build the plumbing of a shell. Each argument is one command, split
// into words by the given split_words() (quotes work as in sh for simple cases). The
// program creates N-1 pipes for N commands, forks N children - all of them its own
// children, as a shell does - and in each child connects stdin to the previous pipe
// and stdout to the next one with dup2(), closes every pipe descriptor, and runs the
// command with execvp(). Then it closes its own copies and waits for every child.
// Exit status: the last command's, as sh reports it (128+N when signal N killed it);
// a command that cannot be found prints "pipeline: NAME: command not found" and its
// child exits 127. No command, or an empty one: usage on stderr, exit 2. A failing
// system call: "pipeline: call: reason", exit 1.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "split_words.hpp"

namespace {

// Prints "pipeline: what: reason" and exits 1. It uses _exit, so a child never
// flushes stdio buffers it copied from its parent.
[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "pipeline: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

// One usage line on stderr, exit 2: the caller asked for something we cannot run.
[[noreturn]] void usage(const char* prog) {
    std::fprintf(stderr, "usage: %s COMMAND [COMMAND ...]\n", prog);
    _exit(2);
}

// Closes both ends of every pipe. Each process calls it once it holds what it needs
// on fds 0 and 1: a write end left open anywhere keeps the reader from seeing EOF.
void close_all(const std::vector<std::array<int, 2>>& pipes, const char* who) {
    for (const auto& p : pipes) {
        if (close(p[0]) == -1) die(who);
        if (close(p[1]) == -1) die(who);
    }
}

// Child number i of n: plumb stdin and stdout, then become the command.
[[noreturn]] void run_command(std::vector<std::string>& words, std::size_t i, std::size_t n,
                              const std::vector<std::array<int, 2>>& pipes) {
    // Command i reads pipe i-1 and writes pipe i. The first keeps the pipeline's own
    // stdin, the last its own stdout.
    if (i > 0 && dup2(pipes[i - 1][0], STDIN_FILENO) == -1) die("dup2 - child");
    if (i + 1 < n && dup2(pipes[i][1], STDOUT_FILENO) == -1) die("dup2 - child");
    // fds 0 and 1 are now copies; the originals (and every other pipe) must go, or
    // the command holds ends it never uses, and some reader never sees EOF.
    close_all(pipes, "close - child");

    std::vector<char*> argv = exec_args(words);
    execvp(argv[0], argv.data());  // returns only when it failed
    if (errno == ENOENT) {
        std::fprintf(stderr, "pipeline: %s: command not found\n", argv[0]);
        _exit(127);  // what sh uses for "not found"
    }
    std::fprintf(stderr, "pipeline: %s: %s\n", argv[0], std::strerror(errno));
    _exit(126);  // found, but could not be run (e.g. not executable), as in sh
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc < 2) usage(argv[0]);
    // Split every command before starting any, so that a usage error runs nothing.
    std::vector<std::vector<std::string>> commands;
    for (int a = 1; a < argc; ++a) {
        std::vector<std::string> words;
        if (!split_words(argv[a], words)) {
            std::fprintf(stderr, "pipeline: a quote is not closed in: %s\n", argv[a]);
            return 2;
        }
        if (words.empty()) usage(argv[0]);  // "" or "  " is no command
        commands.push_back(words);
    }
    const std::size_t n = commands.size();

    // N commands need N-1 pipes: pipe i joins command i to command i+1.
    std::vector<std::array<int, 2>> pipes(n - 1);
    for (auto& p : pipes)
        if (pipe(p.data()) == -1) die("pipe");

    // Start every command before waiting for any: a command that writes more than
    // a pipe holds (64 KiB) blocks until the next one reads.
    std::vector<pid_t> pids;
    for (std::size_t i = 0; i < n; ++i) {
        pid_t pid = fork();
        switch (pid) {
            case -1:
                // The commands already started are adopted and reaped by init; they
                // end on EOF or SIGPIPE once this process and its pipe ends are gone.
                die("fork");
            case 0:
                run_command(commands[i], i, n, pipes);  // does not return
            default:
                pids.push_back(pid);
        }
    }

    // The parent reads and writes no pipe. Its copies of the write ends must be
    // closed, or the readers never see EOF.
    close_all(pipes, "close - parent");

    // Reap every child, in command order, so that none is left a zombie. After the
    // loop, status holds the last command's wait status: the pipeline's result.
    int status = 0;
    if (waitpid(pids.back(), &status, 0) == -1) die("waitpid");
    // "The others are surely done by now": a pause, then reap them without blocking.
    usleep(50 * 1000);
    for (std::size_t i = 0; i + 1 < pids.size(); ++i)
        if (waitpid(pids[i], nullptr, WNOHANG) == -1) die("waitpid");
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);  // as sh reports it
    return WEXITSTATUS(status);
}
