// sandbox.cpp - the warden process that runs learner code, and the test-side loop that
// feeds it stdin, collects its output and reads the warden's report.
#include "sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "process_table.hpp"
#include "watch.hpp"

extern char** environ;

namespace pw {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

void sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// A pipe whose ends are not inherited across exec (the learner's program gets only
// the ends we dup2 onto 0, 1 and 2).
void make_pipe(int fds[2]) {
    if (pipe(fds) != 0) {
        std::perror("sandbox: pipe");
        std::abort();  // the test machine itself is out of descriptors: nothing sensible to do
    }
    for (int i = 0; i < 2; ++i) fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

void close_fds_from(int lowest) {
#if defined(__linux__) && defined(SYS_close_range)
    if (syscall(SYS_close_range, lowest, ~0U, 0) == 0) return;
#endif
    struct rlimit rl;
    long max =
        (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) ? static_cast<long>(rl.rlim_cur) : 4096;
    if (max > 65536) max = 65536;
    for (long fd = lowest; fd < max; ++fd) close(static_cast<int>(fd));
}

// write() all of buf, or give up quietly: used only for the warden's report.
void write_all_quiet(int fd, const std::string& buf) {
    std::size_t done = 0;
    while (done < buf.size()) {
        ssize_t n = write(fd, buf.data() + done, buf.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

// ---- the warden's report: "key value" lines; text fields are length-prefixed ----

void put_text(std::string& rep, const char* key, const std::string& text) {
    rep += std::string(key) + " " + std::to_string(text.size()) + "\n" + text;
}

struct Pipes {
    int in[2], out[2], err[2], report[2];
};

// What the learner's process runs: exec argv, or call body.
struct Payload {
    const std::vector<std::string>* argv = nullptr;
    const std::function<int()>* body = nullptr;
};

[[noreturn]] void become_learner(const Pipes& p, const Payload& what, const RunOptions& opt) {
    setpgid(0, 0);  // own process group: the warden can signal the whole group
    // Undo what the test binary changed or inherited that the program would keep: the
    // signal mask, every ignored signal, and SIGPIPE's disposition (a function run without
    // exec keeps handlers too). exec keeps an ignored signal ignored: a grader started under
    // nohup would run every program with SIGHUP ignored, and `kill -s HUP` would end nothing.
    signal(SIGPIPE, SIG_DFL);
    for (int sig = 1; sig < NSIG; ++sig) {
        struct sigaction old;
        if (sigaction(sig, nullptr, &old) == 0 && old.sa_handler == SIG_IGN) signal(sig, SIG_DFL);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);

    if (dup2(p.in[0], 0) < 0 || dup2(p.out[1], 1) < 0 || dup2(p.err[1], 2) < 0) _exit(126);
    if (what.argv) {
        close_fds_from(3);  // the program sees exactly 0, 1 and 2
    } else {
        for (int fd : {p.in[0], p.out[1], p.err[1], p.report[1]})
            if (fd > 2) close(fd);
    }
    if (opt.max_open_files >= 0) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = static_cast<rlim_t>(opt.max_open_files);
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char cwd_buf[4096];
    std::string test_cwd = getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : "";
    if (!opt.working_dir.empty() && chdir(opt.working_dir.c_str()) != 0) {
        dprintf(2, "sandbox: chdir %s: %s\n", opt.working_dir.c_str(), std::strerror(errno));
        _exit(126);
    }
    for (const auto& kv : opt.extra_env) putenv(const_cast<char*>(kv.c_str()));

    if (what.body) {
        int rc;
        try {
            rc = (*what.body)();
        } catch (const std::exception& e) {
            dprintf(2, "uncaught exception: %s\n", e.what());
            rc = 70;
        } catch (...) {
            dprintf(2, "uncaught exception\n");
            rc = 70;
        }
        std::cout.flush();
        std::cerr.flush();
        std::fflush(nullptr);
        _exit(rc);
    }
    std::vector<std::string> argv = *what.argv;
    // A relative path such as build/exercises/.../bin/prog names a file from the test's
    // folder; with working_dir set it must still find it.
    if (!opt.working_dir.empty() && argv[0].find('/') != std::string::npos && argv[0][0] != '/' && !test_cwd.empty())
        argv[0] = test_cwd + "/" + argv[0];
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    dprintf(2, "sandbox: cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
}

// Kills every process below the warden and reaps them all; returns the main
// program's wait status (if it had not been reaped yet).
void kill_and_reap_tree(pid_t main_pid, int& main_status, bool& main_reaped, long& main_rss_kb) {
    killpg(main_pid, SIGKILL);
    auto t0 = Clock::now();
    for (;;) {
        for (const auto& p : process_table::descendants(getpid(), false))
            if (p.info.state != 'Z') kill(p.info.pid, SIGKILL);
        int st;
        pid_t w;
        struct rusage ru;
        while ((w = wait4(-1, &st, WNOHANG, &ru)) > 0) {
            if (w == main_pid) {
                main_status = st;
                main_reaped = true;
                main_rss_kb = ru.ru_maxrss;  // KiB on Linux (bytes on macOS)
            }
        }
        if (w < 0 && errno == ECHILD) return;
        if (!process_table::available()) {
            // No /proc: block for the direct children (the group was killed above).
            while ((w = waitpid(-1, &st, 0)) > 0)
                if (w == main_pid) main_status = st, main_reaped = true;
            return;
        }
        if (seconds_since(t0) > 20) return;  // something unkillable: report what we have
        sleep_ms(1);
    }
}

// Waits for the program to end without reaping it (WNOWAIT), and reaps nothing else
// meanwhile: when it exits, its children are handed to us, and a zombie among them
// must still be there to be seen. (Linux reparents them before the program itself
// becomes a zombie, so reaping "orphans" here could hide a child it never waited for.)
// Meanwhile the watch looks for a deadlock or a spin, which end the wait at once.
Ending wait_for_the_end(pid_t main_pid, const RunOptions& opt, Clock::time_point t0, pid_t test_pid,
                        WatchVerdict& verdict, std::string& snapshot) {
    RunWatch watch(getpid(), test_pid);
    auto next_look = t0;
    for (;;) {
        if (opt.snapshot_after_seconds >= 0 && snapshot.empty() && seconds_since(t0) >= opt.snapshot_after_seconds)
            snapshot = process_table::serialize(process_table::descendants(getpid(), true)) + "end\n";
        siginfo_t si;
        std::memset(&si, 0, sizeof si);
        if (waitid(P_PID, static_cast<id_t>(main_pid), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0)
            return Ending::Exited;
        if (seconds_since(t0) >= opt.timeout_seconds) return Ending::TimedOut;
        if (Clock::now() >= next_look) {
            next_look = Clock::now() + std::chrono::milliseconds(kWatchEveryMs);
            verdict = watch.step();
            if (verdict.kind == WatchVerdict::Deadlock) return Ending::Deadlocked;
            if (verdict.kind == WatchVerdict::Spin) return Ending::Spinning;
        }
        sleep_ms(2);
    }
}

[[noreturn]] void be_warden(const Pipes& p, const Payload& what, const RunOptions& opt, pid_t test_pid) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // if the test dies, so does the warden
    prctl(PR_SET_CHILD_SUBREAPER, 1);  // orphans of the program come back to us
#endif
    if (getppid() != test_pid) _exit(1);
    close(p.in[1]);
    close(p.out[0]);
    close(p.err[0]);
    close(p.report[0]);
    signal(SIGPIPE, SIG_IGN);

    auto t0 = Clock::now();
    pid_t main_pid = fork();
    if (main_pid < 0) {
        std::string rep;
        put_text(rep, "note", std::string("sandbox: fork: ") + std::strerror(errno));
        write_all_quiet(p.report[1], rep);
        _exit(1);
    }
    if (main_pid == 0) become_learner(p, what, opt);
    setpgid(main_pid, main_pid);  // also here, so that killpg works whoever runs first
    close(p.in[0]);
    close(p.out[1]);
    close(p.err[1]);

    WatchVerdict verdict;
    std::string snapshot;
    Ending ending = wait_for_the_end(main_pid, opt, t0, test_pid, verdict, snapshot);
    bool stuck = ending != Ending::Exited;

    std::string rep;
    auto tree = process_table::descendants(getpid(), stuck);
    if (!stuck) {
        for (const auto& q : tree) {
            if (q.info.pid == main_pid) continue;
            rep += "left " + std::to_string(q.info.pid) + " " + std::to_string(q.info.ppid) + " " + q.info.state + " " +
                   q.info.command + "\n";
        }
    }
    if (stuck) put_text(rep, "stuck", process_table::serialize(tree));
    if (stuck && opt.snapshot_after_seconds >= 0 && snapshot.empty())  // ended before the snapshot was due
        snapshot = process_table::serialize(tree) + "end\n";
    if (ending == Ending::Spinning) {
        rep += "spinpid " + std::to_string(verdict.pid) + "\n";
        put_text(rep, "spin", RunWatch::probe_spin(verdict.pid, verdict.tid));
    }
    if (!snapshot.empty()) put_text(rep, "snapshot", snapshot);
    if (!process_table::available())
        put_text(rep, "note", "no /proc here: left-behind processes and hang explanations are not reported");

    int status = 0;
    bool reaped = false;
    long rss_kb = -1;
    kill_and_reap_tree(main_pid, status, reaped, rss_kb);
    rep += "rss " + std::to_string(rss_kb) + "\n";
    rep += "seconds " + std::to_string(seconds_since(t0)) + "\n";
    rep += "pid " + std::to_string(main_pid) + "\n";
    if (stuck)
        rep += std::string("timedout ") +
               (ending == Ending::Deadlocked ? "deadlock"
                : ending == Ending::Spinning ? "spin"
                                             : "timeout") +
               "\n";
    else if (reaped && WIFEXITED(status))
        rep += "exit " + std::to_string(WEXITSTATUS(status)) + "\n";
    else if (reaped && WIFSIGNALED(status))
        rep += "signal " + std::to_string(WTERMSIG(status)) + "\n";
    write_all_quiet(p.report[1], rep);
    _exit(0);
}

// The English for a run that did not end by itself, written from its data.
std::string stuck_in_words(const RunResult& r) {
    if (r.stuck.empty() && r.ending != Ending::Spinning) return "";
    std::string s = process_table::explain_hang(r.stuck, r.pid);
    if (r.ending == Ending::Deadlocked)
        s += "  deadlock: nothing could ever move. Every process sleeps on an end that only these sleeping "
             "processes hold, so the sandbox ended the run at once.\n";
    if (r.ending == Ending::Spinning) {
        std::string who = "pid " + std::to_string(r.spinning_pid);
        if (const ProcessSnapshot* p = r.stuck_process(r.spinning_pid)) who += " (" + p->info.command + ")";
        s += "  spinning: " + who + " used a whole CPU for " + std::to_string(static_cast<int>(kSpinSeconds)) +
             " s and moved no byte";
        s += r.spin_call.empty() ? std::string(".") : ": " + r.spin_call + ".";
        s += " The sandbox ended the run.\n";
    }
    return s;
}

void parse_report(const std::string& rep, RunResult& r) {
    std::size_t at = 0;
    while (at < rep.size()) {
        std::size_t eol = rep.find('\n', at);
        if (eol == std::string::npos) break;
        std::istringstream line(rep.substr(at, eol - at));
        at = eol + 1;
        std::string key;
        line >> key;
        if (key == "stuck" || key == "note" || key == "snapshot" || key == "spin") {
            std::size_t len = 0;
            line >> len;
            std::string text = rep.substr(at, len);
            at += len;
            if (key == "stuck")
                r.stuck = process_table::deserialize(text);
            else if (key == "spin")
                r.spin_call = text;
            else if (key == "snapshot")
                r.snapshot = text;
            else
                r.sandbox_note += text;
        } else if (key == "left") {
            ProcessInfo q;
            line >> q.pid >> q.ppid >> q.state;
            std::getline(line >> std::ws, q.command);
            r.left_behind.push_back(q);
        } else if (key == "seconds") {
            line >> r.seconds;
        } else if (key == "rss") {
            line >> r.max_rss_kb;
        } else if (key == "pid") {
            line >> r.pid;
        } else if (key == "spinpid") {
            line >> r.spinning_pid;
        } else if (key == "timedout") {
            std::string how;
            line >> how;
            r.timed_out = true;
            r.ending = how == "deadlock" ? Ending::Deadlocked : how == "spin" ? Ending::Spinning : Ending::TimedOut;
        } else if (key == "exit") {
            line >> r.exit_code;
            r.ending = Ending::Exited;
        } else if (key == "signal") {
            line >> r.term_signal;
            r.ending = Ending::Exited;
        }
    }
    r.stuck_report = stuck_in_words(r);
}

// Part of interrupt_blocked_writes: stop and continue, once each, every process of
// the tree that sits in write(). Returns true when there was at least one and none is
// left un-interrupted, i.e. when stdout may be released. A process that is still running
// may yet block in write() (a parent filling the pipe to its child, preempted on a busy
// machine while the child already waits on the stalled stdout): until every process not
// yet interrupted sleeps, it is too early to say.
bool interrupt_writers(pid_t warden, std::set<pid_t>& done, std::vector<ProcessInfo>& seen) {
#ifdef __linux__
    bool pending = false;
    for (const auto& p : process_table::descendants(warden, true)) {
        bool known = false;
        for (const auto& s : seen) known = known || s.pid == p.info.pid;
        if (!known) seen.push_back(p.info);
        if (done.count(p.info.pid) || p.info.state == 'Z') continue;
        bool in_write = p.syscall_nr == SYS_write || p.syscall_nr == SYS_writev;
        if (!in_write) {
            if (p.info.state == 'R') pending = true;
            continue;
        }
        pending = true;
        kill(p.info.pid, SIGSTOP);
        for (int i = 0; i < 1000; ++i) {  // wait until it is really stopped
            auto now = process_table::descendants(warden, false);
            bool stopped = true;
            for (const auto& q : now)
                if (q.info.pid == p.info.pid) stopped = q.info.state == 'T' || q.info.state == 't';
            if (stopped) break;
            sleep_ms(1);
        }
        kill(p.info.pid, SIGCONT);
        done.insert(p.info.pid);
    }
    return !done.empty() && !pending;
#else
    (void)warden;
    (void)done;
    (void)seen;
    return true;
#endif
}

RunResult run_payload(const Payload& what, const RunOptions& opt) {
    RunResult r;
    if (what.argv) r.argv = *what.argv;
    r.stdin_data = opt.stdin_data.substr(0, 4096);  // a large input is not kept twice
    r.stdin_size = opt.stdin_data.size();
    r.timeout_seconds = opt.timeout_seconds;

    Pipes p;
    make_pipe(p.in);
    make_pipe(p.out);
    make_pipe(p.err);
    make_pipe(p.report);
#if defined(__linux__) && defined(F_SETPIPE_SZ)
    if (opt.interrupt_blocked_writes) fcntl(p.out[1], F_SETPIPE_SZ, 4096);
#endif
    // Buffered output of the test binary must not be copied into the child.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    signal(SIGPIPE, SIG_IGN);  // a program that exits without reading stdin must not kill the test

    pid_t test_pid = getpid();
    pid_t warden = fork();
    if (warden < 0) {
        r.sandbox_note = std::string("sandbox: fork: ") + std::strerror(errno);
        for (int* fds : {p.in, p.out, p.err, p.report}) close(fds[0]), close(fds[1]);
        return r;
    }
    if (warden == 0) be_warden(p, what, opt, test_pid);
    close(p.in[0]);
    close(p.out[1]);
    close(p.err[1]);
    close(p.report[1]);

    fcntl(p.in[1], F_SETFL, O_NONBLOCK);
    std::size_t fed = 0;
    int in_fd = p.in[1];
    if (opt.stdin_data.empty()) close(in_fd), in_fd = -1;
    int out_fd = p.out[0], err_fd = p.err[0], rep_fd = p.report[0];
    std::string report;
    bool stall = opt.interrupt_blocked_writes;
    std::set<pid_t> interrupted;
    auto t0 = Clock::now();
    const double hard_limit = opt.timeout_seconds + 30;  // the warden itself is stuck

    while (out_fd >= 0 || err_fd >= 0 || rep_fd >= 0) {
        // The stall ends once the writers are interrupted, when the run is over (its report
        // comes), or, for a program that never waits in write(), at half its timeout.
        if (stall && (interrupt_writers(warden, interrupted, r.seen_while_stalled) ||
                      seconds_since(t0) > opt.timeout_seconds / 2))
            stall = false;
        std::vector<pollfd> fds;
        if (in_fd >= 0) fds.push_back({in_fd, POLLOUT, 0});
        if (out_fd >= 0 && !stall) fds.push_back({out_fd, POLLIN, 0});
        if (err_fd >= 0) fds.push_back({err_fd, POLLIN, 0});
        if (rep_fd >= 0) fds.push_back({rep_fd, POLLIN, 0});
        int n = poll(fds.data(), fds.size(), stall ? 5 : 200);
        if (n < 0 && errno != EINTR) break;
        if (seconds_since(t0) > hard_limit) {
            for (const auto& q : process_table::descendants(warden, false)) kill(q.info.pid, SIGKILL);
            kill(warden, SIGKILL);
            r.sandbox_note += "sandbox: the warden did not report in time and was killed\n";
            break;
        }
        for (const auto& f : fds) {
            if (!f.revents) continue;
            if (f.fd == in_fd) {
                ssize_t w = write(in_fd, opt.stdin_data.data() + fed, opt.stdin_data.size() - fed);
                if (w > 0) fed += static_cast<std::size_t>(w);
                if ((w < 0 && errno != EAGAIN && errno != EINTR) || fed == opt.stdin_data.size()) {
                    close(in_fd);  // EOF for the program (or it stopped reading: EPIPE)
                    in_fd = -1;
                }
                continue;
            }
            char buf[65536];
            ssize_t got = read(f.fd, buf, sizeof buf);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (f.fd == rep_fd) stall = false;  // the run is over: nothing is left to interrupt
            if (got <= 0) {
                close(f.fd);
                if (f.fd == out_fd) out_fd = -1;
                if (f.fd == err_fd) err_fd = -1;
                if (f.fd == rep_fd) rep_fd = -1;
                continue;
            }
            std::size_t g = static_cast<std::size_t>(got);
            if (f.fd == rep_fd) {
                report.append(buf, g);
            } else {
                std::string& dst = f.fd == out_fd ? r.out : r.err;
                bool& cut = f.fd == out_fd ? r.out_truncated : r.err_truncated;
                std::size_t room = opt.output_cap > dst.size() ? opt.output_cap - dst.size() : 0;
                dst.append(buf, g < room ? g : room);  // drain the rest: a flood costs no memory
                if (g > room) cut = true;
            }
        }
    }
    for (int fd : {in_fd, out_fd, err_fd, rep_fd})
        if (fd >= 0) close(fd);
    waitpid(warden, nullptr, 0);
    parse_report(report, r);
    if (r.seconds == 0) r.seconds = seconds_since(t0);
    return r;
}

}  // namespace

std::string RunResult::status() const {
    char buf[160];
    if (ending == Ending::Deadlocked) {
        std::snprintf(buf, sizeof buf, "deadlocked after %.1f s: nothing could ever move (the sandbox ended it)",
                      seconds);
    } else if (ending == Ending::Spinning) {
        std::snprintf(buf, sizeof buf,
                      "spinning: it used a whole CPU and moved no byte (the sandbox ended it after %.1f s)", seconds);
    } else if (timed_out) {
        std::snprintf(buf, sizeof buf, "timed out after %g s (the sandbox killed it)", timeout_seconds);
    } else if (term_signal) {
        std::snprintf(buf, sizeof buf, "killed by signal %d (%s)", term_signal, strsignal(term_signal));
    } else if (exit_code >= 0) {
        std::snprintf(buf, sizeof buf, "exited with status %d", exit_code);
    } else {
        std::snprintf(buf, sizeof buf, "did not run (%s)", sandbox_note.c_str());
    }
    return buf;
}

std::string RunResult::left_behind_report() const {
    std::string s;
    for (const auto& q : left_behind) {
        s += "  - pid " + std::to_string(q.pid) + " (" + q.command + ") ";
        s += q.state == 'Z' ? "had exited but was never reaped: a zombie nobody waited for"
                            : "was still running after the program exited";
        s += "\n";
    }
    return s;
}

const ProcessSnapshot* RunResult::stuck_process(pid_t which) const {
    for (const auto& p : stuck)
        if (p.info.pid == which) return &p;
    return nullptr;
}

const ProcessSnapshot* RunResult::stuck_program() const {
    return stuck_process(pid);
}

std::vector<const ProcessSnapshot*> RunResult::stuck_children() const {
    std::vector<const ProcessSnapshot*> out;
    for (const auto& p : stuck)
        if (p.info.pid != pid) out.push_back(&p);
    return out;
}

std::size_t RunResult::stuck_in(Call call) const {
    std::size_t n = 0;
    for (const auto& p : stuck) n += p.info.state != 'Z' && p.call() == call;
    return n;
}

namespace {

// With a tracer (RunOptions::tracer, or $PIPEWORKS_TRACE, which `make grade TRACE=1`
// sets), the program runs under `pipetrace --record`, and a run that did not end by
// itself gets the last steps of each stuck process at the end of its stuck_report.
RunResult run_traced(const std::vector<std::string>& argv, const RunOptions& options, std::string tracer) {
    auto absolute = [](const std::string& path) {
        char buf[4096];
        return path.find('/') != std::string::npos && realpath(path.c_str(), buf) ? std::string(buf) : path;
    };
    std::error_code no_tmp;  // then the current folder
    std::string record = (std::filesystem::temp_directory_path(no_tmp) / "pipeworks-trace-XXXXXX").string();  // $TMPDIR
    int fd = mkstemp(record.data());
    if (fd == -1) {
        Payload what;
        what.argv = &argv;
        RunResult r = run_payload(what, options);
        r.sandbox_note += "no trace: mkstemp: " + std::string(std::strerror(errno)) + "\n";
        return r;
    }
    close(fd);
    std::vector<std::string> traced{absolute(tracer), "--record", record, "--until-program-exits", "--"};
    for (const auto& a : argv) traced.push_back(traced.size() == 5 ? absolute(a) : a);
    Payload what;
    what.argv = &traced;
    RunResult r = run_payload(what, options);
    r.argv = argv;                                 // the reproduce line names the program, not the tracer
    if (r.timed_out || !r.stuck_report.empty()) {  // it did not end by itself (a timeout, a deadlock)
        std::vector<std::string> render{traced[0], "--render", "--tail", "5", record};
        RunOptions quick;
        quick.timeout_seconds = 30;
        Payload show;
        show.argv = &render;
        r.trace_tail = run_payload(show, quick).out;
        if (!r.trace_tail.empty()) r.stuck_report += "how they got there (pipetrace):\n" + r.trace_tail;
    }
    unlink(record.c_str());
    return r;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
    const char* env = std::getenv("PIPEWORKS_TRACE");
    std::string tracer = !options.tracer.empty() ? options.tracer : env ? env : "";
    if (!tracer.empty() && !argv.empty() && access(tracer.c_str(), X_OK) == 0) return run_traced(argv, options, tracer);
    Payload what;
    what.argv = &argv;
    return run_payload(what, options);
}

RunResult run_function(const std::function<int()>& body, const RunOptions& options) {
    Payload what;
    what.body = &body;
    return run_payload(what, options);
}

}  // namespace pw
