// channels_test.cpp - white-box tests of the functions in transports.cpp.
//
// Each test calls your functions inside a sandboxed child (pw::run_function), so a
// hang or a crash fails that test alone. Options are checked on the sockets
// themselves (getsockopt, getsockname), never by timing anything.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lesson.hpp"
#include "lesson06_checks.hpp"
#include "transports.hpp"

namespace {

using pw::explain;
using pw::RunOptions;
using pw::RunResult;

std::string sandbox_status(const RunResult& r) {
    std::string s = r.status();
    if (!r.err.empty()) s += ", stderr " + pw::quote(r.err);
    return s;
}

// The test's own listener on 127.0.0.1, so that connect_tcp is tested alone.
int test_listener(std::uint16_t* port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a;
    std::memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

int nodelay_of(int fd) {
    int on = -1;
    socklen_t len = sizeof on;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) != 0) return -1;
    return on != 0;
}

// write_all's tests: the child printed what write_all did; want is what a correct one
// prints, clues name the likely causes, what says what the test did with write_all.
void expect_write_all_printed(const RunResult& r, const std::string& want, const std::vector<lesson06::Clue>& clues,
                              const std::string& what) {
    std::string cause = lesson06::likely_cause(r, clues, "write_all failed: " + sandbox_status(r));
    EXPECT_EQ(r.out, want) << explain(
        r, lesson06::printed(want, cause, "read_full-and-write_all", "calls write_all " + what));
}

// A reader child drains a pipe slowly while a timer signal keeps interrupting the
// writer: write() then returns short counts (and EINTR), as it may on any pipe or
// socket. write_all must finish every one of them.
TEST(Transports, WriteAllFinishesPartialWrites) {
    const std::size_t size = (3u << 20) + static_cast<std::size_t>(lesson06::random_number(1, 100000));
    const unsigned long long seed = lesson06::random_number(1, 1u << 30);
    RunResult r = pw::run_function(
        [size, seed] {
            int p[2];
            if (pipe(p) != 0) return 90;
            std::vector<unsigned char> data(size);
            fill_pattern(seed, data.data(), data.size());
            pid_t reader = fork();
            if (reader < 0) return 91;
            if (reader == 0) {
                close(p[1]);
                std::vector<unsigned char> got;
                unsigned char buf[4096];
                ssize_t n;
                while ((n = read(p[0], buf, sizeof buf)) != 0) {
                    if (n < 0) continue;
                    got.insert(got.end(), buf, buf + n);
                    usleep(20);  // slower than the writer: the pipe stays full, write() blocks
                }
                std::printf("received %zu bytes, %s\n", got.size(), got == data ? "all intact" : "not the bytes sent");
                std::fflush(stdout);
                _exit(0);
            }
            close(p[0]);
            static volatile sig_atomic_t ticks = 0;
            struct sigaction sa;
            std::memset(&sa, 0, sizeof sa);
            sa.sa_handler = [](int) { ticks = ticks + 1; };
            sigemptyset(&sa.sa_mask);
            sa.sa_flags = 0;  // no SA_RESTART: an interrupted write() returns early
            sigaction(SIGALRM, &sa, nullptr);
            itimerval every{{0, 300}, {0, 300}};
            setitimer(ITIMER_REAL, &every, nullptr);
            bool written = write_all(p[1], data.data(), data.size());  // yours
            int error = errno;
            itimerval off{{0, 0}, {0, 0}};
            setitimer(ITIMER_REAL, &off, nullptr);
            close(p[1]);
            int status;
            while (waitpid(reader, &status, 0) < 0) {
            }
            if (!written) std::printf("write_all returned false: %s\n", std::strerror(error));
            return 0;
        },
        lesson06::deadline(20));
    std::string want = "received " + std::to_string(size) + " bytes, all intact\n";
    expect_write_all_printed(
        r, want,
        {{"returned false: Interrupted system call",
          "write() failed with EINTR (a signal came before it moved any byte) and write_all gave up: EINTR "
          "means nothing happened yet, try the same write again."},
         {"received 0 bytes", "nothing was written: is write_all still the stub?"},
         {"returned false",
          "write_all returned false although the reader was there to the end: it must only fail when "
          "write() fails with something other than EINTR."},
         {"received ",
          "bytes went missing: write() returned less than asked (a signal interrupted it) and write_all did "
          "not send the rest. Loop: advance the buffer by what write() returned and write the remainder."},
         {"", "write_all never finished: after a short write, does it advance the buffer AND shrink the length?"}},
        "on a pipe under a timer signal (setitimer)");
}

