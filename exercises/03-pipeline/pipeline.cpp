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
//
// Read lessons/03-pipeline.md first; it walks through every step below.
// Check your work with:  make grade LESSON=03     Stuck?  make hint LESSON=03
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

#include "split_words.hpp"  // given: split_words() and exec_args(), see its top comment

// Prints "pipeline: what: reason" and exits 1. Call it when a system call fails,
// e.g. die("pipe") or die("close - child"). It uses _exit, so a child never
// flushes stdio buffers it copied from its parent.
[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "pipeline: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

// Prints the usage line and exits 2.
[[noreturn]] void usage(const char* prog) {
    std::fprintf(stderr, "usage: %s COMMAND [COMMAND ...]\n", prog);
    _exit(2);
}

// Closes both ends of every pipe; who names the role in the error message
// ("close - child" or "close - parent").
void close_all(const std::vector<std::array<int, 2>>& pipes, const char* who) {
    // TODO: close(p[0]) and close(p[1]) for every pipe p; on -1, die(who).
    (void)pipes;
    (void)who;
}

// What child number i (counting from 0) of n does: plumb fds 0 and 1, then become
// the command. It must never return into main.
[[noreturn]] void run_command(std::vector<std::string>& words, std::size_t i, std::size_t n,
                              const std::vector<std::array<int, 2>>& pipes) {
    // TODO 4: every command but the first reads the previous pipe:
    //           dup2(pipes[i - 1][0], STDIN_FILENO)
    //         every command but the last writes the next pipe:
    //           dup2(pipes[i][1], STDOUT_FILENO)
    //         On -1: die("dup2 - child").

    // TODO 5: now fds 0 and 1 are copies. Close EVERY pipe descriptor in this
    //         process (close_all(pipes, "close - child")): an end left open here
    //         keeps a reader from ever seeing EOF.

    // TODO 6: run the command:
    //           std::vector<char*> argv = exec_args(words);
    //           execvp(argv[0], argv.data());
    //         execvp returns only when it failed. If errno == ENOENT print
    //         "pipeline: NAME: command not found" on stderr and _exit(127);
    //         otherwise print "pipeline: NAME: " and strerror(errno), _exit(126).
    (void)words;
    (void)i;
    (void)n;
    (void)pipes;
    _exit(0);
}

int main(int argc, char* argv[]) {
    // TODO 1: with no COMMAND (argc < 2), call usage(argv[0]). Split each argument
    //         with split_words(argv[a], words) into a
    //         std::vector<std::vector<std::string>> commands. If split_words returns
    //         false, print "pipeline: a quote is not closed in: ARG" and return 2; if
    //         a command has no words, call usage(argv[0]). Do all of this before
    //         starting anything.
    (void)argc;
    (void)argv;

    // TODO 2: n commands need n - 1 pipes:
    //           std::vector<std::array<int, 2>> pipes(n - 1);
    //         and pipe(p.data()) for each. On -1: die("pipe").

    // TODO 3: start EVERY command before waiting for any. For i = 0 .. n-1:
    //           pid_t pid = fork();
    //           switch (pid) {
    //               case -1: die("fork");
    //               case 0:  run_command(commands[i], i, n, pipes);  // never returns
    //               default: remember pid in a std::vector<pid_t>
    //           }

    // TODO 7 (parent): close your copies of every pipe end
    //         (close_all(pipes, "close - parent")) - the readers see EOF only when
    //         every write end is closed, the parent's included.

    // TODO 8: waitpid(pid, &status, 0) for every child, in order, so none is left a
    //         zombie (on -1: die("waitpid")). Return the LAST command's status:
    //         WEXITSTATUS(status), or 128 + WTERMSIG(status) if WIFSIGNALED(status).
    return 0;
}
