// lesson.cpp - program paths, failure messages and hygiene checks for lesson tests.
#include "lesson.hpp"

#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "open_fds.hpp"
#include "process_table.hpp"

namespace pw {

std::string program(const std::string& name) {
    const char* dir = std::getenv("PIPEWORKS_BIN_DIR");
    if (!dir || !*dir) {
        std::fprintf(stderr, "PIPEWORKS_BIN_DIR is not set: run the tests with 'make grade', which sets it.\n");
        std::exit(2);
    }
    return std::string(dir) + "/" + name;
}

namespace {

std::string escaped(const std::string& bytes, std::size_t from, std::size_t to) {
    std::string s;
    for (std::size_t i = from; i < to; ++i) {
        unsigned char c = static_cast<unsigned char>(bytes[i]);
        if (c == '\n')
            s += "\\n";
        else if (c == '\t')
            s += "\\t";
        else if (c == '"')
            s += "\\\"";
        else if (c == '\\')
            s += "\\\\";
        else if (c < 32 || c >= 127) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            s += hex;
        } else {
            s += static_cast<char>(c);
        }
    }
    return s;
}

}  // namespace

// Long output shows its beginning and its end: the last lines are often the telling ones.
std::string quote(const std::string& bytes, std::size_t max_shown) {
    std::string s;
    if (bytes.size() <= max_shown) {
        s = "\"" + escaped(bytes, 0, bytes.size()) + "\"";
    } else {
        std::size_t head = max_shown * 2 / 3, tail = max_shown - head;
        s = "\"" + escaped(bytes, 0, head) + "\" ... \"" + escaped(bytes, bytes.size() - tail, bytes.size()) + "\"";
    }
    return s + " (" + std::to_string(bytes.size()) + " bytes)";
}

std::string shell_word(const std::string& w) {
    if (!w.empty() && w.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+") ==
                          std::string::npos)
        return w;
    std::string s = "'";
    for (char c : w) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return s + "'";
}

std::string reproduce(const RunResult& r) {
    std::string cmd;
    for (const auto& a : r.argv) {
        if (!cmd.empty()) cmd += " ";
        cmd += a.size() > 200 ? "<a " + std::to_string(a.size()) + "-byte argument>" : shell_word(a);
    }
    if (r.stdin_size > 0) {
        if (r.stdin_size <= 200 && r.stdin_data.find('\0') == std::string::npos)
            cmd = "printf '%s' " + shell_word(r.stdin_data) + " | " + cmd;
        else
            cmd += "   # with " + std::to_string(r.stdin_size) + " bytes of test data on stdin";
    }
    return cmd;
}

std::string explain_check(const std::string& expected, const std::string& got, const std::string& cause,
                          const std::string& lesson_section, const std::string& how_to_reproduce) {
    std::string s;
    s += "expected:     " + expected + "\n";
    s += "got:          " + got + "\n";
    s += "likely cause: " + cause + "\n";
    s += "read:         " + lesson_section + "\n";
    s += "reproduce:    " + how_to_reproduce + "\n";
    return s;
}

std::string explain_run(const RunResult& r, const std::string& expected, const std::string& cause,
                        const std::string& lesson_section, const std::string& reproduce_override) {
    std::string got = r.status();
    got += "\n              stdout " + quote(r.out) + (r.out_truncated ? " [cut at the output cap]" : "");
    got += "\n              stderr " + quote(r.err) + (r.err_truncated ? " [cut at the output cap]" : "");
    if (!r.left_behind.empty())
        got += "\n              processes left behind when it exited (the sandbox killed them):\n" +
               r.left_behind_report();
    if (r.timed_out && !r.stuck_report.empty()) {
        const char* when = r.ending == Ending::Deadlocked ? "when the sandbox saw the deadlock"
                           : r.ending == Ending::Spinning ? "when the sandbox saw it spin"
                                                          : "when time ran out";
        got += std::string("\n              ") + when + ":\n" + r.stuck_report;
    }
    if (!r.sandbox_note.empty()) got += "\n              note: " + r.sandbox_note;
    while (!got.empty() && got.back() == '\n') got.pop_back();
    return explain_check(expected, got, cause, lesson_section,
                         reproduce_override.empty() ? reproduce(r) : reproduce_override);
}

Why& Why::expected(std::string text) {
    expected_ = std::move(text);
    return *this;
}

Why& Why::cause(std::string text, std::string anchor) {
    cause_ = std::move(text);
    cause_anchor_ = std::move(anchor);
    return *this;
}

