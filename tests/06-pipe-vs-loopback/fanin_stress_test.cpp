// fanin_stress_test.cpp - white-box stress tests of lesson 06's serve_sockets and
// serve_fifo: the clients a real server meets, built into the test so that each
// property is checked every run, never left to luck or to the machine's load.
//
//   - over a hundred short-lived clients, each starting only after the one before has
//     gone and the server has gone back to sleep (a server that stops when nobody is
//     connected, that keeps finished connections open, or that never sleeps, fails);
//   - a silent client that connects first and sends only after every other client has
//     been read to the end (a server that serves one client at a time waits forever);
//   - a signal with a handler (no SA_RESTART) delivered each time the server sleeps,
//     before any client and in the middle of a stream: every blocking call (accept,
//     poll, read, open) returns EINTR, which means "try again", not "error" or "EOF".
//
// Every step waits for a state of the server (it sleeps, it has read every byte), read
// from the kernel (/proc, SIOCOUTQ, FIONREAD), never for a length of time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fanin_server.hpp"
#include "lesson.hpp"
#include "lesson06_checks.hpp"
#include "process_table.hpp"
#include "write_all.hpp"

namespace {

using pw::RunOptions;
using pw::RunResult;

// What the clients of one test do.
struct Scenario {
    bool fifo = false;               // serve_fifo (else serve_sockets on a Unix socket)
    int clients = 2;                 // clients, each sending `messages` lines and its end line
    int messages = 100;              //
    bool one_after_another = false;  // each client starts after the one before has gone
    bool silent_first = false;       // client 0 connects first and sends only after all others
    int signals = 0;                 // SIGALRMs at the sleeping server: before any client, and mid-stream
    int spare_fds = 0;               // RLIMIT_NOFILE: the descriptors open at the start plus this many
    int timeout_seconds = 60;        // the test's own deadline (a correct server needs well under 1 s)
};

#ifdef __linux__
// True when every thread of pid sleeps (state S): the server waits, it does not spin.
bool sleeps(pid_t pid) {
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR* d = opendir(dir.c_str());
    if (!d) return false;
    bool all = true, any = false;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        char state = pw::process_table::state_letter(dir + "/" + e->d_name);
        if (state == 'X') continue;  // the thread has just ended
        any = true;
        all = all && state == 'S';
    }
    closedir(d);
    return any && all;
}

// Waits (sleeping, not spinning) until the server sleeps. A server that never sleeps
// keeps this loop going until the warden sees the spin or the test's time is up.
void wait_until_sleeping(pid_t server) {
    while (!sleeps(server)) usleep(500);
}

// Waits until the server has taken every byte written on fd: for a Unix stream socket
// SIOCOUTQ counts what the peer has not read yet; for a FIFO, FIONREAD counts what is in it.
void wait_until_read(int fd, bool fifo) {
    int queued = 1;
    while (ioctl(fd, fifo ? FIONREAD : TIOCOUTQ, &queued) == 0 && queued > 0) usleep(500);
}

void send(int fd, const std::string& bytes) {
    if (!lesson06::write_all(fd, bytes.data(), bytes.size())) _exit(4);
}

int connect_to(const std::string& path, bool fifo) {
    if (fifo) {
        int fd = open(path.c_str(), O_WRONLY);
        if (fd < 0) _exit(3);
        return fd;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) _exit(3);
    return fd;
}

void signal_sleeping(pid_t server, int times) {
    for (int i = 0; i < times; ++i) {
        wait_until_sleeping(server);
        kill(server, SIGALRM);  // wakes the server at once: the next check sees it run first
    }
}

// One client: every line and its end line; with signals, half of them, then a signal
// each time the server sleeps with that half read, then the rest.
[[noreturn]] void client(const Scenario& s, const std::string& path, pid_t server, int id, int fd) {
    int half = s.signals > 0 && id == 0 ? s.messages / 2 : -1;
    for (int m = 0; m <= s.messages; ++m) {
        if (m == half) {
            wait_until_read(fd, s.fifo);
            signal_sleeping(server, s.signals);
        }
        send(fd, m < s.messages ? fanin_line(id, m) : fanin_end_line(id, s.messages));
    }
    wait_until_read(fd, s.fifo);
    close(fd);
    (void)path;
    _exit(0);
}

