// filter.cpp - run a command as a filter through two pipes: no temp file, no deadlock.
//
// Usage: filter_bytes(input, {"sort"}) returns what sort printed; filter_stream(in_fd,
// out_fd, argv) streams one descriptor through the command into another (given/filter.hpp).
// Both are run() below, called by given/filter_api.cpp with their own Ends.
//
// The child's stdin and stdout are two pipes, pumped both at once with poll(2): writing
// all the input first deadlocks once both pipes are full. Closing its stdin is the child's
// end of file; then its stdout is read to end of file, and the child reaped.
//
// Read lessons/04-filter-child.md first; it walks through every step below. The header
// exercises/04-filter-child/given/filter.hpp says what each function must do, and
// given/filter_child.hpp holds what the pump works on (Child, Ends, fail, close_end).
// Check your work with:  make grade LESSON=04     Stuck?  make hint LESSON=04
#include "filter.hpp"
#include "filter_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace filter {
namespace {

// A child whose exec failed: errno to the parent, then _exit (exit() runs the caller's atexit).
[[maybe_unused]] [[noreturn]] void child_failed(int exec_error_fd) {
    // TODO: save errno (an int) and write it into exec_error_fd: the parent reads it
    //       from the other end. If that write fails there is nothing more a child can do.
    //       Then _exit(127), never exit(): this child is a copy of the caller, and exit()
    //       would run the caller's atexit handlers and flush its copied stdio buffers.
    (void)exec_error_fd;
    _exit(127);
}

// Writes all of buf to fd, which may be a slow pipe.
[[maybe_unused]] bool write_all(int fd, const char* buf, std::size_t len) {
    // TODO: loop until len bytes are written: write() may take fewer than you asked (a
    //       short write). EINTR (a signal handler ran): write again. Another error:
    //       return false.
    (void)fd;
    (void)buf;
    (void)len;
    return false;
}

// Reaps our child by pid (wait() may take one of the caller's) and says how it ended.
[[maybe_unused]] void finish_child(pid_t pid, const std::string& name, Status& status) {
    // TODO: waitpid(pid, &ws, 0) - by pid, never wait(): the caller may have children
    //       of its own - again while it fails with EINTR; on another failure
    //       fail(status, "waitpid") and return.
    // TODO: WIFEXITED(ws): status.exit_code = WEXITSTATUS(ws). WIFSIGNALED(ws):
    //       status.signal = WTERMSIG(ws). Then, only if status.error is still empty:
    //       "<name> exited with status <N>" (N not 0), or
    //       "<name> was killed by signal <S> (<strsignal(S)>)".
    (void)pid;
    (void)name;
    (void)status;
}

// Starts argv (not empty) on two pipes; false, with nothing left open, if there is no child.
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
    // TODO 4: in the parent: child.pid, child.to_stdin = in[1], child.from_stdout = out[0];
    //         close the child's ends (in[0], out[1]) and exec_error[1].
    // TODO 5: read an int from exec_error[0] into status.exec_errno (again on EINTR),
    //         then close it. 0 bytes (EOF): exec worked. An int: exec failed with that
    //         errno: status.error = "cannot execute <argv[0]>: <strerror>". Return true
    //         either way: there is a child to reap.
    (void)argv;
    (void)child;
    status.error = "start_child is not written yet";
    return false;
}

// The one pump, for both functions: moves bytes both ways at once until the child's
// stdout ends.
[[maybe_unused]] void pump(Child& child, Ends& ends, Status& status) {
    // TODO 1: loop. First thing each time round: nothing left to write and nowhere to
    //         read more (ends.left == 0, ends.in_fd < 0)? Close child.to_stdin: that is
    //         the child's EOF. Then, child.to_stdin and child.from_stdout both closed?
    //         Return: a poll() with nothing to wait for would wait forever.
    // TODO 2: poll() two fds (an fd of -1 is skipped), timeout -1 (wait; again on EINTR):
    //         - fds[0]: child.to_stdin for POLLOUT while ends.left > 0, else ends.in_fd
    //           for POLLIN (only while child.to_stdin is open);
    //         - fds[1]: child.from_stdout for POLLIN.
    //         Act on ANY revents (POLLHUP and POLLERR come unasked).
    // TODO 3: fds[0] ready and ends.left == 0: read a chunk of in_fd into a buffer
    //         (ends.data, ends.left). 0 (or an error): no more input, ends.in_fd = -1
    //         (never close it: it is the caller's). fds[0] ready and ends.left > 0:
    //         write what fits; count it in bytes_in. EPIPE: the child stopped reading:
    //         close child.to_stdin and drop the rest on purpose.
    //         EAGAIN: the pipe was full, poll again.
    // TODO 4: fds[1] ready: read a chunk. Append it to *ends.out, or write_all it to
    //         ends.out_fd (count it in bytes_out). 0 means EOF: close child.from_stdout.
    //         Keep reading until then: a short read is not the end.
    (void)child;
    (void)ends;
    (void)status;
}

}  // namespace

// Starts the child, pumps, reaps it (declared in given/filter_child.hpp).
Status run(const std::vector<std::string>& argv, Ends& ends) {
    Status status;
    // TODO 0: no command at all (argv empty)? Do not start anything: return a Status
    //         whose error is "no command to run" (start_child needs argv[0]).
    Child child;
    if (!start_child(argv, child, status)) return status;
    // TODO 1: only if exec worked (status.exec_errno == 0): ignore SIGPIPE while the pump
    //         runs - a struct sigaction with sa_handler = SIG_IGN and an empty sa_mask,
    //         sigaction(SIGPIPE, &ignore, &old) - so that a child that stops reading
    //         gives you EPIPE instead of killing you.
    // TODO 2: make child.to_stdin non-blocking (fcntl F_SETFL, O_NONBLOCK): POLLOUT says
    //         "there is room", not "room for everything".
    // TODO 3: pump(child, ends, status); then put the caller's action back exactly:
    //         sigaction(SIGPIPE, &old, nullptr).
    // TODO 4: close both ends (still open after a failed exec), finish_child.
    (void)ends;
    status.error = "run is not written yet";
    return status;
}

}  // namespace filter
