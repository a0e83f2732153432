// Mistake: the parent pauses, then checks the exec-error pipe without blocking (a race).
// Replaces: filter.cpp
// Caught by: FilterBytes.ReportsACommandThatCannotBeExecuted
// Message: the parent reads it (EOF means exec succeeded)
// Shake: 6
//
// A catalogue entry of lesson 04: the reference solution with one typical learner
// mistake. It passes as it is - a failed exec has reported within 50 ms - and fails
// under `make grade SHAKE=6`, when the child is held back after fork().
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
// failure is the one reported.
void fail(Status& status, const char* what) {
    if (status.error.empty()) status.error = std::string(what) + ": " + std::strerror(errno);
}

// Closes fd (if still open) and marks it closed.
void close_end(int& fd, Status& status, const char* what) {
    if (fd >= 0 && close(fd) == -1) fail(status, what);
    fd = -1;
}

// The child's way out when it cannot become the command: it sends errno to the
// parent through the exec-error pipe, then exits with the shell's "cannot execute".
[[noreturn]] void child_failed(int exec_error_fd) {
    int e = errno;
    ssize_t ignored = write(exec_error_fd, &e, sizeof e);  // nothing more a child can do if this fails
    (void)ignored;
    _exit(127);
}

// Reaps the child and records how it ended.
void finish_child(pid_t pid, const std::string& name, Status& status) {
    int ws;
    while (waitpid(pid, &ws, 0) == -1) {
        if (errno != EINTR) {
            fail(status, "waitpid");
            return;
        }
    }
    if (WIFEXITED(ws)) {
        status.exit_code = WEXITSTATUS(ws);
        if (status.exit_code != 0 && status.error.empty())
            status.error = name + " exited with status " + std::to_string(status.exit_code);
    } else if (WIFSIGNALED(ws)) {
        status.signal = WTERMSIG(ws);
        if (status.error.empty())
            status.error =
                name + " was killed by signal " + std::to_string(status.signal) + " (" + strsignal(status.signal) + ")";
    }
}

// Starts argv with its stdin and stdout on two new pipes. Returns false when it
// could not (status says why: a failed call, or exec_errno), with no descriptor left
// open and no child left unreaped.
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

    int in[2] = {-1, -1}, out[2] = {-1, -1}, exec_error[2] = {-1, -1};
    const char* failed = nullptr;
    if (pipe(in) == -1 || pipe(out) == -1 || pipe(exec_error) == -1) failed = "pipe";
    // The exec-error pipe closes itself when exec succeeds: the parent then reads EOF
    // from it. When exec fails, the child writes errno into it instead.
    else if (fcntl(exec_error[1], F_SETFD, FD_CLOEXEC) == -1)
        failed = "fcntl";
    pid_t pid = failed ? -1 : fork();
    if (pid == -1 && !failed) failed = "fork";
    if (failed) {
        fail(status, failed);
        for (int fd : {in[0], in[1], out[0], out[1], exec_error[0], exec_error[1]})
            if (fd >= 0) close(fd);  // giving up anyway: a failed close changes nothing
        return false;
    }

    switch (pid) {
        case 0:
            // The child. An ignored SIGPIPE would stay ignored across exec: give the
            // command the default back, as a shell would.
            if (signal(SIGPIPE, SIG_DFL) == SIG_ERR) child_failed(exec_error[1]);
            // Its stdin is the read end of `in`, its stdout the write end of `out`.
            if (dup2(in[0], STDIN_FILENO) == -1 || dup2(out[1], STDOUT_FILENO) == -1) child_failed(exec_error[1]);
            // Close every original end. Above all the write end of its own stdin: as
            // long as the child holds it, its read() on stdin never returns EOF.
            for (int fd : {in[0], in[1], out[0], out[1], exec_error[0]})
                if (close(fd) == -1) child_failed(exec_error[1]);
            execvp(args[0], args.data());
            child_failed(exec_error[1]);  // only reached when exec failed
        default:
            break;
    }

    // The parent keeps one end of each pipe: the write end of the child's stdin and
    // the read end of its stdout. The other ends belong to the child.
    close_end(in[0], status, "close - stdin of the child");
    close_end(out[1], status, "close - stdout of the child");
    close_end(exec_error[1], status, "close - exec-error pipe");

    // "exec is quick": give it a moment, then look without blocking. Nothing there
    // yet is taken to mean that exec succeeded.
    usleep(50 * 1000);
    int exec_errno = 0;
    if (fcntl(exec_error[0], F_SETFL, O_NONBLOCK) == -1) fail(status, "fcntl");
    ssize_t n = read(exec_error[0], &exec_errno, sizeof exec_errno);
    if (n == -1 && errno == EAGAIN) n = 0;
    if (n == -1) fail(status, "read - exec-error pipe");
    close_end(exec_error[0], status, "close - exec-error pipe");

    child.pid = pid;
    child.to_stdin = in[1];
    child.from_stdout = out[0];
    if (n > 0) {
        status.exec_errno = exec_errno;
        if (status.error.empty()) status.error = "cannot execute " + argv[0] + ": " + std::strerror(exec_errno);
        close_end(child.to_stdin, status, "close - stdin of the child");
        close_end(child.from_stdout, status, "close - stdout of the child");
        finish_child(pid, argv[0], status);  // it has exited with 127: reap it
        return false;
    }
    return true;
}

