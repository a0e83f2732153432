// sandbox.hpp - run a learner's program (or function) so that nothing it does can
// hang, flood or take down the test that runs it.
//
// Every run goes through a "warden" process that the test forks:
//
//   test binary ──fork──▶ warden (child subreaper) ──fork──▶ learner program (own process group)
//
// The warden, not the test binary, is the learner's parent, so a program that kills
// its parent kills only the warden. The warden is a child subreaper (Linux), so even
// processes that double-fork or call setsid() stay in its tree. When the program ends,
// or its time is up, the warden records what is left of the tree and what each
// process was blocked in, then kills and reaps every descendant before it reports.
//
// Linux gives the full picture (/proc, subreaper). Elsewhere the sandbox still enforces
// the timeout and kills the program's process group, and says that the leftover and
// deadlock reports are unavailable.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace pw {

// How to run one program.
struct RunOptions {
    std::string stdin_data;              // bytes fed to the program's stdin, then EOF
    double timeout_seconds = 5.0;        // wall clock, whole process tree
    std::size_t output_cap = 1 << 20;    // bytes kept of stdout and of stderr (the rest is drained)
    int max_open_files = -1;             // RLIMIT_NOFILE for the program (-1: inherit)
    std::vector<std::string> extra_env;  // "NAME=value" added to the environment
    std::string working_dir;             // empty: the test's working directory
    // Stall the program's stdout (a 4 KiB pipe nobody reads) until every process
    // blocked in write() has been stopped and continued once (SIGSTOP/SIGCONT):
    // Linux then returns a short count from a pipe write() that had already moved
    // some bytes. This proves that a program loops on partial writes. Linux only.
    bool interrupt_blocked_writes = false;
    // Take a snapshot of the process tree (processes, pipes, who holds which end) this
    // many seconds after the start, if the program still runs then (pipemap uses it).
    double snapshot_after_seconds = -1;
    // Path of pipetrace: run the program under it, and when the run does not end by
    // itself, end stuck_report with the last steps of each stuck process. Empty: the
    // PIPEWORKS_TRACE environment variable (`make grade TRACE=1` sets it), or no trace.
    std::string tracer;
};

// One process of the tree, as seen when the program ended or timed out.
struct ProcessInfo {
    pid_t pid = 0;
    pid_t ppid = 0;
    std::string command;  // comm, e.g. "pipe_echo"
    char state = '?';     // R running, S sleeping, Z zombie, T stopped, ...
};

// What happened.
struct RunResult {
    std::vector<std::string> argv;  // what was run (for the reproduce line)
    std::string stdin_data;         // the first 4 KiB of what was fed to it (for the reproduce line)
    std::size_t stdin_size = 0;     // how many bytes were fed to it
    std::string out, err;           // captured stdout and stderr, up to the cap
    bool out_truncated = false, err_truncated = false;
    bool timed_out = false;
    double timeout_seconds = 0;
    int exit_code = -1;    // the program's exit status when it exited normally
    int term_signal = 0;   // the signal that killed it (not counting the sandbox's own kill)
    double seconds = 0;    // wall time
    pid_t pid = 0;         // the program's pid
    long max_rss_kb = -1;  // the program's own peak resident memory (not its children's), KiB
    // Processes still in the tree when the program exited: running children it did
    // not wait for, or zombies it never reaped. All of them were killed and reaped.
    std::vector<ProcessInfo> left_behind;
    // With interrupt_blocked_writes: every process seen in the tree while stdout was
    // stalled (so a test can check that a child really was forked).
    std::vector<ProcessInfo> seen_while_stalled;
    // With snapshot_after_seconds: the snapshot, as process_table::serialize wrote it.
    std::string snapshot;
    // On a timeout: what each process was doing, in words (empty when unknown).
    std::string stuck_report;
    // With a tracer, on a timeout: the last steps of each stuck process (pipetrace --tail).
    std::string trace_tail;
    // Anything the sandbox itself could not do (e.g. no /proc): said, not hidden.
    std::string sandbox_note;

    bool exited_with(int code) const { return !timed_out && term_signal == 0 && exit_code == code; }
    bool ok() const { return exited_with(0); }
    // "exited with status 0", "killed by signal 11 (Segmentation fault)", "timed out after 3 s"
    std::string status() const;
    // The left_behind list in words, one process a line (empty when there is none).
    std::string left_behind_report() const;
};

// Runs argv[0] (a path, or a name looked up in PATH) with the given options.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Runs body() in a sandboxed child process instead of a program: body's stdout and
// stderr are captured, its return value is the exit status. Used by white-box tests,
// so that a learner's function that hangs or crashes fails one test, not the suite.
RunResult run_function(const std::function<int()>& body, const RunOptions& options = {});

}  // namespace pw
