// watch.hpp - the warden's live watch over a run: it sees a deadlock or a spinning
// process as it happens, so that the run ends at once instead of at its timeout.
//
// The rules are described at the top of sandbox.hpp. Each step() costs a scan of
// /proc (every process's stat, and its threads' stat and schedstat); the call each
// thread sleeps in and the descriptors it holds are read only when every thread of
// the run sleeps. Linux only: elsewhere step() never finds anything.
#pragma once

#include <sys/types.h>

#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace pw {

// How long nothing may move, with everyone asleep on ends only the run holds, before
// the run is called deadlocked.
constexpr double kDeadlockConfirmSeconds = 0.25;
// How long one thread must want a whole CPU while its process moves no byte.
constexpr double kSpinSeconds = 2.0;
// "A whole CPU": the share of the time the thread ran or was ready to run.
constexpr double kSpinCpuShare = 0.9;
// And of that, the share it must really have run: a thread that only waited in the run
// queue (a process just forked on a loaded machine) has done nothing yet, spin or not.
// A spinning thread gets its fair share of a loaded machine, and that is more than this.
constexpr double kSpinRanShare = 0.1;
// And the CPU time it must have used, whatever the wall clock says: on a machine loaded ten
// times over, a correct program that computes for a moment between two reads (growing a
// buffer, say) wants a CPU for seconds of wall clock while it gets a tenth of one. What it
// computes in 0.5 s of CPU is not a loop that never ends; a spin uses that much in a
// second on a quiet machine, and in a few seconds on a busy one.
constexpr double kSpinRanSeconds = 0.5;
// How far back the watch remembers a thread: long enough to see kSpinRanSeconds used at
// kSpinRanShare.
constexpr double kSpinWindowSeconds = kSpinRanSeconds / kSpinRanShare + 1.0;
// How often the warden takes a sample of the run.
constexpr int kWatchEveryMs = 50;

struct WatchVerdict {
    enum Kind { Nothing, Deadlock, Spin } kind = Nothing;
    pid_t pid = 0;  // Spin: the process that spins
    pid_t tid = 0;  // Spin: its thread that spins
};

class RunWatch {
  public:
    RunWatch(pid_t warden, pid_t test_pid) : warden_(warden), test_pid_(test_pid) {}
    // Takes one sample and says whether the run is deadlocked or spinning.
    WatchVerdict step();
    // Watches a spinning thread's system calls for a moment (ptrace, where allowed),
    // then lets it go: which call it repeats and what that call returns, in words ("" when
    // unseen). Only for a run already ended as spinning: a traced thread's exit and
    // signals go to the tracer first, so a run that is still being graded is never traced.
    static std::string probe_spin(pid_t pid, pid_t tid);

  private:
    struct CpuSample {
        double t = 0;
        unsigned long long demand_ns = 0;  // on a CPU + waiting for one
        unsigned long long ran_ns = 0;     // on a CPU
        unsigned long long io = 0;         // its process's bytes read + written
        unsigned long long sleeps = 0;     // the thread's voluntary context switches
        unsigned long long faults = 0;     // the thread's page faults (memory it touched first)
    };
    // What did not move while everyone slept: each thread's call and how often it ran,
    // each process's bytes.
    struct Stillness {
        double since = 0;
        std::string fingerprint;
    };

    bool all_asleep_on_the_run(std::string& fingerprint) const;
    bool test_is_quiet() const;

    pid_t warden_, test_pid_;
    bool spins_for(const std::deque<CpuSample>& window, double seconds) const;

    std::map<pid_t, std::deque<CpuSample>> cpu_;  // by thread id
    bool still_ = false;
    Stillness stillness_;
};

}  // namespace pw