Why& Why::topic(std::string anchor) {
    topic_ = std::move(anchor);
    return *this;
}

Why& Why::reproduce(std::string command) {
    reproduce_ = std::move(command);
    return *this;
}

Why& Why::got(std::string text) {
    got_ = std::move(text);
    return *this;
}

std::string Why::section(const std::string& lesson) const {
    std::string anchor = cause_anchor_.empty() ? topic_ : cause_anchor_;
    if (anchor.empty() || anchor.find('/') != std::string::npos) return anchor;
    if (anchor[0] == '#') anchor.erase(0, 1);
    return "lessons/" + lesson + ".md#" + anchor;
}

std::string Why::text(const RunResult* r, const std::string& lesson) const {
    if (r) return explain_run(*r, expected_, cause_, section(lesson), reproduce_);
    return explain_check(expected_, got_, cause_, section(lesson), reproduce_);
}

namespace {

void wanted_got(std::string& failed, const std::string& wanted, const std::string& got) {
    failed += "wanted " + wanted + ", got " + got + "\n";
}

}  // namespace

Check& Check::exits(int code) {
    if (!r_.exited_with(code)) wanted_got(failed_, "exit status " + std::to_string(code), r_.status());
    return *this;
}

Check& Check::ends() {
    if (r_.timed_out || r_.term_signal) wanted_got(failed_, "a run that ends by itself", r_.status());
    return *this;
}

Check& Check::out(const std::string& want) {
    if (r_.out != want) wanted_got(failed_, "stdout " + quote(want), quote(r_.out));
    return *this;
}

Check& Check::err(const std::string& want) {
    if (r_.err != want) wanted_got(failed_, "stderr " + quote(want), quote(r_.err));
    return *this;
}

Check& Check::err_mentions(const std::string& word) {
    if (!mentions(r_.err, word)) wanted_got(failed_, "stderr mentioning \"" + word + "\"", quote(r_.err));
    return *this;
}

Check& Check::usage_error() {
    return exits(2).err_mentions("usage").out("");
}

bool child_seen_while_stalled(const RunResult& r) {
    for (const auto& p : r.seen_while_stalled)
        if (p.ppid == r.pid) return true;
    return false;
}

std::string left_behind_cause(const std::string& wait_call) {
    return "the program exited while its child was still there (running, or a zombie): the parent must " + wait_call +
           " for its child before it exits.";
}

Check& Check::forked_while_stalled() {
    if (!child_seen_while_stalled(r_))
        wanted_got(failed_, "a child of the program (pid " + std::to_string(r_.pid) + ")",
                   std::to_string(r_.seen_while_stalled.size()) + " processes seen, none a child of it");
    return *this;
}

Check& Check::nothing_left_behind() {
    if (!r_.left_behind.empty())
        wanted_got(failed_, "no process left behind", std::to_string(r_.left_behind.size()) + " left behind");
    return *this;
}

Check& Check::that(bool ok, const std::string& wanted, const std::string& got) {
    if (!ok) wanted_got(failed_, wanted, got);
    return *this;
}

std::string random_word(std::size_t length) {
    static std::mt19937 gen{std::random_device{}()};
    std::uniform_int_distribution<int> letter('a', 'z');
    std::string w;
    for (std::size_t i = 0; i < length; ++i) w += static_cast<char>(letter(gen));
    return w;
}

std::vector<int> open_fds() {
    std::vector<int> fds;
    list_open_fds(fds);  // none listed when neither /proc/self/fd nor /dev/fd can be read
    return fds;
}

std::vector<ProcessInfo> children_of_this_process() {
    std::vector<ProcessInfo> kids;
    for (const auto& p : process_table::descendants(getpid(), false))
        if (p.info.ppid == getpid()) kids.push_back(p.info);
    return kids;
}

bool mentions(const std::string& text, const std::string& word) {
    auto lower = [](std::string s) {
        for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return s;
    };
    return lower(text).find(lower(word)) != std::string::npos;
}

std::string signal_cause(const RunResult& r) {
    if (r.term_signal == 0) return "";
    if (r.term_signal == SIGPIPE)
        return "SIGPIPE: it wrote to a pipe whose reader had closed it (not a crash: the kernel stops a writer "
               "that nobody can read from any more). Who closed the read end, or exited, before reading "
               "everything?";
    return "the program crashed; run the reproduce command under gdb to see where.";
}

}  // namespace pw
