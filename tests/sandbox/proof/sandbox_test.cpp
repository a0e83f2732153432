// sandbox_test.cpp - the grader's own proof. Deliberately bad programs run through the
// sandbox: each must be reported as failed, with a clear reason, within its timeout,
// and must leave no process behind. `make test` runs this before grading anything.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include "hold.hpp"
#include "lesson.hpp"
#include "process_table.hpp"
#include "sandbox.hpp"
#include "watch.hpp"

namespace {

std::string bad(const std::string& name) {
    return "build/shared/proof/bin/" + name;
}

pw::RunOptions quick(double seconds) {
    pw::RunOptions o;
    o.timeout_seconds = seconds;
    return o;
}

// "Within its timeout" with room for a busy machine: the point is that it ends.
constexpr double kGrace = 10;

bool gone(pid_t pid) {
    return kill(pid, 0) == -1 && errno == ESRCH;
}

// A bad program's name as a test name: "sleeps_then_answers" -> "SleepsThenAnswers".
std::string camel_case(const char* program) {
    std::string name;
    bool word_starts = true;
    for (const char* c = program; *c; ++c) {
        if (*c != '_') name += word_starts ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
        word_starts = *c == '_';
    }
    return name;
}

std::string describe(const pw::RunResult& r) {
    return r.status() + "\nstdout " + pw::quote(r.out) + "\nstderr " + pw::quote(r.err) + "\nleft behind:\n" +
           r.left_behind_report() + "stuck:\n" + r.stuck_report + "note: " + r.sandbox_note;
}

TEST(SandboxProof, ProgramThatSleepsForeverTimesOut) {
    pw::RunResult r = pw::run({bad("sleeps_forever")}, quick(1));
    EXPECT_TRUE(r.timed_out) << describe(r);
    EXPECT_LT(r.seconds, 1 + kGrace) << describe(r);
    EXPECT_NE(r.status().find("timed out after 1 s"), std::string::npos) << describe(r);
    EXPECT_NE(r.stuck_report.find("waits for a signal"), std::string::npos) << describe(r);
    EXPECT_TRUE(gone(r.pid)) << describe(r);
}

TEST(SandboxProof, GrandchildThatCallsSetsidIsFoundAndKilled) {
    pw::RunResult r = pw::run({bad("escapes_with_setsid")}, quick(5));
    ASSERT_TRUE(r.ok()) << describe(r);
    pid_t grandchild = static_cast<pid_t>(std::stol(r.out));
    ASSERT_GT(grandchild, 1) << describe(r);
    ASSERT_EQ(r.left_behind.size(), 1u) << describe(r);
    EXPECT_EQ(r.left_behind[0].pid, grandchild) << describe(r);
    EXPECT_NE(r.left_behind_report().find("still running after the program exited"), std::string::npos);
    EXPECT_TRUE(gone(grandchild)) << "pid " << grandchild << " survived the sandbox";
}

TEST(SandboxProof, StdoutFloodIsCappedAndStopped) {
    pw::RunOptions o = quick(1);
    o.output_cap = 1 << 20;
    pw::RunResult r = pw::run({bad("floods_stdout")}, o);
    EXPECT_TRUE(r.timed_out) << describe(r);
    EXPECT_TRUE(r.out_truncated);
    EXPECT_EQ(r.out.size(), o.output_cap);
    EXPECT_LT(r.seconds, 1 + kGrace);
    EXPECT_TRUE(gone(r.pid));
}

TEST(SandboxProof, SegfaultIsReportedAsASignal) {
    pw::RunResult r = pw::run({bad("segfaults")}, quick(5));
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.term_signal, SIGSEGV) << describe(r);
    EXPECT_NE(r.status().find("killed by signal 11"), std::string::npos) << r.status();
    EXPECT_EQ(r.out, "about to crash\n");
}

TEST(SandboxProof, ProgramThatIgnoresSigtermIsKilledAnyway) {
    pw::RunResult r = pw::run({bad("ignores_sigterm")}, quick(1));
    EXPECT_TRUE(r.timed_out) << describe(r);
    EXPECT_LT(r.seconds, 1 + kGrace);
    EXPECT_TRUE(gone(r.pid));
}

