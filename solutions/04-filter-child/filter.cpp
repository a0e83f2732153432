// filter.cpp - run a command as a filter through two pipes: no temp file, no deadlock.
//
// Usage: filter_bytes(input, {"sort"}) returns what sort printed; filter_stream(in_fd,
// out_fd, argv) streams one descriptor through the command into another (given/filter.hpp).
// Both are run() below, called by given/filter_api.cpp with their own Ends.
//
// The child's stdin and stdout are two pipes, pumped both at once with poll(2): writing
// all the input first deadlocks once both pipes are full. Closing its stdin is the child's
// end of file; then its stdout is read to end of file, and the child reaped.
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
[[noreturn]] void child_failed(int exec_error_fd) {
    int e = errno;
    ssize_t ignored = write(exec_error_fd, &e, sizeof e);  // nothing more a child can do if this fails
    (void)ignored;
    _exit(127);
}

// Writes all of buf to fd, which may be a slow pipe: loop on short writes.
bool write_all(int fd, const char* buf, std::size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n == -1 && errno == EINTR) continue;
        if (n == -1) return false;
        buf += n;
        len -= static_cast<std::size_t>(n);
    }
    return true;
}

// Reaps our child by pid (wait() may take one of the caller's) and says how it ended.
void finish_child(pid_t pid, const std::string& name, Status& status) {
    int ws = 0;
    while (waitpid(pid, &ws, 0) == -1)
        if (errno != EINTR) return fail(status, "waitpid");  // EINTR: a signal handler ran, wait again
    if (WIFEXITED(ws)) status.exit_code = WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) status.signal = WTERMSIG(ws);
    if (!status.error.empty()) return;  // the first problem is the one to report
    if (status.exit_code > 0) status.error = name + " exited with status " + std::to_string(status.exit_code);
    if (status.signal != 0)
        status.error =
            name + " was killed by signal " + std::to_string(status.signal) + " (" + strsignal(status.signal) + ")";
}

// Starts argv (not empty) on two pipes; false, with nothing left open, if there is no child.
bool start_child(const std::vector<std::string>& argv, Child& child, Status& status) {
    // Built before fork: between fork and exec the child makes system calls only (no malloc).
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // exec_error's write end is close-on-exec: a successful exec closes it (EOF here).
    int in[2] = {-1, -1}, out[2] = {-1, -1}, exec_error[2] = {-1, -1};
    const char* failed = nullptr;
    if (pipe(in) == -1 || pipe(out) == -1 || pipe(exec_error) == -1) failed = "pipe";
    if (!failed && fcntl(exec_error[1], F_SETFD, FD_CLOEXEC) == -1) failed = "fcntl";
    switch (child.pid = failed ? -1 : fork()) {
        case -1:
            fail(status, failed ? failed : "fork");
            for (int fd : {in[0], in[1], out[0], out[1], exec_error[0], exec_error[1]})
                if (fd >= 0) close(fd);  // giving up anyway: a failed close changes nothing
            return false;
        case 0:
            // An ignored SIGPIPE stays ignored across exec: give the command the default.
            if (signal(SIGPIPE, SIG_DFL) == SIG_ERR) child_failed(exec_error[1]);
            if (dup2(in[0], STDIN_FILENO) == -1 || dup2(out[1], STDOUT_FILENO) == -1) child_failed(exec_error[1]);
            // Close every original end, above all in[1]: while the child holds the write
            // end of its own stdin, its read() on stdin never returns EOF.
            for (int fd : {in[0], in[1], out[0], out[1], exec_error[0]})
                if (close(fd) == -1) child_failed(exec_error[1]);
            execvp(args[0], args.data());
            child_failed(exec_error[1]);  // only reached when exec failed
        default:
            // The parent keeps in[1] and out[0]; the other ends are the child's.
            child.to_stdin = in[1];
            child.from_stdout = out[0];
            close_end(in[0], status, "close - stdin of the child");
            close_end(out[1], status, "close - stdout of the child");
            close_end(exec_error[1], status, "close - exec-error pipe");
    }
    // Waits until the exec has happened (EOF) or failed (an errno comes).
    ssize_t n;
    do n = read(exec_error[0], &status.exec_errno, sizeof status.exec_errno);
    while (n == -1 && errno == EINTR);
    if (n == -1) fail(status, "read - exec-error pipe");
    close_end(exec_error[0], status, "close - exec-error pipe");
    if (n > 0 && status.error.empty())
        status.error = "cannot execute " + argv[0] + ": " + std::strerror(status.exec_errno);
    return true;
}

