// common.cpp - the measuring kit of lesson 06 (given; see common.hpp).
#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // sched_setaffinity, CPU_SET
#endif
#include <sched.h>
#endif
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common.hpp"
#include "transports.hpp"

const char* g_program = "lesson06";

namespace {
std::vector<int> children;
// A child keeps nothing of this list: after fork() it is the parent's business only.
pid_t children_owner = 0;

void stop_children() {
    if (children_owner != getpid()) return;
    for (int pid : children) kill(pid, SIGKILL);
    for (int pid : children)
        while (waitpid(pid, nullptr, 0) == -1 && errno == EINTR) {
        }
}
}  // namespace

void stop_on_failure(int pid) {
    children_owner = getpid();
    children.push_back(pid);
}

void children_reaped() {
    children.clear();
}

void die(const char* what) {
    std::fprintf(stderr, "%s: %s: %s\n", g_program, what, std::strerror(errno));
    stop_children();
    _exit(1);
}

void fail(const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", g_program, message.c_str());
    stop_children();
    _exit(1);
}

End fork_child(Channel& ch, const Placement& place, const std::function<void(Channel&)>& child, int* pid) {
    switch (*pid = fork()) {
        case -1:
            die("fork");
        case 0:
            run_on_cpu(place.child_cpu);
            child(ch);
            _exit(0);  // child() ends in _exit; this is in case it did not
        default:
            stop_on_failure(*pid);
            break;
    }
    run_on_cpu(place.parent_cpu);
    return parent_end(ch);
}

void reap_child(int pid) {
    int status;
    if (waitpid(pid, &status, 0) == -1) die("waitpid");
    children_reaped();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the child failed (see its message above)");
}

void start_program(const char* name) {
    g_program = name;
    signal(SIGPIPE, SIG_IGN);
}

namespace {
// "4096", "64K", "1M", "1G" (powers of 1024). False on anything else or on 0.
bool parse_size(const std::string& text, unsigned long long* value) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return false;
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0) return false;
    std::string unit = end;
    unsigned long long scale = 1;
    if (unit == "K" || unit == "k")
        scale = 1ULL << 10;
    else if (unit == "M" || unit == "m")
        scale = 1ULL << 20;
    else if (unit == "G" || unit == "g")
        scale = 1ULL << 30;
    else if (!unit.empty())
        return false;
    if (v == 0 || v > (1ULL << 40) / scale) return false;
    *value = v * scale;
    return true;
}

const char* const kViaNames[] = {"pipe", "socketpair", "unix", "tcp", "fifo"};
const char* const kPinNames[] = {"none", "same", "cross"};

// The value of names[] spelled text, as an enum; false when none is.
template <typename Enum, std::size_t N>
bool parse_name(const char* const (&names)[N], const std::string& text, Enum* value) {
    for (std::size_t i = 0; i < N; ++i)
        if (text == names[i]) return *value = static_cast<Enum>(i), true;
    return false;
}
}  // namespace

const char* via_name(Via via) {
    return kViaNames[static_cast<int>(via)];
}

const char* pin_name(Pin pin) {
    return kPinNames[static_cast<int>(pin)];
}

Option flag_option(const char* name, bool* flag) {
    return {name, flag, nullptr};
}

Option size_option(const char* name, unsigned long long* value, unsigned long long max) {
    return {name, nullptr, [=](const std::string& v) { return parse_size(v, value) && *value <= max; }};
}

void usage_error(const char* usage) {
    std::fprintf(stderr, "usage: %s\n", usage);
    std::exit(2);
}

void parse_args(int argc, char* argv[], const char* usage, Via* via, std::initializer_list<Via> vias,
                const std::vector<Option>& options) {
    bool have_via = false;
    std::vector<Option> all = options;
    all.push_back({"--via", nullptr, [&](const std::string& v) {
                       have_via =
                           parse_name(kViaNames, v, via) && std::find(vias.begin(), vias.end(), *via) != vias.end();
                       return have_via;
                   }});
    for (int i = 1; i < argc; ++i) {
        auto o = std::find_if(all.begin(), all.end(), [&](const Option& o) { return o.name == argv[i]; });
        if (o == all.end()) usage_error(usage);
        if (o->flag)
            *o->flag = true;
        else if (i + 1 == argc || !o->take(argv[++i]))
            usage_error(usage);
    }
    if (!have_via) usage_error(usage);
}

void parse_measure(int argc, char* argv[], const char* usage, Measure* m, std::vector<Option> own) {
    own.push_back(flag_option("--json", &m->json));
    own.push_back(flag_option("--floor", &m->floor));
    own.push_back(size_option("--seed", &m->seed));
    own.push_back({"--pin", nullptr, [m](const std::string& v) { return parse_name(kPinNames, v, &m->pin); }});
    parse_args(argc, argv, usage, &m->via, {Via::Pipe, Via::Socketpair, Via::Unix, Via::Tcp}, own);
}

std::string temp_dir_template() {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : P_tmpdir) + "/pipeworks-XXXXXX";  // P_tmpdir: stdio's default
}