// While the pump runs, a child that stops reading must give us EPIPE from write(),
// not kill us with SIGPIPE. Returns what was there before, for restore_sigpipe.
struct sigaction ignore_sigpipe(Status& status) {
    struct sigaction ignore, old;
    std::memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (sigaction(SIGPIPE, &ignore, &old) == -1) fail(status, "sigaction");
    return old;
}

void restore_sigpipe(const struct sigaction& old, Status& status) {
    if (sigaction(SIGPIPE, &old, nullptr) == -1) fail(status, "sigaction");
}

// Writes all of buf to fd, which may be a slow pipe: loop on short writes.
bool write_all(int fd, const char* buf, std::size_t len) {
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

}  // namespace

FilterOutput filter_bytes(const std::string& input, const std::vector<std::string>& argv) {
    FilterOutput result;
    Status& status = result.status;
    Child child;
    if (!start_child(argv, child, status)) return result;
    struct sigaction old_sigpipe = ignore_sigpipe(status);

    // poll() says "there is room in the pipe", not "room for all you want to write":
    // a blocking write() could still wait, and then nobody reads the output. With
    // O_NONBLOCK it writes what fits and returns.
    if (fcntl(child.to_stdin, F_SETFL, O_NONBLOCK) == -1) fail(status, "fcntl");

    std::size_t fed = 0;
    if (input.empty()) close_end(child.to_stdin, status, "close - stdin of the child");  // EOF at once
    char buf[kChunk];
    // Pump until both pipes are done: the input all written (or refused) and the
    // output read to end of file.
    while (child.to_stdin >= 0 || child.from_stdout >= 0) {
        pollfd fds[2];
        nfds_t count = 0;
        if (child.to_stdin >= 0) fds[count++] = {child.to_stdin, POLLOUT, 0};
        if (child.from_stdout >= 0) fds[count++] = {child.from_stdout, POLLIN, 0};
        if (poll(fds, count, -1) == -1) {
            if (errno == EINTR) continue;
            fail(status, "poll");
            break;
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == child.to_stdin) {
                std::size_t len = std::min(kChunk, input.size() - fed);
                ssize_t n = write(child.to_stdin, input.data() + fed, len);
                if (n > 0) {
                    fed += static_cast<std::size_t>(n);
                    // All written: closing our end is the child's end of file.
                    if (fed == input.size()) close_end(child.to_stdin, status, "close - stdin of the child");
                } else if (errno == EPIPE) {
                    // The child closed its stdin (head -c 100 has all it wants): drop
                    // the rest of the input on purpose and keep reading its output.
                    close_end(child.to_stdin, status, "close - stdin of the child");
                } else if (errno != EAGAIN && errno != EINTR) {
                    fail(status, "write - stdin of the child");
                    close_end(child.to_stdin, status, "close - stdin of the child");
                }
            } else {
                ssize_t n = read(child.from_stdout, buf, sizeof buf);
                if (n > 0) {
                    result.output.append(buf, static_cast<std::size_t>(n));
                } else if (n == 0) {
                    // EOF: every write end of the child's stdout is closed (it exited).
                    close_end(child.from_stdout, status, "close - stdout of the child");
                } else if (errno != EAGAIN && errno != EINTR) {
                    fail(status, "read - stdout of the child");
                    close_end(child.from_stdout, status, "close - stdout of the child");
                }
            }
        }
    }
    // Only after a failed poll() is anything still open here.
    close_end(child.to_stdin, status, "close - stdin of the child");
    close_end(child.from_stdout, status, "close - stdout of the child");
    finish_child(child.pid, argv[0], status);
    restore_sigpipe(old_sigpipe, status);
    return result;
}

