// pingpong_main.cpp - round-trip latency between a parent and its child (given).
//
// Usage: pingpong --via pipe|socketpair|unix|tcp [--size BYTES] [--count N]
//                 [--pin same|cross|none] [--seed N] [--floor] [--split] [--nagle] [--json]
//
// The parent sends a message of --size bytes, the child answers with every byte plus
// one, and the parent times the round trip; --count rounds in all (the first tenth,
// at most 100, warm up and are not timed). Every reply is checked, and a checksum of
// all replies is printed so that a test can recompute it from --seed. It reports the
// median, 99th percentile and minimum round trip in microseconds, on one line or, with
// --json, as one JSON object.
//
// --floor: no child, one process writes the message into the channel and reads it
// straight back out: the cost of the system calls and the copies without any
// wake-up of another process. No transport can beat it. (--size at most 64K there.)
//
// --split: the parent writes each message in two pieces (two write()s, half each), as a
// program does that writes a header and then a body.
// --nagle: (tcp only) turns TCP_NODELAY off on both sockets, so Nagle's algorithm is on.
// Together they show Nagle's stall: the second piece waits until the first is
// acknowledged, and the receiver delays that acknowledgement (tens of milliseconds on
// Linux) because it has nothing to send back yet: it waits for the rest of the message.
// With TCP_NODELAY on (your connect_tcp and accept_connection), the same split costs
// microseconds.
//
// The channel itself comes from transports.cpp: open_channel, child_end, parent_end.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common.hpp"
#include "transports.hpp"

namespace {

struct Options : Measure {
    unsigned long long size = 64, count = 2000;
    bool split = false, nagle = false;
};

const char* const kUsage =
    "pingpong --via pipe|socketpair|unix|tcp [--size BYTES] [--count N] [--pin same|cross|none] [--seed N] "
    "[--floor] [--split] [--nagle] [--json]";

Options parse(int argc, char* argv[]) {
    Options o;
    parse_measure(argc, argv, kUsage, &o,
                  {flag_option("--split", &o.split), flag_option("--nagle", &o.nagle),
                   size_option("--size", &o.size, 64u << 20), size_option("--count", &o.count)});
    if (o.floor && o.size > 65536) usage_error(kUsage);
    if (o.nagle && (o.via != Via::Tcp || o.floor)) usage_error(kUsage);  // Nagle is TCP's, between two processes
    if (o.split && o.size < 2) usage_error(kUsage);
    return o;
}

// The median, 99th percentile and minimum of the timed round trips.
struct Summary {
    double median = 0, p99 = 0, min = 0;
};
Summary summarize(std::vector<double> samples) {
    Summary s;
    if (samples.empty()) return s;
    std::sort(samples.begin(), samples.end());
    s.min = samples.front();
    s.median = samples[samples.size() / 2];
    s.p99 = samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
    return s;
}

// --nagle: TCP_NODELAY off, so that TCP may hold back a small segment (Nagle's algorithm).
void nagle_on(int fd) {
    int off = 0;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &off, sizeof off) == -1) die("setsockopt TCP_NODELAY");
}

// The child: answer every message until the parent closes its end.
[[noreturn]] void child(Channel& ch, const Options& o) {
    End end = child_end(ch);
    if (o.nagle) nagle_on(end.out);
    std::vector<unsigned char> msg(o.size);
    for (;;) {
        std::size_t got = read_full(end.in, msg.data(), msg.size(), "read - child");
        if (got == 0) break;  // EOF: the parent is done
        if (got < msg.size()) fail("child: the channel closed in the middle of a message");
        make_reply(msg.data(), msg.size());
        if (!write_all(end.out, msg.data(), msg.size())) die("write - child");
    }
    close_end(end, "child");
    _exit(0);
}

// Both ends of the channel in this one process: write, then read back.
End floor_channel(Via via, End* other) {
    End mine;
    int fds[2];
    switch (via) {
        case Via::Pipe:
            if (pipe(fds) == -1) die("pipe");
            mine.out = fds[1];
            other->in = fds[0];
            break;
        case Via::Socketpair:
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1) die("socketpair");
            mine.out = mine.in = fds[0];
            other->in = other->out = fds[1];
            break;
        case Via::Unix:
        case Via::Tcp: {
            Channel ch = open_channel(via);
            // The connection completes in the listener's queue, so one process can
            // connect and then accept its own connection.
            mine.in = mine.out = via == Via::Unix ? connect_unix(ch.path) : connect_tcp(ch.port);
            End acc = parent_end(ch);
            *other = acc;
            break;
        }
        case Via::Fifo:
            break;
    }
    return mine;
}

}  // namespace

