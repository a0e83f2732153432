// common.hpp - the measuring kit of lesson 06, given: you use it, you do not edit it.
//
// pingpong, blast and fanin share everything here that is NOT inter-process
// communication: error messages, the command line and the --json report, where each
// process runs (CPU pinning), the test data and its checksum. Your part of the
// lesson is the channels themselves (transports.cpp) and the fan-in server
// (fanin_server.cpp); this file keeps the rest out of your way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

// ---- errors -------------------------------------------------------------------------

// The program's name for messages ("pingpong"); main sets it first thing.
extern const char* g_program;

// Prints "prog: what: strerror(errno)" on stderr and exits 1. Safe in a child: it
// uses _exit, so stdio buffers copied from the parent are never flushed twice.
// In a parent it first stops and reaps the children named with stop_on_failure.
[[noreturn]] void die(const char* what);

// Prints "prog: message" on stderr and exits 1 (for failures that are not a system
// call's: a short stream, a wrong echo).
[[noreturn]] void fail(const std::string& message);

// The given mains name each child they fork here, so that a parent that fails half
// way (die or fail) kills and reaps its children instead of leaving them behind.
void stop_on_failure(int pid);
void children_reaped();  // after the parent's own waitpid: nothing left to stop

// Waits for the one child of pingpong or blast, and fails unless it exited with 0.
void reap_child(int pid);

// ---- the command line and the report ------------------------------------------------

// Every given main begins here: names the program for messages, and ignores SIGPIPE so
// that a write into a channel whose reader is gone is an error we report (EPIPE, through
// die), not a silent death that leaves children behind.
void start_program(const char* name);

// The ways two processes on one machine can talk, as this lesson names them.
enum class Via { Pipe, Socketpair, Unix, Tcp, Fifo };
const char* via_name(Via via);

// One option of a command line: a flag (no value) sets *flag; any other reads its value
// with take, which says whether the value was a good one. A size is "4096", "64K", "1M"
// or "1G" (powers of 1024), never 0.
struct Option {
    std::string name;  // "--size"
    bool* flag = nullptr;
    std::function<bool(const std::string& value)> take;
};
Option flag_option(const char* name, bool* flag);
Option size_option(const char* name, unsigned long long* value, unsigned long long max = 1ULL << 40);

// Reads a given main's command line: --via, which must be one of vias, and the options.
// Anything else, a bad value or no --via: the usage line on stderr, exit 2.
void parse_args(int argc, char* argv[], const char* usage, Via* via, std::initializer_list<Via> vias,
                const std::vector<Option>& options);
[[noreturn]] void usage_error(const char* usage);  // "usage: ..." on stderr, exit 2

// What pingpong and blast share on their command line: --via pipe|socketpair|unix|tcp,
// --pin, --seed, --floor and --json. Each adds its own options (own) and fields.
enum class Pin { None, Same, Cross };
struct Measure {
    Via via = Via::Pipe;
    Pin pin = Pin::None;
    unsigned long long seed = 1;
    bool floor = false, json = false;
};
void parse_measure(int argc, char* argv[], const char* usage, Measure* m, std::vector<Option> own);
// The first fields of their --json report: program, via, floor, pin, placement (and
// where each process ran, and why it differs from what was asked).
struct Placement;
std::vector<std::string> measure_fields(const char* program, const Measure& m, const Placement& place);

// One line of --json output: keys and values alternate, each value already JSON:
//   print_json({"program", json_string("blast"), "bytes", std::to_string(64), ...})
// prints {"program": "blast", "bytes": 64, ...}; the fields of more come after.
void print_json(std::vector<std::string> keys_and_values, std::initializer_list<std::string> more = {});
std::string json_string(const std::string& text);   // quoted, with " \ and control bytes escaped
std::string json_real(double value, int decimals);  // 0.500 for (0.5, 3)
const char* json_bool(bool value);                  // true or false

// A template for mkdtemp(): "$TMPDIR/pipeworks-XXXXXX" (stdio's P_tmpdir without TMPDIR).
std::string temp_dir_template();

// ---- placement: which CPU each process runs on --------------------------------------

const char* pin_name(Pin pin);

// The plan for --pin, decided before fork(): which CPU the parent and the child use
// (-1: wherever the scheduler puts it), what really happened, and why if it differs
// from what was asked.
struct Placement {
    Pin asked = Pin::None;
    Pin used = Pin::None;
    int parent_cpu = -1, child_cpu = -1;
    std::string note;              // e.g. why "cross" fell back to "none"
    std::string describe() const;  // "same CPU 0", "cross: CPUs 0 and 1", "none (unpinned)"
    void one_process();            // --floor: both "ends" are one process, on one CPU
};
Placement plan_placement(Pin pin);

// Pins the calling process to cpu with sched_setaffinity (no-op for -1).
void run_on_cpu(int cpu);

