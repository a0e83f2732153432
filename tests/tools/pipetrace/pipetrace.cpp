// pipetrace.cpp - draws what a program did: every fork, exec, pipe, dup2, close, read,
// write, poll and wait of every process it starts, in time order.
//
// Usage: pipetrace [--text] [--timeout SECONDS] [--stdin TEXT] -- PROGRAM [ARGS...]
//        pipetrace --record FILE [--until-program-exits] -- PROGRAM [ARGS...]
//        pipetrace --render [--text] [--tail N] FILE
//
// The first form runs PROGRAM in the grader's sandbox (timeout, default 10 s; whole tree
// killed and reaped) with a tracer in front of it, feeds it TEXT on stdin (nothing
// otherwise), and prints the story as a Mermaid sequenceDiagram (one lifeline per process
// and one per pipe, FIFO or socket), or with --text as a transcript. Every descriptor is
// named by what it is ("pipe#2 read end", "FIFO to-server write end", "socket#1"), never
// by its number alone. A process that entered a call and never came back (a hang, a
// deadlock) gets a note saying so. Long runs of reads, writes and polls are folded into
// one loop with counts and byte totals, so a 256 MiB stream stays a page long.
//
// The second form is the tracer alone: it runs PROGRAM under ptrace, follows every
// process and thread, and writes one line per step to FILE as it happens (the sandbox
// uses it when a test or `make grade TRACE=1` asks for a trace). PROGRAM keeps its
// stdin, stdout and stderr; the exit status is PROGRAM's (128 + N when signal N killed
// it). Where ptrace is refused, FILE says why and PROGRAM runs untraced. With
// --until-program-exits the tracer ends with PROGRAM, and leaves what PROGRAM left
// running to run on, untraced (the sandbox uses this, so that its report of processes
// left behind is the same with a tracer as without).
// The third form draws a FILE recorded earlier; --tail N prints only the last N steps
// of each process that was still inside a call at the end (a hang report's tail).
//
// Linux only (ptrace, /proc); elsewhere it says so and exits 3. Where ptrace is not
// allowed (Yama ptrace_scope 3, a container's seccomp profile) it says so and exits 3.
// Otherwise: 0 when the timeline was drawn, 2 on a usage error.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sandbox.hpp"

#if defined(__linux__)
#include <poll.h>
#include <sys/ptrace.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>

#include <netinet/in.h>
#endif

namespace {

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: pipetrace [--text] [--timeout SECONDS] [--stdin TEXT] -- PROGRAM [ARGS...]\n"
                 "       pipetrace --record FILE [--until-program-exits] -- PROGRAM [ARGS...]\n"
                 "       pipetrace --render [--text] [--tail N] FILE\n");
    std::exit(2);
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t at = 0;
    for (;;) {
        std::size_t next = s.find(sep, at);
        out.push_back(s.substr(at, next - at));
        if (next == std::string::npos) return out;
        at = next + 1;
    }
}

// ---- recording ------------------------------------------------------------------------
// One line per step, tab-separated:  TYPE  TID  CALL  OBJECT  TEXT  RESULT  PREVIEW  OTHER
//   B  the program started (TEXT: its name)       F  fork/clone (OTHER: the child's tid)
//   E  entered a call that may block               X  a call returned (RESULT: "= 11")
//   N  exec succeeded (TEXT: the new command)      S  a signal was delivered (TEXT: name)
//   Z  the process ended (TEXT: "exited 0", "killed by SIGPIPE")
// OTHER names a second process: the child of a fork, the one a wait reaped, a kill's target.

// --until-program-exits: stop tracing when PROGRAM itself exits, and leave whatever it
// left running to run on untraced (the sandbox then sees the same leftovers as without
// a tracer). Otherwise every process is followed to its end.
bool until_program_exits = false;

#if defined(__linux__) && defined(PTRACE_GET_SYSCALL_INFO)

FILE* record_file = nullptr;

void emit(char type, pid_t tid, const std::string& call, const std::string& obj, const std::string& text,
          const std::string& result = "", const std::string& preview = "", long other = 0) {
    std::fprintf(record_file, "%c\t%d\t%s\t%s\t%s\t%s\t%s\t%ld\n", type, static_cast<int>(tid), call.c_str(),
                 obj.c_str(), text.c_str(), result.c_str(), preview.c_str(), other);
    std::fflush(record_file);  // a hang ends with SIGKILL: every line must already be out
}