StreamResult filter_stream(int in_fd, int out_fd, const std::vector<std::string>& argv) {
    StreamResult result;
    Status& status = result.status;
    Child child;
    if (!start_child(argv, child, status)) return result;
    struct sigaction old_sigpipe = ignore_sigpipe(status);
    if (fcntl(child.to_stdin, F_SETFL, O_NONBLOCK) == -1) fail(status, "fcntl");

    // At most one chunk of input waits for the child (bytes sent..pending of inbuf),
    // and one chunk of output is copied at a time: memory stays bounded.
    char inbuf[kChunk], outbuf[kChunk];
    std::size_t pending = 0, sent = 0;
    while (child.to_stdin >= 0 || child.from_stdout >= 0) {
        pollfd fds[2];
        nfds_t count = 0;
        // The input side: read in_fd only when the buffer is empty, else wait until
        // the child can take more. A child that reads slowly slows us down too.
        if (child.to_stdin >= 0) {
            if (sent < pending)
                fds[count++] = {child.to_stdin, POLLOUT, 0};
            else
                fds[count++] = {in_fd, POLLIN, 0};
        }
        if (child.from_stdout >= 0) fds[count++] = {child.from_stdout, POLLIN, 0};
        if (poll(fds, count, -1) == -1) {
            if (errno == EINTR) continue;
            fail(status, "poll");
            break;
        }
        for (nfds_t i = 0; i < count; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == in_fd) {
                ssize_t n = read(in_fd, inbuf, sizeof inbuf);
                if (n > 0) {
                    pending = static_cast<std::size_t>(n);
                    sent = 0;
                } else if (n == 0) {
                    // Our input has ended: pass the end of file on to the child.
                    close_end(child.to_stdin, status, "close - stdin of the child");
                } else if (errno != EAGAIN && errno != EINTR) {
                    fail(status, "read - input");
                    close_end(child.to_stdin, status, "close - stdin of the child");
                }
            } else if (fds[i].fd == child.to_stdin) {
                ssize_t n = write(child.to_stdin, inbuf + sent, pending - sent);
                if (n > 0) {
                    sent += static_cast<std::size_t>(n);
                    result.bytes_in += static_cast<std::uint64_t>(n);
                } else if (errno == EPIPE) {
                    // The child wants no more input: leave the rest of in_fd unread.
                    close_end(child.to_stdin, status, "close - stdin of the child");
                } else if (errno != EAGAIN && errno != EINTR) {
                    fail(status, "write - stdin of the child");
                    close_end(child.to_stdin, status, "close - stdin of the child");
                }
            } else {
                ssize_t n = read(child.from_stdout, outbuf, sizeof outbuf);
                if (n > 0) {
                    if (!write_all(out_fd, outbuf, static_cast<std::size_t>(n))) {
                        // Whoever reads our output has gone: stop, and let the child see
                        // EOF on its stdin and EPIPE on its stdout.
                        fail(status, "write - output");
                        close_end(child.to_stdin, status, "close - stdin of the child");
                        close_end(child.from_stdout, status, "close - stdout of the child");
                        break;
                    }
                    result.bytes_out += static_cast<std::uint64_t>(n);
                } else if (n == 0) {
                    close_end(child.from_stdout, status, "close - stdout of the child");
                } else if (errno != EAGAIN && errno != EINTR) {
                    fail(status, "read - stdout of the child");
                    close_end(child.from_stdout, status, "close - stdout of the child");
                }
            }
        }
    }
    close_end(child.to_stdin, status, "close - stdin of the child");
    close_end(child.from_stdout, status, "close - stdout of the child");
    finish_child(child.pid, argv[0], status);
    restore_sigpipe(old_sigpipe, status);
    return result;
}

}  // namespace filter
