// process_table.cpp - reads /proc to describe a process tree and explain a hang.
#include "process_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>

namespace pw {
namespace process_table {

std::string read_file(const std::string& path) {
    std::string out;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[4096];
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n > 0) {
            out.append(buf, static_cast<std::size_t>(n));
        } else if (n == 0 || errno != EINTR) {
            break;
        }
    }
    close(fd);
    return out;
}

unsigned long long status_field(const std::string& dir, const std::string& key) {
    std::string s = "\n" + read_file(dir + "/status");
    auto at = s.find("\n" + key + ":");
    return at == std::string::npos ? 0 : std::strtoull(s.c_str() + at + key.size() + 2, nullptr, 10);
}

std::vector<std::string> stat_fields(const std::string& dir, std::string* comm) {
    // "pid (comm) state ppid ...": comm may hold spaces and parens, so its last ')' ends it.
    std::string s = read_file(dir + "/stat");
    std::vector<std::string> fields;
    auto open = s.find('('), close = s.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close < open) return fields;
    if (comm) *comm = s.substr(open + 1, close - open - 1);
    std::istringstream in(s.substr(close + 1));
    for (std::string f; in >> f;) fields.push_back(f);
    return fields;
}

char state_letter(const std::string& dir) {
    auto f = stat_fields(dir);
    return f.empty() ? 'X' : f[0][0];
}

void read_syscall(const std::string& dir, long& nr, unsigned long long args[6]) {
    std::string sc = read_file(dir + "/syscall");  // "NR ARG0 ... ARG5 SP PC", or "running"
    if (sc.rfind("running", 0) == 0) {
        nr = -1;
        return;
    }
    std::istringstream in(sc);
    long number;
    if (!(in >> number)) return;  // gone, or nothing to read: nr stays as it was
    nr = number;
    for (int i = 0; i < 6; ++i) {
        std::string arg;
        in >> arg;
        args[i] = std::strtoull(arg.c_str(), nullptr, 16);
    }
}