// Names, not numbers (sigabbrev_np and strerrorname_np need glibc 2.32: spelled out here).
std::string signal_name(int sig) {
    static const std::map<int, const char*> names = {
        {SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"},  {SIGILL, "SIGILL"},   {SIGABRT, "SIGABRT"},
        {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},  {SIGUSR1, "SIGUSR1"}, {SIGSEGV, "SIGSEGV"},
        {SIGUSR2, "SIGUSR2"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"},  {SIGTERM, "SIGTERM"}, {SIGCHLD, "SIGCHLD"},
        {SIGCONT, "SIGCONT"}, {SIGSTOP, "SIGSTOP"}, {SIGTSTP, "SIGTSTP"},  {SIGTTIN, "SIGTTIN"}, {SIGTTOU, "SIGTTOU"},
        {SIGURG, "SIGURG"},   {SIGXCPU, "SIGXCPU"}, {SIGWINCH, "SIGWINCH"}};
    auto it = names.find(sig);
    return it != names.end() ? it->second : "signal " + std::to_string(sig);
}

std::string errno_name(long err) {
    static const std::map<long, const char*> names = {{EPERM, "EPERM"},
                                                      {ENOENT, "ENOENT"},
                                                      {ESRCH, "ESRCH"},
                                                      {EINTR, "EINTR"},
                                                      {EIO, "EIO"},
                                                      {ENXIO, "ENXIO"},
                                                      {E2BIG, "E2BIG"},
                                                      {ENOEXEC, "ENOEXEC"},
                                                      {EBADF, "EBADF"},
                                                      {ECHILD, "ECHILD"},
                                                      {EAGAIN, "EAGAIN"},
                                                      {ENOMEM, "ENOMEM"},
                                                      {EACCES, "EACCES"},
                                                      {EFAULT, "EFAULT"},
                                                      {EEXIST, "EEXIST"},
                                                      {ENOTDIR, "ENOTDIR"},
                                                      {EISDIR, "EISDIR"},
                                                      {EINVAL, "EINVAL"},
                                                      {EMFILE, "EMFILE"},
                                                      {ENFILE, "ENFILE"},
                                                      {ESPIPE, "ESPIPE"},
                                                      {EPIPE, "EPIPE"},
                                                      {ENOTSOCK, "ENOTSOCK"},
                                                      {EADDRINUSE, "EADDRINUSE"},
                                                      {ECONNRESET, "ECONNRESET"},
                                                      {ENOTCONN, "ENOTCONN"},
                                                      {ETIMEDOUT, "ETIMEDOUT"},
                                                      {ECONNREFUSED, "ECONNREFUSED"},
                                                      {EINPROGRESS, "EINPROGRESS"},
                                                      {EADDRNOTAVAIL, "EADDRNOTAVAIL"}};
    auto it = names.find(err);
    return it != names.end() ? it->second : "errno " + std::to_string(err);
}

bool read_memory(pid_t pid, unsigned long long addr, void* out, std::size_t len) {
    iovec local{out, len}, remote{reinterpret_cast<void*>(addr), len};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(len);
}

std::string read_string(pid_t pid, unsigned long long addr) {
    std::string s;
    char c;
    while (addr && s.size() < 200 && read_memory(pid, addr + s.size(), &c, 1) && c) s += c;
    return s;
}

// A short, printable, quoted preview of bytes the program moved.
std::string preview(pid_t pid, unsigned long long addr, long n) {
    if (n <= 0) return "";
    unsigned char buf[16];
    std::size_t len = n < 16 ? static_cast<std::size_t>(n) : 16;
    if (!read_memory(pid, addr, buf, len)) return "";
    std::string q = "\"";
    for (std::size_t i = 0; i < len; ++i) {
        unsigned char c = buf[i];
        char hex[8];
        if (c == '\n')
            q += "\\n";
        else if (c == '\t')
            q += "\\t";
        else if (c == '"' || c == '\\')
            q += std::string("\\") + static_cast<char>(c);
        // ; # < > would be read as markup by Mermaid: shown as escapes instead.
        else if (c < 32 || c >= 127 || c == ';' || c == '#' || c == '<' || c == '>') {
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            q += hex;
        } else {
            q += static_cast<char>(c);
        }
    }
    return q + (static_cast<std::size_t>(n) > len ? "\"..." : "\"");
}

// What an fd is, by name. Pipes and sockets are numbered in the order they are first
// seen; the program's own stdin, stdout and stderr keep those names in every process.
struct FdName {
    std::string object;  // "pipe#2", "FIFO to-server", "socket#1", "stdout"; empty: not IPC
    std::string end;     // "read end", "write end", "read-write"
};

std::map<std::string, std::string> object_names;  // "pipe:[123]" -> "pipe#1"
std::map<std::string, std::string> socket_ends;   // "socket:[124]" -> "end 0" (of a socketpair)
int pipes_seen = 0, sockets_seen = 0, socketpairs_seen = 0;

FdName name_fd(pid_t pid, long fd) {
    FdName n;
    char path[64], target[512];
    std::snprintf(path, sizeof path, "/proc/%d/fd/%ld", static_cast<int>(pid), fd);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len <= 0) return n;
    target[len] = '\0';
    std::string t = target;
    struct stat st;
    bool fifo = t[0] == '/' && stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
    bool tty = t.rfind("/dev/pts/", 0) == 0 || t.rfind("/dev/tty", 0) == 0;
    if (t.rfind("pipe:", 0) != 0 && t.rfind("socket:", 0) != 0 && !fifo && !tty) return n;
    auto it = object_names.find(t);
    if (it != object_names.end()) {
        n.object = it->second;
    } else if (tty) {
        n.object = "terminal";
    } else if (fifo) {
        n.object = "FIFO " + t.substr(t.rfind('/') + 1);
    } else if (t[0] == 'p') {
        n.object = object_names[t] = "pipe#" + std::to_string(++pipes_seen);
    } else {
        n.object = object_names[t] = "socket#" + std::to_string(++sockets_seen);
    }
    // A socket is both ways, and stdin/stdout/stderr say their direction already.
    if (t[0] == 's') {
        if (socket_ends.count(t)) n.end = socket_ends[t];
        return n;
    }
    if (n.object == "stdin" || n.object == "stdout" || n.object == "stderr" || tty) return n;
    std::snprintf(path, sizeof path, "/proc/%d/fdinfo/%ld", static_cast<int>(pid), fd);
    std::string info = read_file(path);
    std::size_t at = info.find("flags:");
    long flags = at == std::string::npos ? 0 : std::strtol(info.c_str() + at + 6, nullptr, 8);
    int mode = static_cast<int>(flags & O_ACCMODE);
    n.end = mode == O_RDONLY ? "read end" : mode == O_WRONLY ? "write end" : "read-write";
    return n;
}

// The descriptors in select()'s read and write sets (addresses in the traced process; 0:
// no set), named: "pipe#1 IN, fd 5 OUT". On entry the sets say what it waits for; on
// return select() has left in them only what is ready.
std::string select_sets(pid_t tid, unsigned long long nfds, unsigned long long rset, unsigned long long wset) {
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    if (rset) read_memory(tid, rset, &r, sizeof r);
    if (wset) read_memory(tid, wset, &w, sizeof w);
    std::string list;
    for (int fd = 0; fd < static_cast<int>(std::min<unsigned long long>(nfds, FD_SETSIZE)); ++fd) {
        if (!FD_ISSET(fd, &r) && !FD_ISSET(fd, &w)) continue;
        FdName n = name_fd(tid, fd);
        list += (list.empty() ? "" : ", ") + (n.object.empty() ? "fd " + std::to_string(fd) : n.object) +
                (FD_ISSET(fd, &r) ? " IN" : "") + (FD_ISSET(fd, &w) ? " OUT" : "");
    }
    return list;
}

std::string fd_text(long fd, const FdName& n) {
    std::string s = "fd " + std::to_string(fd);
    if (!n.object.empty()) s += ": " + n.object + (n.end.empty() ? "" : " " + n.end);
    return s;
}

std::string sockaddr_text(pid_t pid, unsigned long long addr, unsigned long long len) {
    sockaddr_storage sa{};
    if (len > sizeof sa) len = sizeof sa;
    if (!addr || !read_memory(pid, addr, &sa, len)) return "?";
    if (sa.ss_family == AF_INET) {
        auto* in = reinterpret_cast<sockaddr_in*>(&sa);
        unsigned char* ip = reinterpret_cast<unsigned char*>(&in->sin_addr);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%u.%u.%u.%u:%u", ip[0], ip[1], ip[2], ip[3], ntohs(in->sin_port));
        return buf;
    }
    if (sa.ss_family == AF_UNIX) return reinterpret_cast<sockaddr_un*>(&sa)->sun_path;
    return "family " + std::to_string(sa.ss_family);
}

// One call in flight, between its entry and its exit.
struct InFlight {
    long nr = -1;
    unsigned long long args[6] = {};
    std::string call, obj, text;
    bool shown = false;  // recorded at all (reads of regular files are not)
    bool entered = false;
    std::string extra;  // poll: the fds asked about
};

long nr_of(const char* name);

bool is(long nr, long sys) {
    return nr == sys;
}

#define SYS_OR_NONE(name) nr_of(#name)

// Syscall numbers that do not exist on every architecture (aarch64 has no pipe, dup2...).
long nr_of(const char* name) {
    static const std::map<std::string, long> table = {
#ifdef SYS_pipe
        {"pipe", SYS_pipe},
#endif
#ifdef SYS_dup2
        {"dup2", SYS_dup2},
#endif
#ifdef SYS_open
        {"open", SYS_open},
#endif
#ifdef SYS_mknod
        {"mknod", SYS_mknod},
#endif
#ifdef SYS_poll
        {"poll", SYS_poll},
#endif
#ifdef SYS_select
        {"select", SYS_select},
#endif
#ifdef SYS_pause
        {"pause", SYS_pause},
#endif
#ifdef SYS_accept
        {"accept", SYS_accept},
#endif
    };
    auto it = table.find(name);
    return it == table.end() ? -2 : it->second;
}

void on_entry(pid_t tid, InFlight& f) {
    const long nr = f.nr;
    const auto* a = f.args;
    long fd0 = static_cast<long>(static_cast<int>(a[0]));
    f.shown = true;
    f.entered = false;
    if (nr == SYS_read || nr == SYS_write || nr == SYS_recvfrom || nr == SYS_sendto || nr == SYS_recvmsg ||
        nr == SYS_sendmsg) {
        FdName n = name_fd(tid, fd0);
        if (n.object.empty()) {
            f.shown = false;
            return;
        }
        bool out = nr == SYS_write || nr == SYS_sendto || nr == SYS_sendmsg;
        f.call = nr == SYS_read ? "read" : nr == SYS_write ? "write" : out ? "send" : "recv";
        f.obj = n.object;
        f.text = f.call + "(" + fd_text(fd0, n);
        if (nr != SYS_recvmsg && nr != SYS_sendmsg)
            f.text += ", " + std::to_string(a[2]) + (a[2] == 1 ? " byte" : " bytes");
        f.text += ")";
        f.entered = true;
    } else if (nr == SYS_close) {
        FdName n = name_fd(tid, fd0);
        f.call = "close";
        f.obj = n.object;
        f.text = "close(" + fd_text(fd0, n) + ")";
        // Closing a regular file (the loader's libraries) is not part of the story;
        // closing a descriptor that is not open (EBADF) is.
        f.shown = !n.object.empty() ||
                  access(("/proc/" + std::to_string(tid) + "/fd/" + std::to_string(fd0)).c_str(), F_OK) != 0;
    } else if (nr == SYS_dup || nr == SYS_dup3 || is(nr, SYS_OR_NONE(dup2)) ||
               (nr == SYS_fcntl && (a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC))) {
        FdName n = name_fd(tid, fd0);
        f.call = nr == SYS_fcntl ? "fcntl" : nr == SYS_dup ? "dup" : nr == SYS_dup3 ? "dup3" : "dup2";
        f.obj = n.object;
        f.text = f.call + "(" + fd_text(fd0, n);
        if (nr == SYS_dup3 || nr != SYS_dup) {
            long fd1 = static_cast<long>(static_cast<int>(a[1]));
            if (nr == SYS_fcntl) {
                f.text += ", F_DUPFD, " + std::to_string(a[2]);
            } else {
                FdName was = name_fd(tid, fd1);
                f.text += " → fd " + std::to_string(fd1);
                if (!was.object.empty()) f.text += ", which was " + was.object + (was.end.empty() ? "" : " " + was.end);
            }
        }
        f.text += ")";
    } else if (is(nr, SYS_OR_NONE(pipe)) || nr == SYS_pipe2) {
        f.call = "pipe";
    } else if (nr == SYS_socketpair) {
        f.call = "socketpair";
    } else if (nr == SYS_socket) {
        f.call = "socket";
        f.text = std::string("socket(") +
                 (a[0] == AF_INET   ? "AF_INET"
                  : a[0] == AF_UNIX ? "AF_UNIX"
                                    : "family") +
                 ((a[1] & 0xf) == SOCK_STREAM ? ", SOCK_STREAM)" : ", SOCK_DGRAM)");
    } else if (nr == SYS_bind || nr == SYS_connect) {
        FdName n = name_fd(tid, fd0);
        f.call = nr == SYS_bind ? "bind" : "connect";
        f.obj = n.object;
        f.text = f.call + "(" + fd_text(fd0, n) + ", " + sockaddr_text(tid, a[1], a[2]) + ")";
        f.entered = nr == SYS_connect;
    } else if (nr == SYS_listen) {
        FdName n = name_fd(tid, fd0);
        f.call = "listen";
        f.obj = n.object;
        f.text = "listen(" + fd_text(fd0, n) + ")";
    } else if (nr == SYS_accept4 || is(nr, SYS_OR_NONE(accept))) {
        FdName n = name_fd(tid, fd0);
        f.call = "accept";
        f.obj = n.object;
        f.text = "accept(" + fd_text(fd0, n) + ")";
        f.entered = true;
    } else if (nr == SYS_mknodat || is(nr, SYS_OR_NONE(mknod))) {
        unsigned long long mode = nr == SYS_mknodat ? a[2] : a[1];
        if (!S_ISFIFO(mode)) {
            f.shown = false;
            return;
        }
        std::string path = read_string(tid, nr == SYS_mknodat ? a[1] : a[0]);
        f.call = "mkfifo";
        f.obj = "FIFO " + path.substr(path.rfind('/') + 1);
        f.text = "mkfifo(" + path + ")";
    } else if (nr == SYS_openat || is(nr, SYS_OR_NONE(open))) {
        std::string path = read_string(tid, nr == SYS_openat ? a[1] : a[0]);
        unsigned long long flags = nr == SYS_openat ? a[2] : a[1];
        std::string full = path;
        if (path[0] != '/') full = "/proc/" + std::to_string(tid) + "/cwd/" + path;  // AT_FDCWD, as learners use it
        struct stat st;
        if (path.empty() || stat(full.c_str(), &st) != 0 || !S_ISFIFO(st.st_mode)) {
            f.shown = false;  // only FIFOs: opening one may block until the other side opens
            return;
        }
        int mode = static_cast<int>(flags & O_ACCMODE);
        f.call = "open";
        f.obj = "FIFO " + path.substr(path.rfind('/') + 1);
        f.text = "open(" + path +
                 (mode == O_RDONLY   ? ", O_RDONLY"
                  : mode == O_WRONLY ? ", O_WRONLY"
                                     : ", O_RDWR") +
                 ((flags & O_NONBLOCK) ? " | O_NONBLOCK)" : ")");
        f.entered = true;
    } else if (nr == SYS_ppoll || is(nr, SYS_OR_NONE(poll))) {
        f.call = "poll";
        std::vector<pollfd> fds(std::min<unsigned long long>(a[1], 16));
        if (!fds.empty()) read_memory(tid, a[0], fds.data(), fds.size() * sizeof(pollfd));
        std::string list;
        for (const auto& p : fds) {
            FdName n = name_fd(tid, p.fd);
            list += (list.empty() ? "" : ", ") + (n.object.empty() ? "fd " + std::to_string(p.fd) : n.object) +
                    ((p.events & POLLIN) ? " IN" : "") + ((p.events & POLLOUT) ? " OUT" : "");
        }
        f.text = "poll(" + list + ")";
        f.entered = true;
    } else if (nr == SYS_pselect6 || is(nr, SYS_OR_NONE(select))) {
        f.call = "select";
        f.text = "select(" + select_sets(tid, a[0], a[1], a[2]) + ")";
        f.entered = true;
    } else if (nr == SYS_wait4 || nr == SYS_waitid) {
        f.call = "wait";
        long who = static_cast<long>(static_cast<int>(nr == SYS_wait4 ? a[0] : a[1]));
        f.text = std::string(nr == SYS_wait4 ? "wait4(" : "waitid(") +
                 (who == -1 || (nr == SYS_waitid && a[0] == P_ALL) ? "any child" : "pid " + std::to_string(who)) + ")";
        f.entered = true;
    } else if (nr == SYS_kill) {
        f.call = "kill";
        f.text =
            "kill(pid " + std::to_string(static_cast<int>(a[0])) + ", " + signal_name(static_cast<int>(a[1])) + ")";
    } else if (nr == SYS_rt_sigsuspend || is(nr, SYS_OR_NONE(pause))) {
        f.call = "pause";
        f.text = "waits for a signal";
        f.entered = true;
    } else if (nr == SYS_execve || nr == SYS_execveat) {
        f.call = "execve";
        unsigned long long argv = nr == SYS_execve ? a[1] : a[2];
        std::string cmd = read_string(tid, nr == SYS_execve ? a[0] : a[1]);
        cmd = cmd.substr(cmd.rfind('/') + 1);  // the name says it; the folder is noise (and long)
        for (int i = 1; i < 5 && argv; ++i) {
            unsigned long long p = 0;
            if (!read_memory(tid, argv + i * sizeof p, &p, sizeof p) || !p) break;
            cmd += " " + read_string(tid, p);
        }
        for (char& c : cmd)
            if (c == '\t' || c == '\n' || c == ';' || c == '#' || c == '<' || c == '>') c = ' ';
        if (cmd.size() > 70) cmd = cmd.substr(0, 67) + "...";
        f.text = cmd;
    } else {
        f.shown = false;
    }
    if (f.shown) emit('E', tid, f.call, f.obj, f.text);
}

void on_exit(pid_t tid, InFlight& f, long rv, bool is_error) {
    if (!f.shown) return;
    const auto* a = f.args;
    std::string result = is_error ? "= -1 " + errno_name(-rv) : "= " + std::to_string(rv);
    // ERESTART* (512-516) never reach the program: the call is started again, or it
    // returns EINTR, after the signal's handler ran.
    if (is_error && -rv >= 512 && -rv <= 516) result = "= interrupted by a signal";
    std::string prev;
    long other = 0;
    if (f.call == "read" || f.call == "write" || f.call == "send" || f.call == "recv") {
        // recvmsg/sendmsg point at a msghdr, not at the bytes: no preview for them.
        if (!is_error && f.nr != SYS_recvmsg && f.nr != SYS_sendmsg) prev = preview(tid, a[1], rv);
        if (!is_error && rv == 0 && f.call != "write" && f.call != "send") result += " (end of file)";
    } else if (f.call == "pipe" || f.call == "socketpair") {
        int fds[2] = {-1, -1};
        if (!is_error) read_memory(tid, f.call == "pipe" ? a[0] : a[3], fds, sizeof fds);
        if (!is_error && f.call == "socketpair") {
            // Two sockets joined: one object with two ends, as a pipe has.
            std::string name = "socketpair#" + std::to_string(++socketpairs_seen);
            for (int i = 0; i < 2; ++i) {
                char path[64], target[128];
                std::snprintf(path, sizeof path, "/proc/%d/fd/%d", static_cast<int>(tid), fds[i]);
                ssize_t len = readlink(path, target, sizeof target - 1);
                if (len <= 0) continue;
                target[len] = '\0';
                object_names[target] = name;
                socket_ends[target] = i == 0 ? "end 0" : "end 1";
            }
        }
        FdName r = name_fd(tid, fds[0]), w = name_fd(tid, fds[1]);
        f.obj = is_error ? "" : r.object;
        f.text = f.call + "()";
        if (!is_error) result = "= " + fd_text(fds[0], r) + ", " + fd_text(fds[1], w);
    } else if ((f.call == "socket" || f.call == "accept" || f.call == "dup" || f.call == "dup2" || f.call == "dup3" ||
                f.call == "fcntl" || f.call == "open") &&
               !is_error) {
        FdName n = name_fd(tid, rv);
        if (f.call == "socket" || f.call == "accept") f.obj = n.object;
        result = "= " + fd_text(rv, n);
    } else if (f.call == "wait" && !is_error && rv > 0) {
        other = rv;
        if (f.nr == SYS_wait4 && a[1]) {
            int status = 0;
            read_memory(tid, a[1], &status, sizeof status);
            if (WIFEXITED(status))
                result += ", exited " + std::to_string(WEXITSTATUS(status));
            else if (WIFSIGNALED(status))
                result += ", killed by " + signal_name(WTERMSIG(status));
        }
    } else if (f.call == "wait" && f.nr == SYS_waitid && !is_error && a[2]) {
        siginfo_t si{};
        read_memory(tid, a[2], &si, sizeof si);
        other = si.si_pid;
        if (si.si_pid) result = "= 0, pid " + std::to_string(si.si_pid);
    } else if (f.call == "kill") {
        other = static_cast<int>(a[0]);
    } else if (f.call == "select" && !is_error && rv > 0) {
        std::string ready = select_sets(tid, a[0], a[1], a[2]);  // only the ready ones are left
        if (!ready.empty()) result += ": " + ready;
    } else if (f.call == "poll" && !is_error) {
        std::vector<pollfd> fds(std::min<unsigned long long>(a[1], 16));
        if (!fds.empty()) read_memory(tid, a[0], fds.data(), fds.size() * sizeof(pollfd));
        std::string ready;
        for (const auto& p : fds) {
            if (!p.revents) continue;
            FdName n = name_fd(tid, p.fd);
            ready += (ready.empty() ? "" : ", ") + (n.object.empty() ? "fd " + std::to_string(p.fd) : n.object) +
                     ((p.revents & POLLIN) ? " IN" : "") + ((p.revents & POLLOUT) ? " OUT" : "") +
                     ((p.revents & POLLHUP) ? " HUP" : "") + ((p.revents & POLLERR) ? " ERR" : "");
        }
        if (!ready.empty()) result += ": " + ready;
    } else if (f.call == "execve" && !is_error) {
        return;  // said by the exec event
    }
    emit('X', tid, f.call, f.obj, f.text, result, prev, other);
}

std::string comm(pid_t pid) {
    std::string c = read_file("/proc/" + std::to_string(pid) + "/comm");
    if (!c.empty() && c.back() == '\n') c.pop_back();
    return c;
}

bool is_thread(pid_t tid) {
    std::string status = read_file("/proc/" + std::to_string(tid) + "/status");
    std::size_t at = status.find("Tgid:");
    return at != std::string::npos && std::atol(status.c_str() + at + 5) != tid;
}

int trace(pid_t program) {
    // Without EXITKILL, a tracer that exits lets its tracees run on untraced.
    const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                         PTRACE_O_TRACEEXEC | (until_program_exits ? 0 : PTRACE_O_EXITKILL);
    int status;
    if (waitpid(program, &status, 0) != program) return 1;
    if (!WIFSTOPPED(status)) {  // PTRACE_TRACEME was refused: the program ran untraced
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (ptrace(PTRACE_SETOPTIONS, program, 0, options) == -1) {
        std::fprintf(record_file, "unavailable PTRACE_SETOPTIONS: %s\n", std::strerror(errno));
        std::fflush(record_file);
        ptrace(PTRACE_DETACH, program, 0, 0);
    } else {
        // The program's own stdin, stdout and stderr: named once, for every process.
        const char* stdio[] = {"stdin", "stdout", "stderr"};
        for (int fd = 0; fd < 3; ++fd) {
            char path[64], target[256];
            std::snprintf(path, sizeof path, "/proc/%d/fd/%d", static_cast<int>(program), fd);
            ssize_t n = readlink(path, target, sizeof target - 1);
            if (n <= 0) continue;
            target[n] = '\0';
            if (!object_names.count(target)) object_names[target] = stdio[fd];
        }
        ptrace(PTRACE_SYSCALL, program, 0, 0);
    }
    std::map<pid_t, InFlight> inflight;
    std::set<pid_t> started{program};
    std::set<pid_t> announced, held;  // children whose fork was reported; children waiting for that
    int program_status = 0;
    bool said_start = false;
    for (;;) {
        pid_t tid = waitpid(-1, &status, __WALL);
        if (tid == -1) {
            if (errno == EINTR) continue;
            break;  // ECHILD: every traced process is gone
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            emit('Z', tid, "exit", "",
                 WIFEXITED(status) ? "exited " + std::to_string(WEXITSTATUS(status))
                                   : "killed by " + signal_name(WTERMSIG(status)));
            if (tid == program) program_status = status;
            inflight.erase(tid);
            if (tid == program && until_program_exits) break;
            continue;
        }
        if (!WIFSTOPPED(status)) continue;
        int sig = WSTOPSIG(status);
        int event = status >> 16;
        int deliver = 0;
        if (sig == (SIGTRAP | 0x80)) {
            __ptrace_syscall_info info;
            std::memset(&info, 0, sizeof info);
            if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) > 0) {
                if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
                    if (!said_start && tid == program) {
                        emit('B', tid, "start", "", comm(tid));
                        said_start = true;
                    }
                    InFlight f;
                    f.nr = static_cast<long>(info.entry.nr);
                    std::copy(std::begin(info.entry.args), std::end(info.entry.args), f.args);
                    on_entry(tid, f);
                    inflight[tid] = f;
                } else if (info.op == PTRACE_SYSCALL_INFO_EXIT) {
                    auto it = inflight.find(tid);
                    if (it != inflight.end()) {
                        on_exit(tid, it->second, static_cast<long>(info.exit.rval), info.exit.is_error);
                        inflight.erase(it);
                    }
                }
            }
        } else if (sig == SIGTRAP &&
                   (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE)) {
            unsigned long child = 0;
            ptrace(PTRACE_GETEVENTMSG, tid, 0, &child);
            bool thread = event == PTRACE_EVENT_CLONE && is_thread(static_cast<pid_t>(child));
            emit('F', tid, thread ? "thread" : "fork", "", thread ? "pthread_create()" : "fork()", "", "",
                 static_cast<long>(child));
            announced.insert(static_cast<pid_t>(child));
            if (held.erase(static_cast<pid_t>(child))) ptrace(PTRACE_SYSCALL, static_cast<pid_t>(child), 0, 0);
        } else if (sig == SIGTRAP && event == PTRACE_EVENT_EXEC) {
            auto it = inflight.find(tid);
            emit('N', tid, "exec", "", it != inflight.end() ? it->second.text : comm(tid));
        } else if (sig == SIGTRAP && event != 0) {
            // other events: nothing to deliver
        } else if (sig == SIGSTOP && !started.count(tid)) {
            started.insert(tid);  // a new child's first stop
            if (!announced.count(tid)) {
                // It may stop before its parent reports the fork: hold it until then, so
                // that nothing it does is recorded before it was born.
                held.insert(tid);
                continue;
            }
        } else {
            siginfo_t si;
            if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == -1) {
                // A group-stop (SIGSTOP, SIGTSTP already delivered), not a new signal:
                // nothing to pass on.
            } else {
                emit('S', tid, "signal", "", signal_name(sig));
                deliver = sig;
            }
        }
        ptrace(PTRACE_SYSCALL, tid, 0, deliver);
    }
    if (WIFSIGNALED(program_status)) return 128 + WTERMSIG(program_status);
    return WIFEXITED(program_status) ? WEXITSTATUS(program_status) : 1;
}

