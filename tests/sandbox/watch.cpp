// watch.cpp - sees a deadlock or a spin while the run goes on (see watch.hpp).
#include "watch.hpp"

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/ptrace.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>
#include <thread>

#include "process_table.hpp"

namespace pw {
namespace {

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<pid_t> threads_of(pid_t pid) {
    std::vector<pid_t> tids;
    if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/task").c_str())) {
        while (dirent* e = readdir(d)) {
            long tid = std::atol(e->d_name);
            if (tid > 0) tids.push_back(static_cast<pid_t>(tid));
        }
        closedir(d);
    }
    return tids;
}

std::string task_dir(pid_t pid, pid_t tid) {
    return "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid);
}

// A thread's state letter ('R', 'S', ...); 'X' when it is gone.
char thread_state(pid_t pid, pid_t tid) {
    return process_table::state_letter(task_dir(pid, tid));
}

// Page faults of one thread (minor and major): it touched memory it had not touched before.
unsigned long long page_faults(pid_t pid, pid_t tid) {
    auto f = process_table::stat_fields(task_dir(pid, tid));
    return f.size() > 9 ? std::strtoull(f[7].c_str(), nullptr, 10) + std::strtoull(f[9].c_str(), nullptr, 10) : 0;
}

// schedstat: "ns on a CPU, ns waiting for one, times it ran".
void read_schedstat(pid_t pid, pid_t tid, unsigned long long& on_cpu, unsigned long long& queued,
                    unsigned long long& runs) {
    std::istringstream in(process_table::read_file(task_dir(pid, tid) + "/schedstat"));
    on_cpu = queued = runs = 0;
    in >> on_cpu >> queued >> runs;
}

// Bytes the process has read and written, through any descriptor (0 when unreadable).
unsigned long long io_bytes(pid_t pid) {
    std::istringstream in(process_table::read_file("/proc/" + std::to_string(pid) + "/io"));
    std::string key;
    unsigned long long value = 0, sum = 0;
    while (in >> key >> value)
        if (key == "rchar:" || key == "wchar:") sum += value;
    return sum;
}

struct Syscall {
    long nr = -2;  // -2: unknown (the thread is gone), -1: running
    unsigned long long args[6] = {0, 0, 0, 0, 0, 0};
};

Syscall thread_syscall(pid_t pid, pid_t tid) {
    Syscall sc;
    process_table::read_syscall(task_dir(pid, tid), sc.nr, sc.args);
    return sc;
}

// Reads another process's memory (the pollfd array of its poll()); false when not allowed.
bool read_memory(pid_t pid, unsigned long long address, void* into, std::size_t size) {
#ifdef __linux__
    iovec local{into, size};
    iovec remote{reinterpret_cast<void*>(address), size};
    return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
#else
    (void)pid, (void)address, (void)into, (void)size;
    return false;
#endif
}

// The descriptors a poll()/ppoll() waits on; false when its array is not readable.
bool polled_fds(pid_t pid, const Syscall& sc, std::vector<int>& fds) {
    std::size_t n = static_cast<std::size_t>(sc.args[1]);
    if (n == 0 || n > 1024) return false;
    std::vector<pollfd> array(n);
    if (!read_memory(pid, sc.args[0], array.data(), n * sizeof(pollfd))) return false;
    for (const auto& p : array)
        if (p.fd >= 0) fds.push_back(p.fd);
    return true;
}

// Whether a wait() of process p returns at once: a child it waits for is already a zombie.
// Then p is about to run, whatever else sleeps (the kernel wakes it; the watch may still read
// the moment before). wait4(pid) and waitid(P_PID) wait for one child, the others for any.
bool wait_returns(const ProcessSnapshot& p, const Syscall& sc, const std::vector<ProcessSnapshot>& tree) {
    ProcessSnapshot as_call;
    as_call.syscall_nr = sc.nr;
    if (as_call.call() != Call::Wait) return false;
    long target = -1;  // any child
#ifdef __linux__
    if (sc.nr == SYS_wait4 && static_cast<int>(sc.args[0]) > 0) target = static_cast<int>(sc.args[0]);
    if (sc.nr == SYS_waitid && sc.args[0] == P_PID) target = static_cast<long>(sc.args[1]);
#endif
    for (const auto& q : tree)
        if (q.info.ppid == p.info.pid && q.info.state == 'Z' && (target < 0 || q.info.pid == target)) return true;
    return false;
}

// The ends one sleeping thread waits on, or false when its sleep is not one that only
// another process of the run could end (a sleep, a timeout that will fire, a signal).
bool waits_only_on_the_run(const ProcessSnapshot& p, const Syscall& sc, std::vector<const OpenChannel*>& ends) {
    ProcessSnapshot as_call;
    as_call.syscall_nr = sc.nr;
    switch (as_call.call()) {
        case Call::Read:
        case Call::Write: {
            const OpenChannel* ch = p.channel_at(static_cast<int>(sc.args[0]));
            if (!ch) return false;  // a terminal, a file: not an end of the run
            ends.push_back(ch);
            return true;
        }
        case Call::Poll: {
            std::vector<int> fds;
            bool readable = false;
#ifdef __linux__
            unsigned long long timeout_arg = 0;
#ifdef SYS_poll
            if (sc.nr == SYS_poll) timeout_arg = static_cast<int>(sc.args[2]) >= 0;
#endif
            if (sc.nr == SYS_ppoll) timeout_arg = sc.args[2] != 0;
#ifdef SYS_select
            if (sc.nr == SYS_select) timeout_arg = sc.args[4] != 0;
#endif
            if (sc.nr == SYS_pselect6) timeout_arg = sc.args[4] != 0;
            if (sc.nr == SYS_epoll_pwait) timeout_arg = static_cast<int>(sc.args[3]) >= 0;
#ifdef SYS_epoll_wait
            if (sc.nr == SYS_epoll_wait) timeout_arg = static_cast<int>(sc.args[3]) >= 0;
#endif
            if (timeout_arg) return false;  // its timeout will fire
            bool is_poll = sc.nr == SYS_ppoll;
#ifdef SYS_poll
            is_poll = is_poll || sc.nr == SYS_poll;
#endif
            if (is_poll) readable = polled_fds(p.info.pid, sc, fds);
#endif
            if (!readable) {  // select, epoll, or an array we may not read: every end it holds
                for (const auto& ch : p.channels) ends.push_back(&ch);
                return !p.channels.empty();
            }
            for (int fd : fds) {
                const OpenChannel* ch = p.channel_at(fd);
                if (!ch) return false;
                ends.push_back(ch);
            }
            return true;
        }
        case Call::Futex:  // join, a lock, a condition: only without a timeout
#ifdef __linux__
            return sc.args[3] == 0;
#else
            return false;
#endif
        case Call::Open:     // a FIFO's open waits for the other side
        case Call::Accept:   // (the test binary is quiet: nobody outside comes)
        case Call::Connect:  //
        case Call::Wait:     // its children are processes of the run
            return true;
        default:
            return false;  // sleep, a signal, something else: it may end by itself
    }
}

}  // namespace