namespace {

bool read_stat(pid_t pid, ProcessInfo& info) {
    std::string command;
    auto f = stat_fields("/proc/" + std::to_string(pid), &command);
    if (f.size() < 2) return false;
    info.pid = pid;
    info.command = command;
    info.state = f[0][0];
    info.ppid = static_cast<pid_t>(std::atol(f[1].c_str()));
    return true;
}

// Whether a blocking call will return by itself: a poll, select or epoll with a
// timeout, a futex wait with a timeout (wait_for, sleep_for's cousins).
bool has_timeout(long nr, const unsigned long long args[6]) {
#ifdef __linux__
    switch (nr) {
#ifdef SYS_poll
        case SYS_poll:
            return static_cast<int>(args[2]) >= 0;
#endif
        case SYS_ppoll:
            return args[2] != 0;
#ifdef SYS_select
        case SYS_select:
#endif
        case SYS_pselect6:
            return args[4] != 0;
#ifdef SYS_epoll_wait
        case SYS_epoll_wait:
#endif
        case SYS_epoll_pwait:
            return static_cast<int>(args[3]) >= 0;
        case SYS_futex:
            return args[3] != 0;
        default:
            return false;
    }
#else
    (void)nr;
    (void)args;
    return false;
#endif
}

bool is_futex(long nr) {
#ifdef SYS_futex
    return nr == SYS_futex;
#else
    (void)nr;
    return false;
#endif
}

void read_details(ProcessSnapshot& p) {
    std::string dir = "/proc/" + std::to_string(p.info.pid);
    unsigned long long args[6] = {0, 0, 0, 0, 0, 0};
    read_syscall(dir, p.syscall_nr, args);
    // A main thread in join() waits on a futex; the thread it waits for says more.
    if (is_futex(p.syscall_nr)) {
        if (DIR* tasks = opendir((dir + "/task").c_str())) {
            while (dirent* t = readdir(tasks)) {
                long tid = std::atol(t->d_name);
                if (tid <= 0 || tid == p.info.pid) continue;
                long nr = -2;
                unsigned long long targs[6] = {0, 0, 0, 0, 0, 0};
                read_syscall(dir + "/task/" + t->d_name, nr, targs);
                if (nr >= 0 && !is_futex(nr)) {
                    p.syscall_nr = nr;
                    std::copy(targs, targs + 6, args);
                    p.thread = static_cast<pid_t>(tid);
                    break;
                }
            }
            closedir(tasks);
        }
    }
    p.syscall_arg0 = args[0];
    p.timed_wait = has_timeout(p.syscall_nr, args);
    p.wchan = read_file(dir + "/wchan");
    if (p.wchan == "0") p.wchan.clear();

    DIR* d = opendir((dir + "/fd").c_str());
    if (!d) return;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        int fd = std::atoi(e->d_name);
        std::string link_path = dir + "/fd/" + e->d_name;
        char target[512];
        ssize_t n = readlink(link_path.c_str(), target, sizeof target - 1);
        if (n < 0) continue;
        target[n] = '\0';
        struct stat st;
        if (stat(link_path.c_str(), &st) != 0) continue;
        if (!S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode)) continue;
        OpenChannel ch;
        ch.fd = fd;
        ch.inode = st.st_ino;
        std::string t = target;
        if (t.rfind("pipe:", 0) == 0)
            ch.object = "pipe " + std::to_string(st.st_ino);
        else if (t.rfind("socket:", 0) == 0)
            ch.object = "socket " + std::to_string(st.st_ino);
        else
            ch.object = "FIFO " + t;
        // fdinfo's "flags:" is octal; the access mode is in its low two bits.
        std::string info = read_file(dir + "/fdinfo/" + e->d_name);
        auto at = info.find("flags:");
        int mode = O_RDWR;
        if (at != std::string::npos)
            mode = static_cast<int>(std::strtol(info.c_str() + at + 6, nullptr, 8)) & O_ACCMODE;
        ch.readable = mode == O_RDONLY || mode == O_RDWR;
        ch.writable = mode == O_WRONLY || mode == O_RDWR;
        p.channels.push_back(ch);
    }
    closedir(d);
}

std::string who(const ProcessSnapshot& p, pid_t main_pid) {
    std::string s = "pid " + std::to_string(p.info.pid) + " (" + p.info.command;
    if (p.info.pid == main_pid)
        s += ", the program you ran";
    else
        s += ", child of " + std::to_string(p.info.ppid);
    return s + ")";
}

// "the program you ran (pid 812, fd 4), the same process (fd 5)"
std::string holders(const std::vector<ProcessSnapshot>& tree, const ProcessSnapshot& self, const OpenChannel& ch,
                    pid_t main_pid) {
    std::string out;
    for (const auto& h : ch.other_end) {
        if (!out.empty()) out += ", ";
        if (h.pid == self.info.pid) {
            out += "the same process (fd " + std::to_string(h.fd) + ")";
            continue;
        }
        for (const auto& p : tree)
            if (p.info.pid == h.pid) out += who(p, main_pid) + " at fd " + std::to_string(h.fd);
    }
    return out;
}