int record(const std::string& file, const std::vector<std::string>& program) {
    record_file = std::fopen(file.c_str(), "w");
    if (!record_file) {
        std::fprintf(stderr, "pipetrace: %s: %s\n", file.c_str(), std::strerror(errno));
        return 2;
    }
    pid_t pid = fork();
    if (pid == -1) {
        std::fprintf(stderr, "pipetrace: fork: %s\n", std::strerror(errno));
        return 1;
    }
    if (pid == 0) {
        std::fclose(record_file);
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) == -1) {
            // Not allowed here: say why in the record, and run the program anyway, so that
            // a grade with TRACE=1 still grades.
            FILE* f = std::fopen(file.c_str(), "w");
            if (f) {
                std::fprintf(f, "unavailable ptrace(PTRACE_TRACEME): %s\n", std::strerror(errno));
                std::fclose(f);
            }
        } else {
            raise(SIGSTOP);  // let the tracer set its options before the program starts
        }
        std::vector<char*> args;
        for (const auto& a : program) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execvp(args[0], args.data());
        std::fprintf(stderr, "pipetrace: cannot run %s: %s\n", args[0], std::strerror(errno));
        _exit(127);
    }
    int rc = trace(pid);
    std::fclose(record_file);
    if (rc > 128 && rc < 128 + 65) {
        // The program was killed by a signal: die of the same one, so that whoever runs
        // the tracer (the sandbox) sees what it would have seen without it.
        struct rlimit none = {0, 0};
        setrlimit(RLIMIT_CORE, &none);
        signal(rc - 128, SIG_DFL);
        raise(rc - 128);
    }
    return rc;
}

