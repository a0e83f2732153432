// sandbox_test.cpp - the grader's own proof. Deliberately bad programs run through the
// sandbox: each must be reported as failed, with a clear reason, within its timeout,
// and must leave no process behind. `make test` runs this before grading anything.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "lesson.hpp"
#include "process_table.hpp"
#include "sandbox.hpp"

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

TEST(SandboxProof, HangIsExplainedByWhoHoldsTheWriteEnd) {
    if (!pw::process_table::available()) GTEST_SKIP() << "hang explanations need Linux /proc";
    pw::RunResult r = pw::run({bad("reader_keeps_write_end")}, quick(1));
    ASSERT_TRUE(r.timed_out) << describe(r);
    EXPECT_NE(r.stuck_report.find("the program you ran) waits for a child"), std::string::npos) << r.stuck_report;
    EXPECT_NE(r.stuck_report.find("waits in read() on pipe"), std::string::npos) << r.stuck_report;
    EXPECT_NE(r.stuck_report.find("write end is still open in: the same process"), std::string::npos) << r.stuck_report;
}

TEST(SandboxProof, HangInAThreadIsExplainedByThatThread) {
    if (!pw::process_table::available()) GTEST_SKIP() << "hang explanations need Linux /proc";
    pw::RunResult r = pw::run({bad("thread_blocks_in_read")}, quick(1));
    ASSERT_TRUE(r.timed_out) << describe(r);
    EXPECT_NE(r.stuck_report.find("in its thread"), std::string::npos) << r.stuck_report;
    EXPECT_NE(r.stuck_report.find("waits in read() on pipe"), std::string::npos) << r.stuck_report;
}

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
    ASSERT_TRUE(small.ok() && big.ok()) << describe(small) << describe(big);
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

// Last: the whole suite left nothing alive below this test binary.
TEST(SandboxProof, NothingIsLeftBehindByTheSuite) {
    auto left = pw::process_table::descendants(getpid(), false);
    EXPECT_TRUE(left.empty()) << left.size() << " processes are still below the test binary";
}

}  // namespace