// The test binary (outside the run) can still act only through another thread or
// another child of its own: a lone thread sits in the sandbox's feeding loop.
bool RunWatch::test_is_quiet() const {
    if (threads_of(test_pid_).size() != 1) return false;
    for (const auto& p : process_table::descendants(test_pid_, false))
        if (p.info.ppid == test_pid_ && p.info.pid != warden_) return false;
    return true;
}

bool RunWatch::all_asleep_on_the_run(std::string& fingerprint) const {
    auto tree = process_table::descendants(warden_, false);
    // A run whose processes have all exited (zombies the warden has yet to reap, say while
    // it hands a large output over) is ending, not deadlocked: someone must be asleep.
    bool someone_alive = false;
    for (const auto& p : tree) someone_alive = someone_alive || p.info.state != 'Z';
    if (!someone_alive) return false;
    // Cheap first: every thread of every live process asleep ('S').
    for (const auto& p : tree) {
        if (p.info.state == 'Z') continue;
        for (pid_t tid : threads_of(p.info.pid)) {
            char st = thread_state(p.info.pid, tid);
            if (st != 'S' && st != 'Z' && st != 'X') return false;
        }
    }
    if (!test_is_quiet()) return false;
    // What the test binary holds: an end it holds may still move.
    std::set<unsigned long long> test_holds;
    bool test_holds_socket = false;
    for (const auto& ch : process_table::one(test_pid_).channels) {
        test_holds.insert(ch.inode);
        test_holds_socket = test_holds_socket || ch.is_socket();
    }
    tree = process_table::descendants(warden_, true);
    std::ostringstream print;
    for (const auto& p : tree) {
        if (p.info.state == 'Z') continue;
        for (pid_t tid : threads_of(p.info.pid)) {
            Syscall sc = thread_syscall(p.info.pid, tid);
            std::vector<const OpenChannel*> ends;
            if (wait_returns(p, sc, tree) || !waits_only_on_the_run(p, sc, ends)) return false;
            for (const auto* ch : ends)
                if (test_holds.count(ch->inode) || (ch->is_socket() && test_holds_socket)) return false;
            unsigned long long on_cpu, queued, runs;
            read_schedstat(p.info.pid, tid, on_cpu, queued, runs);
            print << tid << ' ' << sc.nr << ' ' << sc.args[0] << ' ' << runs << ' ' << on_cpu << '\n';
        }
        print << p.info.pid << " io " << io_bytes(p.info.pid) << '\n';
    }
    fingerprint = print.str();
    return true;
}