// The one pump: one poll() waits for whichever side can move (poll skips an fd of -1):
// room in the child's stdin while we hold input (else more from in_fd), child's output.
void pump(Child& child, Ends& ends, Status& status) {
    char inbuf[kChunk], outbuf[kChunk];
    for (;;) {
        // All written and no more to come: closing our end is the child's end of file.
        if (ends.left == 0 && ends.in_fd < 0) close_end(child.to_stdin, status, "close - stdin of the child");
        if (child.to_stdin < 0 && child.from_stdout < 0) break;  // both pipes done: never poll nothing
        pollfd fds[2] = {{-1, 0, 0}, {child.from_stdout, POLLIN, 0}};
        if (child.to_stdin >= 0)
            fds[0] = ends.left > 0 ? pollfd{child.to_stdin, POLLOUT, 0} : pollfd{ends.in_fd, POLLIN, 0};
        int ready = poll(fds, 2, -1);
        if (ready == -1 && errno == EINTR) continue;  // a signal handler ran: not an error, wait again
        if (ready == -1) return fail(status, "poll");
        // Act on ANY revents (POLLHUP, POLLERR come unasked): read() or write() says what it is.
        if (fds[0].revents != 0 && ends.left == 0) {
            ssize_t n = read(ends.in_fd, inbuf, sizeof inbuf);
            if (n > 0) {
                ends.data = inbuf;
                ends.left = static_cast<std::size_t>(n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                if (n == -1) fail(status, "read - input");
                ends.in_fd = -1;  // no more input: the top of the loop gives the child its EOF
            }
        } else if (fds[0].revents != 0) {
            ssize_t n = write(child.to_stdin, ends.data, ends.left);  // non-blocking: what fits
            if (n > 0) {
                ends.data += n;
                ends.left -= static_cast<std::size_t>(n);
                ends.bytes_in += static_cast<std::uint64_t>(n);
            } else if (errno != EAGAIN && errno != EINTR) {
                // EPIPE: the child closed its stdin (head -c 100 has all it wants). Drop
                // the rest of the input on purpose, and read its output all the same.
                if (errno != EPIPE) fail(status, "write - stdin of the child");
                close_end(child.to_stdin, status, "close - stdin of the child");
            }
        }
        if (fds[1].revents != 0) {
            ssize_t n = read(child.from_stdout, outbuf, sizeof outbuf);
            if (n > 0 && ends.out) {
                ends.out->append(outbuf, static_cast<std::size_t>(n));
            } else if (n > 0 && write_all(ends.out_fd, outbuf, static_cast<std::size_t>(n))) {
                ends.bytes_out += static_cast<std::uint64_t>(n);
            } else if (n > 0 || (n == -1 && errno != EINTR)) {
                // Our reader has gone, or the read failed: stop; the child sees EOF and EPIPE.
                fail(status, n > 0 ? "write - output" : "read - stdout of the child");
                close_end(child.to_stdin, status, "close - stdin of the child");
                close_end(child.from_stdout, status, "close - stdout of the child");
            } else if (n == 0) {  // EOF, the only end: a short read is not
                close_end(child.from_stdout, status, "close - stdout of the child");
            }
        }
    }
}

}  // namespace

// Starts the child, pumps, reaps it. SIGPIPE is ignored only while the pump runs (a child
// that stops reading must give us EPIPE, not kill us), then put back.
Status run(const std::vector<std::string>& argv, Ends& ends) {
    if (argv.empty()) return {-1, 0, 0, "no command to run"};
    Status status;
    Child child;
    if (!start_child(argv, child, status)) return status;
    if (status.exec_errno == 0) {
        struct sigaction ignore = {}, old = {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        bool ignored = sigaction(SIGPIPE, &ignore, &old) == 0;
        if (!ignored) fail(status, "sigaction");
        // POLLOUT means some room, not room for all: a blocking write() could still wait
        // while nobody reads the output. Non-blocking, it writes what fits (our end only).
        if (fcntl(child.to_stdin, F_SETFL, O_NONBLOCK) == -1) fail(status, "fcntl");
        pump(child, ends, status);
        if (ignored && sigaction(SIGPIPE, &old, nullptr) == -1) fail(status, "sigaction");
    }
    close_end(child.to_stdin, status, "close - stdin of the child");  // open only after a failed exec or poll()
    close_end(child.from_stdout, status, "close - stdout of the child");
    finish_child(child.pid, argv[0], status);
    return status;
}

}  // namespace filter