bool ptrace_allowed(std::string& why) {
    std::string scope = read_file("/proc/sys/kernel/yama/ptrace_scope");
    if (!scope.empty() && scope[0] == '3') {
        why =
            "ptrace is switched off on this machine (/proc/sys/kernel/yama/ptrace_scope is 3, which only a "
            "reboot can undo), so pipetrace cannot follow a program. Use pipemap instead.";
        return false;
    }
    return true;
}

#else

int record(const std::string& file, const std::vector<std::string>&) {
    FILE* f = std::fopen(file.c_str(), "w");
    if (f) {
        std::fprintf(f, "unavailable pipetrace needs Linux (ptrace with PTRACE_GET_SYSCALL_INFO, Linux 5.3)\n");
        std::fclose(f);
    }
    return 3;
}

bool ptrace_allowed(std::string& why) {
    why = "pipetrace needs Linux (ptrace with PTRACE_GET_SYSCALL_INFO, Linux 5.3 or newer)";
    return false;
}

#endif

// ---- drawing ------------------------------------------------------------------------

struct Step {
    long seq = 0;
    char type = 'X';
    long tid = 0;
    std::string call, obj, text, result, preview;
    long other = 0;
    bool blocked = false;  // entered, never returned
    bool dropped = false;  // said by a later step
};