std::string explain_one(const std::vector<ProcessSnapshot>& tree, const ProcessSnapshot& p, pid_t main_pid) {
    std::string me = who(p, main_pid);
    if (p.thread) me += ", in its thread " + std::to_string(p.thread) + ",";
    if (p.info.state == 'Z') {
        // A traced zombie is seen only by its tracer until the tracer collects it: then its
        // parent's wait() sleeps on beside it, and the parent is not to blame.
        auto tracer = status_field("/proc/" + std::to_string(p.info.pid), "TracerPid");
        if (tracer > 0)
            return me + " has exited, but pid " + std::to_string(tracer) +
                   " traces it and has not collected its exit, so its parent cannot wait for it yet.";
        return me + " has exited, but its parent never waited for it (a zombie).";
    }
    if (p.info.state == 'T' || p.info.state == 't') return me + " is stopped.";
    if (p.syscall_nr == -1) return me + " is running, not blocked: a busy loop that never ends?";
    if (p.syscall_nr == -2) {
        if (!p.wchan.empty()) return me + " sleeps in the kernel in " + p.wchan + ".";
        return me + " is blocked (what in is not readable here).";
    }
    const OpenChannel* ch = p.waited_channel();
    switch (p.call()) {
        case Call::Read: {
            if (!ch) return me + " waits in read() on fd " + std::to_string(p.syscall_arg0) + ".";
            if (ch->is_socket())  // a socket's peer has its own inode: no holder list
                return me + " waits in read() on " + ch->object + " (its fd " + std::to_string(ch->fd) +
                       "): the peer has sent nothing more and has not closed its end.";
            std::string w = holders(tree, p, *ch, main_pid);
            std::string s = me + " waits in read() on " + ch->object + " (its fd " + std::to_string(ch->fd) + ")";
            if (w.empty())
                return s +
                       "; no process of the program holds its write end, so the writer is outside (the test's stdin?).";
            return s + ", whose write end is still open in: " + w +
                   ". read() returns EOF only when every write end is closed.";
        }
        case Call::Write: {
            if (!ch) return me + " waits in write() on fd " + std::to_string(p.syscall_arg0) + ".";
            if (ch->is_socket())
                return me + " waits in write() on " + ch->object + " (its fd " + std::to_string(ch->fd) +
                       "): the socket's buffers are full because the peer is not reading.";
            std::string r = holders(tree, p, *ch, main_pid);
            std::string s = me + " waits in write() on " + ch->object + " (its fd " + std::to_string(ch->fd) +
                            "), which is full: nobody is reading it";
            if (ch->fd == 1) s += " (that is its stdout)";
            if (r.empty()) return s + ".";
            return s + ". Its read end is open in: " + r + ".";
        }
        case Call::Wait: {
            std::string kids;
            for (const auto& k : tree)
                if (k.info.ppid == p.info.pid) kids += (kids.empty() ? "" : ", ") + std::to_string(k.info.pid);
            return me + " waits for a child to exit (wait/waitpid)" +
                   (kids.empty() ? std::string(".") : "; its children still there: " + kids + ".");
        }
        case Call::Open:
            return me + " waits in open(): opening a FIFO blocks until the other side opens it too.";
        case Call::Poll:
            return me + " waits in poll()/select() for one of its descriptors" +
                   (p.timed_wait ? std::string(", with a timeout.") : std::string("."));
        case Call::Sleep:
            return me + " is sleeping (sleep/nanosleep).";
        case Call::Signal:
            return me + " waits for a signal (pause/sigsuspend).";
        case Call::Futex:
            return me + " waits on a lock or another thread (futex).";
        case Call::Accept:
            return me + " waits in accept() for a connection.";
        case Call::Connect:
            return me + " waits in connect() for the other side to accept.";
        case Call::Running:
        case Call::Unknown:
        case Call::Other:
            break;
    }
    return me + " is blocked in system call " + std::to_string(p.syscall_nr) +
           (p.wchan.empty() ? "" : " (" + p.wchan + ")") + ".";
}

}  // namespace

bool available() {
#ifdef __linux__
    return access("/proc/self/stat", R_OK) == 0;
#else
    return false;
#endif
}

ProcessSnapshot one(pid_t pid) {
    ProcessSnapshot p;
    if (available() && read_stat(pid, p.info) && p.info.state != 'Z') read_details(p);
    return p;
}

