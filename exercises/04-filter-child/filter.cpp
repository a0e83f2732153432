// filter.cpp - run a command as a filter through two pipes: no temp file, no deadlock.
//
// Usage: filter_bytes(input, {"sort"}) returns what sort printed; filter_stream(in_fd,
// out_fd, {"tr", "a-z", "A-Z"}) streams one descriptor through the command into another.
// The program `filter_through CMD [ARGS...]` (given/filter_through_main.cpp) is built on
// filter_stream; the declarations and their contract are in filter.hpp.
//
// You are going to use another program as a filter: hand it bytes on its stdin and
// collect what it prints on its stdout, as a shell pipeline does, but from inside your
// own program. You start the child with two pipes, one into its stdin and one out of
// its stdout, and pump both at the same time with poll(2): writing all the input first
// and reading afterwards deadlocks as soon as both pipes are full. You close the
// child's stdin when the input ends (that is its end of file), read its stdout until
// end of file, reap it, and say clearly how it ended: an exit status, a signal, or a
// command that could not be executed.
//
// Read lessons/04-filter-child.md first; it walks through every step below. The header
// exercises/04-filter-child/given/filter.hpp says what each function must do.
// Check your work with:  make grade LESSON=04     Stuck?  make hint LESSON=04
#include "filter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace filter {
namespace {

// Bytes moved by one read() or write(): the streaming function never holds more than
// one such chunk of input and one of output, whatever the size of the data.
constexpr std::size_t kChunk = 64 * 1024;

// A running child and the parent's ends of its two pipes (-1 once closed).
struct Child {
    pid_t pid = -1;
    int to_stdin = -1;     // write end of the pipe that is the child's stdin
    int from_stdout = -1;  // read end of the pipe that is the child's stdout
};

// Records that one of our own system calls failed, as "what: reason". The first
// failure is the one reported. Example: if (pipe(in) == -1) fail(status, "pipe");
void fail(Status& status, const char* what) {
    if (status.error.empty()) status.error = std::string(what) + ": " + std::strerror(errno);
}

// Closes fd (if still open) and marks it closed, so that no end is closed twice.
// Example: close_end(child.to_stdin, status, "close - stdin of the child");
[[maybe_unused]] void close_end(int& fd, Status& status, const char* what) {
    if (fd >= 0 && close(fd) == -1) fail(status, what);
    fd = -1;
}

// The child's way out when it cannot become the command: it sends errno to the
// parent through the exec-error pipe, then exits with the shell's "cannot execute".
[[maybe_unused]] [[noreturn]] void child_failed(int exec_error_fd) {
    int e = errno;
    ssize_t ignored = write(exec_error_fd, &e, sizeof e);  // nothing more a child can do if this fails
    (void)ignored;
    _exit(127);
}

// Writes all of buf to fd, which may be a slow pipe: loop on short writes.
[[maybe_unused]] bool write_all(int fd, const char* buf, std::size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        buf += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

// Reaps the child and records how it ended.
[[maybe_unused]] void finish_child(pid_t pid, const std::string& name, Status& status) {
    // TODO: waitpid(pid, &ws, 0), again while it fails with EINTR; on another
    //       failure fail(status, "waitpid") and return.
    // TODO: WIFEXITED(ws): status.exit_code = WEXITSTATUS(ws); if it is not 0 and
    //       status.error is still empty: "<name> exited with status <N>".
    //       WIFSIGNALED(ws): status.signal = WTERMSIG(ws); if status.error is empty:
    //       "<name> was killed by signal <S> (<strsignal(S)>)".
    (void)pid;
    (void)name;
    (void)status;
}

// Starts argv with its stdin and stdout on two new pipes. Returns false when it
// could not (status says why: a failed call, or exec_errno), with no descriptor left
// open and no child left unreaped.
bool start_child(const std::vector<std::string>& argv, Child& child, Status& status) {
    // TODO 1: build execvp's argument array (char* of each argv string, then nullptr)
    //         BEFORE fork: between fork and exec the child makes only system calls.
    // TODO 2: three pipes: in (the child's stdin), out (its stdout) and exec_error.
    //         Mark exec_error's write end close-on-exec: fcntl(fd, F_SETFD, FD_CLOEXEC).
    //         If anything fails: fail(status, "pipe"), close what is open, return false.
    // TODO 3: fork(), with the switch idiom. In the child (case 0):
    //         - signal(SIGPIPE, SIG_DFL): an ignored signal stays ignored across exec;
    //         - dup2 in[0] onto STDIN_FILENO and out[1] onto STDOUT_FILENO;
    //         - close all five other ends (in[0], in[1], out[0], out[1], exec_error[0]);
    //         - execvp; if it returns, or any call above fails: child_failed(exec_error[1]).
    // TODO 4: in the parent, close the child's ends (in[0], out[1]) and exec_error[1].
    // TODO 5: read an int from exec_error[0] (again on EINTR), then close it.
    //         0 bytes (EOF): exec succeeded. An int: exec failed with that errno. Then
    //         set status.exec_errno, status.error = "cannot execute <argv[0]>: <strerror>",
    //         close your two ends, finish_child (it exits 127) and return false.
    // TODO 6: fill in child (pid, to_stdin = in[1], from_stdout = out[0]); return true.
    (void)argv;
    (void)child;
    status.error = "start_child is not written yet";
    return false;
}

// While the pump runs, a child that stops reading must give us EPIPE from write(),
// not kill us with SIGPIPE. Returns what was there before, for restore_sigpipe.
struct sigaction ignore_sigpipe(Status& status) {
    struct sigaction old;
    std::memset(&old, 0, sizeof old);
    // TODO: a struct sigaction with sa_handler = SIG_IGN and an empty sa_mask;
    //       sigaction(SIGPIPE, &ignore, &old); on failure fail(status, "sigaction").
    (void)status;
    return old;
}

[[maybe_unused]] void restore_sigpipe(const struct sigaction& old, Status& status) {
    // TODO: sigaction(SIGPIPE, &old, nullptr); on failure fail(status, "sigaction").
    (void)old;
    (void)status;
}

}  // namespace

FilterOutput filter_bytes(const std::string& input, const std::vector<std::string>& argv) {
    FilterOutput result;
    Status& status = result.status;
    Child child;
    if (!start_child(argv, child, status)) return result;
    struct sigaction old_sigpipe = ignore_sigpipe(status);

    // TODO 1: make child.to_stdin non-blocking (fcntl F_SETFL, O_NONBLOCK): poll says
    //         "there is room", not "room for everything", and a blocked write() would
    //         stop you reading the output.
    // TODO 2: empty input? Close child.to_stdin at once: that is the child's EOF.
    // TODO 3: while child.to_stdin or child.from_stdout is still open: poll() the open
    //         ones (POLLOUT on to_stdin, POLLIN on from_stdout; again on EINTR), then
    //         - to_stdin ready: write the next chunk (at most kChunk bytes) of input.
    //           All written: close to_stdin (EOF for the child). EPIPE: the child stopped
    //           reading; close to_stdin and drop the rest on purpose. EAGAIN: try later.
    //         - from_stdout ready: read into a buffer and append to result.output.
    //           0 means EOF: close from_stdout. Keep reading until then.
    // TODO 4: close whatever is still open, finish_child(child.pid, argv[0], status),
    //         restore_sigpipe(old_sigpipe, status).
    (void)input;
    (void)old_sigpipe;
    status.error = "filter_bytes is not written yet";
    return result;
}

StreamResult filter_stream(int in_fd, int out_fd, const std::vector<std::string>& argv) {
    StreamResult result;
    Status& status = result.status;
    Child child;
    if (!start_child(argv, child, status)) return result;
    struct sigaction old_sigpipe = ignore_sigpipe(status);

    // TODO: the same pump as filter_bytes, but the input comes from in_fd and the
    //       output goes to out_fd, one kChunk buffer of each at a time:
    //       - poll in_fd (POLLIN) only while your input buffer is empty, and
    //         child.to_stdin (POLLOUT) while it still holds bytes not yet sent;
    //       - in_fd read returns 0: close child.to_stdin (pass the EOF on);
    //       - each byte the child accepts counts in result.bytes_in; EPIPE: close
    //         child.to_stdin and leave the rest of in_fd unread;
    //       - each chunk read from child.from_stdout: write_all to out_fd, count it in
    //         result.bytes_out; 0 means EOF.
    //       Then close what is open, finish_child and restore_sigpipe, as above.
    (void)in_fd;
    (void)out_fd;
    (void)old_sigpipe;
    status.error = "filter_stream is not written yet";
    return result;
}

}  // namespace filter
