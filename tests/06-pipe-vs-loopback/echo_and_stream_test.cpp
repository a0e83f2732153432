// echo_and_stream_test.cpp - black-box tests of lesson 06's pingpong and blast.
//
// Correctness only: no test looks at a time. Every run uses a random seed, size and
// count, and the test recomputes the checksum the program must print, so every byte
// of every transport is accounted for and hard-coded output fails. Each run gets a
// fresh TMPDIR, which must be empty afterwards (no socket file, no private directory).
#include <gtest/gtest.h>
#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#endif
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "lesson.hpp"
#include "lesson06_checks.hpp"

namespace {

using lesson06::first_line;
using lesson06::number;
using lesson06::text;
using pw::explain;
using pw::RunOptions;
using pw::RunResult;
using Json = std::map<std::string, std::string>;

// Why a pingpong or blast run went wrong, worked out from what happened.
std::string channel_cause(const RunResult& r, const std::string& via) {
    if (r.timed_out) {
        bool reads_own_end = false;
        for (const auto& p : r.stuck) reads_own_end |= p.call() == pw::Call::Read && p.waits_on_its_own_end();
        if (r.stuck_in(pw::Call::Accept) > 0)
            return "the parent waits in accept() for a connection that never comes: the child must connect "
                   "(child_end) to the address the parent listens on - the same socket path, the same port.";
        if (r.stuck_in(pw::Call::Read) >= 2) {
            if (via == "pipe")
                return "both processes wait in read(), each for the other. A pipe is one-way: if parent and child "
                       "share one pipe for both directions, a process can read its own message back and the "
                       "other waits forever. Use two pipes, one each way.";
            return "both processes wait in read(), each for the other: does each one write to the channel the "
                   "other reads (End.out of one is End.in of the other)?";
        }
        if (reads_own_end)
            return "a process waits for end of file on a pipe while it still holds a write end of that same "
                   "pipe, so EOF can never come (see above). parent_end and child_end must close every end that "
                   "belongs to the other process.";
        if (r.stuck_in(pw::Call::Wait) > 0 && r.stuck_in(pw::Call::Read) > 0)
            return "the child never sees end of file after the parent closed its end, because a write end is "
                   "still open somewhere (see above: whose write end is still open in ...). child_end must "
                   "close every descriptor that belongs to the parent.";
        return "the program never finished; what each process was blocked in is listed above.";
    }
    if (r.err.find("unchanged") != std::string::npos)
        return "the parent got its own message back instead of the child's reply. A pipe is one-way: with one "
               "pipe for both directions, whoever reads first takes the bytes, even the one who wrote them. "
               "Use two pipes, one each way.";
    if (r.err.find("write - ") != std::string::npos && r.err.find("Function not implemented") != std::string::npos)
        return "write_all returned false with errno ENOSYS: it is still the stub. Follow its TODO in "
               "exercises/06-pipe-vs-loopback/transports.cpp.";
    if (r.err.find("closed after 0 of") != std::string::npos || r.err.find("ended after 0 of") != std::string::npos)
        return "nothing came through the channel: are open_channel, child_end and parent_end still the stub? "
               "Follow the TODOs in exercises/06-pipe-vs-loopback/transports.cpp.";
    if (r.err.find("ended after") != std::string::npos || r.err.find("closed after") != std::string::npos ||
        r.err.find("in the middle of a message") != std::string::npos)
        return "bytes went missing on the way: write() can return less than you asked, and write_all must send "
               "the rest; read() too can return less, and read_full must keep reading until it has len bytes.";
    if (r.err.find("differs") != std::string::npos && via == "pipe")
        return "the reply is not the child's answer to the message. A pipe is one-way: if parent and child share "
               "one pipe for both directions, whoever reads first gets the bytes, even the one who wrote them. Use "
               "two pipes, one each way.";
    if (r.err.find("differs") != std::string::npos || r.err.find("checksums differ") != std::string::npos)
        return "the bytes that arrived are not the ones sent: check the buffer offsets in write_all and read_full.";
    if (r.term_signal == 13)
        return "killed by SIGPIPE: a process wrote into a channel whose other end was already closed.";
    if (r.term_signal) return "the program crashed; run the reproduce command under gdb to see where.";
    if (r.exited_with(2)) return "the program printed its usage: the options above are valid, so this is unexpected.";
    if (!r.err.empty())
        return "the program stopped with the error " + pw::quote(first_line(r.err)) +
               "; it names the system call that failed.";
    return "";
}

struct Outcome {
    RunResult r;
    Json json;
    bool json_ok = false;
    std::string leftovers;
};

Outcome run_json(const std::vector<std::string>& argv, double timeout = 10) {
    lesson06::ScratchTmp tmp;
    RunOptions options;
    options.timeout_seconds = timeout;
    options.extra_env = {tmp.env()};
    Outcome o{pw::run(argv, options), {}, false, ""};
    o.json_ok = lesson06::parse_flat_json(o.r.out, &o.json);
    o.leftovers = tmp.leftovers();
    return o;
}

// ---- pingpong ---------------------------------------------------------------------------

// One row of a table of runs: the channel, the sizes drawn from, and the section that
// explains what the run is about.
struct Row {
    const char* name;  // the instance's name in googletest's output
    const char* via;
    unsigned long long min_size, max_size;  // pingpong: a message; blast: the whole stream
    std::vector<std::string> extra;         // more options
    const char* anchor;
};

// Names an instance in googletest's output ("pipe") instead of its bytes.
void PrintTo(const Row& run, std::ostream* os) {
    *os << run.name;
}
std::string run_name(const ::testing::TestParamInfo<Row>& info) {
    return info.param.name;
}

// pingpong at one row's size: every reply is the child's answer, every byte accounted for.
void check_pingpong(const Row& run) {
    const std::string via = run.via;
    std::size_t size = static_cast<std::size_t>(lesson06::random_number(run.min_size, run.max_size));
    // Many small round trips, or a few that are each bigger than the channel holds.
    unsigned long long count = size < 65536 ? lesson06::random_number(200, 400) : 20;
    unsigned long long seed = lesson06::random_number(1, 1u << 30);
    Outcome o = run_json({pw::program("pingpong"), "--via", via, "--size", std::to_string(size), "--count",
                          std::to_string(count), "--seed", std::to_string(seed), "--json"});
    std::string want = lesson06::pingpong_checksum(size, count, seed);
    std::string cause = channel_cause(o.r, via);
    if (cause.empty() && !o.r.left_behind.empty())
        cause = "a process was still there when pingpong exited; every child must be reaped.";
    if (cause.empty() && !o.leftovers.empty())
        cause = "left in TMPDIR after the run: " + o.leftovers +
                ". parent_end must unlink() the socket file and rmdir() the private directory once the child "
                "has connected.";
    if (cause.empty() && o.json_ok && text(o.json, "checksum") != want)
        cause = "the checksum of the replies is " + text(o.json, "checksum") + ", not " + want +
                ": the replies are not the child's answers to the messages sent.";
    if (cause.empty()) cause = "stdout is not the one JSON object pingpong prints with --json.";
    EXPECT_TRUE(lesson06::reported(o.r, {{"checksum", want}, {"verified", std::to_string(count)}}, o.leftovers))
        << explain(o.r,
                   pw::Why()
                       .expected(std::to_string(count) + " verified round trips of " + std::to_string(size) +
                                 " bytes over " + via + ", checksum " + want + ", exit status 0, nothing left behind")
                       .cause(cause)
                       .topic(run.anchor));
}

class PingPongOver : public ::testing::TestWithParam<Row> {};

TEST_P(PingPongOver, EchoesEveryMessage) {
    check_pingpong(GetParam());
}

INSTANTIATE_TEST_SUITE_P(
    PingPong, PingPongOver,
    ::testing::Values(Row{"pipe", "pipe", 1, 3000, {}, "a-pipe-is-one-way-two-pipes-make-a-conversation"},
                      Row{"socketpair", "socketpair", 1, 3000, {}, "socketpair-one-call-two-way"},
                      Row{"unix", "unix", 1, 3000, {}, "unix-domain-sockets-listen-connect-accept"},
                      Row{"tcp", "tcp", 1, 3000, {}, "tcp-on-127001-the-same-calls-and-the-whole-network-stack"}),
    run_name);

// Bigger than a pipe or a socket buffer holds: read() returns pieces, and the message is
// only complete when read_full has all of it. A behaviour of its own: a read_full that
// reads once passes every small round trip above.
class PingPongLargerThanTheChannel : public ::testing::TestWithParam<Row> {};

TEST_P(PingPongLargerThanTheChannel, EchoesEveryMessage) {
    check_pingpong(GetParam());
}

INSTANTIATE_TEST_SUITE_P(PingPong, PingPongLargerThanTheChannel,
                         ::testing::Values(Row{"pipe256KiB", "pipe", 200000, 300000, {}, "read_full-and-write_all"},
                                           Row{"unix400KiB", "unix", 300000, 500000, {}, "read_full-and-write_all"}),
                         run_name);

// Runs argv over a socketpair and checks that its --json report has every documented
// field (the lesson's table of them), in one JSON object that python3's json module reads.
void check_documented_json(std::vector<std::string> argv, const std::vector<std::string>& fields) {
    argv.insert(argv.end(), {"--via", "socketpair", "--json"});
    Outcome o = run_json(argv);
    std::string names;
    for (const std::string& f : fields) names += (names.empty() ? "" : &f == &fields.back() ? " and " : ", ") + f;
    std::string cause = channel_cause(o.r, "socketpair");
    EXPECT_TRUE(lesson06::documented_json(o.r, fields))
        << explain(o.r, pw::Why()
                            .expected("one JSON object with " + names)
                            .cause(cause.empty() ? lesson06::json_problem(o.r.out, fields) : cause)
                            .topic("what-the-programs-report"));
}

TEST(PingPong, PrintsTheDocumentedJson) {
    check_documented_json(
        {pw::program("pingpong"), "--count", "50"},
        {"via", "size", "count", "pin", "placement", "median_us", "p99_us", "min_us", "verified", "checksum"});
}

int usable_cpus() {
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    return 1;
}

// Why a --pin run did not report what it was asked: the channel's fault, or else the
// given main's (the placement is its business, not yours).
pw::Why placement_why(const RunResult& r) {
    std::string cause = channel_cause(r, "socketpair");
    return pw::Why()
        .cause(cause.empty() ? "the given main reports the placement; is it unchanged?" : cause)
        .topic("where-the-processes-run-same-cpu-or-cross-cpu");
}

TEST(PingPong, ReportsThePlacementItRanWith) {
#ifndef __linux__
    GTEST_SKIP() << "pinning needs Linux";
#else
    Outcome same =
        run_json({pw::program("pingpong"), "--via", "socketpair", "--count", "50", "--pin", "same", "--json"});
    // One CPU for both: the child's CPU is expected to be the parent's (and a real one, not -1).
    std::string cpu = text(same.json, "parent_cpu");
    EXPECT_TRUE(lesson06::reported(
        same.r, {{"placement", "same"}, {"child_cpu", cpu.empty() || cpu[0] == '-' ? "a CPU number" : cpu}}))
        << explain(same.r, placement_why(same.r).expected("\"placement\": \"same\" and one CPU number for parent "
                                                          "and child"));
    if (usable_cpus() < 2) return;
    Outcome cross =
        run_json({pw::program("pingpong"), "--via", "socketpair", "--count", "50", "--pin", "cross", "--json"});
    EXPECT_TRUE(lesson06::reported(cross.r, {{"placement", "cross"}}))
        << explain(cross.r, placement_why(cross.r).expected("\"placement\": \"cross\" and two different CPU numbers"));
    EXPECT_NE(text(cross.json, "parent_cpu"), text(cross.json, "child_cpu"))
        << explain(cross.r, placement_why(cross.r).expected("two different CPU numbers for parent and child"));
#endif
}

// On a machine (or in a container) with one CPU, --pin cross cannot be honoured; the
// program must say so and run anyway, rather than fail or pretend.
TEST(PingPong, CrossFallsBackClearlyOnOneCpu) {
#ifndef __linux__
    GTEST_SKIP() << "pinning needs Linux";
#else
    std::string prog = pw::program("pingpong");
    RunResult r = pw::run_function([prog] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        sched_getaffinity(0, sizeof one, &one);
        for (int c = 0, kept = 0; c < CPU_SETSIZE; ++c)  // keep only the first allowed CPU
            if (CPU_ISSET(c, &one) && kept++) CPU_CLR(c, &one);
        if (sched_setaffinity(0, sizeof one, &one) != 0) return 99;
        execl(prog.c_str(), prog.c_str(), "--via", "socketpair", "--count", "50", "--pin", "cross", "--json",
              static_cast<char*>(nullptr));
        return 98;
    });
    Json j;
    lesson06::parse_flat_json(r.out, &j);
    std::string note = text(j, "note");  // says why: the note names the one CPU it may use
    EXPECT_TRUE(lesson06::reported(
        r, {{"placement", "none"},
            {"note", note.find('1') != std::string::npos ? note : "a note that cross needs 2 CPUs"}}))
        << explain(r, placement_why(r)
                          .expected("a normal run with \"placement\": \"none\" and a note that cross needs 2 CPUs")
                          .reproduce("taskset -c 0 " + prog + " --via socketpair --count 50 --pin cross --json"));
#endif
}