// Whether, over the last `seconds` of the window or longer, the thread ran or waited to run
// at least kSpinCpuShare of the time, really ran kSpinRanShare of it and kSpinRanSeconds in
// all, never slept, touched no new memory, and its process moved no byte. Waiting to run
// counts, so that a spin is seen on a loaded machine too; having run and never slept is
// what tells a spin from a program starved of CPU (a client sending with send(), which
// /proc/PID/io does not count, sleeps whenever its socket is full; a process just forked
// may wait in the run queue for a while); the CPU time used tells it from a program that
// computes for a moment on a machine so busy that the moment lasts seconds.
bool RunWatch::spins_for(const std::deque<CpuSample>& window, double seconds) const {
    const CpuSample& last = window.back();
    for (auto it = window.rbegin(); it != window.rend(); ++it) {
        // Bytes, sleeps and faults only ever grow: once they differ, they differ further back too.
        if (it->io != last.io || it->sleeps != last.sleeps || it->faults != last.faults) return false;
        double span = last.t - it->t;
        if (span < seconds) continue;
        double demand = static_cast<double>(last.demand_ns - it->demand_ns) / 1e9;
        double ran = static_cast<double>(last.ran_ns - it->ran_ns) / 1e9;
        if (demand >= kSpinCpuShare * span && ran >= kSpinRanShare * span && ran >= kSpinRanSeconds) return true;
    }
    return false;
}

