// message_server_test.cpp - white-box tests of lesson 05's MessageServer class.
//
// Each test is a scenario played in a sandboxed child process (pw::run_function), so
// that a server which hangs or dies fails one test, not the suite. In the child, the
// main thread runs the learner's server (start(), then serve()), and a second thread
// plays the client: it opens the FIFOs, talks, and finally calls stop(). As it goes,
// the child records what it saw (how far the server got, what the client sent and
// what came back) in memory shared with the test, and exits 0 when everything was
// right. A test describes its scenario (the client's part, and what it expects, in
// words) and checks it with one predicate, Plays(), whose failure message (pw::Why)
// computes the likely cause from that record and from the sandbox's view of the stuck
// processes.
//
// A blocked open(), read() or write() in the child is fine: the sandbox's timeout is
// the guard, and when it fires, its report says where the server was stuck. No test
// measures how long anything takes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fifo_dir.hpp"
#include "lesson.hpp"
#include "message_server.hpp"
#include "process_table.hpp"

namespace {

using fifo_test::FifoDir;
using pw::RunResult;

// ---- what the sandboxed child found, as data ----------------------------------------------

// A scenario runs in a sandboxed child that may hang or die at any step, so it records
// what it saw as it goes, into memory it shares with the test (mmap(MAP_SHARED) before
// the fork). The test reads these fields after the run: how far the server got, and
// what the client sent and received. Words are written from them once, in the test.
struct Evidence {
    bool started = false;            // start() returned true
    bool start_failed = false;       // start() returned false
    bool serve_began = false;        // serve() was called (every before_serve step returned)
    long serve_thread = 0;           // the id of the thread that runs serve()
    bool stop_called = false;        // the client thread called stop()
    bool serve_returned = false;     // serve() returned ...
    bool serve_result = false;       // ... this
    bool serve_was_early = false;    // ... before stop() was called
    int error_number = 0;            // the errno whose strerror() ends error() after a failure, 0 if none
    char error[240] = "";            // server.error() after start() or serve() returned false
    bool from_server_ended = false;  // a client's read() of from-server returned 0 (EOF): it was closed
    int waiting_for = 0;             // the reply (1, 2, ...) a client waits for; 0: none
    std::size_t sent_size = 0;       // the message that reply answers (its first bytes)
    char sent[200] = "";
    long sent_nul = -1;            // its first NUL byte, in all of it (-1: none)
    std::size_t arrived_size = 0;  // the bytes from-server gave since that message went out
    char arrived[200] = "";
    bool half_line_waiting = false;  // a silent client has written half a line
    bool awaiting_sleep = false;     // the client waits to see serve()'s thread asleep
    char inside[40] = "";            // the server call a handler is inside of, "" when none
    int sends_returned = 0;          // send() calls that returned (scenarios that count them)
    int stop_after = 0;              // the message after which the client calls stop() (when it is drawn)
    bool finished = false;           // the child reached its end
    int problems = 0;                // what the client found wrong, in words, " / " between them
    char found[3000] = "";
};

Evidence* evidence = nullptr;  // in the child: the shared page of the current run
std::mutex evidence_mutex;     // the child's threads take turns to write to it

void copy_into(char* to, std::size_t room, std::size_t& size, const std::string& from) {
    size = from.size();
    std::memcpy(to, from.data(), std::min(room, from.size()));
}

// The errno whose strerror() ends error ("poll: Interrupted system call" -> EINTR).
int errno_of(const std::string& error) {
    for (int e = 1; e < 134; ++e) {
        std::string text = std::strerror(e);
        if (error.size() > text.size() && error.compare(error.size() - text.size(), text.size(), text) == 0) return e;
    }
    return 0;
}

std::string errno_text(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

bool write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n == -1) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// Records that a client now waits for reply k (from 1) to message, with `already`
// read but not yet used.
void await_reply(int k, const std::string& message, const std::string& already = "") {
    std::lock_guard<std::mutex> lock(evidence_mutex);
    evidence->waiting_for = k;
    copy_into(evidence->sent, sizeof evidence->sent, evidence->sent_size, message);
    std::size_t nul = message.find('\0');
    evidence->sent_nul = nul == std::string::npos ? -1 : static_cast<long>(nul);
    copy_into(evidence->arrived, sizeof evidence->arrived, evidence->arrived_size, already);
}

// What a scenario found wrong, in words: into the evidence at once.
struct Findings {
    void fail(const std::string& what) {
        std::lock_guard<std::mutex> lock(evidence_mutex);
        std::string all = evidence->found;
        all += (all.empty() ? "" : " / ") + what;
        std::size_t size;
        copy_into(evidence->found, sizeof evidence->found - 1, size, all);
        ++evidence->problems;
    }
};

// Cuts the first whole line off the front of pending, into line without its '\n';
// false while pending holds no '\n' yet.
bool take_line(std::string& pending, std::string& line) {
    std::size_t end = pending.find('\n');
    if (end == std::string::npos) return false;
    line = pending.substr(0, end);
    pending.erase(0, end + 1);
    return true;
}

// A client's end of the conversation: blocking descriptors (the sandbox guards them)
// and a line reader that keeps what it read past a '\n'. What it reads is recorded as
// evidence, so a reply that never ends is seen for what it was. Its ends stay open
// until closed on purpose: a scenario's client often must still hold them at stop().
struct Client {
    int to = -1;    // to-server, write end
    int from = -1;  // from-server, read end
    std::string pending;

    bool open_to(const MessageServer& s) { return (to = open(s.to_server_path().c_str(), O_WRONLY)) != -1; }
    bool open_from(const MessageServer& s) { return (from = open(s.from_server_path().c_str(), O_RDONLY)) != -1; }
    // Opens both FIFOs, to-server first, as most clients do; a failure goes into f.
    bool attach(const MessageServer& s, Findings& f) {
        if (open_to(s) && open_from(s)) return true;
        f.fail(errno_text("the client's open"));
        return false;
    }
    bool send(const std::string& message) { return write_all(to, message + "\n"); }
    // The next line from the server, without its '\n'; false at EOF or on an error.
    bool receive(std::string& line) {
        while (!take_line(pending, line)) {
            char buf[65536];
            ssize_t n = read(from, buf, sizeof buf);
            if (n == -1 && errno == EINTR) continue;
            if (n == 0) evidence->from_server_ended = true;
            if (n <= 0) return false;
            pending.append(buf, static_cast<std::size_t>(n));
            std::lock_guard<std::mutex> lock(evidence_mutex);
            copy_into(evidence->arrived, sizeof evidence->arrived, evidence->arrived_size, pending);
        }
        return true;
    }
    // Sends message number k (from 1) and says so in the evidence: the reply it waits for.
    bool send_awaiting(int k, const std::string& message) {
        await_reply(k, message, pending);
        return send(message);
    }
    void close_to() { close(to), to = -1; }
    void close_from() { close(from), from = -1; }
};

// The handler's way to tell the client thread "that message was handled": one byte
// through a pipe, made afresh in each sandboxed child.
int ack_pipe[2] = {-1, -1};

std::string acking_echo(const std::string& message) {
    ssize_t n = write(ack_pipe[1], "!", 1);
    (void)n;
    return message;
}

// Waits until the handler has seen one more message (the sandbox guards the wait).
bool wait_for_handler() {
    char c;
    for (;;) {
        ssize_t n = read(ack_pipe[0], &c, 1);
        if (n == 1) return true;
        if (n == -1 && errno == EINTR) continue;
        return false;
    }
}

struct Played;

// One behaviour of the server: what each side does, and how the test judges it.
struct Scenario {
    // The client's part, in its own thread. stop() is called when it returns.
    std::function<void(MessageServer&, Findings&)> client;
    MessageServer::Handler handler;                               // empty: the default (echo)
    std::function<void(MessageServer&, Findings&)> before_serve;  // after start(), in the main thread
    std::function<void(MessageServer&, Findings&)> after_serve;   // checks once serve() returned
    double timeout_seconds = 5;
    bool ignore_sigpipe = false;  // for clients that may write to a server that is gone
    int cycles = 1;               // played this many times, each in a fresh process and directory
    int umask = -1;               // the server's umask, when the test sets one (-1: inherited)