TEST(SandboxProof, ProgramThatKillsItsParentCannotKillTheTest) {
    pw::RunResult r = pw::run({bad("kills_its_parent")}, quick(5));
    // We are still here: the program killed the warden, not us. The warden's death
    // ends the run; what matters is that the test goes on and nothing is left.
    EXPECT_FALSE(r.ok()) << describe(r);
    EXPECT_TRUE(r.pid == 0 || gone(r.pid)) << describe(r);
}

TEST(SandboxProof, EveryProcessOfAForkingProgramIsKilled) {
    pw::RunResult r = pw::run({bad("forks_many")}, quick(5));
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.left_behind.size(), 40u) << describe(r);
    for (const auto& p : r.left_behind) EXPECT_TRUE(gone(p.pid)) << "pid " << p.pid << " survived";
}

TEST(SandboxProof, ZombieIsReported) {
    pw::RunResult r = pw::run({bad("leaves_a_zombie")}, quick(5));
    EXPECT_TRUE(r.ok()) << describe(r);
    ASSERT_EQ(r.left_behind.size(), 1u) << describe(r);
    EXPECT_EQ(r.left_behind[0].state, 'Z');
    EXPECT_NE(r.left_behind_report().find("a zombie nobody waited for"), std::string::npos);
}

// A program that hangs: the report of where each process was stuck must say why, in
// these words.
struct ExplainedHang {
    const char* program;
    std::vector<std::string> says;
};

class SandboxProofHang : public ::testing::TestWithParam<ExplainedHang> {};

TEST_P(SandboxProofHang, IsExplained) {
    if (!pw::process_table::available()) GTEST_SKIP() << "hang explanations need Linux /proc";
    pw::RunResult r = pw::run({bad(GetParam().program)}, quick(1));
    ASSERT_TRUE(r.timed_out) << describe(r);
    for (const auto& words : GetParam().says)
        EXPECT_NE(r.stuck_report.find(words), std::string::npos) << "no \"" << words << "\" in:\n" << r.stuck_report;
}

INSTANTIATE_TEST_SUITE_P(
    ByWhatEachProcessWaitsFor, SandboxProofHang,
    ::testing::Values(ExplainedHang{"reader_keeps_write_end",  // by who holds the write end
                                    {"the program you ran) waits for a child", "waits in read() on pipe",
                                     "write end is still open in: the same process"}},
                      ExplainedHang{"thread_blocks_in_read",  // in a thread, by that thread
                                    {"in its thread", "waits in read() on pipe"}}),
    [](const ::testing::TestParamInfo<ExplainedHang>& info) { return camel_case(info.param.program); });

TEST(SandboxProof, MissingProgramExitsWith127) {
    pw::RunResult r = pw::run({"build/shared/proof/bin/no-such-program"}, quick(5));
    EXPECT_TRUE(r.exited_with(127)) << describe(r);
    EXPECT_NE(r.err.find("cannot run"), std::string::npos) << describe(r);
}

TEST(SandboxProof, ProgramSeesOnlyStandardDescriptors) {
    pw::RunResult r = pw::run({"/bin/ls", "/proc/self/fd"}, quick(5));
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.out, "0\n1\n2\n3\n") << "fd 3 is ls's own directory handle; anything more leaked";
}

TEST(SandboxProof, ProgramGetsNoSignalTheTestIgnores) {
    // As under nohup (SIGHUP) or a shell's `trap '' USR1`: exec keeps an ignored signal
    // ignored, so a command killed by it in a lesson's test would live on.
    struct sigaction ignore = {}, hup = {}, usr1 = {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &ignore, &hup);
    sigaction(SIGUSR1, &ignore, &usr1);
    pw::RunResult r = pw::run({"/bin/sh", "-c", "kill -s HUP $$; echo survived"}, quick(5));
    pw::RunResult r2 = pw::run({"/bin/sh", "-c", "kill -s USR1 $$; echo survived"}, quick(5));
    sigaction(SIGHUP, &hup, nullptr);
    sigaction(SIGUSR1, &usr1, nullptr);
    EXPECT_EQ(r.term_signal, SIGHUP) << describe(r);
    EXPECT_EQ(r2.term_signal, SIGUSR1) << describe(r2);
}

