// random_bytes_test.cpp - black-box tests of lesson 02's random_bytes.
//
// The child reports "sent COUNT bytes, checksum <hex>", the parent "received COUNT
// bytes, checksum <hex>"; the two must agree. The sizes are chosen around the pipe's
// capacity (64 KiB by default on Linux): 65536 bytes fit into an unread pipe, 65537 do
// not, which is where a parent that waits for its child before reading deadlocks.
// FNV-1a is checked where the test can compute it without knowing the bytes: 0 bytes
// give the offset basis, 1 byte gives one of 256 values.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "hang.hpp"
#include "lesson.hpp"

namespace {

using namespace pw::in_tests;

const std::string kProgram = "random_bytes";
const std::uint64_t kMiB = 1024 * 1024;
const std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325;
const std::uint64_t kFnvPrime = 0x100000001b3;

struct Report {
    bool sent_seen = false, received_seen = false;
    std::uint64_t sent = 0, received = 0;
    std::string sent_sum, received_sum;  // 16 hex digits as printed
};

Report read_report(const std::string& out) {
    static const std::regex sent(R"((?:^|\n)sent (\d+) bytes, checksum ([0-9a-f]{16})\n)");
    static const std::regex received(R"((?:^|\n)received (\d+) bytes, checksum ([0-9a-f]{16})\n)");
    Report rep;
    std::smatch m;
    if (std::regex_search(out, m, sent)) {
        rep.sent_seen = true;
        rep.sent = std::stoull(m[1]);
        rep.sent_sum = m[2];
    }
    if (std::regex_search(out, m, received)) {
        rep.received_seen = true;
        rep.received = std::stoull(m[1]);
        rep.received_sum = m[2];
    }
    return rep;
}

std::string hex(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
    return buf;
}

RunResult random_bytes(std::uint64_t count, std::vector<std::string> more = {}, double timeout = 3) {
    std::vector<std::string> argv{pw::program(kProgram), std::to_string(count)};
    argv.insert(argv.end(), more.begin(), more.end());
    RunOptions options;
    options.timeout_seconds = timeout;  // a cap, not a speed limit: generous for big counts
    return pw::run(argv, options);
}

// Why a run that should have moved `count` bytes did not, in the learner's terms, with
// the section about that cause.
Why bytes_why(const RunResult& r, const Report& rep, std::uint64_t count) {
    const std::string reads = "short-reads-and-the-read-loop";
    Why why = lesson02::early_why(r, kProgram);
    if (!why.cause_text().empty()) return why;
    if (!rep.received_seen)
        return why.cause(
            "the parent did not print \"received <n> bytes, checksum <16 hex digits>\" (after reading to "
            "end of file and reaping the child)." +
            std::string(r.err.empty() ? "" : " stderr says why it stopped, above."));
    if (rep.received < count) {
        if (!rep.sent_seen || r.err.find("signal") != std::string::npos)
            return why.cause(
                "the parent received " + std::to_string(rep.received) + " of " + std::to_string(count) +
                    " bytes and stopped reading before end of file. read() returns what the pipe holds now (at "
                    "most its capacity), not the whole message: loop until read() returns 0. (The child, left "
                    "writing into a pipe that nobody read any more, was killed by SIGPIPE.)",
                reads);
        return why.cause("the child says it sent " + std::to_string(rep.sent) + " bytes but only " +
                             std::to_string(rep.received) +
                             " arrived: every write() that moved fewer bytes than asked must be continued, and the "
                             "parent must read until read() returns 0.",
                         reads);
    }
    if (rep.received > count)
        return why.cause("the parent received more bytes than COUNT: count only the n bytes each read() returned.",
                         reads);
    if (!r.left_behind.empty())
        return why.cause(
            "the program exited while its child was still there (running, or a zombie): the parent must waitpid() "
            "for its child before it exits.",
            "step-3-read-then-wait-never-the-other-way-round");
    if (!rep.sent_seen)
        return why.cause(
            "the child's line \"sent <n> bytes, checksum <hex>\" is missing: stdout is a pipe here, so printf() only "
            "fills a buffer, and _exit() throws it away. Call fflush(stdout) before _exit(0).",
            "stdout-is-a-pipe-flush-before-_exit");
    if (rep.sent != count) return why.cause("the child must report the COUNT it sent, " + std::to_string(count) + ".");
    if (rep.sent_sum != rep.received_sum)
        return why.cause(
            "the counts match but the checksums differ: the parent's checksum must cover exactly the n bytes each "
            "read() returned. After a short read only the first n bytes of the buffer are new; the rest is left "
            "over from before.",
            reads);
    if (!r.ok()) return why.cause("the bytes arrived, but the program did not exit with status 0: see stderr above.");
    return why.cause("print exactly the two lines of the lesson.");
}

// The clauses of one transfer of `count` bytes, each printing what it wanted and got.
Check transfer_check(const RunResult& r, const Report& rep, std::uint64_t count) {
    const std::string n = std::to_string(count);
    return Check(r)
        .exits(0)
        .that(rep.sent_seen && rep.sent == count, "\"sent " + n + " bytes, ...\"",
              rep.sent_seen ? "sent " + std::to_string(rep.sent) : "no such line")
        .that(rep.received_seen && rep.received == count, "\"received " + n + " bytes, ...\"",
              rep.received_seen ? "received " + std::to_string(rep.received) : "no such line")
        .that(rep.sent_sum == rep.received_sum, "the same checksum in both lines",
              rep.sent_sum + " and " + rep.received_sum)
        .nothing_left_behind();
}

// Runs random_bytes COUNT and checks the two lines against each other.
void expect_transfer(std::uint64_t count, double timeout, const std::string& anchor) {
    RunResult r = random_bytes(count, {}, timeout);
    Report rep = read_report(r.out);
    EXPECT_TRUE(transfer_check(r, rep, count)) << explain(
        r, bytes_why(r, rep, count)
               .expected("\"sent " + std::to_string(count) + " bytes, checksum <hex>\" and \"received " +
                         std::to_string(count) + " bytes, checksum <the same hex>\", exit status 0, the child reaped")
               .topic(anchor));
}

TEST(RandomBytes, SendsOneByte) {
    expect_transfer(1, 3, "step-4-a-lot-of-bytes-random_bytes");
}

TEST(RandomBytes, SendsOneByteLessThanThePipeHolds) {
    expect_transfer(65535, 3, "short-reads-and-the-read-loop");
}

TEST(RandomBytes, SendsExactlyWhatThePipeHolds) {
    expect_transfer(65536, 3, "pipe-capacity-and-the-wait-then-read-deadlock");
}

TEST(RandomBytes, SendsOneByteMoreThanThePipeHolds) {
    expect_transfer(65537, 3, "pipe-capacity-and-the-wait-then-read-deadlock");
}

TEST(RandomBytes, Sends64MiB) {
    expect_transfer(64 * kMiB, 60, "short-reads-and-the-read-loop");
}

TEST(RandomBytes, Sends256MiB) {
    expect_transfer(256 * kMiB, 60, "short-reads-and-the-read-loop");
}

TEST(RandomBytes, ChecksumIsFnv1a) {
    RunResult none = random_bytes(0);
    Report zero = read_report(none.out);
    Why why = bytes_why(none, zero, 0);
    if (none.ok() && zero.sent_seen && zero.received_seen)
        why.cause(
            "the checksum of no bytes at all is FNV-1a's offset basis, cbf29ce484222325: start both sums from "
            "0xcbf29ce484222325 and print them with %016llx.",
            "the-checksum-fnv-1a");
    EXPECT_TRUE(Check(none).exits(0).that(
        zero.sent_sum == hex(kFnvOffsetBasis) && zero.received_sum == hex(kFnvOffsetBasis),
        "both checksums " + hex(kFnvOffsetBasis), "\"" + zero.sent_sum + "\" and \"" + zero.received_sum + "\""))
        << explain(none, why.expected("both lines with checksum " + hex(kFnvOffsetBasis) + " for COUNT 0")
                             .topic("the-checksum-fnv-1a"));

    // One byte b gives (basis ^ b) * prime: one of 256 values.
    RunResult one = random_bytes(1);
    Report rep = read_report(one.out);
    bool valid = false;
    for (std::uint64_t b = 0; b < 256; ++b) valid = valid || rep.sent_sum == hex((kFnvOffsetBasis ^ b) * kFnvPrime);
    // A valid sum from the child and a different one from the parent: the read loop is to
    // blame (bytes_why says so), not the given fnv1a().
    why = bytes_why(one, rep, 1);
    if (one.ok() && rep.sent_seen && !valid)
        why.cause("for one byte b, FNV-1a 64 is (0xcbf29ce484222325 ^ b) * 0x100000001b3, modulo 2^64; " +
                      rep.sent_sum +
                      " is not that for any b. For each byte: XOR it in first, then multiply, on a std::uint64_t.",
                  "the-checksum-fnv-1a");
    EXPECT_TRUE(Check(one)
                    .that(valid, "the child's checksum: an FNV-1a 64 of one byte", "\"" + rep.sent_sum + "\"")
                    .that(rep.sent_sum == rep.received_sum, "the same checksum in both lines",
                          rep.sent_sum + " and " + rep.received_sum))
        << explain(
               one,
               why.expected("an FNV-1a 64 checksum of one byte, the same in both lines").topic("the-checksum-fnv-1a"));
}

TEST(RandomBytes, DifferentRunsSendDifferentBytes) {
    std::vector<std::string> sums;
    RunResult r;
    bool differs = false;
    for (int i = 0; i < 3 && !differs; ++i) {
        r = random_bytes(64);
        Report rep = read_report(r.out);
        if (!r.ok() || !rep.sent_seen) break;
        sums.push_back(rep.sent_sum);
        differs = sums.front() != sums.back();
    }
    Why why = bytes_why(r, read_report(r.out), 64);
    if (r.ok() && sums.size() == 3)
        why.cause("three runs without --seed sent the same 64 bytes (checksum " + sums.front() +
                      "): seed the engine from std::random_device when there is no --seed.",
                  "seeds-and-repeatable-runs");
    EXPECT_TRUE(Check(r).that(differs, "different checksums over three runs",
                              std::to_string(sums.size()) + " runs, all " + (sums.empty() ? "" : sums.front())))
        << explain(r, why.expected("different checksums for 64 random bytes over three runs without --seed")
                          .topic("seeds-and-repeatable-runs"));
}

TEST(RandomBytes, SameSeedSendsTheSameBytes) {
    static std::mt19937_64 gen{std::random_device{}()};
    std::string seed = std::to_string(gen() >> 1);
    RunResult a = random_bytes(100000, {"--seed", seed});
    RunResult b = random_bytes(100000, {"--seed", seed});
    Report ra = read_report(a.out), rb = read_report(b.out);
    Why why = bytes_why(a.ok() ? b : a, a.ok() ? rb : ra, 100000);
    if (a.ok() && b.ok() && ra.sent_seen && rb.sent_seen)
        why.cause("two runs with --seed " + seed + " sent different bytes (" + ra.sent_sum + ", " + rb.sent_sum +
                      "): with --seed N, seed the engine with N instead of std::random_device.",
                  "seeds-and-repeatable-runs");
    EXPECT_TRUE(
        Check(b)
            .exits(0)
            .that(a.ok(), "the first run to exit with status 0", a.status())
            .that(ra.sent_seen && rb.sent_seen && ra.sent_sum == rb.sent_sum && ra.received_sum == rb.received_sum,
                  "the same checksum twice", "\"" + ra.sent_sum + "\" then \"" + rb.sent_sum + "\""))
        << explain(b, why.expected("the same checksum twice for random_bytes 100000 --seed " + seed)
                          .topic("seeds-and-repeatable-runs"));
}

// While stdout is stalled the sandbox watches the process tree: the bytes must come
// from a child of random_bytes.
TEST(RandomBytes, UsesAChildProcess) {
    RunOptions options;
    options.timeout_seconds = 60;  // 64 MiB through a stalled stdout: a long cap on purpose (a deadlock ends sooner)
    options.interrupt_blocked_writes = true;
    const std::uint64_t count = 64 * kMiB;
    RunResult r = pw::run({pw::program(kProgram), std::to_string(count)}, options);
    Report rep = read_report(r.out);
    Why why = pw::child_seen_while_stalled(r)
                  ? bytes_why(r, rep, count)
                  : Why().cause(
                        "no child of random_bytes was seen while it ran: the lesson's program forks, "
                        "and the bytes travel through the pipe from child to parent.");
    EXPECT_TRUE(Check(r).forked_while_stalled().exits(0).that(
        rep.received == count && rep.sent_sum == rep.received_sum,
        "all " + std::to_string(count) + " bytes with matching checksums",
        std::to_string(rep.received) + " bytes, " + rep.sent_sum + " and " + rep.received_sum))
        << explain(r, why.expected("a child process of random_bytes that sends the bytes through the pipe")
                          .topic("step-4-a-lot-of-bytes-random_bytes"));
}

TEST(RandomBytes, RejectsABadCount) {
    const std::vector<std::string> bad = {"-1", "abc", "12x", "", " 5", "+5", "1073741825", "99999999999999999999999"};
    for (const auto& count : bad) {
        RunResult r = pw::run({pw::program(kProgram), count});
        if (Check(r).exits(2).err_mentions("COUNT").out("").passed()) continue;
        std::string cause = r.term_signal ? "it crashed on a bad COUNT: check it before you use it."
                                          : "COUNT must be digits only, 0 to 1073741824: otherwise print a clear error "
                                            "that names COUNT on stderr and return 2, before any pipe() or fork().";
        EXPECT_TRUE(Check(r).exits(2).err_mentions("COUNT").out(""))
            << explain(r, Why()
                              .expected("exit status 2, an error naming COUNT on stderr, nothing on stdout")
                              .cause(cause)
                              .topic("usage-and-errors"));
        break;  // one bad case is enough to read
    }
}

TEST(RandomBytes, PrintsUsageOnBadArguments) {
    const std::vector<std::vector<std::string>> bad = {
        {}, {"5", "--seed"}, {"5", "--seed", "x"}, {"5", "6"}, {"5", "--sed", "1"}};
    lesson02::expect_usage_errors(
        bad,
        [](const std::vector<std::string>& args) {
            std::vector<std::string> argv{pw::program(kProgram)};
            argv.insert(argv.end(), args.begin(), args.end());
            return pw::run(argv);
        },
        "random_bytes takes COUNT, optionally followed by --seed N: anything else prints one line on stderr and "
        "returns 2.",
        "it crashed: check argc before you read argv[1], argv[2] or argv[3].");
}

}  // namespace