bool waits(const std::string& call) {
    return call == "read" || call == "recv" || call == "accept" || call == "poll" || call == "select" ||
           call == "wait" || call == "open" || call == "pause" || call == "connect";
}

struct Item {  // one line of the drawing: a step, or a folded run of one process's steps
    std::vector<Step> steps;
    bool folded = false;
};

struct Timeline {
    std::vector<Step> steps;
    std::map<long, std::string> label;  // tid -> "P2 sort"
    std::vector<long> order;            // tids in order of appearance
    std::string unavailable;
};

Timeline parse(const std::string& record) {
    Timeline t;
    std::map<long, Step> open;  // tid -> its call that has not returned yet
    std::map<long, std::string> name;
    std::map<long, int> number;
    std::map<long, std::size_t> last;  // tid -> index of its latest step
    auto meet = [&](long tid, const std::string& n) {
        if (number.count(tid)) return;
        number[tid] = static_cast<int>(number.size()) + 1;
        name[tid] = n;
        t.order.push_back(tid);
    };
    long seq = 0;
    std::istringstream in(record);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("unavailable ", 0) == 0) {
            t.unavailable = line.substr(12);
            continue;
        }
        auto f = split(line, '\t');
        if (f.size() < 8) continue;
        Step s;
        s.seq = ++seq;
        s.type = f[0][0];
        s.tid = std::atol(f[1].c_str());
        s.call = f[2];
        s.obj = f[3];
        s.text = f[4];
        s.result = f[5];
        s.preview = f[6];
        s.other = std::atol(f[7].c_str());
        if (s.type == 'B') {
            meet(s.tid, s.text);
            continue;
        }
        meet(s.tid, name.count(s.tid) ? name[s.tid] : "?");
        if (s.type == 'F') meet(s.other, name[s.tid]);
        // execvp tries each folder of PATH: the failures before a success are not news,
        // and failures in a row are said once.
        bool failed_exec = s.type == 'X' && s.call == "execve";
        auto lt = last.find(s.tid);
        Step* before = lt == last.end() ? nullptr : &t.steps[lt->second];
        if ((s.type == 'N' || failed_exec) && before && !before->dropped && before->type == 'X' &&
            before->call == "execve") {
            before->dropped = true;
            if (failed_exec) s.other = before->other + 1;
        }
        if (failed_exec && s.other == 0) s.other = 1;
        if (s.type == 'N') {
            std::string cmd = s.text.substr(0, s.text.find(' '));
            name[s.tid] = cmd.substr(cmd.rfind('/') + 1);
            s.text = name[s.tid] + (s.text.find(' ') == std::string::npos ? "" : s.text.substr(s.text.find(' ')));
        }
        if (s.type == 'E') {
            s.blocked = true;
            open[s.tid] = s;
            continue;
        }
        if (s.type == 'N') open.erase(s.tid);
        if (s.type == 'X') {
            auto it = open.find(s.tid);
            // A call that waits for something (read, wait, poll) is drawn where it
            // returned; one that does something (write, close, dup2) where it began, so
            // that a write comes before the read that got its bytes.
            if (it != open.end() && !waits(s.call)) s.seq = it->second.seq;
            if (it != open.end()) open.erase(it);
        }
        if (s.type == 'Z') {
            auto it = open.find(s.tid);
            if (it != open.end()) {  // killed inside a call: it never returned
                t.steps.push_back(it->second);
                open.erase(it);
            }
        }
        t.steps.push_back(s);
        last[s.tid] = t.steps.size() - 1;
    }
    for (auto& [tid, s] : open) t.steps.push_back(s);
    t.steps.erase(std::remove_if(t.steps.begin(), t.steps.end(), [](const Step& s) { return s.dropped; }),
                  t.steps.end());
    std::sort(t.steps.begin(), t.steps.end(), [](const Step& a, const Step& b) { return a.seq < b.seq; });
    for (long tid : t.order) t.label[tid] = "P" + std::to_string(number[tid]) + " " + name[tid];
    return t;
}