// interrupt_blocked_writes must interrupt every writer, also one that is still busy when
// another already waits on the stalled stdout (on a loaded machine: a parent preempted
// while it fills the pipe to its child). Here the parent computes for 0.3 s first.
TEST(SandboxProof, StalledStdoutWaitsForEveryWriter) {
    if (!pw::process_table::available()) GTEST_SKIP() << "interrupting blocked writes needs Linux /proc";
    pw::RunOptions o = quick(30);
    o.interrupt_blocked_writes = true;
    pw::RunResult r = pw::run({bad("writes_late_into_a_full_pipe")}, o);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.err.rfind("partial write: ", 0), 0u) << describe(r);  // 65536 of 262144 here
}

TEST(SandboxProof, StdinIsFedAndClosed) {
    pw::RunOptions o = quick(5);
    o.stdin_data = std::string(1 << 20, 'x');
    pw::RunResult r = pw::run({"/usr/bin/wc", "-c"}, o);
    ASSERT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.out, "1048576\n");
}

TEST(SandboxProof, PeakMemoryOfTheProgramIsMeasured) {
    pw::RunResult small = pw::run({"/bin/true"}, quick(5));
    pw::RunResult big = pw::run_function(
        [] {
            std::string block(64 << 20, 'x');  // touch 64 MiB
            return block[12345] == 'x' ? 0 : 1;
        },
        quick(10));
    ASSERT_TRUE(small.ok()) << describe(small);
    ASSERT_TRUE(big.ok()) << describe(big);
    EXPECT_GT(small.max_rss_kb, 0);
    EXPECT_LT(small.max_rss_kb, 32 * 1024);
    EXPECT_GT(big.max_rss_kb, 64 * 1024);
}

TEST(SandboxProof, FunctionRunsInAChildAndCanHang) {
    pw::RunResult ok = pw::run_function([] {
        std::printf("from the child %d\n", 42);
        return 3;
    });
    EXPECT_TRUE(ok.exited_with(3)) << describe(ok);
    EXPECT_EQ(ok.out, "from the child 42\n");
    pw::RunResult hung = pw::run_function(
        [] {
            for (;;) pause();
            return 0;
        },
        quick(1));
    EXPECT_TRUE(hung.timed_out) << describe(hung);
}

// ---- the live watch: deadlocks and spins end the run at once; nothing else does ---------
// (Each run below has a long timeout: the detector, not the clock, must end it.)

bool mentions(const std::string& text, const std::string& words) {
    return text.find(words) != std::string::npos;
}

TEST(SandboxWatch, DeadlockedPairIsEndedAndNamed) {
    if (!pw::process_table::available()) GTEST_SKIP() << "the watch needs Linux /proc";
    pw::RunResult r = pw::run({bad("deadlocked_pair")}, quick(60));
    ASSERT_EQ(r.ending, pw::Ending::Deadlocked) << describe(r);
    EXPECT_TRUE(r.timed_out) << "a deadlock is a hang for every test that asks";
    EXPECT_EQ(r.stuck_in(pw::Call::Read), 2u) << describe(r);
    const pw::ProcessSnapshot* program = r.stuck_program();
    ASSERT_NE(program, nullptr) << describe(r);
    const pw::OpenChannel* end = program->waited_channel();
    ASSERT_NE(end, nullptr) << describe(r);
    ASSERT_EQ(end->other_end.size(), 2u) << describe(r);  // its own copy and the child's copy
    EXPECT_TRUE(mentions(r.stuck_report, "deadlock: nothing could ever move")) << describe(r);
    EXPECT_TRUE(mentions(r.status(), "deadlocked")) << describe(r);
    EXPECT_TRUE(gone(r.pid)) << describe(r);
}

