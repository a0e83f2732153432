// hold.cpp - hold a fork()ed child until its parent commits itself (see hold.hpp).
#include "hold.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "process_table.hpp"

#ifdef __linux__
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#endif

namespace pw {

namespace {

// How why_not begins when ptrace is refused; ptrace_refused() looks for it.
const char kPtraceRefused[] = "ptrace is not allowed here";

template <std::size_t N>
void say(char (&to)[N], const std::string& what) {
    std::snprintf(to, N, "%s", what.c_str());
}

#ifdef __linux__

enum class Look { Hold, Release, Exited };

// True when parent has a child other than held that has not ended yet.
bool others_running(pid_t parent, pid_t held) {
    for (const auto& p : process_table::descendants(parent, false))
        if (p.info.ppid == parent && p.info.pid != held && p.info.state != 'Z' && p.info.state != 'X') return true;
    return false;
}

// What the parent does now, and whether that lets the held child go (see hold.hpp).
// `call` is set to the call it sleeps in.
Look look(pid_t parent, pid_t held, std::string& call) {
    std::string dir = "/proc/" + std::to_string(parent);
    char state = process_table::state_letter(dir);
    if (state == 'Z' || state == 'X') return Look::Exited;
    if (state != 'S') return Look::Hold;  // running, or between two calls
    long nr = -2;
    unsigned long long arg[6] = {0, 0, 0, 0, 0, 0};
    process_table::read_syscall(dir, nr, arg);
    if (nr == -2) {
        call = "a call /proc does not show";
        return Look::Release;  // cannot tell: never keep a correct program waiting
    }
    if (nr == -1) return Look::Hold;  // it woke up meanwhile
    call = process_table::call_name(nr);
    if (nr == SYS_nanosleep || nr == SYS_clock_nanosleep) return Look::Hold;  // a pause promises nothing
    auto waits_for = [&](bool any, pid_t pid) {
        if (!any) return pid == held ? Look::Release : Look::Hold;
        return others_running(parent, held) ? Look::Hold : Look::Release;
    };
    if (nr == SYS_wait4) {
        pid_t target = static_cast<pid_t>(static_cast<long long>(arg[0]));
        return waits_for(target <= 0, target);
    }
    if (nr == SYS_waitid) return waits_for(arg[0] != P_PID, static_cast<pid_t>(arg[1]));
    return Look::Release;
}

bool is_wait(const std::string& call) {
    return call == "wait4" || call == "waitid";
}

#endif

}  // namespace

const char* release_words(HeldRun::Release r) {
    switch (r) {
        case HeldRun::Release::NotHeld:
            return "nothing was held";
        case HeldRun::Release::Waited:
            return "the parent waited for its child";
        case HeldRun::Release::Blocked:
            return "the parent blocked in a system call";
        case HeldRun::Release::ParentExited:
            return "the parent exited while its child was held";
    }
    return "?";
}

bool ptrace_refused(const HeldRun& h) {
    return !h.held && h.program != 0 && std::string(h.why_not).rfind(kPtraceRefused, 0) == 0;
}

std::string nothing_held(const HeldRun& h, const std::string& what_it_forks) {
    return std::string("there was no child to hold (") + h.why_not + "): " + what_it_forks;
}

Check held_check(const RunResult& r, const HeldRun& h, const std::string& what_was_held) {
    return Check(r)
        .that(h.held, what_was_held + " held right after fork()", h.held ? "held" : h.why_not)
        .that(h.release != HeldRun::Release::ParentExited, "the parent waiting or blocking before it exits",
              release_words(h.release));
}

std::string RaceCause::text() const {
    return "a race: " + program_ + " " + ended_ + " before " + held_ +
           " had even run. The test held it right after fork() and would have let it go as soon as " + when_ + "; " +
           instead_ + " `make grade SHAKE=6` shows the same race now and then.";
}

void hold_first_child(const std::function<int()>& program, HeldRun& h) {
    h = HeldRun();
#ifndef __linux__
    say(h.why_not, "holding a child needs Linux (ptrace and /proc)");
    h.status = program() << 8;
    return;
#else
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);  // a child its parent leaves behind comes to us
    std::fflush(nullptr);                       // nothing buffered is copied into the child
    pid_t pid = fork();
    if (pid == -1) {
        say(h.why_not, std::string("fork: ") + std::strerror(errno));
        return;
    }
    if (pid == 0) {
        ptrace(PTRACE_TRACEME, 0, 0, 0);  // when not allowed, the stop below is an ordinary one
        raise(SIGSTOP);                   // wait here until the tracer has set its options
        _exit(program());
    }
    h.program = pid;
    int st = 0;
    if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st)) {
        say(h.why_not, "the program did not start");
        h.status = st;
        return;
    }
    if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEFORK | PTRACE_O_EXITKILL) == -1) {
        say(h.why_not, std::string(kPtraceRefused) + " (" + std::strerror(errno) + ")");
        kill(pid, SIGCONT);  // run it untraced, so that the test still sees what it does
        waitpid(pid, &h.status, 0);
        return;
    }
    ptrace(PTRACE_CONT, pid, 0, 0);
    for (;;) {  // until the first fork()
        if (waitpid(pid, &st, __WALL) == -1) {
            if (errno == EINTR) continue;
            say(h.why_not, std::string("waitpid: ") + std::strerror(errno));
            return;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            h.status = st;
            say(h.why_not, "the program never forked");
            return;
        }
        if (st >> 16 == PTRACE_EVENT_FORK) {
            unsigned long child = 0;
            ptrace(PTRACE_GETEVENTMSG, pid, 0, &child);
            h.child = static_cast<pid_t>(child);
            ptrace(PTRACE_DETACH, pid, 0, 0);  // the parent runs on, untraced
            break;
        }
        int sig = WSTOPSIG(st);
        ptrace(PTRACE_CONT, pid, 0, sig == SIGTRAP ? 0 : sig);  // SIGTRAP: its exec; others are its own
    }
    // The new child is traced too, and stops with SIGSTOP before its first instruction.
    while (waitpid(h.child, &st, __WALL) == -1 && errno == EINTR) {
    }
    h.held = WIFSTOPPED(st);
    if (!h.held) say(h.why_not, "the child ended before it could be held");
    std::string call;
    while (h.held) {
        Look l = look(pid, h.child, call);
        if (l == Look::Exited) h.release = HeldRun::Release::ParentExited;
        if (l == Look::Release) h.release = is_wait(call) ? HeldRun::Release::Waited : HeldRun::Release::Blocked;
        if (l != Look::Hold) break;
        usleep(1000);
    }
    if (h.release != HeldRun::Release::ParentExited) say(h.released_in, call);
    if (h.held) ptrace(PTRACE_DETACH, h.child, 0, 0);  // it runs on from just after fork()
    while (waitpid(pid, &h.status, 0) == -1 && errno == EINTR) {
    }
    if (h.release == HeldRun::Release::ParentExited)  // left behind, so now our child
        while (waitpid(h.child, nullptr, 0) == -1 && errno == EINTR) {
        }
    while (waitpid(-1, nullptr, WNOHANG) > 0) {  // any other orphan that has ended
    }
#endif
}

RunResult run_holding_first_child(const std::vector<std::string>& argv, HeldRun& held, const RunOptions& options) {
    // The run happens in a forked child: what it found comes back through shared memory.
    void* page = mmap(nullptr, sizeof(HeldRun), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        held = HeldRun();
        say(held.why_not, std::string("mmap: ") + std::strerror(errno));
        RunResult r;
        r.sandbox_note = held.why_not;
        return r;
    }
    HeldRun* shared = new (page) HeldRun();
    RunResult r = run_function(
        [&]() -> int {
            auto program = [&]() -> int {
                std::vector<char*> args;
                for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
                args.push_back(nullptr);
                execv(args[0], args.data());
                std::fprintf(stderr, "execv %s: %s\n", args[0], std::strerror(errno));
                return 127;
            };
            hold_first_child(program, *shared);  // into the shared page as it goes
            int st = shared->status;
            return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
        },
        options);
    held = *shared;
    munmap(page, sizeof(HeldRun));
    r.argv = argv;  // what ran, for the reproduce line
    return r;
}

}  // namespace pw