TEST(PingPong, RejectsAnUnknownTransport) {
    RunResult r = pw::run({pw::program("pingpong"), "--via", "carrier-pigeon"});
    EXPECT_TRUE(pw::Check(r).exits(2).err_mentions("usage").out(""))
        << explain(r, pw::Why()
                          .expected("exit status 2, a usage line on stderr and nothing on stdout")
                          .cause("the given option parser should refuse it; is given/pingpong_main.cpp unchanged?")
                          .topic("step-0-run-the-three-programs"));
}

// ---- blast ---------------------------------------------------------------------------

TEST(Blast, PrintsTheDocumentedJson) {
    check_documented_json({pw::program("blast"), "--bytes", "4M"},
                          {"via", "bytes", "chunk", "pin", "placement", "seconds", "gb_per_s", "checksum", "verified"});
}

// blast over one row's channel: every byte of a random stream in random pieces arrives.
class BlastOver : public ::testing::TestWithParam<Row> {};

TEST_P(BlastOver, DeliversEveryByte) {
    const Row& run = GetParam();
#ifndef __linux__
    if (run.extra == std::vector<std::string>{"--splice"}) GTEST_SKIP() << "vmsplice is Linux only";
#endif
    const std::string via = run.via;
    unsigned long long seed = lesson06::random_number(1, 1u << 30);
    unsigned long long bytes = lesson06::random_number(run.min_size, run.max_size);
    std::size_t chunk = static_cast<std::size_t>(lesson06::random_number(1000, 200000));
    std::vector<std::string> argv = {pw::program("blast"),
                                     "--via",
                                     via,
                                     "--bytes",
                                     std::to_string(bytes),
                                     "--chunk",
                                     std::to_string(chunk),
                                     "--seed",
                                     std::to_string(seed),
                                     "--json"};
    argv.insert(argv.end(), run.extra.begin(), run.extra.end());
    Outcome o = run_json(argv);
    std::string want = lesson06::blast_checksum(bytes, chunk, seed);
    std::string cause = channel_cause(o.r, via);
    if (cause.empty() && !o.leftovers.empty())
        cause = "left in TMPDIR after the run: " + o.leftovers +
                ". parent_end must unlink() the socket file and rmdir() the private directory.";
    if (cause.empty() && !o.r.left_behind.empty()) cause = "a process was still there when blast exited.";
    if (cause.empty()) cause = "the checksum printed is not the one of the stream sent (" + want + ").";
    EXPECT_TRUE(lesson06::reported(o.r, {{"checksum", want}, {"bytes", std::to_string(bytes)}}, o.leftovers))
        << explain(o.r, pw::Why()
                            .expected("all " + std::to_string(bytes) + " bytes over " + via + ", checksum " + want +
                                      " on both ends, exit status 0")
                            .cause(cause)
                            .topic(run.anchor));
}

// A pipe as it comes, with a bigger buffer, and (the advanced part, Linux) with the
// child vmsplice()ing its pages into it; then each socket.
const unsigned long long kStreamMin = 3u << 20, kStreamMax = 6u << 20;
INSTANTIATE_TEST_SUITE_P(
    Blast, BlastOver,
    ::testing::Values(
        Row{"pipe", "pipe", kStreamMin, kStreamMax, {}, "blast-every-byte-counted"},
        Row{"pipe1MiB", "pipe", kStreamMin, kStreamMax, {"--pipe-size", "1M"}, "blast-every-byte-counted"},
        Row{"pipeVmsplice", "pipe", kStreamMin, kStreamMax, {"--splice"}, "blast-every-byte-counted"},
        Row{"socketpair", "socketpair", kStreamMin, kStreamMax, {}, "blast-every-byte-counted"},
        Row{"unix", "unix", kStreamMin, kStreamMax, {}, "blast-every-byte-counted"},
        Row{"tcp", "tcp", kStreamMin, kStreamMax, {}, "blast-every-byte-counted"}),
    run_name);

}  // namespace