TEST(SandboxWatch, DeadlockedPipelineOfFiveIsEndedAndNamed) {
    if (!pw::process_table::available()) GTEST_SKIP() << "the watch needs Linux /proc";
    pw::RunResult r = pw::run({bad("deadlocked_pipeline")}, quick(60));
    ASSERT_EQ(r.ending, pw::Ending::Deadlocked) << describe(r);
    EXPECT_EQ(r.stuck_in(pw::Call::Read), 5u) << describe(r);
    EXPECT_EQ(r.stuck_in(pw::Call::Wait), 1u) << describe(r);
    ASSERT_NE(r.stuck_program(), nullptr) << describe(r);
    EXPECT_EQ(r.stuck_program()->call(), pw::Call::Wait) << describe(r);
    EXPECT_TRUE(mentions(r.stuck_report, "deadlock: nothing could ever move")) << describe(r);
}

TEST(SandboxWatch, FifoOpenDeadlockIsEndedAndNamed) {
    if (!pw::process_table::available()) GTEST_SKIP() << "the watch needs Linux /proc";
    const char* tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : P_tmpdir) + "/pipeworks-fifos-XXXXXX";
    ASSERT_NE(mkdtemp(&dir[0]), nullptr) << std::strerror(errno);
    pw::RunResult r = pw::run({bad("fifo_open_deadlock"), dir}, quick(60));
    for (const char* name : {"/a", "/b"}) unlink((dir + name).c_str());
    rmdir(dir.c_str());
    ASSERT_EQ(r.ending, pw::Ending::Deadlocked) << describe(r);
    EXPECT_EQ(r.stuck_in(pw::Call::Open), 2u) << describe(r);
    EXPECT_TRUE(mentions(r.stuck_report, "waits in open()")) << describe(r);
}

TEST(SandboxWatch, SpinningPollLoopIsEndedAndNamed) {
    if (!pw::process_table::available()) GTEST_SKIP() << "the watch needs Linux /proc";
    pw::RunResult r = pw::run({bad("spins_on_pollhup")}, quick(60));
    ASSERT_EQ(r.ending, pw::Ending::Spinning) << describe(r);
    EXPECT_EQ(r.spinning_pid, r.pid) << describe(r);
    EXPECT_TRUE(mentions(r.stuck_report, "spinning")) << describe(r);
    // Naming the call needs ptrace, which some containers forbid: then it says less.
    if (!r.spin_call.empty()) {
        EXPECT_TRUE(mentions(r.spin_call, "poll()")) << describe(r);
        EXPECT_TRUE(mentions(r.spin_call, "POLLHUP on fd 3")) << describe(r);
        EXPECT_TRUE(mentions(r.spin_call, "end of file on a pipe is POLLHUP, not POLLIN")) << describe(r);
    }
}

TEST(SandboxWatch, ThreadsOfAFunctionThatWaitForEachOtherAreADeadlock) {
    if (!pw::process_table::available()) GTEST_SKIP() << "the watch needs Linux /proc";
    pw::RunResult r = pw::run_function(
        [] {
            int fds[2];
            if (pipe(fds) == -1) return 1;
            std::thread reader([&] {
                char c;
                (void)!read(fds[0], &c, 1);  // its write end is this process's own, never written
            });
            reader.join();  // the test's own thread waits for the reader: it is part of the wait
            return 0;
        },
        quick(60));
    ASSERT_EQ(r.ending, pw::Ending::Deadlocked) << describe(r);
    EXPECT_TRUE(mentions(r.stuck_report, "waits in read()")) << describe(r);
}

// Programs that look stuck for a while but end by themselves: the watch must let each run
// to its end (a sleeping child is not a deadlock, a busy loop that can end is not a spin).
struct EndsByItself {
    const char* program;
    const char* out_starts_with;  // what it prints when it has run to its end
};

class SandboxWatchLetsItEnd : public ::testing::TestWithParam<EndsByItself> {};

TEST_P(SandboxWatchLetsItEnd, RunsToItsEnd) {
    pw::RunResult r = pw::run({bad(GetParam().program)}, quick(30));
    EXPECT_EQ(r.ending, pw::Ending::Exited) << describe(r);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.out.rfind(GetParam().out_starts_with, 0), 0u) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(NotADeadlockNorASpin, SandboxWatchLetsItEnd,
                         ::testing::Values(EndsByItself{"sleeps_then_answers", ""},       // a sleeping child
                                           EndsByItself{"computes_then_exits", "done "},  // busy computing
                                           EndsByItself{"busy_waits_for_child", ""},      // a busy wait that can end
                                           EndsByItself{"polls_with_a_timeout", ""}),     // poll with a timeout
                         [](const ::testing::TestParamInfo<EndsByItself>& info) {
                             return camel_case(info.param.program);
                         });