// The other half of the contract: when write() fails for real, write_all returns false
// and leaves errno as write() set it, so that its caller can say why
// (if (!write_all(...)) die("write - child")). A pipe whose reader has gone fails with
// EPIPE (SIGPIPE is ignored here, as the given mains ignore it).
TEST(Transports, WriteAllReportsAFailureWithErrno) {
    RunResult r = pw::run_function([] {
        signal(SIGPIPE, SIG_IGN);
        int p[2];
        if (pipe(p) != 0) return 90;
        close(p[0]);  // no reader: every write() fails with EPIPE
        errno = 0;
        char data[100] = {};
        bool written = write_all(p[1], data, sizeof data);  // yours
        std::printf("%s, errno %s\n", written ? "true" : "false", std::strerror(errno));
        return 0;
    });
    std::string want = std::string("false, errno ") + std::strerror(EPIPE) + "\n";
    expect_write_all_printed(
        r, want,
        {{"true, errno",
          "write_all returned true although write() failed (EPIPE: nobody reads the pipe): return false on "
          "a failure other than EINTR, so that the caller can stop and report it."},
         {"false, errno",
          "write_all returned false, but errno is not what write() set: return at once after the failing "
          "write(), without calls that change errno."},
         {"", "write_all never returned: on a failure other than EINTR it must return false, not try again."}},
        "on a pipe whose reader has gone");
}

TEST(Transports, ListenTcpUsesLoopbackAndAPortTheKernelChose) {
    RunResult r = pw::run_function([] {
        std::uint16_t port = 0;
        int fd = listen_tcp(&port);  // yours
        sockaddr_in a;
        std::memset(&a, 0, sizeof a);
        socklen_t len = sizeof a;
        int listening = 0;
        socklen_t llen = sizeof listening;
        if (fd < 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
            getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &llen) != 0) {
            std::printf("not a socket\n");
            return 0;
        }
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
        std::printf("%s %u %s %s\n", ip, static_cast<unsigned>(ntohs(a.sin_port)),
                    ntohs(a.sin_port) == port && port != 0 ? "reported" : "misreported",
                    listening ? "listening" : "not-listening");
        return 0;
    });
    std::string out = r.out;
    bool ok = out.rfind("127.0.0.1 ", 0) == 0 && out.find(" reported listening") != std::string::npos;
    std::string cause = lesson06::likely_cause(
        r,
        {{"0.0.0.0 ",
          "the socket is bound to every interface (INADDR_ANY): any machine that can reach this one could "
          "connect. Bind to INADDR_LOOPBACK (127.0.0.1)."},
         {"misreported",
          "*port is not the port the socket is bound to: bind to port 0, then ask the kernel which port it "
          "chose with getsockname() (and ntohs() the answer)."},
         {"not-listening", "the socket is bound but not listening: call listen()."},
         {"not a socket", "listen_tcp did not return a socket: is it still the stub?"}},
        "listen_tcp failed: " + sandbox_status(r));
    const std::string want = "127.0.0.1 <the port> reported listening";
    EXPECT_TRUE(pw::Check(r).exits(0).that(ok, pw::quote(want), pw::quote(out)))
        << explain(r, lesson06::printed(want, cause, "tcp-on-127001-the-same-calls-and-the-whole-network-stack",
                                        "calls listen_tcp, then getsockname()"));
}

TEST(Transports, TcpSocketsHaveNoDelayOn) {
    RunResult r = pw::run_function(
        [] {
            std::uint16_t port = 0;
            int listener = test_listener(&port);
            if (listener < 0) return 90;
            int client = connect_tcp(port);                        // yours
            int accepted = accept_connection(listener, Via::Tcp);  // yours
            std::printf("connect_tcp %d\naccept_connection %d\n", nodelay_of(client), nodelay_of(accepted));
            return 0;
        },
        lesson06::deadline(5));
    const std::string want = "connect_tcp 1\naccept_connection 1\n";  // getsockopt(TCP_NODELAY) gives 1
    const std::string nagle =
        "Without it, Nagle's algorithm holds a small write back until the previous one is acknowledged, "
        "and a ping-pong of small messages stalls. Turn it on with setsockopt(fd, IPPROTO_TCP, "
        "TCP_NODELAY, &one, sizeof one) on every TCP socket that carries small messages.";
    std::string cause = lesson06::likely_cause(
        r,
        {{"connect_tcp 0\naccept_connection 0",
          "TCP_NODELAY is off on the socket connect_tcp returned and on "
          "the one accept_connection returned. " +
              nagle},
         {"connect_tcp 0", "TCP_NODELAY is off on the socket connect_tcp returned. " + nagle},
         {"accept_connection 0", "TCP_NODELAY is off on the socket accept_connection returned. " + nagle},
         {"-1",
          "connect_tcp or accept_connection did not return a TCP socket (-1 or not a socket): are they "
          "still the stub?"}},
        "connect_tcp or accept_connection failed: " + sandbox_status(r));
    EXPECT_TRUE(pw::Check(r).exits(0).out(want))
        << explain(r, lesson06::printed(want, cause, "nagle-and-tcp_nodelay",
                                        "calls connect_tcp and accept_connection, then getsockopt(TCP_NODELAY)"));
}