WatchVerdict RunWatch::step() {
    WatchVerdict v;
    if (!process_table::available()) return v;
    double now = now_seconds();

    // Spinning: a thread that ran or waited for a CPU kSpinCpuShare of the last
    // kSpinSeconds or more and used kSpinRanSeconds of CPU, without sleeping or touching
    // new memory, while its process moved no byte (spins_for).
    std::set<pid_t> alive;
    for (const auto& p : process_table::descendants(warden_, false)) {
        if (p.info.state == 'Z') continue;
        unsigned long long io = io_bytes(p.info.pid);
        for (pid_t tid : threads_of(p.info.pid)) {
            alive.insert(tid);
            CpuSample s;
            s.t = now;
            unsigned long long on_cpu, queued, runs;
            read_schedstat(p.info.pid, tid, on_cpu, queued, runs);
            s.demand_ns = on_cpu + queued;
            s.ran_ns = on_cpu;
            s.io = io;
            // How often the thread went to sleep of its own accord (blocked in a call, waited):
            // a thread that spins never does, however busy or starved of CPU it is.
            s.sleeps = process_table::status_field(task_dir(p.info.pid, tid), "voluntary_ctxt_switches");
            // And how much memory it touched for the first time: a program copying its input into
            // a buffer twice as big (0.55 s of CPU for 128 MiB, page faults and all) moves no
            // byte and never sleeps meanwhile, but it is working; a spin touches nothing new.
            s.faults = page_faults(p.info.pid, tid);
            auto& window = cpu_[tid];
            window.push_back(s);
            while (window.size() >= 2 && now - window[1].t >= kSpinWindowSeconds) window.pop_front();
            if (spins_for(window, kSpinSeconds)) {
                v.kind = WatchVerdict::Spin;
                v.pid = p.info.pid;
                v.tid = tid;
                return v;
            }
        }
    }
    for (auto it = cpu_.begin(); it != cpu_.end();) it = alive.count(it->first) ? std::next(it) : cpu_.erase(it);

    // Deadlocked: everyone asleep on ends only the run holds, and nothing moved.
    std::string fingerprint;
    if (!all_asleep_on_the_run(fingerprint)) {
        still_ = false;
        return v;
    }
    if (!still_ || fingerprint != stillness_.fingerprint) {
        still_ = true;
        stillness_.since = now;
        stillness_.fingerprint = fingerprint;
        return v;
    }
    if (now - stillness_.since >= kDeadlockConfirmSeconds) v.kind = WatchVerdict::Deadlock;
    return v;
}

// ---- naming a spin: watch a few of its system calls --------------------------------

namespace {

struct SeenCall {
    long nr = -1;
    long long ret = 0;
    std::string detail;  // for poll: "POLLHUP on fd 5" (what came back, not asked for)
    bool hup_without_in = false;
};

std::string revents_words(short revents) {
    std::string s;
    auto add = [&](short bit, const char* name) {
        if (revents & bit) s += (s.empty() ? "" : "|") + std::string(name);
    };
    add(POLLIN, "POLLIN");
    add(POLLOUT, "POLLOUT");
    add(POLLHUP, "POLLHUP");
    add(POLLERR, "POLLERR");
    add(POLLNVAL, "POLLNVAL");
    return s;
}

// What a poll() that returned at once found: which fds, with what; and whether one
// came back POLLHUP without POLLIN although POLLIN was asked for.
void describe_poll(pid_t tid, unsigned long long array, unsigned long long n, SeenCall& c) {
    if (n == 0 || n > 1024) return;
    std::vector<pollfd> fds(static_cast<std::size_t>(n));
    if (!read_memory(tid, array, fds.data(), fds.size() * sizeof(pollfd))) return;
    for (const auto& p : fds) {
        if (!p.revents) continue;
        if (!c.detail.empty()) c.detail += ", ";
        c.detail += revents_words(p.revents) + " on fd " + std::to_string(p.fd);
        if ((p.revents & POLLHUP) && !(p.revents & POLLIN) && (p.events & POLLIN)) c.hup_without_in = true;
    }
}

std::string in_words(const std::vector<SeenCall>& seen, bool still_running) {
    if (seen.empty())
        return still_running ? "it makes no system call at all: a loop in its own code never ends"
                             : "which call it repeats could not be seen here";
    std::map<long, int> by_nr;
    for (const auto& c : seen) ++by_nr[c.nr];
    long nr = std::max_element(by_nr.begin(), by_nr.end(), [](const auto& a, const auto& b) {
                  return a.second < b.second;
              })->first;
    // Of that call, the result seen most often.
    std::map<std::string, int> by_result;
    const SeenCall* example = nullptr;
    int best = 0;
    for (const auto& c : seen) {
        if (c.nr != nr) continue;
        int n = ++by_result[std::to_string(c.ret) + "/" + c.detail];
        if (n > best) best = n, example = &c;
    }
    std::string name = process_table::call_name(nr) + "()";
    if (process_table::call_of(nr) == Call::Poll && example->ret > 0) {
        std::string s = name + " returns at once, again and again, with " + example->detail;
        if (example->hup_without_in) s += ": end of file on a pipe is POLLHUP, not POLLIN";
        return s;
    }
    if (process_table::call_of(nr) == Call::Read && example->ret == 0)
        return name + " returns 0 at once, again and again: 0 is end of file, and every later read() returns 0 too";
    if (example->ret < 0)
        return name + " fails at once, again and again, with " + std::strerror(static_cast<int>(-example->ret));
    return name + " returns " + std::to_string(example->ret) + " at once, again and again";
}

}  // namespace

