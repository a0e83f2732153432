// filter.cpp - run a command as a filter through two pipes: no temp file, no deadlock.
//
// Usage: filter_bytes(input, {"sort"}) returns what sort printed; filter_stream(in_fd,
// out_fd, {"tr", "a-z", "A-Z"}) streams one descriptor through the command into another.
// Both are declared, with their contract, in given/filter.hpp; the program
// `filter_through CMD [ARGS...]` (given/filter_through_main.cpp) is built on filter_stream.
//
// You are going to use another program as a filter, as a shell pipeline does, but from
// inside your own program. You start the child with two pipes, one into its stdin and
// one out of its stdout, and pump both at the same time with poll(2): writing all the
// input first and reading afterwards deadlocks as soon as both pipes are full. You close
// the child's stdin when the input ends (its end of file), read its stdout until end of
// file, reap it, and say how it ended: an exit status, a signal, or a failed exec. Both
// functions share one pump: only where the bytes come from and go to differs.
#include "filter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace filter {
namespace {

// Bytes moved by one read(): the pump holds at most one such chunk of input and one of
// output, whatever the size of the data.
constexpr std::size_t kChunk = 64 * 1024;

// A running child and the parent's ends of its two pipes (-1 once closed).
struct Child {
    pid_t pid = -1;
    int to_stdin = -1;     // write end of the pipe that is the child's stdin
    int from_stdout = -1;  // read end of the pipe that is the child's stdout
};

// Where the pump takes its input and puts the output: the only difference between
// filter_bytes (a string in memory) and filter_stream (the caller's descriptors).
struct Ends {
    const char* data = nullptr;  // input not yet written into the child, and how much
    std::size_t left = 0;
    int in_fd = -1;              // where more input comes from once `left` is 0 (-1: nowhere)
    std::string* out = nullptr;  // the output goes here, or else to out_fd
    int out_fd = -1;
    std::uint64_t bytes_in = 0, bytes_out = 0;
};

// Records that one of our own system calls failed, as "what: reason". The first
// failure is the one reported.
void fail(Status& status, const char* what) {
    if (status.error.empty()) status.error = std::string(what) + ": " + std::strerror(errno);
}

// Closes fd (if still open) and marks it closed, so that no end is closed twice.
void close_end(int& fd, Status& status, const char* what) {
    if (fd >= 0 && close(fd) == -1) fail(status, what);
    fd = -1;
}

// The child's way out when it cannot become the command: it sends errno to the parent
// through the exec-error pipe, then leaves with _exit: exit() would run the caller's
// atexit handlers and flush its stdio buffers, copied into this child by fork.
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

// Reaps exactly our child, by pid (wait() would take any child: the caller may have
// its own), and records how it ended.
void finish_child(pid_t pid, const std::string& name, Status& status) {
    int ws = 0;
    pid_t reaped;
    do reaped = waitpid(pid, &ws, 0);
    while (reaped == -1 && errno == EINTR);
    if (reaped == -1) {
        fail(status, "waitpid");
        return;
    }
    if (WIFEXITED(ws)) status.exit_code = WEXITSTATUS(ws);
    if (WIFSIGNALED(ws)) status.signal = WTERMSIG(ws);
    if (!status.error.empty()) return;  // the first problem is the one to report
    if (status.exit_code > 0) status.error = name + " exited with status " + std::to_string(status.exit_code);
    if (status.signal != 0)
        status.error =
            name + " was killed by signal " + std::to_string(status.signal) + " (" + strsignal(status.signal) + ")";
}

// Starts argv with its stdin and stdout on two new pipes, and learns whether exec
// worked (status.exec_errno). Returns false, with nothing left open, when there is no
// child at all.
bool start_child(const std::vector<std::string>& argv, Child& child, Status& status) {
    if (argv.empty()) {
        status.error = "no command to run";
        return false;
    }
    // Build exec's argument array before fork: between fork and exec the child makes
    // only system calls (in a threaded program another thread may hold malloc's lock).
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    // The exec-error pipe's write end is close-on-exec: a successful exec closes it and
    // the parent reads EOF; after a failed one the child writes errno into it.
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
            // The child. An ignored SIGPIPE stays ignored across exec: give the command
            // the default back, as a shell would.
            if (signal(SIGPIPE, SIG_DFL) == SIG_ERR) child_failed(exec_error[1]);
            if (dup2(in[0], STDIN_FILENO) == -1 || dup2(out[1], STDOUT_FILENO) == -1) child_failed(exec_error[1]);
            // Close every original end, above all in[1]: as long as the child holds the
            // write end of its own stdin, its read() on stdin never returns EOF.
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
    // This read waits until the exec has happened (EOF) or failed (an errno comes).
    ssize_t n;
    do n = read(exec_error[0], &status.exec_errno, sizeof status.exec_errno);
    while (n == -1 && errno == EINTR);
    if (n == -1) fail(status, "read - exec-error pipe");
    close_end(exec_error[0], status, "close - exec-error pipe");
    if (n > 0 && status.error.empty())
        status.error = "cannot execute " + argv[0] + ": " + std::strerror(status.exec_errno);
    return true;
}

// The one pump: moves bytes both ways at once until the child's stdout ends. One poll()
// waits for whichever side can move: room in the child's stdin while we hold input for
// it (else more input from in_fd), and output from the child. poll() skips an fd of -1.
void pump(Child& child, Ends& ends, Status& status) {
    char inbuf[kChunk], outbuf[kChunk];
    if (ends.left == 0 && ends.in_fd < 0) close_end(child.to_stdin, status, "close - stdin of the child");
    while (child.to_stdin >= 0 || child.from_stdout >= 0) {
        pollfd fds[2] = {{-1, 0, 0}, {child.from_stdout, POLLIN, 0}};
        if (child.to_stdin >= 0)
            fds[0] = ends.left > 0 ? pollfd{child.to_stdin, POLLOUT, 0} : pollfd{ends.in_fd, POLLIN, 0};
        if (poll(fds, 2, -1) == -1) {
            if (errno == EINTR) continue;  // a signal handler ran: not an error, wait again
            fail(status, "poll");
            return;
        }
        // Any revents at all, POLLHUP and POLLERR included (they come unasked): act on
        // that fd, and let read() or write() say what happened.
        if (fds[0].revents != 0 && ends.left == 0) {
            ssize_t n = read(ends.in_fd, inbuf, sizeof inbuf);
            if (n > 0) {
                ends.data = inbuf;
                ends.left = static_cast<std::size_t>(n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                // The end of our input (or a failed read) is the end of the child's.
                if (n == -1) fail(status, "read - input");
                close_end(child.to_stdin, status, "close - stdin of the child");
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
            // All written and no more to come: closing our end is the child's end of file.
            if (ends.left == 0 && ends.in_fd < 0) close_end(child.to_stdin, status, "close - stdin of the child");
        }
        if (fds[1].revents != 0) {
            ssize_t n = read(child.from_stdout, outbuf, sizeof outbuf);
            if (n > 0 && ends.out) {
                ends.out->append(outbuf, static_cast<std::size_t>(n));
            } else if (n > 0 && write_all(ends.out_fd, outbuf, static_cast<std::size_t>(n))) {
                ends.bytes_out += static_cast<std::uint64_t>(n);
            } else if (n > 0 || (n == -1 && errno != EINTR)) {
                // Our reader has gone, or the read failed: stop. The child then sees EOF on
                // its stdin and EPIPE on its stdout, and ends.
                fail(status, n > 0 ? "write - output" : "read - stdout of the child");
                close_end(child.to_stdin, status, "close - stdin of the child");
                close_end(child.from_stdout, status, "close - stdout of the child");
            } else if (n == 0) {
                // EOF: the child exited or closed its stdout. Only this is the end: a read
                // that returns less than you asked for is not.
                close_end(child.from_stdout, status, "close - stdout of the child");
            }
        }
    }
}

// Both functions: start the child, pump, reap it. SIGPIPE is ignored only while the pump
// runs (a child that stops reading must give us EPIPE, not kill us); then the caller's
// own action goes back exactly as it was.
Status run(const std::vector<std::string>& argv, Ends& ends) {
    Status status;
    Child child;
    if (!start_child(argv, child, status)) return status;
    if (status.exec_errno == 0) {
        struct sigaction ignore, old;
        std::memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        bool ignored = sigaction(SIGPIPE, &ignore, &old) == 0;
        if (!ignored) fail(status, "sigaction");
        // POLLOUT says "there is room", not "room for all you want to write": a blocking
        // write() could still wait, and then nobody reads the output. Non-blocking, it
        // writes what fits and returns. Only our end: the child's stdin stays blocking.
        if (fcntl(child.to_stdin, F_SETFL, O_NONBLOCK) == -1) fail(status, "fcntl");
        pump(child, ends, status);
        if (ignored && sigaction(SIGPIPE, &old, nullptr) == -1) fail(status, "sigaction");
    }
    close_end(child.to_stdin, status, "close - stdin of the child");  // open only after a failed exec or poll()
    close_end(child.from_stdout, status, "close - stdout of the child");
    finish_child(child.pid, argv[0], status);
    return status;
}

}  // namespace

FilterOutput filter_bytes(const std::string& input, const std::vector<std::string>& argv) {
    FilterOutput result;
    Ends ends{input.data(), input.size(), -1, &result.output};
    result.status = run(argv, ends);
    return result;
}

StreamResult filter_stream(int in_fd, int out_fd, const std::vector<std::string>& argv) {
    StreamResult result;
    Ends ends{nullptr, 0, in_fd, nullptr, out_fd};
    result.status = run(argv, ends);
    result.bytes_in = ends.bytes_in;
    result.bytes_out = ends.bytes_out;
    return result;
}

}  // namespace filter