namespace {

// Whether this kernel lists each thread's children in /proc/PID/task/TID/children (Linux
// 3.5 and later, where CONFIG_PROC_CHILDREN is set, as in the usual distributions).
bool has_children_files() {
    static const bool has = [] {
        std::string self = std::to_string(getpid());
        return access(("/proc/" + self + "/task/" + self + "/children").c_str(), R_OK) == 0;
    }();
    return has;
}

// The children of pid (its threads' children too), by their own /proc files.
std::vector<ProcessInfo> children_of(pid_t pid) {
    std::vector<ProcessInfo> kids;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* tasks = opendir(dir.c_str());
    if (!tasks) return kids;  // it has just gone
    while (dirent* t = readdir(tasks)) {
        if (t->d_name[0] == '.') continue;
        std::istringstream list(read_file(dir + "/" + t->d_name + "/children"));
        long kid;
        ProcessInfo info;
        while (list >> kid)
            if (read_stat(static_cast<pid_t>(kid), info) && info.ppid == pid) kids.push_back(info);
    }
    closedir(tasks);
    return kids;
}

// Every process's parent, from a scan of all of /proc: where there are no children files.
std::map<pid_t, std::vector<ProcessInfo>> all_children() {
    std::map<pid_t, std::vector<ProcessInfo>> children;
    DIR* d = opendir("/proc");
    if (!d) return children;
    while (dirent* e = readdir(d)) {
        char* end;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*end != '\0' || pid <= 0) continue;
        ProcessInfo info;
        if (read_stat(static_cast<pid_t>(pid), info)) children[info.ppid].push_back(info);
    }
    closedir(d);
    return children;
}

}  // namespace

// The warden calls this every few milliseconds: where the kernel can say, it reads only the
// run's own processes, not every process of the machine (a busy CI runner has hundreds).
std::vector<ProcessSnapshot> descendants(pid_t root, bool with_details) {
    std::vector<ProcessSnapshot> out;
    if (!available()) return out;
    std::map<pid_t, std::vector<ProcessInfo>> scanned;
    if (!has_children_files()) scanned = all_children();
    std::vector<pid_t> todo{root};
    std::set<pid_t> seen{root};
    for (std::size_t i = 0; i < todo.size(); ++i) {
        for (const auto& c : has_children_files() ? children_of(todo[i]) : scanned[todo[i]]) {
            if (!seen.insert(c.pid).second) continue;
            ProcessSnapshot p;
            p.info = c;
            if (with_details && c.state != 'Z') read_details(p);
            out.push_back(p);
            todo.push_back(c.pid);
        }
    }
    if (with_details) link_ends(out);
    return out;
}

std::string serialize(const std::vector<ProcessSnapshot>& tree) {
    std::ostringstream out;
    for (const auto& p : tree) {
        out << "proc " << p.info.pid << ' ' << p.info.ppid << ' ' << p.info.state << ' ' << p.syscall_nr << ' '
            << p.syscall_arg0 << ' ' << p.thread << ' ' << p.timed_wait << ' ' << p.info.command << '\n';
        for (const auto& ch : p.channels)
            out << "chan " << p.info.pid << ' ' << ch.fd << ' ' << ch.readable << ' ' << ch.writable << ' ' << ch.inode
                << ' ' << ch.object << '\n';
    }
    return out.str();
}

std::vector<ProcessSnapshot> deserialize(const std::string& text) {
    std::vector<ProcessSnapshot> tree;
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream in(line);
        std::string kind;
        in >> kind;
        if (kind == "proc") {
            ProcessSnapshot p;
            in >> p.info.pid >> p.info.ppid >> p.info.state >> p.syscall_nr >> p.syscall_arg0 >> p.thread >>
                p.timed_wait;
            std::getline(in >> std::ws, p.info.command);
            tree.push_back(p);
        } else if (kind == "chan" && !tree.empty()) {
            OpenChannel ch;
            pid_t pid;
            in >> pid >> ch.fd >> ch.readable >> ch.writable >> ch.inode;
            std::getline(in >> std::ws, ch.object);
            for (auto& p : tree)
                if (p.info.pid == pid) p.channels.push_back(ch);
        }
    }
    link_ends(tree);
    return tree;
}

void link_ends(std::vector<ProcessSnapshot>& tree) {
    for (auto& p : tree) {
        for (auto& ch : p.channels) {
            ch.other_end.clear();
            if (ch.is_socket()) continue;
            for (const auto& q : tree) {
                for (const auto& other : q.channels) {
                    if (other.inode != ch.inode || (q.info.pid == p.info.pid && other.fd == ch.fd)) continue;
                    bool opposite = (ch.readable && other.writable) || (ch.writable && other.readable);
                    if (opposite) ch.other_end.push_back({q.info.pid, other.fd});
                }
            }
        }
    }
}