#ifdef __linux__
// A program that works for a moment on a machine so busy that the moment lasts seconds is
// slowed down, not spinning. The busy machine is made here, the same on any machine: five
// processes of the test's own (outside the run) spin on one CPU, and the program is pinned
// to that CPU beside them, so it gets about a sixth of it. Each busy process starts its own
// session, so that a kernel that shares the CPU between sessions first (autogroup) shares
// it the same way. "compute" needs 0.45 s of CPU (about 2.7 s of wall clock here: longer
// than kSpinSeconds, less CPU than kSpinRanSeconds); "touch" needs 0.6 s of CPU, more than
// kSpinRanSeconds, but touches fresh memory all the while.
class SandboxWatchStarved : public ::testing::TestWithParam<const char*> {};

TEST_P(SandboxWatchStarved, ProgramThatWorksWhileStarvedIsNotASpin) {
    if (!pw::process_table::available()) GTEST_SKIP() << "the watch needs Linux /proc";
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    ASSERT_EQ(sched_getaffinity(0, sizeof allowed, &allowed), 0) << std::strerror(errno);
    int cpu = 0;
    while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &allowed)) ++cpu;
    ASSERT_LT(cpu, CPU_SETSIZE);
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    // Killed and reaped however the test ends, an ASSERT's early return included: a busy
    // process left behind would slow every test after this one.
    struct Busy {
        std::vector<pid_t> pids;
        ~Busy() {
            for (pid_t pid : pids) kill(pid, SIGKILL);
            for (pid_t pid : pids) waitpid(pid, nullptr, 0);
        }
    } busy;
    for (int i = 0; i < 5; ++i) {
        pid_t pid = fork();
        ASSERT_NE(pid, -1) << std::strerror(errno);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
            setsid();
            if (sched_setaffinity(0, sizeof one, &one) == -1) _exit(1);
            for (;;) {
            }
        }
        busy.pids.push_back(pid);
    }
    pw::RunResult r = pw::run({bad("computes_while_starved"), std::to_string(cpu), GetParam()}, quick(60));
    EXPECT_EQ(r.ending, pw::Ending::Exited) << describe(r);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_EQ(r.out.rfind("done ", 0), 0u) << describe(r);
}

INSTANTIATE_TEST_SUITE_P(ComputesOrTouchesMemory, SandboxWatchStarved, ::testing::Values("compute", "touch"),
                         [](const ::testing::TestParamInfo<const char*>& info) { return std::string(info.param); });
#endif

// A run that waits for one byte from the test binary: it closes its copy of the write end,
// so only the test (which keeps its own) can still send the byte. Exit status 0 once read.
pw::RunResult run_reading_from_the_test(int fds[2], double seconds) {
    pw::RunResult r = pw::run_function(
        [&] {
            close(fds[1]);
            char c;
            return read(fds[0], &c, 1) == 1 ? 0 : 1;
        },
        quick(seconds));
    return r;
}

TEST(SandboxWatch, WaitingForTheTestsOwnInputIsNotADeadlock) {
    // The test binary holds the write end (and could write any time): the run waits
    // for it, so only the timeout ends it.
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pw::RunResult r = run_reading_from_the_test(fds, 2);
    close(fds[0]);
    close(fds[1]);
    EXPECT_EQ(r.ending, pw::Ending::TimedOut) << describe(r);
}

TEST(SandboxWatch, InputTheTestFeedsLaterIsNotADeadlock) {
    // A thread of the test writes after a while: the run must still be there to read it.
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    std::thread feeder([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        (void)!write(fds[1], "x", 1);
    });
    pw::RunResult r = run_reading_from_the_test(fds, 30);
    feeder.join();
    close(fds[0]);
    close(fds[1]);
    EXPECT_EQ(r.ending, pw::Ending::Exited) << describe(r);
    EXPECT_TRUE(r.ok()) << describe(r);
}

