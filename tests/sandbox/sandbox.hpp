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
// While the program runs, the warden also watches it (watch.hpp) and ends the run at
// once, instead of at the timeout, when it is:
//   - deadlocked: every live process of the run (every thread) sleeps in a call that
//     only another process of the run could end (read, write, open of a FIFO, accept,
//     connect, poll/select/epoll without a timeout that can fire, wait, or a lock/join
//     without a timeout), no process outside the run holds any end they wait on (the
//     test binary feeding stdin or reading stdout, a white-box test's own descriptor),
//     and nothing moved (no thread ran, no byte went through) for kDeadlockConfirmSeconds.
//     A process in sleep/nanosleep, in a poll with a finite timeout, waiting for a
//     signal, or stopped is never part of a deadlock: such a run keeps its timeout.
//   - spinning: one thread wants a whole CPU (running or ready to run >= 90% of the
//     time) for kSpinSeconds or longer, and has used kSpinRanSeconds of CPU meanwhile,
//     while it never slept, touched no new page, and its process moved no byte. The
//     warden then watches a few of its system calls (ptrace, where allowed) to name the
//     call it repeats and what that call returns. It traces nothing before that: a traced thread reports its
//     exit and its signals to the tracer first, so a busy program merely slowed by a
//     loaded machine, traced "to see", could lose a signal or keep its parent's wait()
//     waiting, and a correct program would lose marks.
// White-box tests (run_function): the body runs in the forked child, so the threads it
// starts (a test's client thread, say) are processes of the run like any other. When
// such a thread waits for the others (join, a lock or condition without a timeout)
// while they all sleep on ends only the run holds, that is a deadlock too: nothing
// outside the run could ever wake any of them. A test thread that waits with a timeout
// (sleep_for, wait_for, poll with a timeout) keeps the run alive until the timeout.
// The test binary itself is outside the run: while it has any other thread or child
// (it may open a FIFO or connect later), the warden never calls a run deadlocked.
// Not seen: a timer armed with alarm()/setitimer() (a signal may still come), and
// timerfd/eventfd in a select() or epoll without a timeout; no lesson uses them, and
// such a run would be ended as deadlocked.
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
    // Stall the program's stdout (a 4 KiB pipe nobody reads) until every process has
    // come to sleep and each one blocked in write() has been stopped and continued once
    // (SIGSTOP/SIGCONT): Linux then returns a short count from a pipe write() that had
    // already moved some bytes. This proves that a program loops on partial writes. The
    // stall also ends with the run, or at half the timeout. Linux only.
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

// The system call a process sleeps in, by kind (the kinds a lesson's diagnosis needs).
enum class Call { Running, Unknown, Read, Write, Wait, Open, Poll, Sleep, Signal, Futex, Accept, Connect, Other };

// A process that holds the other end of a channel.
struct EndHolder {
    pid_t pid = 0;
    int fd = -1;
};

// One open file descriptor that is a pipe, a FIFO or a socket.
struct OpenChannel {
    int fd = -1;
    std::string object;  // "pipe 55123", "FIFO /tmp/x/to-server", "socket 8812"
    unsigned long long inode = 0;
    bool readable = false, writable = false;
    // Who else in the tree holds the other end of this pipe or FIFO: for a read end,
    // every holder of a write end (the same process at another fd included); for a
    // write end, every holder of a read end. Empty for sockets (a peer has its own inode).
    std::vector<EndHolder> other_end;
    bool is_pipe() const { return object.rfind("pipe", 0) == 0; }
    bool is_fifo() const { return object.rfind("FIFO", 0) == 0; }
    bool is_socket() const { return object.rfind("socket", 0) == 0; }
};

// One process of the tree with what it was doing: the call it slept in and the
// pipe, FIFO and socket ends it held.
struct ProcessSnapshot {
    ProcessInfo info;
    long syscall_nr = -2;  // -1 running, -2 unknown
    pid_t thread = 0;      // when the telling call is another thread's: its id
    unsigned long long syscall_arg0 = 0;
    bool timed_wait = false;  // the call has a timeout that will fire (poll with a timeout, ...)
    std::string wchan;        // kernel function it sleeps in, if readable
    std::vector<OpenChannel> channels;

    Call call() const;
    // The channel the call waits on (read/write: its fd argument), or nullptr.
    const OpenChannel* waited_channel() const;
    const OpenChannel* channel_at(int fd) const;
    // True when the call waits on an end whose other end this process holds itself
    // (a read() that can never see EOF because the reader holds a write end).
    bool waits_on_its_own_end() const;
};

// How a run ended.
enum class Ending {
    Exited,      // the program exited or was killed by a signal, by itself
    TimedOut,    // its time was up
    Deadlocked,  // the warden saw a deadlock and ended it (see the top of this file)
    Spinning,    // the warden saw a process spin and ended it
    NotRun,      // the sandbox could not start it (see sandbox_note)
};

// What happened.
struct RunResult {
    std::vector<std::string> argv;  // what was run (for the reproduce line)
    std::string stdin_data;         // the first 4 KiB of what was fed to it (for the reproduce line)
    std::size_t stdin_size = 0;     // how many bytes were fed to it
    std::string out, err;           // captured stdout and stderr, up to the cap
    bool out_truncated = false, err_truncated = false;
    // True whenever the run did not end by itself: the timeout, a deadlock or a spin
    // (ending says which). Tests that only ask "did it hang?" read this.
    bool timed_out = false;
    Ending ending = Ending::NotRun;
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
    // When it did not end by itself: each process of the tree as data, and the spin
    // (when ending == Spinning): which process, and the call it repeats, in words.
    std::vector<ProcessSnapshot> stuck;
    pid_t spinning_pid = 0;
    std::string spin_call;  // "poll() returns at once with POLLHUP on fd 5: ..."
    // The same, in words, written from the data above by process_table::explain_hang
    // (empty when unknown). For people: never parse it, read stuck instead.
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
    // Questions lessons ask of stuck: the program you ran (nullptr when not there),
    // the other processes, and how many processes of the tree sleep in a given call.
    const ProcessSnapshot* stuck_program() const;
    std::vector<const ProcessSnapshot*> stuck_children() const;
    std::size_t stuck_in(Call call) const;
    const ProcessSnapshot* stuck_process(pid_t pid) const;
};

// Runs argv[0] (a path, or a name looked up in PATH) with the given options.
RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Runs body() in a sandboxed child process instead of a program: body's stdout and
// stderr are captured, its return value is the exit status. Used by white-box tests,
// so that a learner's function that hangs or crashes fails one test, not the suite.
RunResult run_function(const std::function<int()>& body, const RunOptions& options = {});

}  // namespace pw
