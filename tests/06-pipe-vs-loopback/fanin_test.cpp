// fanin_test.cpp - black-box tests of lesson 06's fanin: eight clients, ten thousand
// messages each, one server. The given main checks every line (client, order,
// payload) and reports in JSON; these tests read that report and the scratch TMPDIR.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include "fanin_server.hpp"
#include "lesson.hpp"
#include "lesson06_checks.hpp"
#include "process_table.hpp"
#include "write_all.hpp"

namespace {

using lesson06::number;
using lesson06::text;
using pw::explain;
using pw::RunOptions;
using pw::RunResult;

const int kMessages = 10000;

std::string fanin_cause(const RunResult& r, const std::map<std::string, std::string>& j, bool parsed,
                        const std::string& via, const std::string& leftovers) {
    if (r.timed_out) {
        if (r.stuck_in(pw::Call::Open) > 0)
            return "a process waits in open() on the FIFO: opening a FIFO waits for the other side. The server "
                   "must open it for reading (and keep a write end of its own) for the clients' opens to return.";
        return "fanin never finished. A server that stays with one client (reading it, or waiting for it) while "
               "the others wait, or that waits for an end of file that cannot come, hangs here; see what each "
               "process was blocked in, above.";
    }
    if (r.term_signal) return "fanin crashed; run the reproduce command under gdb to see where.";
    if (!parsed) return "stdout is not the JSON report: " + lesson06::first_line(r.err);
    long long received = number(j, "received"), expected = number(j, "expected");
    long long heard = number(j, "clients_heard"), garbled = number(j, "garbled");
    std::string problem = text(j, "first_problem");
    if (received == 0 && garbled == 0 && r.err.find("client: Bad file descriptor") != std::string::npos)
        return "the clients could not connect: fanin's clients use your connect_tcp / connect_unix and its "
               "server your listen_tcp / listen_unix (transports.cpp). Make those work first (the Transports and "
               "PingPong tests), then fanin_server.cpp.";
    if (received == 0 && garbled == 0) return "nothing arrived: is fanin_server.cpp still the stub? Follow its TODOs.";
    if (garbled > 0) {
        if (via == "fifo")
            return "lines arrived garbled (first: " + problem +
                   "). A read() from the FIFO can end in the middle "
                   "of a line: keep the unfinished rest and put the next read's bytes after it.";
        return "lines arrived garbled (first: " + problem +
               "). Each connection needs its own buffer for its "
               "unfinished line: with one buffer for all, the start of one client's line gets glued to another "
               "client's bytes.";
    }
    long long clients = number(j, "clients");
    if (heard == 1 && clients > 1)
        return "only 1 of the " + std::to_string(clients) +
               " clients was heard: the server served the first "
               "client and stopped. It must accept every client and read all of them, watching every connection "
               "(and the listener) with poll().";
    if (received < expected && via == "fifo")
        return std::to_string(expected - received) + " messages were lost, from " + std::to_string(heard) + " of " +
               std::to_string(clients) +
               " clients heard: the FIFO gave EOF when, for a moment, no client had it open, and the server "
               "stopped. Hold a write end of your own so that EOF never comes, and stop by counting the clients' "
               "end lines.";
    if (received < expected)
        return std::to_string(expected - received) + " messages were lost, from " + std::to_string(heard) + " of " +
               std::to_string(clients) +
               " clients heard: read every connection until its end of file (read() "
               "returns 0), and stop only when every client has finished.";
    if (!leftovers.empty())
        return "left in TMPDIR after the run: " + leftovers +
               " (the given main removes its own files; is it "
               "unchanged?)";
    if (!r.left_behind.empty()) return "a client process was still there when fanin exited.";
    return "fanin failed: " + lesson06::first_line(r.err);
}

TEST(FanIn, PrintsTheDocumentedJson) {
    lesson06::ScratchTmp tmp;
    RunOptions options;
    options.extra_env = {tmp.env()};
    RunResult r =
        pw::run({pw::program("fanin"), "--via", "unix", "--clients", "2", "--messages", "100", "--json"}, options);
    const std::vector<std::string> fields = {"via",  "clients", "messages",      "expected",         "received",
                                             "lost", "garbled", "clients_heard", "clients_finished", "ok"};
    std::string problem = lesson06::json_problem(r.out, fields);
    std::map<std::string, std::string> j;
    bool parsed = lesson06::parse_flat_json(r.out, &j);
    EXPECT_TRUE(lesson06::documented_json(r, fields))
        << explain(r, pw::Why()
                          .expected("one JSON object with via, clients, messages, expected, received, lost, garbled, "
                                    "clients_heard, clients_finished and ok; exit status 0")
                          .cause(problem.empty() ? fanin_cause(r, j, parsed, "unix", tmp.leftovers()) : problem)
                          .topic("what-the-programs-report"));
}

// One row of the table: a way in, how many clients, and the section about it.
struct Crowd {
    const char* via;
    int clients;
    const char* anchor;
};

// Names an instance in googletest's output ("unix8Clients", "unix1Client") instead of its bytes.
void PrintTo(const Crowd& c, std::ostream* os) {
    *os << c.via << c.clients << (c.clients == 1 ? "Client" : "Clients");
}
std::string crowd_name(const ::testing::TestParamInfo<Crowd>& info) {
    return ::testing::PrintToString(info.param);
}

class FanInOver : public ::testing::TestWithParam<Crowd> {};

// fanin with one row's clients: every message of every client arrives whole and in order.
TEST_P(FanInOver, LosesNothing) {
    const std::string via = GetParam().via;
    const int clients = GetParam().clients;
    lesson06::ScratchTmp tmp;
    RunOptions options;
    options.timeout_seconds = 20;
    options.extra_env = {tmp.env()};
    RunResult r = pw::run({pw::program("fanin"), "--via", via, "--clients", std::to_string(clients), "--messages",
                           std::to_string(kMessages), "--json"},
                          options);
    std::map<std::string, std::string> j;
    bool parsed = lesson06::parse_flat_json(r.out, &j);
    std::string leftovers = tmp.leftovers();
    long long all = static_cast<long long>(clients) * kMessages;
    EXPECT_TRUE(lesson06::reported(r,
                                   {{"received", std::to_string(all)},
                                    {"garbled", "0"},
                                    {"clients_finished", std::to_string(clients)},
                                    {"ok", "true"}},
                                   leftovers))
        << explain(r, pw::Why()
                          .expected("all " + std::to_string(all) + " messages of " + std::to_string(clients) +
                                    " clients, whole and in order, over " + via + "; exit status 0")
                          .cause(fanin_cause(r, j, parsed, via, leftovers))
                          .topic(GetParam().anchor));
}

// Eight clients on each way in; then the same behaviour with other crowds: one client
// alone, and sixteen at once.
INSTANTIATE_TEST_SUITE_P(FanIn, FanInOver,
                         ::testing::Values(Crowd{"tcp", 8, "many-clients-one-server"},
                                           Crowd{"unix", 8, "many-clients-one-server"},
                                           Crowd{"fifo", 8, "the-fifo-way-and-pipe_buf"},
                                           Crowd{"unix", 1, "many-clients-one-server"},
                                           Crowd{"tcp", 16, "many-clients-one-server"}),
                         crowd_name);

#ifdef __linux__
// True when pid sleeps in a call that waits for input (read, poll, select, ...).
bool waits_for_input(pid_t pid) {
    std::string dir = "/proc/" + std::to_string(pid);
    if (pw::process_table::state_letter(dir) != 'S') return false;
    long nr = -1;
    unsigned long long args[6] = {0, 0, 0, 0, 0, 0};
    pw::process_table::read_syscall(dir, nr, args);
    return nr == SYS_read || nr == SYS_readv || nr == SYS_ppoll || nr == SYS_pselect6
#ifdef SYS_poll
           || nr == SYS_poll
#endif
#ifdef SYS_select
           || nr == SYS_select
#endif
        ;
}
#endif

// Two clients that never overlap: the second opens the FIFO only after the first has
// closed it and the server has read every byte. At that moment no client holds the
// FIFO open for writing; a server without a write end of its own reads EOF there and
// stops, and the second client's messages are lost.
TEST(FanIn, FifoServerWaitsForALateClient) {
#ifndef __linux__
    GTEST_SKIP() << "watching the server's state needs /proc (Linux)";
#else
    const int messages = static_cast<int>(lesson06::random_number(200, 2000));
    RunResult r = lesson06::run_server_test([messages](const std::string& dir) {
        std::string path = dir + "/late.fifo";
        int gate[2], done[2];
        if (mkfifo(path.c_str(), 0600) != 0 || pipe(gate) != 0 || pipe(done) != 0) return 91;
        pid_t server = getpid();
        auto send_all = [&](int client) {
            int fd = open(path.c_str(), O_WRONLY);
            if (fd < 0) _exit(3);
            for (int m = 0; m <= messages; ++m) {
                std::string line = m < messages ? fanin_line(client, m) : fanin_end_line(client, messages);
                if (!lesson06::write_all(fd, line.data(), line.size())) _exit(4);  // one write(): a line < PIPE_BUF
            }
            close(fd);
        };
        pid_t first = fork();
        if (first == 0) {  // holds gate[1] until it exits: the second client's signal
            close(gate[0]);
            close(done[0]);
            close(done[1]);
            send_all(0);
            _exit(0);
        }
        pid_t second = fork();
        if (second == 0) {
            close(gate[1]);
            close(done[1]);
            char c;
            while (read(gate[0], &c, 1) > 0) {
            }                                                      // EOF: the first client has finished and exited
            int peek = open(path.c_str(), O_RDONLY | O_NONBLOCK);  // only to see how much is unread
            for (;;) {
                pollfd p{done[0], POLLIN, 0};
                if (poll(&p, 1, 1) > 0) _exit(0);  // the server has returned: too late, say nothing
                int unread = -1;
                if (ioctl(peek, FIONREAD, &unread) == 0 && unread == 0 && waits_for_input(server)) break;
            }
            close(peek);
            send_all(1);
            _exit(0);
        }
        close(gate[0]);
        close(gate[1]);
        close(done[0]);
        Tally tally(2, messages);
        serve_fifo(path, 2, tally);  // yours
        close(done[1]);              // tells the second client that the server has returned
        lesson06::finish_clients({first, second}, path, dir, tally);
        return 0;
    });
    std::string want = lesson06::tally_line(2, 2 * messages);
    std::string cause;
    if (r.out.rfind("1 clients finished", 0) == 0)
        cause =
            "the server stopped after the first client: read() returned 0 (end of file) the moment no client "
            "had the FIFO open for writing, and the second client, who came later, was lost. Open the FIFO "
            "for writing yourself too and keep that descriptor until every client has sent its end line.";
    else if (r.out.rfind("0 clients finished, 0 messages", 0) == 0)
        cause = "nothing arrived: is serve_fifo still the stub?";
    else if (r.timed_out)
        cause = "serve_fifo never returned: it must stop once tally.clients_finished() reaches the number of clients.";
    else
        cause = "serve_fifo did not collect both clients' lines: " + r.status();
    EXPECT_EQ(r.out, want) << explain(r, lesson06::printed(want, cause, "the-fifo-way-and-pipe_buf",
                                                           "calls serve_fifo with two clients, the second starting "
                                                           "after the first has gone"));
#endif
}

#ifdef __linux__
// Waits until the peer has read every byte this Unix stream socket sent (Linux counts a
// Unix socket's sent bytes against the sender until the reader takes them: SIOCOUTQ).
void wait_until_read(int fd) {
    int queued = 1;
    while (ioctl(fd, TIOCOUTQ, &queued) == 0 && queued > 0) usleep(1000);
}
#endif

// Two Unix-socket clients; the first stops in the middle of its first line until the
// server has read that half, then the second sends a whole line, then the first sends
// the rest. A server with one unfinished-line buffer for every connection glues the
// first client's half to the second client's line; with one buffer each, nothing is
// garbled. Deterministic: each step waits until the server has read the step before.
TEST(FanIn, UnixKeepsEachClientsUnfinishedLineApart) {
#ifndef __linux__
    GTEST_SKIP() << "knowing when the server has read a half line needs Linux (SIOCOUTQ on a Unix socket)";
#else
    const int messages = static_cast<int>(lesson06::random_number(20, 200));
    RunResult r = lesson06::run_server_test([messages](const std::string& dir) {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::string path = dir + "/s";
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        int listener = socket(AF_UNIX, SOCK_STREAM, 0);
        if (listener < 0 || bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            listen(listener, 8) != 0)
            return 91;
        int turn[2], back[2];  // the first client's go-ahead to the second, and the answer
        if (pipe(turn) != 0 || pipe(back) != 0) return 92;
        auto connected = [&] {
            int fd = socket(AF_UNIX, SOCK_STREAM, 0);
            if (fd < 0 || connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) _exit(3);
            return fd;
        };
        auto send = [](int fd, const std::string& bytes) {
            if (!lesson06::write_all(fd, bytes.data(), bytes.size())) _exit(4);
        };
        auto send_rest = [&](int fd, int client) {
            for (int m = 1; m < messages; ++m) send(fd, fanin_line(client, m));
            send(fd, fanin_end_line(client, messages));
            close(fd);
        };
        pid_t first = fork();
        if (first == 0) {
            close(listener);
            int fd = connected();
            std::string line = fanin_line(0, 0);
            send(fd, line.substr(0, line.size() / 2));  // half a line, no '\n'
            wait_until_read(fd);
            char c = 'x';
            if (write(turn[1], &c, 1) != 1 || read(back[0], &c, 1) != 1) _exit(5);
            send(fd, line.substr(line.size() / 2));
            send_rest(fd, 0);
            _exit(0);
        }
        pid_t second = fork();
        if (second == 0) {
            close(listener);
            int fd = connected();
            char c;
            if (read(turn[0], &c, 1) != 1) _exit(5);
            send(fd, fanin_line(1, 0));  // a whole line, while the first client's is half there
            wait_until_read(fd);
            if (write(back[1], &c, 1) != 1) _exit(5);
            send_rest(fd, 1);
            _exit(0);
        }
        for (int fd : {turn[0], turn[1], back[0], back[1]}) close(fd);
        Tally tally(2, messages);
        serve_sockets(listener, 2, tally);  // yours
        close(listener);
        lesson06::finish_clients({first, second}, path, dir, tally);
        return 0;
    });
    std::string want = lesson06::tally_line(2, 2 * messages);
    std::string cause;
    if (r.out.find(" 0 garbled") == std::string::npos && r.out.find(" garbled") != std::string::npos)
        cause =
            "lines arrived garbled: the first client's half line was glued to the second client's whole "
            "line. Each connection needs its own buffer for its unfinished line.";
    else if (r.out.rfind("0 clients finished, 0 messages", 0) == 0)
        cause = "nothing arrived: is serve_sockets still the stub?";
    else if (r.timed_out)
        cause =
            "serve_sockets never returned: read every connection until its end of file, and return once "
            "every client has hung up.";
    else
        cause = "serve_sockets did not collect both clients' lines whole: " + r.status();
    EXPECT_EQ(r.out, want) << explain(r, lesson06::printed(want, cause, "many-clients-one-server",
                                                           "calls serve_sockets with two Unix clients, one of them "
                                                           "stopped in the middle of a line"));
#endif
}

}  // namespace