TEST(SandboxWatch, RunWhoseProcessesHaveAllExitedIsNotADeadlock) {
    // The end of a run as the warden sees it: every process of the run has exited, one is a
    // zombie not yet reaped because the warden is busy (handing a large output over, say).
    // Nobody sleeps, so nothing is deadlocked. Here a stand-in warden keeps its exited
    // child unreaped (waitid with WNOWAIT: no timing) and blocks until the watch is done.
    int ready[2], done[2];
    ASSERT_EQ(pipe(ready), 0);
    ASSERT_EQ(pipe(done), 0);
    pid_t warden = fork();
    ASSERT_NE(warden, -1) << std::strerror(errno);
    if (warden == 0) {
        close(ready[0]);
        close(done[1]);
        pid_t child = fork();
        if (child == 0) _exit(0);
        siginfo_t info;
        if (child == -1 || waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == -1) _exit(1);
        (void)!write(ready[1], "z", 1);  // the child is a zombie now
        char c;
        (void)!read(done[0], &c, 1);  // "busy" until the test has watched
        waitpid(child, nullptr, 0);
        _exit(0);
    }
    close(ready[1]);
    close(done[0]);
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    // Sample as the warden does, for twice the stillness that would confirm a deadlock.
    pw::RunWatch watch(warden, getpid());
    pw::WatchVerdict verdict;
    timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int steps = 0; verdict.kind == pw::WatchVerdict::Nothing; ++steps) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double watched = static_cast<double>(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        if (steps >= 3 && watched > 2 * pw::kDeadlockConfirmSeconds) break;
        verdict = watch.step();
        usleep(pw::kWatchEveryMs * 1000);
    }
    close(done[1]);  // the stand-in warden reaps its zombie and exits
    int status = 0;
    ASSERT_EQ(waitpid(warden, &status, 0), warden);
    EXPECT_EQ(status, 0) << "the stand-in warden's wait status (0: it exited with 0)";
    EXPECT_EQ(verdict.kind, pw::WatchVerdict::Nothing)
        << "a run whose only process is an exited zombie was called "
        << (verdict.kind == pw::WatchVerdict::Deadlock ? "deadlocked" : "spinning");
}

// pw::hold_first_child forces a fork() race's unlucky order: the child is held right
// after fork() until its parent waits, blocks, or exits.
TEST(SandboxHold, ParentThatExitsWithoutWaitingIsSeenExitingFirst) {
    pw::HeldRun h;
    pw::RunResult r = pw::run_holding_first_child({bad("exits_before_its_child")}, h, quick(10));
    if (pw::ptrace_refused(h)) GTEST_SKIP() << h.why_not;
    ASSERT_TRUE(h.held) << h.why_not << "\n" << describe(r);
    EXPECT_EQ(h.release, pw::HeldRun::Release::ParentExited) << pw::release_words(h.release);
    // The child ran only once its parent had gone, and was reaped all the same.
    EXPECT_EQ(r.out, "parent exits before its child\nchild\n") << describe(r);
    EXPECT_TRUE(r.ok()) << describe(r);
    EXPECT_TRUE(r.left_behind.empty()) << describe(r);
}

TEST(SandboxHold, HeldChildIsLetGoWhenItsParentWaits) {
    pw::HeldRun h;
    pw::RunResult r = pw::run_holding_first_child({bad("waits_for_its_child")}, h, quick(10));
    if (pw::ptrace_refused(h)) GTEST_SKIP() << h.why_not;
    ASSERT_TRUE(h.held) << h.why_not << "\n" << describe(r);
    EXPECT_EQ(h.release, pw::HeldRun::Release::Waited)
        << pw::release_words(h.release) << " (in " << h.released_in << ")";
    EXPECT_EQ(r.out, "child\nparent waited for status 7\n") << describe(r);
    EXPECT_TRUE(r.ok()) << describe(r);
}

// Last: the whole suite left nothing alive below this test binary.
TEST(SandboxProof, NothingIsLeftBehindByTheSuite) {
    auto left = pw::process_table::descendants(getpid(), false);
    EXPECT_TRUE(left.empty()) << left.size() << " processes are still below the test binary";
}

}  // namespace