// Two programs of the lesson at once (two learners on one machine, or make bench beside
// make grade) each open a Unix channel. Each must get a socket file of its own: with one
// fixed name, the second either fails to bind (the name is taken) or removes the first
// one's socket file and takes the name over, and the first one's child then connects to
// the second one's listener. Checked in one process, without timing: a connection made
// to the first channel's path must be waiting on the first channel's listener.
TEST(Transports, TwoUnixChannelsAtOnceEachKeepTheirOwnSocket) {
    lesson06::ScratchTmp tmp;
    std::string env = tmp.env();
    RunResult r = pw::run_function([env]() -> int {
        putenv(const_cast<char*>(env.c_str()));    // both channels are made in the test's scratch TMPDIR
        Channel first = open_channel(Via::Unix);   // yours
        Channel second = open_channel(Via::Unix);  // yours: a second instance, while the first still listens
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", first.path.c_str());
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        bool connected = fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        // A Unix connect() completes into the listener's queue at once: poll without waiting.
        pollfd p[2] = {{first.listener, POLLIN, 0}, {second.listener, POLLIN, 0}};
        poll(p, 2, 0);
        std::printf("%s, %s\n", first.path == second.path ? "one path for both" : "two paths",
                    !connected                ? "the first path takes no connection"
                    : (p[0].revents & POLLIN) ? "the first path reaches the first listener"
                    : (p[1].revents & POLLIN) ? "the first path reaches the second listener"
                                              : "the connection reached neither listener");
        return 0;
    });
    std::string want = "two paths, the first path reaches the first listener\n";
    const std::string one_path =
        "open_channel uses one fixed socket path for every channel: a second program running at the same time "
        "either cannot bind (EADDRINUSE), or removes the first one's socket file and takes its name, so the "
        "first one's child connects to the wrong server. Make a fresh private directory per channel with "
        "mkdtemp(temp_dir_template()) and put the socket file in it.";
    std::string cause = lesson06::likely_cause(
        r,
        {{"one path for both", one_path},
         {"Address already in use", one_path},
         {"reaches the second listener",
          "the first channel's socket file now leads to the second channel's listener: its file was replaced."}},
        "open_channel(Via::Unix) must work first (see the PingPong tests): " + sandbox_status(r));
    EXPECT_EQ(r.out, want) << explain(r, lesson06::printed(want, cause, "unix-domain-sockets-listen-connect-accept",
                                                           "calls open_channel(Via::Unix) twice, then connects to "
                                                           "the first channel's path"));
}

// Only the parent accepts: a child that keeps its copy of the listener holds a socket it
// never uses, and keeps the port (or the socket file's listener) alive as long as it
// lives. After child_end, the child holds no listening socket.
TEST(Transports, ChildEndKeepsNoListener) {
    RunResult r = pw::run_function([]() -> int {
        for (Via via : {Via::Tcp, Via::Unix}) {
            Channel ch = open_channel(via);  // yours
            std::fflush(stdout);
            pid_t pid = fork();
            if (pid == -1) return 90;
            if (pid == 0) {
                End e = child_end(ch);  // yours
                bool listening = false;
                for (int fd : pw::open_fds()) {
                    int accepting = 0;
                    socklen_t len = sizeof accepting;
                    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) == 0 && accepting) listening = true;
                }
                std::printf("%s:%s ", via == Via::Tcp ? "tcp" : "unix", listening ? "listener-kept" : "clean");
                std::fflush(stdout);
                bool sent = write(e.out, "k", 1) == 1;  // and the channel works
                close_end(e, "close - child");
                _exit(sent ? 0 : 1);
            }
            End e = parent_end(ch);  // yours
            char c = 0;
            if (e.in < 0 || read(e.in, &c, 1) != 1 || c != 'k') std::printf("no-channel ");
            close_end(e, "close - parent");
            if (waitpid(pid, nullptr, 0) != pid) return 91;
        }
        return 0;
    });
    std::string want = "tcp:clean unix:clean ";
    std::string cause = r.out.find("listener-kept") != std::string::npos
                            ? "after child_end the child still holds the listening socket: only the parent accepts, "
                              "so the child closes ch.listener before it connects."
                            : "open_channel, child_end and parent_end must work for tcp and unix first: see the "
                              "PingPong tests.";
    EXPECT_EQ(r.out, want) << explain(r, lesson06::printed(want, cause, "unix-domain-sockets-listen-connect-accept",
                                                           "calls open_channel, forks, and looks for a listening "
                                                           "socket among the child's descriptors after child_end"));
}

}  // namespace