// The driver: starts the clients in the order the scenario asks.
[[noreturn]] void drive(const Scenario& s, const std::string& path, pid_t server) {
    signal_sleeping(server, s.signals);  // the server waits for its first client (accept, poll, open)
    int gate[2], ready[2];               // the silent client waits for gate's EOF; says it is connected on ready
    if (pipe(gate) != 0 || pipe(ready) != 0) _exit(5);
    pid_t silent = -1;
    if (s.silent_first) {
        silent = fork();
        if (silent == 0) {
            close(gate[1]);
            close(ready[0]);
            int fd = connect_to(path, s.fifo);
            close(ready[1]);  // connected: the others may start
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }  // EOF: every other client has been read to the end and has gone
            wait_until_sleeping(server);
            for (int m = 0; m <= s.messages; ++m)
                send(fd, m < s.messages ? fanin_line(0, m) : fanin_end_line(0, s.messages));
            wait_until_read(fd, s.fifo);
            close(fd);
            _exit(0);
        }
    }
    close(ready[1]);
    char c;
    while (read(ready[0], &c, 1) > 0) {
    }
    close(gate[0]);
    std::vector<pid_t> kids;
    for (int id = s.silent_first ? 1 : 0; id < s.clients; ++id) {
        pid_t pid = fork();
        if (pid == 0) {
            close(gate[1]);
            client(s, path, server, id, connect_to(path, s.fifo));
        }
        kids.push_back(pid);
        if (s.one_after_another) {
            waitpid(pid, nullptr, 0);
            wait_until_sleeping(server);  // it has seen this client hang up, and waits for the next
        }
    }
    for (pid_t pid : kids) waitpid(pid, nullptr, 0);
    close(gate[1]);
    if (silent > 0) waitpid(silent, nullptr, 0);
    _exit(0);
}
#endif

// Runs serve_sockets or serve_fifo (yours) against the scenario's clients, in a
// sandboxed child; it prints "K clients finished, N messages, G garbled".
RunResult run_scenario(const Scenario& s) {
    return pw::run_function(
        [s]() -> int {
#ifdef __linux__
            const char* base = std::getenv("TMPDIR");
            std::string dir = std::string(base && *base ? base : P_tmpdir) + "/pw06-stress-XXXXXX";
            if (!mkdtemp(&dir[0])) return 90;
            std::string path = dir + (s.fifo ? "/fanin.fifo" : "/fanin.sock");
            int listener = -1;
            if (s.fifo) {
                if (mkfifo(path.c_str(), 0600) != 0) return 91;
            } else {
                sockaddr_un addr{};
                addr.sun_family = AF_UNIX;
                std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
                listener = socket(AF_UNIX, SOCK_STREAM, 0);
                if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
                    listen(listener, SOMAXCONN) != 0)
                    return 91;
            }
            // A handler without SA_RESTART: a blocking call it interrupts returns EINTR.
            struct sigaction sa;
            std::memset(&sa, 0, sizeof sa);
            sa.sa_handler = [](int) {};
            sigemptyset(&sa.sa_mask);
            sigaction(SIGALRM, &sa, nullptr);
            std::fflush(stdout);
            pid_t server = getpid();
            pid_t driver = fork();
            if (driver < 0) return 92;
            if (driver == 0) {
                if (listener >= 0) close(listener);
                drive(s, path, server);
            }
            if (s.spare_fds > 0) {
                std::vector<int> open = pw::open_fds();
                rlim_t highest = open.empty() ? 2 : static_cast<rlim_t>(*std::max_element(open.begin(), open.end()));
                rlimit limit{highest + 1 + s.spare_fds, highest + 1 + s.spare_fds};
                if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 93;
            }
            Tally tally(s.clients, s.messages);
            if (s.fifo)
                serve_fifo(path, s.clients, tally);  // yours
            else
                serve_sockets(listener, s.clients, tally);  // yours
            kill(driver, SIGKILL);  // a server that returned early leaves clients waiting: the sandbox ends them
            waitpid(driver, nullptr, 0);
            if (listener >= 0) close(listener);
            unlink(path.c_str());
            rmdir(dir.c_str());
            std::printf("%d clients finished, %lld messages, %lld garbled\n", tally.clients_finished(),
                        tally.received(), tally.garbled());
            return 0;
#else
            (void)s;
            std::printf("needs Linux\n");
            return 0;
#endif
        },
        [&s] {
            RunOptions o;
            o.timeout_seconds = s.timeout_seconds;
            return o;
        }());
}

std::string wanted(const Scenario& s) {
    return std::to_string(s.clients) + " clients finished, " + std::to_string(s.clients * s.messages) +
           " messages, 0 garbled\n";
}

