// trace_pipes.cpp - a grader helper: runs a program under ptrace and records which of
// its processes forked which, and every read() and write() on a pipe, with the bytes.
//
// Usage: trace_pipes REPORT PROGRAM [ARG...]
//
// Lesson 02's tests use it to prove what output alone cannot: that the pid the parent
// prints is the pid of the child it forked, and that the byte it prints is the byte
// it read from the pipe its child wrote into (not a copy it drew before fork()).
// PROGRAM's stdin, stdout and stderr are untouched. REPORT gets one line per event:
//   start PID                      the program
//   fork PARENT CHILD              a fork()/vfork()/clone() of a traced process
//   write PID INODE N HEX          a write() of N bytes to pipe INODE (HEX: up to 64 of them)
//   read PID INODE N HEX           a read() of N bytes from pipe INODE
//   exit PID STATUS                a traced process ended (wait status)
// The exit status is the program's own (128 + signal if it was killed). Where ptrace
// or PTRACE_GET_SYSCALL_INFO (Linux 5.3) is missing, REPORT says "unavailable ...", so
// that a test can skip instead of fail (the exit status is 77 when the program could
// not even be started under ptrace).
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/ptrace.h>
#endif

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>

namespace {

FILE* report = nullptr;

[[noreturn]] void unavailable(const char* why) {
    std::fprintf(report, "unavailable %s: %s\n", why, std::strerror(errno));
    std::fclose(report);
    std::exit(77);
}

}  // namespace

#if defined(__linux__) && defined(PTRACE_GET_SYSCALL_INFO)

namespace {

// What a process was doing when it entered a read() or write() on a pipe.
struct Pending {
    bool is_write = false;
    unsigned long long inode = 0;
    unsigned long long buf = 0;
};

// The pipe inode behind fd in process pid, or 0 when fd is not a pipe.
unsigned long long pipe_inode(pid_t pid, unsigned long long fd) {
    char path[64], target[128];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%llu", static_cast<int>(pid), fd);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = '\0';
    unsigned long long inode = 0;
    if (std::sscanf(target, "pipe:[%llu]", &inode) != 1) return 0;
    return inode;
}

std::string bytes_at(pid_t pid, unsigned long long addr, long n) {
    unsigned char buf[64];
    std::size_t len = n < 64 ? static_cast<std::size_t>(n) : 64;
    iovec local{buf, len}, remote{reinterpret_cast<void*>(addr), len};
    if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(len)) return "?";
    std::string hex;
    char two[3];
    for (std::size_t i = 0; i < len; ++i) {
        std::snprintf(two, sizeof two, "%02x", buf[i]);
        hex += two;
    }
    return hex;
}

int trace(pid_t program) {
    const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                         PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
    int status;
    if (waitpid(program, &status, 0) != program || !WIFSTOPPED(status)) unavailable("the program did not stop");
    if (ptrace(PTRACE_SETOPTIONS, program, 0, options) == -1) unavailable("PTRACE_SETOPTIONS");
    std::fprintf(report, "start %d\n", static_cast<int>(program));
    if (ptrace(PTRACE_SYSCALL, program, 0, 0) == -1) unavailable("PTRACE_SYSCALL");

    std::map<pid_t, Pending> pending;  // processes inside a pipe read()/write()
    std::set<pid_t> started{program};  // processes whose first stop has been seen
    int program_status = 0;
    bool said_unavailable = false;
    for (;;) {
        pid_t pid = waitpid(-1, &status, __WALL);
        if (pid == -1) {
            if (errno == EINTR) continue;
            break;  // ECHILD: every traced process is gone
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            std::fprintf(report, "exit %d %d\n", static_cast<int>(pid), status);
            if (pid == program) program_status = status;
            pending.erase(pid);
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status);
        int event = status >> 16;
        int deliver = 0;
        if (sig == (SIGTRAP | 0x80)) {
            __ptrace_syscall_info info;
            std::memset(&info, 0, sizeof info);
            if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof info, &info) <= 0) {
                // A kernel older than 5.3: keep the program running, but say that the
                // report is incomplete.
                if (!said_unavailable)
                    std::fprintf(report, "unavailable PTRACE_GET_SYSCALL_INFO: %s\n", std::strerror(errno));
                said_unavailable = true;
            } else {
                if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
                    pending.erase(pid);
                    bool is_write = info.entry.nr == SYS_write, is_read = info.entry.nr == SYS_read;
                    unsigned long long inode = (is_write || is_read) ? pipe_inode(pid, info.entry.args[0]) : 0;
                    if (inode) pending[pid] = Pending{is_write, inode, info.entry.args[1]};
                } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
                    auto it = pending.find(pid);
                    if (it != pending.end()) {
                        long n = static_cast<long>(info.exit.rval);
                        if (!info.exit.is_error && n >= 0)
                            std::fprintf(report, "%s %d %llu %ld %s\n", it->second.is_write ? "write" : "read",
                                         static_cast<int>(pid), it->second.inode, n,
                                         bytes_at(pid, it->second.buf, n).c_str());
                        pending.erase(it);
                    }
                }
            }
        } else if (sig == SIGTRAP &&
                   (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE)) {
            unsigned long child = 0;
            ptrace(PTRACE_GETEVENTMSG, pid, 0, &child);
            std::fprintf(report, "fork %d %lu\n", static_cast<int>(pid), child);
        } else if (sig == SIGTRAP && event != 0) {
            // exec and other events: nothing to deliver
        } else if (sig == SIGSTOP && !started.count(pid)) {
            started.insert(pid);  // a new child's first stop (it may come before its parent's fork event)
        } else {
            deliver = sig;  // a real signal: let the process have it
        }
        ptrace(PTRACE_SYSCALL, pid, 0, deliver);
    }
    std::fflush(report);
    if (WIFSIGNALED(program_status)) return 128 + WTERMSIG(program_status);
    return WIFEXITED(program_status) ? WEXITSTATUS(program_status) : 1;
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s REPORT PROGRAM [ARG...]\n", argv[0]);
        return 2;
    }
    report = std::fopen(argv[1], "w");
    if (!report) {
        std::fprintf(stderr, "trace_pipes: %s: %s\n", argv[1], std::strerror(errno));
        return 2;
    }
    std::fflush(nullptr);
    pid_t program = fork();
    if (program == -1) unavailable("fork");
    if (program == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) == -1) _exit(77);
        raise(SIGSTOP);  // let the tracer set its options before the program starts
        execv(argv[2], argv + 2);
        std::fprintf(stderr, "trace_pipes: cannot run %s: %s\n", argv[2], std::strerror(errno));
        _exit(127);
    }
    int rc = trace(program);
    std::fclose(report);
    return rc;
}

#else

int main(int argc, char* argv[]) {
    if (argc < 3) return 2;
    report = std::fopen(argv[1], "w");
    if (!report) return 2;
    errno = ENOSYS;
    unavailable("no ptrace with PTRACE_GET_SYSCALL_INFO here");
}

#endif
