// fanin_test.cpp - black-box tests of lesson 06's fanin: eight clients, ten thousand
// messages each, one server. The given main checks every line (client, order,
// payload) and reports in JSON; these tests read that report and the scratch TMPDIR.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "lesson.hpp"
#include "lesson06_checks.hpp"

namespace {

using lesson06::number;
using lesson06::text;
using pw::explain;
using pw::RunOptions;
using pw::RunResult;

const int kClients = 8;
const int kMessages = 10000;

std::string fanin_cause(const RunResult& r, const std::map<std::string, std::string>& j, bool parsed,
                        const std::string& via, const std::string& leftovers) {
    if (r.timed_out) {
        const std::string& s = r.stuck_report;
        if (s.find("waits in open()") != std::string::npos)
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
    if (received == 0 && garbled == 0)
        return "nothing arrived: is fanin_server.cpp still the stub? Follow its TODOs.";
    if (garbled > 0) {
        if (via == "fifo")
            return "lines arrived garbled (first: " + problem + "). A read() from the FIFO can end in the middle "
                   "of a line: keep the unfinished rest and put the next read's bytes after it.";
        return "lines arrived garbled (first: " + problem + "). Each connection needs its own buffer for its "
               "unfinished line: with one buffer for all, the start of one client's line gets glued to another "
               "client's bytes.";
    }
    long long clients = number(j, "clients");
    if (heard == 1 && clients > 1)
        return "only 1 of the " + std::to_string(clients) + " clients was heard: the server served the first "
               "client and stopped. It must accept every client and read all of them, watching every connection "
               "(and the listener) with poll().";
    if (received < expected)
        return std::to_string(expected - received) + " messages were lost, from " + std::to_string(heard) + " of " +
               std::to_string(clients) + " clients heard: read every connection until its end of file (read() "
               "returns 0), and stop only when every client has finished.";
    if (!leftovers.empty())
        return "left in TMPDIR after the run: " + leftovers + " (the given main removes its own files; is it "
               "unchanged?)";
    if (!r.left_behind.empty()) return "a client process was still there when fanin exited.";
    return "fanin failed: " + lesson06::first_line(r.err);
}

void check_fanin(const std::string& via, const std::string& anchor) {
    lesson06::ScratchTmp tmp;
    RunOptions options;
    options.timeout_seconds = 20;
    options.extra_env = {tmp.env()};
    RunResult r = pw::run({pw::program("fanin"), "--via", via, "--clients", std::to_string(kClients), "--messages",
                           std::to_string(kMessages), "--json"},
                          options);
    std::map<std::string, std::string> j;
    bool parsed = lesson06::parse_flat_json(r.out, &j);
    std::string leftovers = tmp.leftovers();
    long long all = static_cast<long long>(kClients) * kMessages;
    bool ok = r.ok() && parsed && number(j, "received") == all && number(j, "garbled") == 0 &&
              number(j, "clients_finished") == kClients && text(j, "ok") == "true" && leftovers.empty() &&
              r.left_behind.empty();
    EXPECT_TRUE(ok) << explain(r,
                               "all " + std::to_string(all) + " messages of " + std::to_string(kClients) +
                                   " clients, whole and in order, over " + via + "; exit status 0",
                               fanin_cause(r, j, parsed, via, leftovers), anchor);
}

TEST(FanIn, PrintsTheDocumentedJson) {
    lesson06::ScratchTmp tmp;
    RunOptions options;
    options.extra_env = {tmp.env()};
    RunResult r = pw::run({pw::program("fanin"), "--via", "unix", "--clients", "2", "--messages", "100", "--json"},
                          options);
    std::string problem = lesson06::json_problem(r.out, {"via", "clients", "messages", "expected", "received", "lost",
                                                         "garbled", "clients_heard", "clients_finished", "ok"});
    std::map<std::string, std::string> j;
    bool parsed = lesson06::parse_flat_json(r.out, &j);
    EXPECT_TRUE(r.ok() && problem.empty())
        << explain(r, "one JSON object with via, clients, messages, expected, received, lost, garbled, "
                      "clients_heard, clients_finished and ok; exit status 0",
                   problem.empty() ? fanin_cause(r, j, parsed, "unix", tmp.leftovers()) : problem,
                   "what-the-programs-report");
}

TEST(FanIn, TcpLosesNothingWithEightClients) { check_fanin("tcp", "many-clients-one-server"); }
TEST(FanIn, UnixLosesNothingWithEightClients) { check_fanin("unix", "many-clients-one-server"); }
TEST(FanIn, FifoLosesNothingWithEightClients) { check_fanin("fifo", "the-fifo-way-and-pipe_buf"); }

}  // namespace