// The likely cause, from what happened: what the server said, whether it slept, how far it got.
std::string cause_of(const RunResult& r, const Scenario& s) {
    const std::string fn = s.fifo ? "serve_fifo" : "serve_sockets";
    if (r.err.find("Interrupted system call") != std::string::npos)
        return "a signal arrived while " + fn + " waited (its handler was installed without SA_RESTART), the " +
               "call returned -1 with errno EINTR, and the server treated that as an error: " +
               lesson06::first_line(r.err) +
               ". EINTR means nothing happened yet: do the same call again (accept, poll, read, open).";
    if (r.err.find("Too many open files") != std::string::npos)
        return "the server ran out of descriptors (EMFILE) after " + std::to_string(s.spare_fds) +
               " or so clients, with at most one of them connected at a time: it keeps the connection of every "
               "client that has gone. At end of file (read() returns 0), close that client's descriptor.";
    if (r.err.find("poll: Invalid argument") != std::string::npos)
        return "poll() failed with EINVAL: the pollfd array has more slots than the process may have descriptors "
               "(RLIMIT_NOFILE), because it keeps a slot for every client that has gone. When a client hangs up, "
               "close its descriptor and erase its slot (and its unfinished line).";
    if (r.ending == pw::Ending::Spinning ||
        (r.timed_out && s.one_after_another && r.stuck_program() && r.stuck_program()->syscall_nr == -1))
        return "the server never sleeps: it loops even when no client has anything to say (poll() with a "
               "timeout of 0, or non-blocking reads in a loop), burning a whole CPU. Let poll() wait: timeout -1.";
    if (r.timed_out && s.silent_first)
        return "a silent client held up the others: it connected first and says nothing until every other "
               "client has been read, and " +
               fn +
               " waited for it alone. Serve every connection at once: poll() the listener and every connection, "
               "and read only those that are ready.";
    if (r.out.rfind("0 clients finished, 0 messages", 0) == 0) return "nothing arrived: is " + fn + " still the stub?";
    int finished = std::atoi(r.out.c_str());
    if (r.ok() && finished < s.clients && s.one_after_another)
        return fn + " returned after " + std::to_string(finished) + " of " + std::to_string(s.clients) +
               " clients: it stopped when nobody was connected, but clients that connect after others have gone "
               "are still to come. Stop only when all " +
               std::to_string(s.clients) + " clients have been accepted and have hung up.";
    if (r.ok() && finished < s.clients && s.signals > 0)
        return fn + " returned after " + std::to_string(finished) + " of " + std::to_string(s.clients) +
               " clients: a signal interrupted a read() (it returned -1 with errno EINTR) and the server took it "
               "for end of file. Only 0 is end of file; on EINTR read again.";
    if (r.timed_out) return fn + " never returned: " + r.status() + "; see what each process was blocked in, above.";
    return fn + " did not collect every client's lines whole: " + r.status() +
           (r.err.empty() ? "" : ", stderr " + pw::quote(r.err));
}

// Runs the scenario; what its clients do is said in `clients` ("120 short clients, ...").
void check(const Scenario& s, const std::string& clients) {
    RunResult r = run_scenario(s);
    if (r.out == "needs Linux\n") GTEST_SKIP() << "these clients watch the server through /proc (Linux)";
    std::string fn = s.fifo ? "serve_fifo" : "serve_sockets";
    EXPECT_EQ(r.out, wanted(s)) << pw::explain(
        r,
        lesson06::printed(wanted(s), cause_of(r, s), s.fifo ? "the-fifo-way-and-pipe_buf" : "many-clients-one-server",
                          "calls " + fn + " with " + clients));
}

// Three clients while SIGALRM (a handler without SA_RESTART) interrupts the server each
// time it sleeps: a read() or poll() then fails with EINTR, which is no end of file.
Scenario interrupted(bool fifo) {
    Scenario s;
    s.fifo = fifo;
    s.clients = 3;
    s.messages = 400;
    s.signals = 20;
    return s;
}

TEST(FanInStress, ServesOverAHundredClientsOneAfterAnother) {
    Scenario s;
    s.clients = 120;  // far more than the 16 spare descriptors: a leak or a growing array shows
    s.messages = 3;
    s.one_after_another = true;
    s.spare_fds = 16;
    check(s, "120 short clients, each connecting after the one before has gone, with 16 descriptors to spare");
}

TEST(FanInStress, SilentClientDoesNotHoldUpTheOthers) {
    Scenario s;
    s.clients = 4;
    s.messages = 500;
    s.silent_first = true;
    s.timeout_seconds = 10;  // a server that waits for the silent client waits until this deadline
    check(s, "4 clients; the first to connect sends nothing until the 3 others have been read");
}

TEST(FanInStress, SocketServerRetriesCallsASignalInterrupts) {
    check(interrupted(false), "3 clients, and sends it SIGALRM (handler without SA_RESTART) each time it sleeps");
}

TEST(FanInStress, FifoServerRetriesCallsASignalInterrupts) {
    check(interrupted(true), "3 clients, and sends it SIGALRM (handler without SA_RESTART) each time it sleeps");
}

}  // namespace