bool foldable(const Step& s) {
    if (s.type != 'X') return false;
    bool data = s.call == "read" || s.call == "write" || s.call == "send" || s.call == "recv" || s.call == "poll" ||
                s.call == "select";
    // The end of file and an error are turning points: never folded away.
    return data && s.result.find("end of file") == std::string::npos && s.result.find("= -1") == std::string::npos;
}

const int kFoldAfter = 12;  // a run of more data calls than this becomes one loop

std::vector<Item> fold(const Timeline& t) {
    std::map<long, std::vector<const Step*>> per;  // tid -> its steps
    for (const auto& s : t.steps) per[s.tid].push_back(&s);
    std::vector<Item> items;
    for (auto& [tid, steps] : per) {
        std::size_t i = 0;
        while (i < steps.size()) {
            std::size_t j = i;
            while (j < steps.size() && foldable(*steps[j])) ++j;
            if (j - i > static_cast<std::size_t>(kFoldAfter)) {
                Item it;
                it.folded = true;
                for (std::size_t k = i; k < j; ++k) it.steps.push_back(*steps[k]);
                items.push_back(it);
                i = j;
            } else {
                items.push_back(Item{{*steps[i]}, false});
                ++i;
            }
        }
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.steps[0].seq < b.steps[0].seq; });
    return items;
}