Call call_of(long nr) {
#ifndef __linux__
    (void)nr;
    return Call::Other;
#else
    if (nr == -1) return Call::Running;
    if (nr < 0) return Call::Unknown;
    switch (nr) {
        case SYS_read:
        case SYS_readv:
        case SYS_pread64:
        case SYS_recvfrom:
        case SYS_recvmsg:
            return Call::Read;
        case SYS_write:
        case SYS_writev:
        case SYS_pwrite64:
        case SYS_sendto:
        case SYS_sendmsg:
            return Call::Write;
        case SYS_wait4:
        case SYS_waitid:
            return Call::Wait;
        case SYS_openat:
#ifdef SYS_open
        case SYS_open:
#endif
            return Call::Open;
        case SYS_ppoll:
        case SYS_pselect6:
        case SYS_epoll_pwait:
#ifdef SYS_poll
        case SYS_poll:
#endif
#ifdef SYS_select
        case SYS_select:
#endif
#ifdef SYS_epoll_wait
        case SYS_epoll_wait:
#endif
            return Call::Poll;
        case SYS_nanosleep:
        case SYS_clock_nanosleep:
            return Call::Sleep;
        case SYS_rt_sigsuspend:
        case SYS_rt_sigtimedwait:
#ifdef SYS_pause
        case SYS_pause:
#endif
            return Call::Signal;
        case SYS_futex:
            return Call::Futex;
        case SYS_accept:
        case SYS_accept4:
            return Call::Accept;
        case SYS_connect:
            return Call::Connect;
        default:
            return Call::Other;
    }
#endif
}

std::string call_name(long nr) {
#ifdef __linux__
    static const std::map<long, const char*> names = {
        {SYS_read, "read"},
        {SYS_write, "write"},
        {SYS_readv, "readv"},
        {SYS_writev, "writev"},
        {SYS_ppoll, "ppoll"},
        {SYS_wait4, "wait4"},
        {SYS_waitid, "waitid"},
        {SYS_openat, "openat"},
        {SYS_close, "close"},
        {SYS_accept, "accept"},
        {SYS_accept4, "accept4"},
        {SYS_connect, "connect"},
        {SYS_futex, "futex"},
        {SYS_recvfrom, "recv"},
        {SYS_sendto, "send"},
        {SYS_pselect6, "pselect"},
        {SYS_dup2, "dup2"},
        {SYS_lseek, "lseek"},
        {SYS_epoll_pwait, "epoll_wait"},
#ifdef SYS_poll
        {SYS_poll, "poll"},
#endif
#ifdef SYS_select
        {SYS_select, "select"},
#endif
#ifdef SYS_epoll_wait
        {SYS_epoll_wait, "epoll_wait"},
#endif
    };
    auto it = names.find(nr);
    if (it != names.end()) return it->second;
#endif
    return "system call " + std::to_string(nr);
}

std::string explain_hang(const std::vector<ProcessSnapshot>& tree, pid_t main_pid) {
    std::string out;
    for (const auto& p : tree) out += "  - " + explain_one(tree, p, main_pid) + "\n";
    return out;
}

}  // namespace process_table

Call ProcessSnapshot::call() const {
    return process_table::call_of(syscall_nr);
}

const OpenChannel* ProcessSnapshot::channel_at(int fd) const {
    for (const auto& ch : channels)
        if (ch.fd == fd) return &ch;
    return nullptr;
}

const OpenChannel* ProcessSnapshot::waited_channel() const {
    Call c = call();
    if (c != Call::Read && c != Call::Write) return nullptr;
    return channel_at(static_cast<int>(syscall_arg0));
}

bool ProcessSnapshot::waits_on_its_own_end() const {
    const OpenChannel* end = waited_channel();
    if (!end) return false;
    for (const auto& h : end->other_end)
        if (h.pid == info.pid) return true;
    return false;
}

}  // namespace pw