int main(int argc, char* argv[]) {
    start_program("pingpong");
    Options o = parse(argc, argv);
    Placement place = plan_placement(o.pin);
    if (o.floor) place.one_process();

    End end, floor_other;
    int pid = -1;
    if (o.floor) {
        run_on_cpu(place.parent_cpu);
        end = floor_channel(o.via, &floor_other);
    } else {
        Channel ch = open_channel(o.via);
        end = fork_child(
            ch, place, [&](Channel& c) { child(c, o); }, &pid);
        if (o.nagle) nagle_on(end.out);
    }

    std::vector<unsigned char> msg(o.size), reply(o.size), expect(o.size);
    fill_pattern(o.seed, msg.data(), msg.size());
    unsigned long long warmup = o.count / 10 < 100 ? o.count / 10 : 100;
    std::vector<double> samples;
    samples.reserve(o.count);
    Checksum sum;
    for (unsigned long long round = 0; round < o.count; ++round) {
        stamp_round(msg.data(), msg.size(), round);
        double t0 = now_us();
        if (o.split) {  // two write()s: the first half, then the rest
            if (!write_all(end.out, msg.data(), msg.size() / 2)) die("write - parent");
            if (!write_all(end.out, msg.data() + msg.size() / 2, msg.size() - msg.size() / 2)) die("write - parent");
        } else {
            if (!write_all(end.out, msg.data(), msg.size())) die("write - parent");
        }
        std::size_t got = read_full(o.floor ? floor_other.in : end.in, reply.data(), reply.size(), "read - parent");
        double t1 = now_us();
        if (got < reply.size())
            fail("round " + std::to_string(round) + ": the channel closed after " + std::to_string(got) + " of " +
                 std::to_string(reply.size()) + " reply bytes (did the child die?)");
        expect = msg;
        if (!o.floor) make_reply(expect.data(), expect.size());
        if (reply != expect) {
            if (!o.floor && reply == msg)
                fail("round " + std::to_string(round) +
                     ": the reply is the message itself, unchanged: the parent read back what it wrote "
                     "(one pipe used in both directions?)");
            fail("round " + std::to_string(round) + ": the reply differs from the message plus one");
        }
        sum.add(reply.data(), reply.size());
        if (round >= warmup) samples.push_back(t1 - t0);
    }

    if (o.floor) {
        close_end(floor_other, "parent");
    } else {
        close_end(end, "parent");  // the child's EOF: it leaves its loop and exits
        end = End();
        reap_child(pid);
    }
    if (end.in >= 0 || end.out >= 0) close_end(end, "parent");

    Summary s = summarize(samples);
    if (o.json) {
        print_json(measure_fields("pingpong", o, place), {"size",      std::to_string(o.size),
                                                          "count",     std::to_string(o.count),
                                                          "timed",     std::to_string(samples.size()),
                                                          "split",     json_bool(o.split),
                                                          "nagle",     json_bool(o.nagle),
                                                          "median_us", json_real(s.median, 3),
                                                          "p99_us",    json_real(s.p99, 3),
                                                          "min_us",    json_real(s.min, 3),
                                                          "verified",  std::to_string(o.count),
                                                          "checksum",  json_string(sum.hex())});
    } else {
        std::printf(
            "pingpong: %s%s%s, %llu B x %llu round trips, placement %s%s%s: median %.1f us, p99 %.1f us, "
            "min %.1f us; %s, checksum %s\n",
            via_name(o.via), o.floor ? " (floor: one process, no wake-up)" : "",
            o.split ? (o.nagle ? " (each message in two writes, TCP_NODELAY off)" : " (each message in two writes)")
                    : (o.nagle ? " (TCP_NODELAY off)" : ""),
            o.size, o.count, place.describe().c_str(), place.note.empty() ? "" : " - ", place.note.c_str(), s.median,
            s.p99, s.min, o.floor ? "every message came back intact" : "every echo verified", sum.hex().c_str());
    }
    return 0;
}