std::string RunWatch::probe_spin(pid_t pid, pid_t tid) {
#if defined(__linux__) && defined(PTRACE_GET_SYSCALL_INFO)
    if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACESYSGOOD)) != 0) return "";
    // A thread that exits while we trace it reports its exit to us first, and its parent
    // hears of it only once we have collected it: until then the parent's wait() sleeps on
    // (a client that has ended looks alive to the process that waits for it, and the run
    // looks deadlocked). So its exit is collected here, except for the warden's own child,
    // whose exit status the warden's own wait must see (it is only looked at: WNOWAIT).
    const bool own_child = process_table::one(pid).info.ppid == getpid();
    bool exited = false;
    // Waits (briefly) for the thread to stop for us; false when it sleeps or has exited.
    auto stopped = [tid, own_child, &exited](int& stop_signal) {
        for (int i = 0; i < 300 && !exited; ++i) {
            siginfo_t si;
            std::memset(&si, 0, sizeof si);
            if (waitid(P_PID, static_cast<id_t>(tid), &si, WSTOPPED | WNOHANG | __WALL) != 0) return false;
            if (si.si_pid == tid) return stop_signal = si.si_status, true;
            std::memset(&si, 0, sizeof si);
            int peek = own_child ? WNOWAIT : 0;
            if (waitid(P_PID, static_cast<id_t>(tid), &si, WEXITED | WNOHANG | __WALL | peek) == 0 && si.si_pid == tid)
                exited = true;
            else
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return false;
    };
    int stop_signal = 0;
    std::vector<SeenCall> seen;
    bool still_running = true, is_stopped = false;
    if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0 && stopped(stop_signal)) {
        is_stopped = true;
        long nr = -1;
        unsigned long long args[6] = {0, 0, 0, 0, 0, 0};
        for (int i = 0; i < 80 && seen.size() < 24; ++i) {
            if (ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr) != 0) break;
            if (!(is_stopped = stopped(stop_signal))) {
                still_running = thread_state(pid, tid) == 'R';
                break;
            }
            if (stop_signal != (SIGTRAP | 0x80)) continue;
            __ptrace_syscall_info info;
            std::memset(&info, 0, sizeof info);
            if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof info), &info) <= 0) break;
            if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
                nr = static_cast<long>(info.entry.nr);
                std::copy(info.entry.args, info.entry.args + 6, args);
            } else if (info.op == PTRACE_SYSCALL_INFO_EXIT && nr >= 0) {
                SeenCall c;
                c.nr = nr;
                c.ret = info.exit.rval;
                if (process_table::call_of(nr) == Call::Poll && c.ret > 0) describe_poll(tid, args[0], args[1], c);
                seen.push_back(c);
                nr = -1;
            }
        }
    }
    // Let go of it as it was: a thread that is not spinning after all must run on untouched.
    // Detaching needs it stopped: until it stops (or exits), ask again.
    for (int tries = 0; !exited && tries < 100; ++tries) {
        if (!is_stopped) {
            ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);  // fails once it has exited: stopped() sees that
            is_stopped = stopped(stop_signal);
        }
        if (is_stopped && ptrace(PTRACE_DETACH, tid, nullptr, nullptr) == 0) break;
        is_stopped = false;
    }
    return in_words(seen, still_running);
#else
    (void)pid, (void)tid;
    return "";
#endif
}

}  // namespace pw