std::string Placement::describe() const {
    switch (used) {
        case Pin::Same:
            return "same CPU " + std::to_string(parent_cpu);
        case Pin::Cross:
            return "cross: CPUs " + std::to_string(parent_cpu) + " and " + std::to_string(child_cpu);
        case Pin::None:
            break;
    }
    return "none (unpinned)";
}

void Placement::one_process() {
    if (used == Pin::Cross) note = "the floor is one process, so it runs on one CPU";
    if (used != Pin::None) used = Pin::Same;
    child_cpu = parent_cpu;
}

Placement plan_placement(Pin pin) {
    Placement p;
    p.asked = pin;
    if (pin == Pin::None) return p;
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == -1) die("sched_getaffinity");
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c)
        if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (pin == Pin::Same) {
        p.used = Pin::Same;
        p.parent_cpu = p.child_cpu = cpus[0];
    } else if (cpus.size() >= 2) {
        p.used = Pin::Cross;
        p.parent_cpu = cpus[0];
        p.child_cpu = cpus[1];
    } else {
        p.note = "cross needs 2 CPUs, but this process may use only 1; ran unpinned instead";
    }
#else
    p.note = "pinning needs sched_setaffinity (Linux); ran unpinned instead";
#endif
    return p;
}

void run_on_cpu(int cpu) {
#ifdef __linux__
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == -1) die("sched_setaffinity");
#else
    (void)cpu;
#endif
}

std::string Checksum::hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value()));
    return buf;
}

double now_us() {
    using namespace std::chrono;
    return duration<double, std::micro>(steady_clock::now().time_since_epoch()).count();
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, c == '"' || c == '\\' ? "\\%c" : "\\u%04x", c);
        out += c == '"' || c == '\\' || c < 32 || c >= 127 ? escaped : std::string(1, static_cast<char>(c));
    }
    return out + "\"";
}

std::string json_real(double value, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
    return buf;
}

const char* json_bool(bool value) {
    return value ? "true" : "false";
}

void print_json(std::vector<std::string> keys_and_values, std::initializer_list<std::string> more) {
    keys_and_values.insert(keys_and_values.end(), more);
    std::string line;
    for (std::size_t i = 0; i + 1 < keys_and_values.size(); i += 2)
        line += (i == 0 ? "{" : ", ") + json_string(keys_and_values[i]) + ": " + keys_and_values[i + 1];
    std::printf("%s}\n", line.c_str());
}

std::vector<std::string> measure_fields(const char* program, const Measure& m, const Placement& place) {
    return {"program",    json_string(program),
            "via",        json_string(via_name(m.via)),
            "floor",      json_bool(m.floor),
            "pin",        json_string(pin_name(m.pin)),
            "placement",  json_string(pin_name(place.used)),
            "parent_cpu", std::to_string(place.parent_cpu),
            "child_cpu",  std::to_string(place.child_cpu),
            "note",       json_string(place.note)};
}

// ---- fan-in ---------------------------------------------------------------------------

namespace {
std::uint64_t payload_of(int client, int message) {
    std::uint64_t x = (static_cast<std::uint64_t>(client) << 32 | static_cast<std::uint32_t>(message)) + 0x51ED27;
    x ^= x >> 31;
    x *= 0x7FB5D329728EA185ULL;
    x ^= x >> 27;
    return x;
}
}  // namespace

std::string fanin_line(int client, int message) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "c%d %d %016llx\n", client, message,
                  static_cast<unsigned long long>(payload_of(client, message)));
    return buf;
}

std::string fanin_end_line(int client, int messages) {
    return "c" + std::to_string(client) + " end " + std::to_string(messages) + "\n";
}

Tally::Tally(int clients, int messages) : clients_(clients), messages_(messages), next_(clients, 0) {}

void Tally::problem(const std::string& what) {
    ++garbled_;
    if (first_problem_.empty()) first_problem_ = what;
}

void Tally::add(const std::string& line) {
    int client = -1, n = -1;
    char word[32] = "";
    int used = 0;
    std::string shown = "\"" + line.substr(0, 80) + (line.size() > 80 ? "...\"" : "\"");
    if (std::sscanf(line.c_str(), "c%d %31s %n", &client, word, &used) < 2 || client < 0 || client >= clients_)
        return problem("not a message line: " + shown);
    if (next_[client] < 0) return problem("a line after client " + std::to_string(client) + "'s end: " + shown);
    std::string rest = line.substr(static_cast<std::size_t>(used));
    if (std::strcmp(word, "end") == 0) {
        if (std::sscanf(rest.c_str(), "%d", &n) != 1 || n != messages_ || next_[client] != messages_)
            return problem("client " + std::to_string(client) + " ended after " + std::to_string(next_[client]) +
                           " of its messages: " + shown);
        next_[client] = -1;
        ++finished_;
        return;
    }
    n = std::atoi(word);
    if (line + "\n" != fanin_line(client, n)) return problem("a broken line: " + shown);
    if (n != next_[client])
        return problem("client " + std::to_string(client) + "'s message " + std::to_string(n) + " came when " +
                       std::to_string(next_[client]) + " was due: " + shown);
    ++next_[client];
    ++received_;
}

int Tally::clients_heard() const {
    int heard = 0;
    for (int n : next_) heard += n != 0;
    return heard;
}