std::string bytes_text(long long n) {
    char buf[64];
    if (n >= (1LL << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", n / 1048576.0);
    else if (n >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", n / 1024.0);
    else
        std::snprintf(buf, sizeof buf, "%lld bytes", n);
    return buf;
}

// "read(fd 3: pipe#1 read end, 4096 bytes)" -> "read(fd 3: pipe#1 read end)": the
// sizes asked vary from call to call; what is folded is the kind of call.
std::string without_count(const std::string& text) {
    std::size_t at = text.rfind(", ");
    if (at == std::string::npos || text.find(" byte", at) == std::string::npos) return text;
    return text.substr(0, at) + ")";
}

// A folded run, as lines: one per kind of call, in order of first appearance.
std::vector<Step> summarize(const Item& item) {
    std::vector<Step> kinds;
    std::map<std::string, std::pair<int, long long>> counts;  // call+obj -> calls, bytes
    for (auto s : item.steps) {
        s.text = without_count(s.text);
        std::string key = s.call + "\t" + s.obj + "\t" + s.text;
        if (!counts.count(key)) kinds.push_back(s);
        counts[key].first++;
        if (s.call != "poll" && s.call != "select") counts[key].second += std::atoll(s.result.c_str() + 2);
    }
    for (auto& k : kinds) {
        auto [n, bytes] = counts[k.call + "\t" + k.obj + "\t" + k.text];
        k.result = "×" + std::to_string(n) + (k.call == "poll" || k.call == "select" ? "" : ", " + bytes_text(bytes));
        k.preview = "";
    }
    return kinds;
}

std::string who(const Timeline& t, long tid) {
    auto it = t.label.find(tid);
    return it == t.label.end() ? "pid " + std::to_string(tid) : it->second.substr(0, it->second.find(' '));
}

std::string describe(const Timeline& t, const Step& s) {
    switch (s.type) {
        case 'F':
            return (s.call == "thread" ? "pthread_create() = " : "fork() = ") + who(t, s.other);
        case 'N':
            return "exec " + s.text;
        case 'S':
            return "gets " + s.text;
        case 'Z':
            return s.text;
        default:
            break;
    }
    std::string text = s.text + " " + s.result;
    if (s.call == "wait" && s.other) {
        std::size_t at = text.find("= " + std::to_string(s.other));
        if (at != std::string::npos) text.replace(at + 2, std::to_string(s.other).size(), who(t, s.other));
    }
    if (s.call == "execve") {
        std::string cmd = s.text.substr(0, s.text.find(' '));
        return "execve(" + cmd + ") " + s.result +
               (s.other > 1 ? " (in all " + std::to_string(s.other) + " folders of PATH)" : "");
    }
    if (!s.preview.empty()) text += " " + s.preview;
    if (s.blocked) text = "blocked in " + s.text + ", never returned";
    for (const auto& [tid, label] : t.label) {  // "pid 4242" -> "P2": pids change from run to run
        std::string pid = "pid " + std::to_string(tid);
        for (std::size_t at;
             (at = text.find(pid)) != std::string::npos &&
             (at + pid.size() == text.size() || !std::isdigit(static_cast<unsigned char>(text[at + pid.size()])));)
            text.replace(at, pid.size(), who(t, tid));
    }
    return text;
}

std::string transcript(const Timeline& t, const std::string& ending) {
    std::string out;
    if (!t.unavailable.empty()) out += "pipetrace: not traced: " + t.unavailable + "\n";
    for (const auto& item : fold(t)) {
        const Step& first = item.steps[0];
        std::string p = who(t, first.tid);
        if (first.type == 'F') {
            out += p + "  " + describe(t, first) + "\n";
            out += who(t, first.other) + "  is " + t.label.at(first.other).substr(who(t, first.other).size() + 1) +
                   ", pid " + std::to_string(first.other) + "\n";
            continue;
        }
        if (!item.folded) {
            out += p + "  " + describe(t, first) + "\n";
            continue;
        }
        out += p + "  loop of " + std::to_string(item.steps.size()) + " calls:\n";
        for (const auto& k : summarize(item)) out += p + "    " + k.text + " " + k.result + "\n";
    }
    if (!ending.empty()) out += ending + "\n";
    return out;
}

// Mermaid reads ; as the end of a statement and # as the start of a comment or an
// entity: "pipe#1" is written "pipe#35;1", which it shows as "pipe#1".
std::string mermaid_text(const std::string& s) {
    std::string out;
    for (char c : s) out += c == ';' ? std::string(",") : c == '#' ? std::string("#35;") : std::string(1, c);
    return out;
}

std::string mermaid(const Timeline& t, const std::string& ending) {
    std::vector<Item> items = fold(t);
    std::vector<std::string> participants;
    std::map<std::string, std::string> ids;  // participant name -> Mermaid id
    auto add = [&](const std::string& id, const std::string& label) {
        if (ids.count(id)) return;
        ids[id] = label;
        participants.push_back("  participant " + id + " as " + mermaid_text(label));
    };
    std::map<std::string, std::string> object_id;
    auto obj = [&](const std::string& name) {
        if (!object_id.count(name)) object_id[name] = "O" + std::to_string(object_id.size() + 1);
        add(object_id[name], name);
        return object_id[name];
    };
    auto proc = [&](long tid) {
        std::string id = who(t, tid);
        add(id, t.label.count(tid) ? t.label.at(tid) : id);
        return id;
    };
    std::vector<std::string> body;
    auto arrow = [&](const Step& s, const std::string& text, std::vector<std::string>& into) {
        std::string p = proc(s.tid);
        std::string line;
        if (s.type == 'F') {
            line = p + "->>" + proc(s.other) + ": " + text;
        } else if (s.type == 'N' || s.type == 'S' || s.type == 'Z') {
            line = "Note over " + p + ": " + text;
        } else if (s.blocked) {
            line = "Note over " + p + (s.obj.empty() ? "" : "," + obj(s.obj)) + ": ⚠ " + text;
        } else if ((s.call == "wait" || s.call == "kill") && s.other && t.label.count(s.other)) {
            line =
                s.call == "wait" ? proc(s.other) + "-->>" + p + ": " + text : p + "->>" + proc(s.other) + ": " + text;
        } else if (s.obj.empty()) {
            line = p + "->>" + p + ": " + text;
        } else {
            std::string o = obj(s.obj);
            if (s.call == "read" || s.call == "recv" || s.call == "accept")
                line = o + (s.result.find("end of file") != std::string::npos ? "-->>" : "->>") + p + ": " + text;
            else if (s.call == "close")
                line = p + "-x" + o + ": " + text;
            else
                line = p + "->>" + o + ": " + text;
        }
        // The arrow touches the object's lifeline already: "fd 3: pipe#1 read end" -> "fd 3 read end".
        if (!s.obj.empty())
            for (std::size_t at; (at = line.find(": " + s.obj + " ")) != std::string::npos ||
                                 (at = line.find(": " + s.obj + ")")) != std::string::npos ||
                                 (at = line.find(": " + s.obj + ",")) != std::string::npos;)
                line.erase(at, 2 + s.obj.size());
        into.push_back("  " + mermaid_text(line));
    };
    for (const auto& item : items) {
        if (!item.folded) {
            arrow(item.steps[0], describe(t, item.steps[0]), body);
            continue;
        }
        body.push_back("  loop " + who(t, item.steps[0].tid) + ": " + std::to_string(item.steps.size()) + " calls");
        for (const auto& k : summarize(item)) arrow(k, k.text + " " + k.result, body);
        body.push_back("  end");
    }
    if (!ending.empty() && !t.order.empty())
        body.push_back("  Note over " + proc(t.order[0]) + ": " + mermaid_text(ending));
    std::string out = "sequenceDiagram\n";
    if (!t.unavailable.empty()) out += "  %% not traced: " + t.unavailable + "\n";
    for (const auto& p : participants) out += p + "\n";
    for (const auto& b : body) out += b + "\n";
    return out;
}

// The last n steps of each process that was still inside a call at the end.
std::string tail(const Timeline& t, int n) {
    std::string out;
    for (long tid : t.order) {
        std::vector<const Step*> mine;
        for (const auto& s : t.steps)
            if (s.tid == tid) mine.push_back(&s);
        if (mine.empty() || !mine.back()->blocked) continue;
        out += t.label.at(tid) + " (pid " + std::to_string(tid) + "), its last steps:\n";
        for (std::size_t i = mine.size() > static_cast<std::size_t>(n) ? mine.size() - n : 0; i < mine.size(); ++i)
            out += "    " + describe(t, *mine[i]) + "\n";
    }
    return out;
}

std::string self_path() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return "pipetrace";
    buf[n] = '\0';
    return buf;
}

}  // namespace

int main(int argc, char* argv[]) {
    bool text = false, render = false;
    double timeout = 10;
    int tail_steps = 0;
    std::string record_to, stdin_data;
    int i = 1;
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") break;
        if (a == "--text") {
            text = true;
        } else if (a == "--render") {
            render = true;
        } else if (a == "--until-program-exits") {
            until_program_exits = true;
        } else if (a == "--record" && i + 1 < argc) {
            record_to = argv[++i];
        } else if (a == "--stdin" && i + 1 < argc) {
            stdin_data = argv[++i];
        } else if (a == "--tail" && i + 1 < argc) {
            tail_steps = std::atoi(argv[++i]);
            if (tail_steps <= 0) usage();
        } else if (a == "--timeout" && i + 1 < argc) {
            char* end;
            timeout = std::strtod(argv[++i], &end);
            if (*end != '\0' || timeout <= 0) usage();
        } else if (render && i == argc - 1) {
            break;
        } else {
            usage();
        }
    }
    if (render) {
        if (i != argc - 1) usage();
        Timeline t = parse(read_file(argv[i]));
        std::string out = tail_steps ? tail(t, tail_steps) : text ? transcript(t, "") : mermaid(t, "");
        std::fputs(out.c_str(), stdout);
        return 0;
    }
    if (i + 1 >= argc) usage();
    std::vector<std::string> program(argv + i + 1, argv + argc);
    if (!record_to.empty()) return record(record_to, program);

    std::string why;
    if (!ptrace_allowed(why)) {
        std::fprintf(stderr, "pipetrace: %s\n", why.c_str());
        return 3;
    }
    std::error_code no_tmp;  // then the current folder
    std::string log = (std::filesystem::temp_directory_path(no_tmp) / "pipetrace-XXXXXX").string();  // $TMPDIR
    int fd = mkstemp(log.data());
    if (fd == -1) {
        std::fprintf(stderr, "pipetrace: mkstemp: %s\n", std::strerror(errno));
        return 1;
    }
    close(fd);
    std::vector<std::string> wrapped{self_path(), "--record", log, "--"};
    wrapped.insert(wrapped.end(), program.begin(), program.end());
    pw::RunOptions opt;
    opt.timeout_seconds = timeout;
    opt.stdin_data = stdin_data;
    pw::RunResult r = pw::run(wrapped, opt);
    std::string events = read_file(log);
    unlink(log.c_str());
    Timeline t = parse(events);
    if (!t.unavailable.empty() && t.steps.empty()) {
        std::fprintf(stderr,
                     "pipetrace: ptrace is not allowed here: %s\n"
                     "  (a container's seccomp profile or Yama's ptrace_scope forbids it; in Docker, "
                     "run with --cap-add=SYS_PTRACE, or use pipemap, which needs no ptrace)\n",
                     t.unavailable.c_str());
        return 3;
    }
    std::string ending;
    if (r.timed_out)
        ending = "timed out after " + std::to_string(static_cast<int>(timeout)) +
                 " s: the sandbox killed every process still running";
    std::fputs((text ? transcript(t, ending) : mermaid(t, ending)).c_str(), stdout);
    return 0;
}
