// test_support.hpp - what both of lesson 04's test files share: why a filter hung
// (from the sandbox's data on what each process was blocked in, and from how often the
// learner's code woke up), and how to show an expected output.
#pragma once

#include <algorithm>
#include <atomic>
#include <cctype>
#include <string>

#include "lesson.hpp"

namespace lesson04 {

// How often the learner's code woke up, counted by filter_bytes_test.cpp, which
// interposes every call that waits for descriptors (poll, ppoll, select, pselect,
// epoll_wait, epoll_pwait) and read()/write() failing with EAGAIN. The counts live in
// memory shared with the test, so that the test reads what a sandboxed caller did even
// when it hung. Counts of calls, never times: a pump that waits makes a few calls per
// event, one that spins makes thousands while nothing happens. Counted on Linux only
// (elsewhere they stay 0, and the tests that need them are skipped with a note).
struct WaitCounts {
    std::atomic<long> polls{0}, selects{0}, epolls{0};  // poll/ppoll, select/pselect, epoll_wait/epoll_pwait
    std::atomic<long> zero_timeout{0};                  // of those, asked with a timeout of 0: they never wait
    std::atomic<long> out_ready{0};                     // of those, answered "room to write" (POLLOUT)
    std::atomic<long> eagain{0};                        // read() or write() that failed with EAGAIN
    WaitCounts() = default;
    WaitCounts(const WaitCounts& other) { *this = other; }
    WaitCounts& operator=(const WaitCounts& other) {  // a snapshot: each count as it is now
        polls = other.polls.load(), selects = other.selects.load(), epolls = other.epolls.load();
        zero_timeout = other.zero_timeout.load(), out_ready = other.out_ready.load(), eagain = other.eagain.load();
        return *this;
    }
    long waits() const { return polls + selects + epolls; }
    long wakeups() const { return waits() + eagain; }
    std::string text() const {
        return std::to_string(polls) + " poll(), " + std::to_string(selects) + " select(), " + std::to_string(epolls) +
               " epoll_wait() (" + std::to_string(zero_timeout) + " of them with a timeout of 0, " +
               std::to_string(out_ready) + " answered POLLOUT), " + std::to_string(eagain) +
               " read()/write() failing with EAGAIN";
    }
};

// A likely cause and the lesson section about THAT cause (not about the test's topic).
struct Cause {
    std::string text;
    std::string anchor;
};

// Why a busy loop spins, from the counts: which call it repeats, and the cure for that one.
inline Cause spin_cause(const WaitCounts& w) {
    struct Spin {
        bool seen;           // what the counts show
        const char* cure;    // the call it repeats, and the cure for that one
        const char* anchor;  // the lesson section about that cure
    };
    const Spin spins[] = {
        {w.eagain > w.waits(),
         "on a non-blocking descriptor, EAGAIN means \"not now\"; calling read() or write() again at once spins. "
         "Wait in poll() until the descriptor is ready, and only then call read() or write().",
         "pumping-both-pipes-with-poll"},
        {w.zero_timeout * 2 > w.waits(),
         "a timeout of 0 (poll(..., 0), select with {0, 0}, epoll_wait(..., 0)) returns at once instead of "
         "waiting. Pass -1 (select: NULL) to wait until a descriptor is ready.",
         "pumping-both-pipes-with-poll"},
        {w.out_ready * 2 > w.waits(),
         "poll() answers POLLOUT at once whenever the pipe has room, so asking for it while you have nothing to "
         "write wakes you up for nothing, again and again. Ask for POLLOUT on the child's stdin only while you "
         "hold input for it (else poll your input for POLLIN).",
         "streaming-between-two-descriptors"},
        {true,
         "each wait returns at once. Ask only for events you will act on, and close (stop polling) a pipe once "
         "read() has returned 0.",
         "pumping-both-pipes-with-poll"},
    };
    std::string seen = "it woke up " + std::to_string(w.wakeups()) + " times: " + w.text() + ". ";
    for (const Spin& spin : spins)
        if (spin.seen) return {seen + "A busy loop that burns a core: " + spin.cure, spin.anchor};
    return {seen, ""};  // not reached: the last entry is always seen
}

// The likely cause of a hang, in a learner's words, from RunResult::stuck (what each
// process was doing) and, for the white-box tests, from how often the caller woke up.
// "The program you ran" is the process that called the learner's code.
inline Cause diagnose_hang(const pw::RunResult& r, const WaitCounts* waits = nullptr) {
    if (r.ending == pw::Ending::Spinning) {
        std::string seen = r.spin_call.empty() ? "it used a whole CPU and moved no byte" : r.spin_call;
        if (seen.find("read()") != std::string::npos)
            return {"your pump spins: " + seen +
                        ". Once read() has returned 0, that pipe is finished: close it and "
                        "stop polling it (set its pollfd's fd to -1, or leave it out).",
                    "pumping-both-pipes-with-poll"};
        if (waits && waits->eagain > waits->waits()) return spin_cause(*waits);
        // The pump of this lesson is a poll() loop: the usual way it spins is this one.
        return {"your pump spins: " + seen +
                    ". In a poll() loop, end of file on a pipe is POLLHUP, not POLLIN: when the child closes its "
                    "stdout, poll() reports POLLHUP on the empty pipe, at once, every time. Treat POLLHUP (any "
                    "revents) like POLLIN: read() until it returns 0, then close that fd and stop polling it.",
                "pumping-both-pipes-with-poll"};
    }
    const pw::ProcessSnapshot* caller = r.stuck_program();
    bool someone_writes = r.stuck_in(pw::Call::Write) > 0;
    if (r.stuck_in(pw::Call::Write) >= 2 && waits && waits->waits() > 0)
        return {
            "both your process and the child wait in write() on full pipes: a deadlock, though your pump "
            "does wait in poll() (" +
                std::to_string(waits->waits()) +
                " calls before it blocked). POLLOUT means there is SOME room, not room for all you write: "
                "a blocking write() then waits for the rest while nobody reads the child's output. Make your "
                "end of the child's stdin non-blocking (fcntl O_NONBLOCK): write() then takes what fits.",
            "pumping-both-pipes-with-poll"};
    if (r.stuck_in(pw::Call::Write) >= 2)
        return {
            "both your process and the child wait in write() on full pipes: a deadlock. You write all the "
            "input before reading any output; the child stops reading its stdin once its stdout pipe is "
            "full, and nobody empties that pipe. Feed the input WHILE you read the output (poll).",
            "the-deadlock-of-write-all-then-read"};
    if (caller && caller->call() == pw::Call::Wait && someone_writes)
        return {
            "you wait for the child while it still has output to write, and nobody reads it: after closing "
            "its stdin, read the child's stdout to end of file (read() returns 0) before you wait for it.",
            "closing-stdin-is-the-childs-end-of-file"};
    for (const auto& p : r.stuck)
        if (p.call() == pw::Call::Read && p.waits_on_its_own_end())
            return {
                "the child itself still holds the write end of its own stdin, so its read() never sees EOF: "
                "in the child, after dup2, close every original pipe end.",
                "starting-the-child-with-two-pipes"};
    if (caller && caller->call() == pw::Call::Read && caller->waited_channel()) {
        const auto& holders = caller->waited_channel()->other_end;
        bool at_stdout = false;
        for (const auto& h : holders) at_stdout |= h.fd == 1;
        if (!holders.empty() && !at_stdout)
            return {
                "your process waits in read() on a pipe whose write end the running child still holds at fd 3 "
                "or above: the exec-error pipe? Mark its write end close-on-exec (FD_CLOEXEC), so that a "
                "successful exec closes it and your read() sees EOF at once.",
                "when-exec-fails"};
    }
    for (const auto& p : r.stuck)
        if (p.call() == pw::Call::Read && p.waited_channel() && !p.waited_channel()->other_end.empty())
            return {
                "the child waits for more input: close the child's stdin (your write end) once all the input "
                "is written - that close is its end of file.",
                "closing-stdin-is-the-childs-end-of-file"};
    return {"it never finished; see above what each process was blocked in.", ""};
}

// The same, as text only (the black-box tests link a section of their own).
inline std::string hang_cause(const pw::RunResult& r) {
    return diagnose_hang(r).text;
}

// Short printable outputs are shown; big or binary ones are described.
inline std::string shown(const std::string& want) {
    bool printable = std::all_of(want.begin(), want.end(),
                                 [](char c) { return std::isprint(static_cast<unsigned char>(c)) || c == '\n'; });
    if (printable && want.size() <= 120) return pw::quote(want);
    return "the " + std::to_string(want.size()) + " bytes the command prints";
}

}  // namespace lesson04