// pingpong's and blast's fork, with your channel: forks; the child, on place.child_cpu,
// runs child(ch), which ends in _exit and never returns; the parent, on place.parent_cpu,
// returns its end (parent_end) and the child's pid, which die() and fail() stop and reap
// should the parent fail before reap_child(pid).
struct Channel;
struct End;
End fork_child(Channel& ch, const Placement& place, const std::function<void(Channel&)>& child, int* pid);

// ---- test data and checksum -----------------------------------------------------------

// Fletcher-style checksum over 64-bit words, in four independent lanes so that the
// compiler can vectorize it: cheap enough (tens of GB/s) not to hide the transport's
// cost, and it notices lost, repeated or reordered pieces. Both ends feed it the same
// pieces in the same order, so they agree.
struct Checksum {
    std::uint64_t a[4] = {0, 0, 0, 0}, b[4] = {0, 0, 0, 0};
    void add(const void* data, std::size_t len) {
        const unsigned char* p = static_cast<const unsigned char*>(data);
        std::uint64_t x0 = a[0], x1 = a[1], x2 = a[2], x3 = a[3];
        std::uint64_t y0 = b[0], y1 = b[1], y2 = b[2], y3 = b[3];
        for (; len >= 32; p += 32, len -= 32) {
            std::uint64_t w[4];
            std::memcpy(w, p, 32);
            x0 += w[0], x1 += w[1], x2 += w[2], x3 += w[3];
            y0 += x0, y1 += x1, y2 += x2, y3 += x3;
        }
        for (; len > 0; p += len < 8 ? len : 8, len -= len < 8 ? len : 8) {  // the last 0-31 bytes
            std::uint64_t w = 0;
            std::memcpy(&w, p, len < 8 ? len : 8);
            x0 += w + (len < 8 ? len : 0);
            y0 += x0;
        }
        a[0] = x0, a[1] = x1, a[2] = x2, a[3] = x3;
        b[0] = y0, b[1] = y1, b[2] = y2, b[3] = y3;
    }
    std::uint64_t value() const {
        std::uint64_t v = 0;
        for (int i = 0; i < 4; ++i) v = (v ^ b[i] ^ (a[i] << 32 | a[i] >> 32)) * 0x100000001B3ULL;
        return v;
    }
    std::string hex() const;  // 16 hex digits
};

// Fills buf with bytes that depend on seed (a simple xorshift generator).
inline void fill_pattern(std::uint64_t seed, unsigned char* buf, std::size_t len) {
    std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (std::size_t i = 0; i < len; ++i) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        buf[i] = static_cast<unsigned char>(s >> 24);
    }
}

// pingpong: the message of round r is the seed's pattern with the round number in
// its first bytes; the child answers with every byte plus one, so the parent can
// tell a real reply from its own message coming back.
inline void stamp_round(unsigned char* msg, std::size_t len, std::uint64_t round) {
    for (std::size_t i = 0; i < len && i < 8; ++i) msg[i] = static_cast<unsigned char>(round >> (8 * i));
}
inline void make_reply(unsigned char* msg, std::size_t len) {
    for (std::size_t i = 0; i < len; ++i) msg[i] = static_cast<unsigned char>(msg[i] + 1);
}

// blast: the stream is sent in pieces of `chunk` bytes (the last may be shorter);
// piece k starts at offset (k * 64) % 4096 of a pattern of chunk + 4096 bytes, so
// each piece differs from the one before and a lost or repeated piece changes the sum.
inline std::size_t blast_offset(std::uint64_t piece) {
    return static_cast<std::size_t>((piece * 64) % 4096);
}

// ---- timing ---------------------------------------------------------------------------

// Microseconds since some fixed moment (CLOCK_MONOTONIC).
double now_us();

// ---- fan-in: the server's bookkeeping -----------------------------------------------

// What a fanin client sends: one line per message, then a last line saying it is done:
//   "c3 17 7f2a09c1d4e8b633"   client 3, message 17, a payload only that message has
//   "c3 end 10000"             client 3 sent 10000 messages and is done
// Each line is written with one write() and is far shorter than PIPE_BUF.
std::string fanin_line(int client, int message);
std::string fanin_end_line(int client, int messages);

// The server hands every complete line it receives (without its '\n') to add().
// Tally checks each line: a known client, messages in order with none skipped, the
// right payload. A line that fails is counted as garbled (two lines run together,
// or a piece of one), and the first such line is kept to show.
class Tally {
  public:
    Tally(int clients, int messages);
    void add(const std::string& line);
    int clients_finished() const { return finished_; }  // clients whose end line arrived
    long long received() const { return received_; }    // good message lines
    long long garbled() const { return garbled_; }
    long long expected() const { return static_cast<long long>(clients_) * messages_; }
    int clients_heard() const;  // clients with at least one good line
    const std::string& first_problem() const { return first_problem_; }
    bool complete() const { return received_ == expected() && garbled_ == 0 && finished_ == clients_; }

  private:
    void problem(const std::string& what);
    int clients_, messages_;
    std::vector<int> next_;  // the next message number expected from each client (-1: ended)
    int finished_ = 0;
    long long received_ = 0, garbled_ = 0;
    std::string first_problem_;
};