    // What the test expects, in words, and the lesson section about it.
    std::string expected;
    std::string topic;
    // The test's own likely cause of a failed run, when what happened points to one
    // ("" otherwise: then cause_of() speaks), and the section about that cause.
    std::function<std::string(const Played&)> cause;
    std::string cause_topic;
};

// A finished run: what the sandbox saw, and what the child recorded.
struct Played {
    RunResult r;
    Evidence e;
    bool ok() const { return r.ok() && e.finished && e.problems == 0; }
};

// Plays a scenario in a sandboxed child, in a fresh directory.
Played play(const Scenario& s) {
    FifoDir dir;
    if (!dir.ok()) {
        Played p;
        p.r.sandbox_note = errno_text("mkdtemp of the FIFO directory");
        return p;
    }
    void* page = mmap(nullptr, sizeof(Evidence), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        Played p;
        p.r.sandbox_note = errno_text("mmap of the evidence page");
        return p;
    }
    evidence = new (page) Evidence();
    pw::RunOptions options;
    options.timeout_seconds = s.timeout_seconds;
    Played played;
    played.r = pw::run_function(
        [&]() -> int {
            if (s.ignore_sigpipe) signal(SIGPIPE, SIG_IGN);
            if (s.umask != -1) umask(static_cast<mode_t>(s.umask));  // after the directory was made
            if (pipe(ack_pipe) == -1) return 12;
            Findings findings;
            MessageServer server(dir.path());
            if (s.handler) server.set_handler(s.handler);
            if (!server.start()) {
                evidence->start_failed = true;
                std::size_t size;
                copy_into(evidence->error, sizeof evidence->error - 1, size, server.error());
                evidence->error_number = errno_of(server.error());
                return 10;
            }
            evidence->started = true;
            if (s.before_serve) s.before_serve(server, findings);
            std::atomic<bool> stop_called{false};
            std::thread client([&] {
                s.client(server, findings);
                stop_called = true;
                evidence->stop_called = true;
                server.stop();
            });
            evidence->serve_thread = syscall(SYS_gettid);
            evidence->serve_began = true;
            bool served = server.serve();
            evidence->serve_returned = true;
            evidence->serve_result = served;
            if (!served) {
                std::size_t size;
                copy_into(evidence->error, sizeof evidence->error - 1, size, server.error());
                evidence->error_number = errno_of(server.error());
            }
            if (!stop_called) {
                // Nothing will end the client's waits now: end the whole process.
                evidence->serve_was_early = true;
                _exit(1);
            }
            client.join();
            if (s.after_serve) s.after_serve(server, findings);
            evidence->finished = true;
            return served && evidence->problems == 0 ? 0 : 1;
        },
        options);
    played.e = *evidence;
    evidence->~Evidence();
    munmap(page, sizeof(Evidence));
    evidence = nullptr;
    return played;
}

// ---- judging a scenario, in the test --------------------------------------------------

// The command that reruns this test alone: the test binary that runs now (its name as
// the grader built it, "_private" or not), in the test/ folder beside the bin/ folder
// that pw::program() takes from the grader.
std::string rerun_command() {
    std::string bin = pw::program("");
    bin.pop_back();  // the '/' program("") ends with
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string name = n > 0 ? std::string(self, static_cast<std::size_t>(n)) : std::string(PW_LESSON) + "_test";
    name = name.substr(name.rfind('/') + 1);
    std::string test = bin.substr(0, bin.rfind('/') + 1) + "test/" + name;
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    return "PIPEWORKS_BIN_DIR=" + bin + " " + test + " --gtest_filter=" + info->test_suite_name() + "." + info->name();
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// What the client was waiting for when the run ended, and what had come: the bytes
// of the awaited reply so far against the message sent, when they tell why.
std::string reply_evidence(const Evidence& e) {
    if (e.waiting_for == 0) return "";
    std::string sent(e.sent, std::min(e.sent_size, sizeof e.sent));
    std::string arrived(e.arrived, std::min(e.arrived_size, sizeof e.arrived));
    // The message's first NUL byte may lie past the bytes kept of it: compare what was kept.
    std::size_t nul = static_cast<std::size_t>(e.sent_nul);
    if (e.sent_nul >= 0 && e.arrived_size == nul && arrived == sent.substr(0, arrived.size()))
        return "message " + std::to_string(e.waiting_for) + " was " + pw::quote(sent, 40) +
               ", with a NUL byte at offset " + std::to_string(nul) + "; from-server gave exactly the " +
               std::to_string(nul) +
               " bytes before that NUL byte, and no '\\n'. Something treats the message or "
               "its reply as a C string (c_str() passed where a length is needed, strlen(), strcpy(), \"%s\"), "
               "which ends at the first NUL byte: keep std::string and its size() all the way, and append with "
               "append(data, size) or +=, never from c_str().";
    if (e.arrived_size == 0)
        return "the client waited for the reply to message " + std::to_string(e.waiting_for) + ", " +
               pw::quote(sent, 40) +
               ", and not one byte of it came: does serve() poll() to-server, read() what is "
               "there, cut it into lines on '\\n', and write each reply, with its '\\n', into from-server?";
    return "the client waited for the reply to message " + std::to_string(e.waiting_for) + ", " + pw::quote(sent, 40) +
           "; from-server gave " + pw::quote(arrived, 40) + " and then nothing more, no '\\n' to end the line.";
}

// Why a scenario failed, in the learner's terms, computed from what happened:
// which call the server was stuck in, which signal killed it, what the client saw.
std::string cause_of(const Played& p) {
    const RunResult& r = p.r;
    const Evidence& e = p.e;
    if (r.term_signal == SIGPIPE)
        return "the server was killed by SIGPIPE: it wrote a reply into from-server while no process had "
               "from-server open for reading. Keep the server's own read end of from-server (out_keep_fd_) open "
               "until the end; then a write never meets a FIFO without a reader.";
    if (r.term_signal)
        return "the server crashed (signal " + std::to_string(r.term_signal) +
               "); run the reproduce command under gdb to see where.";
    if (e.start_failed && e.error_number == EACCES)
        return "start() could not open its own FIFO: under a umask such as 0277, mkfifo(path, 0600) makes mode "
               "0400, which even its owner cannot open for writing. Set the mode again with chmod(path, 0600).";
    if (e.start_failed)
        return "start() failed: it returned false, and error() said " + pw::quote(e.error, 80) +
               ". Is start() still the stub?";
    if (e.serve_returned && !e.serve_result && e.error_number == EINTR)
        return "serve() gave up when a signal with a handler interrupted poll() (EINTR). That is not an error: "
               "the handler ran (it may have called stop()); check stopping_ and call poll() again.";
    if (e.serve_returned && !e.serve_result)
        return "serve() returned false, and error() said " + pw::quote(e.error, 80) +
               ": a system call failed, or serve() is still the stub.";
    if (e.serve_was_early || (e.from_server_ended && !r.timed_out))
        return "serve() returned before anyone called stop(): serve() must loop "
               "until stopping_ is set. If it returned when a client closed its end, it treated read() == 0 as the "
               "end of everything: while the server holds its own write end of to-server (in_keep_fd_), read() "
               "never returns 0, and clients can come and go.";
    if (r.timed_out) {
        if (r.stuck_in(pw::Call::Open) > 0 && !e.started)
            return "start() waits in open(): a FIFO opened without O_NONBLOCK waits until the other side opens "
                   "it too, and no client comes. Open each read end with O_NONBLOCK first, then the write ends.";
        if (r.stuck_in(pw::Call::Open) > 0)
            return "the server waits in open() for the next client, and no self-pipe can wake a blocking open(): "
                   "neither send() nor stop() gets through, and serve() never returns. Do not reopen to-server "
                   "when a client leaves: keep the server's own write end of to-server open, then read() never "
                   "returns 0.";
        if (r.stuck_in(pw::Call::Write) > 0 && e.started && !e.serve_began)
            return "send() blocked before serve() ever ran: it waits in write(). send() must never block: it only "
                   "appends to the outbox and writes one byte into a self-pipe whose write end is O_NONBLOCK (a full "
                   "self-pipe holds wake-ups enough: ignore EAGAIN).";
        if (r.stuck_in(pw::Call::Write) > 0)
            return "the server waits in write() on from-server, which is full because no client reads it. Open "
                   "from-server's write end with O_NONBLOCK; when write() says EAGAIN, keep the rest in outbox_ "
                   "and poll() for POLLOUT.";
        if (e.stop_called)
            return "stop() was called but serve() did not return: stop() must write a byte into the self-pipe, "
                   "and serve() must poll() the self-pipe's read end with the FIFO and leave its loop when "
                   "stopping_ is set. And serve() must never clear stopping_ itself: stop() may come before "
                   "serve() begins (from a signal handler, or another thread), and must not be forgotten.";
        if (!e.started) return "start() never returned (see what the process was blocked in, above).";
        std::string reply = reply_evidence(e);
        if (!reply.empty()) return reply;
        return "the client waited for a reply that never came: does serve() poll() to-server, read() what is "
               "there, cut it into lines on '\\n', and write each reply, with its '\\n', into from-server?";
    }
    if (e.problems) return e.found;
    return "the scenario did not finish (" + r.status() + ").";
}

// The lesson section for a failure: the test's own, unless what happened points
// to a step of its own (a start() that waits in open(), a stop() that wakes nothing).
std::string anchor_for(const Played& p, const std::string& usual) {
    if (p.r.timed_out && !p.e.started) return "step-2-open-without-waiting";
    if (p.r.timed_out && p.e.stop_called && p.r.stuck_in(pw::Call::Poll) > 0) return "step-5-stop-with-a-self-pipe";
    return usual;
}

// The one check of every scenario, played s.cycles times (until the first failure):
// the child ended with status 0, at its end, and the client found nothing wrong. On
// failure, the message says what was expected, with the cause computed from the
// evidence (or the test's own, when it knows better).
::testing::AssertionResult Plays(const Scenario& s) {
    for (int cycle = 1; cycle <= s.cycles; ++cycle) {
        Played p = play(s);
        if (p.ok()) continue;
        pw::Why why;
        why.expected(s.cycles == 1
                         ? s.expected
                         : "cycle " + std::to_string(cycle) + " of " + std::to_string(s.cycles) + ": " + s.expected);
        std::string own = s.cause ? s.cause(p) : "";
        if (own.empty())
            why.cause(cause_of(p));
        else
            why.cause(own, s.cause_topic.empty() ? "" : anchor_for(p, s.cause_topic));
        why.topic(anchor_for(p, s.topic)).reproduce(rerun_command());
        return ::testing::AssertionFailure() << pw::explain(p.r, why);
    }
    return ::testing::AssertionSuccess();
}

// A mode in octal: 0600 -> "600", or with digits = 4, a umask: 077 -> "0077".
std::string octal(mode_t mode, int digits = 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*o", digits, static_cast<unsigned>(mode & 07777));
    return buf;
}

// Random bytes of any value but '\n' (NULs included).
std::string random_binary(std::mt19937& gen, std::size_t length) {
    std::uniform_int_distribution<int> byte(0, 255);
    std::string s;
    s.reserve(length);
    while (s.size() < length) {
        char c = static_cast<char>(byte(gen));
        if (c != '\n') s += c;
    }
    return s;
}

// A client that sends each message and waits for its reply before the next.
void round_trips(MessageServer& server, Findings& f, const std::vector<std::string>& messages,
                 const std::function<std::string(const std::string&)>& expect = nullptr) {
    Client c;
    if (!c.attach(server, f)) return;
    std::string reply;
    for (std::size_t i = 0; i < messages.size(); ++i) {
        if (!c.send_awaiting(static_cast<int>(i + 1), messages[i])) return f.fail(errno_text("the client's write"));
        if (!c.receive(reply))
            return f.fail("from-server ended (EOF) before the reply to message " + std::to_string(i + 1));
        std::string want = expect ? expect(messages[i]) : messages[i];
        if (reply != want)
            return f.fail("message " + std::to_string(i + 1) + " of " + std::to_string(messages.size()) + " was " +
                          pw::quote(messages[i], 40) + ", the reply " + pw::quote(reply, 40) + ", expected " +
                          pw::quote(want, 40));
    }
}

// Whether a thread of this process sleeps in the kernel right now (state S in /proc):
// a server with nothing to do sleeps in poll(); one that spins never does.
bool sleeping(long thread) {
    char state = pw::process_table::state_letter("/proc/self/task/" + std::to_string(thread));
    return state == 'S' || state == 'X';  // 'X': no /proc to read, so nothing to tell
}

// Returns once serve() has begun and its thread sleeps (in poll(), with nothing to do),
// however long that takes: the run's deadline ends a serve() that never sleeps.
void await_serve_asleep() {
    while (!evidence->serve_began || !sleeping(evidence->serve_thread)) usleep(1000);
}

// The server's own messages: send() notes 1 to n, "note K TAG", one at a time, each read
// by the waiting reader before the next is sent (the evidence says which one it awaits).
// Each is sent while serve() sleeps: only a send() that wakes serve() gets it out then.
// (Sent at any moment, a note could find serve() still awake after the last one, on a
// loaded machine every time, and a send() that never wakes it would pass.)
void notes_reach(MessageServer& server, Client& reader, Findings& f, int n, const std::string& tag) {
    std::string line;
    for (int k = 1; k <= n; ++k) {
        std::string note = "note " + std::to_string(k) + " " + tag;
        await_reply(k, note);
        await_serve_asleep();
        server.send(note);
        if (!reader.receive(line)) return f.fail("from-server ended (EOF) before note " + std::to_string(k));
        if (line != note)
            return f.fail("the reader read " + pw::quote(line, 30) + " where note " + std::to_string(k) + ", " +
                          pw::quote(note, 30) + ", was expected");
    }
}

// "DIR/to-server": how failure texts name a FIFO (the directory is a fresh temporary one).
std::string shown(const std::string& path) {
    return "DIR" + path.substr(path.rfind('/'));
}

// ---- the FIFOs ----------------------------------------------------------------------------

// The FIFOs' mode under a umask: 0 lets every bit of mkfifo's mode through, 0277 takes
// the owner's write bit away (and only chmod() gives it back).
class FifoMode : public ::testing::TestWithParam<mode_t> {};

TEST_P(FifoMode, CreatesBothFifosWithMode0600) {
    const mode_t mask = GetParam();
    Scenario s;
    s.expected = "DIR/to-server and DIR/from-server, both FIFOs with mode 600, under umask " + octal(mask, 4);
    s.topic = "step-1-make-the-two-fifos";
    s.umask = mask;
    s.before_serve = [mask](MessageServer& server, Findings& f) {
        for (const std::string& path : {server.to_server_path(), server.from_server_path()}) {
            struct stat st;
            if (stat(path.c_str(), &st) == -1)
                f.fail("after start(), " + errno_text(shown(path)));
            else if (!S_ISFIFO(st.st_mode))
                f.fail(shown(path) + " is not a FIFO: create it with mkfifo()");
            else if ((st.st_mode & 07777) != 0600)
                f.fail(shown(path) + " has mode " + octal(st.st_mode) + " under umask " + octal(mask, 4) +
                       ", not 600: mkfifo's mode passes through the umask; set it again with chmod()");
        }
    };
    s.client = [](MessageServer&, Findings&) {};
    EXPECT_TRUE(Plays(s));
}

INSTANTIATE_TEST_SUITE_P(MessageServer, FifoMode, ::testing::Values(mode_t(0), mode_t(0277)),
                         [](const ::testing::TestParamInfo<mode_t>& info) { return "Umask" + octal(info.param, 4); });

TEST(MessageServer, RemovesTheFifosWhenStopped) {
    Scenario s;
    s.expected = "both FIFOs gone once serve() returned after stop()";
    s.topic = "step-5-stop-with-a-self-pipe";
    s.client = [](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        std::string reply;
        if (!c.send("hello") || !c.receive(reply)) f.fail("from-server ended before the reply to \"hello\"");
    };
    s.after_serve = [](MessageServer& server, Findings& f) {
        for (const std::string& path : {server.to_server_path(), server.from_server_path()})
            if (access(path.c_str(), F_OK) == 0)
                f.fail(shown(path) +
                       " is still there after serve() returned: remove both FIFOs (unlink) once they are closed");
    };
    EXPECT_TRUE(Plays(s));
}

// ---- stop() in every state ------------------------------------------------------------------

// With no client, serve() sleeps in poll(); the client thread calls stop() then, and
// serve() must return: only a stop() that wakes poll() gets it out. The test waits to
// see serve() asleep first. (Called at once, stop() came before serve() slept on a loaded
// machine, and a stop() that only sets a flag passed. stop() before serve() begins is
// MessageServerRaces.StopBeforeServeStillStops.) Five times over, in fresh processes.
TEST(MessageServer, StartsAndStopsWithNoClient) {
    Scenario s;
    s.expected = "start() returns at once with no client, and serve() returns after stop()";
    s.topic = "step-2-open-without-waiting";
    s.client = [](MessageServer&, Findings&) { await_serve_asleep(); };
    s.cycles = 5;
    EXPECT_TRUE(Plays(s));
}

// The state a client leaves the server in when stop() comes; serve() must return from
// each. The client's ends stay open while stop() is called (Client closes nothing by itself).
struct StopState {
    const char* name;
    const char* expected;
    MessageServer::Handler handler;  // empty: the default (echo)
    void (*client)(MessageServer&, Findings&);
};

void holds_both_ends(MessageServer& server, Findings& f) {
    Client c;
    c.attach(server, f);
}

void leaves_a_reply_unread(MessageServer& server, Findings& f) {
    Client c;  // sends, and never reads the reply
    if (!c.attach(server, f)) return;
    if (!c.send(pw::random_word(30)) || !wait_for_handler()) f.fail("the message never reached the handler");
}

void sends_half_a_message(MessageServer& server, Findings& f) {
    Client c;  // half a line: the server holds it, waiting for its '\n'
    if (!c.attach(server, f)) return;
    if (!write_all(c.to, "half a mess")) f.fail(errno_text("the client's write"));
}

void deletes_both_fifos(MessageServer& server, Findings& f) {
    Client c;
    if (!c.attach(server, f)) return;
    if (unlink(server.to_server_path().c_str()) == -1 || unlink(server.from_server_path().c_str()) == -1)
        f.fail(errno_text("unlink"));
}

void PrintTo(const StopState& state, std::ostream* os) {
    *os << state.name;
}

class StopIn : public ::testing::TestWithParam<StopState> {};

TEST_P(StopIn, ServeReturnsAfterStop) {
    Scenario s;
    s.expected = GetParam().expected;
    s.topic = "step-5-stop-with-a-self-pipe";
    s.handler = GetParam().handler;
    s.client = GetParam().client;
    EXPECT_TRUE(Plays(s));
}

INSTANTIATE_TEST_SUITE_P(
    MessageServer, StopIn,
    ::testing::Values(
        StopState{"AClientHoldsBothEnds", "serve() returns after stop() while a client holds both FIFOs open", nullptr,
                  holds_both_ends},
        StopState{"AReplyIsUnread", "serve() returns after stop() while a reply waits unread in from-server",
                  acking_echo, leaves_a_reply_unread},
        StopState{"HalfAMessageWaits", "serve() returns after stop() while half a message waits for its newline",
                  nullptr, sends_half_a_message},
        StopState{"BothFifosWereDeleted", "serve() returns (true) after stop() even though someone deleted both FIFOs",
                  nullptr, deletes_both_fifos}),
    [](const ::testing::TestParamInfo<StopState>& info) { return std::string(info.param.name); });

// The client closes its read end of from-server, then writes: the replies have no
// client to go to. A server without a reader of its own would die of SIGPIPE.
TEST(MessageServer, SurvivesAClientThatClosedItsReadEndAndWrote) {
    Scenario s;
    s.expected = "the server answers into from-server with no client reading it, does not die, and stops";
    s.topic = "step-3-keep-a-handle-on-the-far-end";
    s.handler = acking_echo;
    s.client = [](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        c.close_from();
        // Two messages, one at a time: once the second one is handled, the reply to
        // the first has been written (or has killed the server).
        for (int i = 0; i < 2; ++i)
            if (!c.send(pw::random_word(20)) || !wait_for_handler())
                return f.fail("a message never reached the handler");
    };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, StopsAfterTheClientClosedItsWriteEnd) {
    std::string ping = "ping:" + pw::random_word(8);
    Scenario s;
    s.expected =
        "the server still sends after the client closed its end of to-server, and serve() returns after stop()";
    s.topic = "step-3-keep-a-handle-on-the-far-end";
    s.client = [ping](MessageServer& server, Findings& f) {
        Client c;
        std::string line;
        if (!c.attach(server, f)) return;
        if (!c.send(pw::random_word(20)) || !c.receive(line))
            return f.fail("from-server ended before the reply to the first message");
        c.close_to();  // the client leaves: for a server without its own writer, an end of file
        // send() wakes serve() through the self-pipe: a server still listening writes
        // the line out; one that went back to open() to wait for a client never does.
        server.send(ping);
        if (!c.receive(line) || line != ping)
            f.fail("server.send() after the client closed its write end: no line came");
    };
    EXPECT_TRUE(Plays(s));
}

// ---- messages ---------------------------------------------------------------------------------

TEST(MessageServer, EchoesAMessageByteForByte) {
    std::string message = pw::random_word(8) + " \t" + pw::random_word(12) + " !?";
    Scenario s;
    s.expected = "the reply " + pw::quote(message + "\n");
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.client = [message](MessageServer& server, Findings& f) { round_trips(server, f, {message}); };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, AnswersOneHundredRoundTripsOf683Characters) {
    std::vector<std::string> messages;
    for (int i = 0; i < 100; ++i) messages.push_back(pw::random_word(683));
    Scenario s;
    s.expected = "100 replies, each the same 683 characters as its message";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.client = [messages](MessageServer& server, Findings& f) { round_trips(server, f, messages); };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, EchoesSingleLinesFrom1KiBTo16MiB) {
    Scenario s;
    s.expected = "single lines of 1 KiB, 4 KiB, ... 16 MiB, each echoed whole";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.timeout_seconds = 30;  // a cap for slow machines, not a speed limit
    s.client = [](MessageServer& server, Findings& f) {
        std::vector<std::string> messages;
        for (std::size_t size = 1024; size <= 16u << 20; size *= 4)
            messages.push_back(pw::random_word(16) + std::string(size - 16, 'x'));
        round_trips(server, f, messages);
    };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, RoundTripsRandomBinaryLinesWithNulBytes) {
    Scenario s;
    s.expected = "2500 random binary lines (NUL bytes included, any byte but '\\n'), each echoed exactly";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.timeout_seconds = 15;
    s.client = [](MessageServer& server, Findings& f) {
        std::mt19937 gen{std::random_device{}()};
        std::uniform_int_distribution<std::size_t> length(0, 300);
        std::vector<std::string> messages;
        for (int i = 0; i < 2500; ++i) messages.push_back(random_binary(gen, length(gen)));
        messages[1] = std::string("\0\0\0", 3);
        round_trips(server, f, messages);
    };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, KNewlinesGiveKPlusOneEmptyMessages) {
    const int k = 7;
    auto seen = std::make_shared<std::vector<std::string>>();
    Scenario s;
    s.expected = std::to_string(k + 1) + " newlines in one write: " + std::to_string(k + 1) +
                 " empty messages for the handler, " + std::to_string(k + 1) + " replies";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.handler = [seen](const std::string& m) {
        seen->push_back(m);
        return "got " + std::to_string(m.size());
    };
    s.client = [](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        if (!c.send(std::string(k, '\n'))) return f.fail(errno_text("the client's write"));  // k + 1 newlines in all
        std::string reply;
        for (int i = 0; i <= k; ++i)
            if (!c.receive(reply)) return f.fail("from-server ended after " + std::to_string(i) + " replies");
    };
    s.after_serve = [seen](MessageServer&, Findings& f) {
        if (seen->size() != k + 1 ||
            std::any_of(seen->begin(), seen->end(), [](const std::string& m) { return !m.empty(); }))
            f.fail("the handler got " + std::to_string(seen->size()) + " messages" +
                   (seen->empty() ? "" : ", the first " + pw::quote(seen->front(), 20)) + " for " +
                   std::to_string(k + 1) + " newlines: one read() is not one message; every '\\n' ends one");
    };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, JsonWithEscapedNewlinesRoundTrips) {
    // JSON escapes a newline inside a string as the two characters \ and n, so a
    // JSON document fits on one line and survives newline framing.
    std::string json =
        "{\"user\": \"" + pw::random_word(6) + "\", \"text\": \"line one\\nline two\\n\", \"n\": [1, 2]}";
    Scenario s;
    s.expected = "the JSON line " + pw::quote(json, 60) + " back unchanged";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.client = [json](MessageServer& server, Findings& f) { round_trips(server, f, {json, json + " "}); };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, HandlerCanBeSwappedWhileServing) {
    std::string word = pw::random_word(10);
    Scenario s;
    s.expected =
        "the echo " + pw::quote(word) + ", then after set_handler() the new reply " + pw::quote("<" + word + ">");
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.client = [word](MessageServer& server, Findings& f) {
        round_trips(server, f, {word});  // the default handler echoes
        server.set_handler([](const std::string& m) { return "<" + m + ">"; });
        round_trips(server, f, {word}, [](const std::string& m) { return "<" + m + ">"; });
    };
    EXPECT_TRUE(Plays(s));
}

// send() right after start(), with no client and more than the FIFO holds: it must
// not block, and stop() must still work. Ten times over, the way a program that
// starts and stops servers would.
TEST(MessageServer, SendsBeforeAnyClientWithoutBlocking) {
    std::string first = pw::random_word(12);
    Scenario s;
    s.expected = "send() returns at once, the client that comes later reads the message, stop() works";
    s.topic = "sending-on-your-own";
    s.before_serve = [first](MessageServer& server, Findings&) {
        server.send(first);
        server.send(std::string(200 * 1024, 'z'));  // three times what a FIFO holds; nobody reads it
    };
    s.client = [first](MessageServer& server, Findings& f) {
        Client c;  // arrives after the sends, reads the first line only
        if (!c.open_from(server)) return f.fail(errno_text("the client's open"));
        std::string line;
        if (!c.receive(line) || line != first)
            f.fail("the first line in from-server was " + pw::quote(line, 30) +
                   ", not the message sent before any client came, " + pw::quote(first));
    };
    s.cycles = 10;
    EXPECT_TRUE(Plays(s));
}

// send() while a client waits: each message must come out at once, not at the next
// event. Thirty notes, each awaited before the next is sent; the client says which
// one it waits for, so a hang shows how far it got. A send() that wakes serve()
// before its message is in the outbox fails here most of the time (serve() wakes and
// looks before the sender has appended), and `make grade SHAKE=N`, which pauses after
// some write()s, makes it fail nearly always.
TEST(MessageServer, DeliversEachSentMessageAtOnce) {
    const int n = 30;
    std::string tag = pw::random_word(8);
    Scenario s;
    s.expected = std::to_string(n) + " notes passed to send(), each read by the waiting client at once";
    s.topic = "sending-on-your-own";
    s.cause = [](const Played& r) -> std::string {
        int waited = r.e.waiting_for;  // the last note the client waited for
        if (!r.r.timed_out || waited < 1) return "";
        // A send() that never wakes serve() may still see its first note go out, when serve()
        // happens to wake for the client's arrival after it; it never sees two more.
        if (waited <= 2)
            return "send() queued note " + std::to_string(waited) +
                   ", but serve() never wrote it out. send() must append to outbox_ first, then "
                   "wake() serve() (one byte into the self-pipe); serve() then poll()s out_fd_ for POLLOUT while the "
                   "outbox holds anything, and writes it.";
        return "notes 1 to " + std::to_string(waited - 1) + " arrived, note " + std::to_string(waited) +
               " never did: a lost wake-up, which is a race. When send() wakes serve() before the message is in "
               "outbox_, serve() may wake, find the outbox empty and sleep again in poll(); the message then "
               "waits for a wake-up that never comes. send() must append to outbox_ first, then wake(): the "
               "order stop() uses, the flag first, then the byte.";
    };
    s.client = [tag, n](MessageServer& server, Findings& f) {
        Client c;
        if (!c.open_from(server)) return f.fail(errno_text("the client's open"));
        notes_reach(server, c, f, n, tag);
    };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, ServesClientsThatComeAndGo) {
    std::string a = "A:" + pw::random_word(10), b = "B:" + pw::random_word(10), ping = "ping:" + pw::random_word(6);
    Scenario s;
    s.expected = "client A sends and leaves, client B sends: both answered, in order, nothing lost";
    s.topic = "step-3-keep-a-handle-on-the-far-end";
    s.ignore_sigpipe = true;  // client B may write to a server that is gone: that is the server's fault, said below
    s.handler = acking_echo;
    s.client = [a, b, ping](MessageServer& server, Findings& f) {
        {
            Client ca;  // client A: sends, closes, never reads
            if (!ca.open_to(server)) return f.fail(errno_text("client A's open"));
            if (!ca.send(a) || !wait_for_handler()) return f.fail("client A's message never reached the handler");
            ca.close_to();
        }
        // A reader comes and reads A's reply. Then the server sends a line of its own:
        // by the time that line is out, the server has been woken (and has had its
        // chance to notice that A left).
        Client reader;
        if (!reader.open_from(server)) return f.fail(errno_text("the reader's open of from-server"));
        std::string r1, r2, r3;
        if (!reader.receive(r1)) return f.fail("from-server ended before A's reply");
        server.send(ping);
        if (!reader.receive(r2)) return f.fail("from-server ended before the server's own line");
        Client cb;  // client B comes later and sends
        if (!cb.open_to(server)) return f.fail(errno_text("client B's open of to-server, after A left"));
        if (!cb.send(b)) return f.fail(errno_text("client B's write, after A left"));
        if (!reader.receive(r3)) return f.fail("from-server ended before the reply to client B");
        if (r1 != a || r2 != ping || r3 != b)
            f.fail("from-server held " + pw::quote(r1, 20) + ", " + pw::quote(r2, 20) + ", " + pw::quote(r3, 20) +
                   ": not A's reply, the server's own line, then B's reply");
    };
    EXPECT_TRUE(Plays(s));
}

TEST(MessageServer, KeepsOneHundredThousandMessagesInOrder) {
    const int n = 100000;
    std::string tag = pw::random_word(4);
    auto seen = std::make_shared<std::vector<std::string>>();
    Scenario s;
    s.expected = std::to_string(n) +
                 " messages written in big chunks: each reaches the handler once, in order, and is answered in order";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.timeout_seconds = 30;
    s.handler = [seen](const std::string& m) {
        seen->push_back(m);
        return m;
    };
    s.client = [tag](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        std::string all;
        for (int i = 0; i < n; ++i) all += tag + std::to_string(i) + "\n";
        if (!write_all(c.to, all))
            return f.fail(errno_text("the client's write"));  // in big writes: reads see many lines at once
        std::string reply;
        for (int i = 0; i < n; ++i) {
            if (!c.receive(reply)) return f.fail("from-server ended after " + std::to_string(i) + " replies");
            if (reply != tag + std::to_string(i))
                return f.fail("reply " + std::to_string(i + 1) + " was " + pw::quote(reply, 30) + ", expected " +
                              pw::quote(tag + std::to_string(i)));
        }
    };
    s.after_serve = [tag, seen](MessageServer&, Findings& f) {
        if (seen->size() != static_cast<std::size_t>(n)) {
            std::string sample = seen->empty() ? "" : ", the first " + pw::quote(seen->front(), 40);
            return f.fail("the handler was called " + std::to_string(seen->size()) + " times for " + std::to_string(n) +
                          " messages" + sample + ": one read() is not one message; cut on every '\\n'");
        }
        for (int i = 0; i < n; ++i)
            if ((*seen)[i] != tag + std::to_string(i))
                return f.fail("message " + std::to_string(i + 1) + " reached the handler as " +
                              pw::quote((*seen)[i], 30));
    };
    EXPECT_TRUE(Plays(s));
}

// Lines of at most PIPE_BUF bytes, each in one write(), from several writers at once:
// the kernel never interleaves them, and the server must not either.
TEST(MessageServer, SeveralWritersNeverInterleave) {
    const int writers = 4, lines = 500;
    const std::size_t size = PIPE_BUF;  // with its '\n'
    auto seen = std::make_shared<std::vector<std::string>>();
    Scenario s;
    s.expected = std::to_string(writers) + " writers, " + std::to_string(lines) + " lines of " + std::to_string(size) +
                 " bytes each: every line arrives whole, once";
    s.topic = "many-writers-and-pipe_buf";
    s.timeout_seconds = 15;
    s.handler = [seen](const std::string& m) {
        seen->push_back(m);
        return std::string();
    };
    s.client = [](MessageServer& server, Findings& f) {
        std::vector<std::thread> threads;
        for (int w = 0; w < writers; ++w) {
            threads.emplace_back([&server, &f, w] {
                int fd = open(server.to_server_path().c_str(), O_WRONLY);  // each writer its own open
                if (fd == -1) return f.fail(errno_text("a writer's open"));
                for (int i = 0; i < lines; ++i) {
                    std::string head = std::to_string(w) + ":" + std::to_string(i) + ":";
                    std::string line = head + std::string(size - head.size() - 1, static_cast<char>('a' + w)) + "\n";
                    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
                        return f.fail(errno_text("a writer's single write() of PIPE_BUF bytes"));
                }
                close(fd);
            });
        }
        for (auto& t : threads) t.join();
        Client c;
        if (!c.open_from(server)) return f.fail(errno_text("the client's open"));
        std::string reply;
        for (int i = 0; i < writers * lines; ++i)
            if (!c.receive(reply)) return f.fail("from-server ended after " + std::to_string(i) + " replies");
    };
    s.after_serve = [seen](MessageServer&, Findings& f) {
        std::vector<std::vector<bool>> got(writers, std::vector<bool>(lines, false));
        for (const auto& m : *seen) {
            int w = -1, i = -1;
            bool ok =
                std::sscanf(m.c_str(), "%d:%d:", &w, &i) == 2 && w >= 0 && w < writers && i >= 0 && i < lines &&
                m.size() == size - 1 &&
                m.find_first_not_of(static_cast<char>('a' + w), m.find(':', m.find(':') + 1) + 1) == std::string::npos;
            if (!ok) return f.fail("a message was cut or mixed: " + pw::quote(m, 40));
            if (got[w][i])
                return f.fail("line " + std::to_string(i) + " of writer " + std::to_string(w) +
                              " reached the handler twice: each line must be handed on exactly once");
            got[w][i] = true;
        }
        for (int w = 0; w < writers; ++w)
            for (int i = 0; i < lines; ++i)
                if (!got[w][i])
                    return f.fail("line " + std::to_string(i) + " of writer " + std::to_string(w) +
                                  " never reached the handler (" + std::to_string(seen->size()) + " of " +
                                  std::to_string(writers * lines) + " messages did): a line was lost");
    };
    EXPECT_TRUE(Plays(s));
}

// ---- stress: everything the header allows -------------------------------------------------

// Three hundred clients, one after another: each opens both FIFOs, has one round trip
// and leaves, so each comes after the others have gone. Then, with no client at all,
// serve()'s thread must go to sleep in poll(). The test waits until it sees it asleep:
// a server that spins (poll() returning POLLHUP at once, again and again, because no
// writer is left on to-server) never is, and the warden ends the run.
TEST(MessageServer, ServesHundredsOfShortLivedClientsThenSleeps) {
    const int clients = 300;
    std::string tag = pw::random_word(6);
    Scenario s;
    s.expected = std::to_string(clients) +
                 " clients one after another, each answered; then serve() sleeps in poll() until "
                 "the next one";
    s.topic = "step-3-keep-a-handle-on-the-far-end";
    s.cause = [](const Played& r) -> std::string {
        if (r.r.timed_out && r.e.awaiting_sleep)
            return "serve() spins once the last client has gone: its thread never went to sleep" +
                   (r.r.spin_call.empty() ? std::string() : " (" + r.r.spin_call + ")") +
                   ". With no writer left on to-server, poll() reports POLLHUP at once, every time, and a loop that "
                   "only reads on POLLIN goes round and round on a whole CPU. Keep the server's own write end of "
                   "to-server (in_keep_fd_) open all along: then to-server always has a writer, and poll() sleeps "
                   "until a client writes.";
        return "";
    };
    s.timeout_seconds = 10;
    s.client = [tag](MessageServer& server, Findings& f) {
        for (int k = 1; k <= clients; ++k) {
            Client c;
            if (!c.open_to(server) || !c.open_from(server))
                return f.fail(errno_text("client " + std::to_string(k) + "'s open, after " + std::to_string(k - 1) +
                                         " clients had come and gone"));
            std::string m = "client " + std::to_string(k) + " " + tag, reply;
            if (!c.send_awaiting(k, m)) return f.fail(errno_text("client " + std::to_string(k) + "'s write"));
            if (!c.receive(reply)) return f.fail("from-server ended before the reply to client " + std::to_string(k));
            if (reply != m)
                return f.fail("client " + std::to_string(k) + " sent " + pw::quote(m) + " and read " +
                              pw::quote(reply, 40));
            c.close_to();  // gone: the next client comes after this one has left
            c.close_from();
        }
        evidence->waiting_for = 0;
        evidence->awaiting_sleep = true;
        await_serve_asleep();
    };
    EXPECT_TRUE(Plays(s));
}

// A client writes half a line and then goes silent, holding to-server open: it may
// finish the line later, or never. Meanwhile the server serves everyone else: twenty
// notes passed to send() reach a reader, each awaited before the next, and stop() works.
TEST(MessageServer, SilentClientWithHalfALineHoldsNoOneUp) {
    const int n = 20;
    std::string tag = pw::random_word(6);
    Scenario s;
    s.expected = "while a silent client holds half a line, " + std::to_string(n) +
                 " notes from send() each reach the reader, and stop() works";
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.cause = [](const Played& r) -> std::string {
        if (r.r.timed_out && r.e.half_line_waiting && r.e.waiting_for == 1 && !r.e.stop_called)
            return "after a client wrote half a line and went silent, the server sent nothing more: note 1, passed "
                   "to send(), never came out. Does read_messages() wait for the rest of that line (read again "
                   "and again until a '\\n' comes)? A client may stop in the middle of a line for as long as it "
                   "likes: keep the half line in inbox_, go back to poll(), and serve everyone else meanwhile.";
        return "";
    };
    s.client = [tag](MessageServer& server, Findings& f) {
        Client silent, reader;
        if (!silent.open_to(server) || !reader.open_from(server)) return f.fail(errno_text("the clients' open"));
        if (!write_all(silent.to, "half a li")) return f.fail(errno_text("the silent client's write"));
        evidence->half_line_waiting = true;
        notes_reach(server, reader, f, n, tag);
    };  // both clients still hold their ends when stop() is called
    EXPECT_TRUE(Plays(s));
}

// 100 000 send() calls before serve() runs at all (far more than from-server and the
// self-pipe hold), then a client reads every line, in order. send() never blocks: the
// FIFO being full, or nobody having read the self-pipe yet, is not its business.
TEST(MessageServer, SendsOneHundredThousandBeforeServeRunsAndDeliversThemAll) {
    const int n = 100000;
    std::string tag = pw::random_word(5);
    Scenario s;
    s.expected = std::to_string(n) + " send() calls return before serve() runs; a client then reads all " +
                 std::to_string(n) + " lines, in order";
    s.topic = "sending-on-your-own";
    s.cause = [](const Played& r) -> std::string {
        if (r.r.timed_out && !r.e.serve_began && r.e.sends_returned < n)
            return "send() blocked before serve() ever ran, after " + std::to_string(r.e.sends_returned) +
                   " calls had returned: it waits in write() on the self-pipe, which holds 64 KiB of wake-ups and is "
                   "full because serve() has not read it yet. Make the self-pipe's write end O_NONBLOCK too, and "
                   "ignore EAGAIN in wake(): a full self-pipe already holds a wake-up.";
        return "";
    };
    s.cause_topic = "step-5-stop-with-a-self-pipe";
    s.timeout_seconds = 20;
    s.before_serve = [tag](MessageServer& server, Findings&) {
        for (int k = 0; k < n; ++k) {
            server.send(tag + std::to_string(k));
            evidence->sends_returned = k + 1;
        }
    };
    s.client = [tag](MessageServer& server, Findings& f) {
        Client c;
        if (!c.open_from(server)) return f.fail(errno_text("the client's open"));
        std::string line;
        for (int k = 0; k < n; ++k) {
            if (!c.receive(line)) return f.fail("from-server ended after " + std::to_string(k) + " lines");
            if (line != tag + std::to_string(k))
                return f.fail("line " + std::to_string(k + 1) + " was " + pw::quote(line, 30) + ", expected " +
                              pw::quote(tag + std::to_string(k)) + ": a sent message was lost or moved");
        }
    };
    EXPECT_TRUE(Plays(s));
}

// The handler calls set_handler() and send() itself, which the header allows: the
// server must not hold a lock of its own around the handler.
TEST(MessageServer, HandlerMayCallSetHandlerAndSend) {
    std::string word = pw::random_word(8);
    Scenario s;
    s.expected = "the handler's own set_handler() and send() work: " + pw::quote("old:" + word) +
                 ", \"switched\" and \"notice\", then " + pw::quote("new:" + word);
    s.topic = "step-4-cut-the-byte-stream-into-lines";
    s.cause = [](const Played& r) -> std::string {
        if (r.r.timed_out && r.e.inside[0])
            return std::string("the handler called ") + r.e.inside +
                   ", which never returned: serve()'s thread waits there for a lock, the lock it holds itself while "
                   "it calls the handler. A std::mutex is not re-entrant. Copy the handler "
                   "under handler_mutex_, let go of the lock, then call the copy; queue the reply under "
                   "outbox_mutex_ only after the handler has returned.";
        return "";
    };
    s.before_serve = [](MessageServer& server, Findings&) {
        server.set_handler([&server](const std::string& m) {
            if (m != "switch") return "old:" + m;
            std::strcpy(evidence->inside, "send()");
            server.send("notice");  // from inside the handler
            std::strcpy(evidence->inside, "set_handler()");
            server.set_handler([](const std::string& later) { return "new:" + later; });
            evidence->inside[0] = '\0';
            return std::string("switched");
        });
    };
    s.client = [word](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        std::vector<std::string> want = {"old:" + word, "switched", "notice", "new:" + word};
        std::vector<std::string> got;
        std::string line;
        if (!c.send_awaiting(1, word) || !c.receive(line)) return f.fail("no reply to the first message");
        got.push_back(line);
        if (!c.send_awaiting(2, "switch")) return f.fail(errno_text("the client's write"));
        for (int i = 0; i < 2; ++i) {
            if (!c.receive(line)) return f.fail("from-server ended after the handler called set_handler()");
            got.push_back(line);
        }
        if (!c.send_awaiting(3, word) || !c.receive(line)) return f.fail("no reply after the handler was replaced");
        got.push_back(line);
        std::sort(got.begin() + 1, got.begin() + 3);  // the reply and the notice may come either way round
        std::sort(want.begin() + 1, want.begin() + 3);
        if (got != want)
            f.fail("from-server held " + pw::quote(got[0], 20) + ", " + pw::quote(got[1], 20) + ", " +
                   pw::quote(got[2], 20) + ", " + pw::quote(got[3], 20) + "; expected " + pw::quote(want[0], 20) +
                   ", \"notice\" and \"switched\" (either order), " + pw::quote(want[3], 20));
    };
    EXPECT_TRUE(Plays(s));
}

// Two servers in two directories, in one process: stopping one leaves the other
// serving. Whatever a server keeps (its stop flag, its self-pipe) is its own.
TEST(MessageServer, TwoServersAtOnceStopOneAtATime) {
    FifoDir other_dir;  // the first server's is play()'s own
    ASSERT_TRUE(other_dir.ok());
    std::string where = other_dir.path();
    auto other = std::make_shared<std::unique_ptr<MessageServer>>();
    auto other_thread = std::make_shared<std::thread>();
    auto other_served = std::make_shared<std::atomic<int>>(-1);  // -1: serve() of the other still running
    Scenario s;
    s.expected = "two servers in two directories; the other one stopped; the first one still answers";
    s.topic = "step-5-stop-with-a-self-pipe";
    s.cause = [](const Played& r) -> std::string {
        if (r.e.serve_was_early || (r.e.from_server_ended && !r.r.timed_out))
            return "the first server stopped when the other one was stopped: stop() of one server reached the "
                   "other's loop. Each server's stop flag and self-pipe belong to it: keep them in its State, not "
                   "in globals or statics (a signal handler reaches a server through a pointer to it).";
        return "";
    };
    s.before_serve = [where, other, other_thread, other_served](MessageServer&, Findings& f) {
        other->reset(new MessageServer(where));
        (*other)->set_handler([](const std::string& m) { return "other:" + m; });
        if (!(*other)->start()) return f.fail("the other server's start() failed: " + (*other)->error());
        MessageServer* o = other->get();
        *other_thread = std::thread([o, other_served] { *other_served = o->serve() ? 1 : 0; });
    };
    s.client = [other, other_thread, other_served](MessageServer& server, Findings& f) {
        if (!*other) return;
        auto ask = [&f](const MessageServer& to, const std::string& m, const std::string& want,
                        const std::string& when) {
            Client c;
            std::string reply;
            if (!c.open_to(to) || !c.open_from(to)) return f.fail(errno_text("the client's open " + when)), false;
            if (!c.send(m) || !c.receive(reply) || reply != want)
                return f.fail("the reply to " + pw::quote(m) + " " + when + " was " + pw::quote(reply, 30) +
                              ", expected " + pw::quote(want)),
                       false;
            return true;
        };
        if (!ask(server, "one", "one", "to the first server") ||
            !ask(**other, "two", "other:two", "to the other server"))
            return;
        (*other)->stop();
        other_thread->join();
        for (int i = 1; i <= 3; ++i)
            if (!ask(server, "again" + std::to_string(i), "again" + std::to_string(i),
                     "to the first server, after the other was stopped"))
                return;
    };
    s.after_serve = [other, other_thread](MessageServer&, Findings&) {
        if (other_thread->joinable()) other_thread->join();
        other->reset();
    };
    EXPECT_TRUE(Plays(s));
}

// stop() at any moment while messages keep coming. The handler itself keeps to-server
// busy: for every message it handles, it writes one more, so to-server is never empty.
// After handling a random number of messages it tells the client thread, which calls
// stop(). serve() must still return: it checks stopping_ each time round its loop.
TEST(MessageServer, StopsUnderTrafficAtAnyMoment) {
    auto feed = std::make_shared<int>(-1);
    auto handled = std::make_shared<int>(0);
    Scenario s;
    s.cycles = 3;  // each at another moment
    s.expected = "stop() after a random number of messages (1 to 3000) under endless traffic, and serve() returns";
    s.topic = "step-5-stop-with-a-self-pipe";
    s.cause = [](const Played& r) -> std::string {
        if (r.r.timed_out && r.e.stop_called && r.r.stuck_in(pw::Call::Poll) == 0)
            return "stop() was called (after message " + std::to_string(r.e.stop_after) +
                   ") while messages kept coming, and serve() never got back to its check of stopping_: it "
                   "went on reading and answering as long as to-server had bytes, and it always had. Read once "
                   "each time poll() wakes you, handle those lines, then go round the loop (where stopping_ is "
                   "checked).";
        return "";
    };
    // In the sandboxed child: each cycle is a fresh process, with its own counters and moment.
    s.before_serve = [feed, handled](MessageServer& server, Findings& f) {
        std::mt19937 gen{std::random_device{}()};
        const int at = std::uniform_int_distribution<int>(1, 3000)(gen);
        evidence->stop_after = at;
        *feed = open(server.to_server_path().c_str(), O_WRONLY | O_NONBLOCK);
        if (*feed == -1) return f.fail(errno_text("the feeder's open of to-server"));
        for (int i = 0; i < 50; ++i)
            if (!write_all(*feed, "traffic\n")) return f.fail(errno_text("the feeder's write"));
        server.set_handler([feed, handled, at](const std::string&) {
            ssize_t n = write(*feed, "traffic\n", 8);  // one more for every one handled: never empty
            (void)n;
            if (++*handled == at) acking_echo("");  // tell the client thread: stop now
            return std::string();
        });
    };
    s.client = [](MessageServer&, Findings& f) {
        if (!wait_for_handler()) f.fail("the handler never saw its messages");
    };
    EXPECT_TRUE(Plays(s));
}

// ---- two instances, and signals with handlers ---------------------------------------------

// A second server in the same directory must fail in start() ("mkfifo: File exists") and,
// when it goes, remove nothing: the FIFOs belong to the first server.
TEST(MessageServer, SecondInstanceLeavesTheFirstsFifosAlone) {
    Scenario s;
    s.expected = "the second start() fails with \"File exists\", and the first server keeps its FIFOs";
    s.topic = "step-1-make-the-two-fifos";
    s.before_serve = [](MessageServer& first, Findings& f) {
        {
            const std::string& path = first.to_server_path();
            MessageServer second(path.substr(0, path.rfind('/')));  // the first one's directory
            if (second.start())
                f.fail(
                    "a second server in the same directory started: start() must fail with \"mkfifo: File "
                    "exists\" when the FIFOs are already there, never replace them");
            else if (!has(second.error(), "File exists"))
                f.fail("a second server's start() failed with " + pw::quote(second.error()) +
                       ", not mkfifo's \"File exists\"");
        }  // its destructor runs here
        for (const std::string& path : {first.to_server_path(), first.from_server_path()})
            if (access(path.c_str(), F_OK) != 0)
                f.fail(shown(path) +
                       " is gone after a second server in the same directory gave up: remove only the FIFOs this "
                       "server created (made_to_server_, made_from_server_)");
    };
    s.client = [](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        std::string reply;
        if (!c.send("still-here") || !c.receive(reply) || reply != "still-here")
            f.fail("the first server did not answer \"still-here\" after the second one gave up");
    };
    EXPECT_TRUE(Plays(s));
}

// A program that uses MessageServer may have signal handlers of its own (a timer, a
// SIGCHLD watcher). Each signal that lands in serve()'s poll() makes it fail with EINTR.
#ifdef __linux__
void on_tick(int) {}
TEST(MessageServer, ServesThroughSignalsWithAHandler) {
    auto ticking = std::make_shared<std::atomic<bool>>(true);
    auto ticker = std::make_shared<std::thread>();
    Scenario s;
    s.expected = "50 round trips while a SIGALRM handler runs every millisecond in serve()'s thread";
    s.topic = "step-5-stop-with-a-self-pipe";
    s.cause = [](const Played& r) -> std::string {
        if (r.e.serve_was_early && r.e.serve_result)
            return "serve() returned (true) while signals with a handler kept arriving, before anyone called stop(): "
                   "it took a poll() interrupted by a signal (EINTR) for a request to stop. Only stop() ends serve(); "
                   "after EINTR, look at stopping_ (the handler may have called stop()) and poll() again.";
        return "";
    };
    s.timeout_seconds = 10;
    s.before_serve = [ticking, ticker](MessageServer&, Findings& f) {
        struct sigaction tick;
        std::memset(&tick, 0, sizeof tick);
        tick.sa_handler = on_tick;
        sigemptyset(&tick.sa_mask);
        tick.sa_flags = 0;  // no SA_RESTART
        if (sigaction(SIGALRM, &tick, nullptr) == -1) return f.fail(errno_text("sigaction"));
        // A signal every millisecond, to the thread that will run serve() (this one) only.
        long pid = getpid(), tid = syscall(SYS_gettid);
        *ticker = std::thread([ticking, pid, tid] {
            while (*ticking) {
                syscall(SYS_tgkill, pid, tid, SIGALRM);
                usleep(1000);
            }
        });
    };
    s.client = [](MessageServer& server, Findings& f) {
        Client c;
        if (!c.attach(server, f)) return;
        // Five signals more, each sent while serve() sleeps in poll(), so that they land
        // there however the ticker's happen to fall (on a loaded machine it may hardly run).
        for (int i = 0; i < 5; ++i) {
            await_serve_asleep();
            syscall(SYS_tgkill, static_cast<long>(getpid()), evidence->serve_thread, SIGALRM);
            usleep(1000);
        }
        std::string reply;
        for (int i = 0; i < 50; ++i) {
            std::string m = "tick" + std::to_string(i);
            if (!c.send(m) || !c.receive(reply) || reply != m)
                return f.fail("round trip " + std::to_string(i + 1) + " of 50 failed while signals arrived");
        }
    };
    s.after_serve = [ticking, ticker](MessageServer&, Findings&) {
        *ticking = false;
        if (ticker->joinable()) ticker->join();
    };
    EXPECT_TRUE(Plays(s));
}
#endif

}  // namespace
