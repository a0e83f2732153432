// lesson06_checks.hpp - what the tests of lesson 06 share: a reader for the flat JSON
// objects the programs print, a scratch TMPDIR whose leftovers can be listed, and
// the expected checksums, recomputed from the seed the test chose.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <initializer_list>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "lesson.hpp"

namespace lesson06 {

// {"key": value, ...} with string, number, true/false/null values: what pingpong, blast
// and fanin print. Values are kept as text (strings unescaped). False if it is not
// exactly one such object (trailing whitespace allowed).
inline bool parse_flat_json(const std::string& text, std::map<std::string, std::string>* out) {
    std::size_t i = 0;
    auto ws = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    auto str = [&](std::string* s) {
        if (i >= text.size() || text[i] != '"') return false;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
            if (text[i] == '\\') {
                if (++i >= text.size()) return false;
                char c = text[i];
                if (c == 'u') {
                    if (i + 4 >= text.size()) return false;
                    *s += static_cast<char>(std::strtol(text.substr(i + 1, 4).c_str(), nullptr, 16));
                    i += 4;
                } else {
                    *s += c == 'n' ? '\n' : c == 't' ? '\t' : c;
                }
            } else {
                *s += text[i];
            }
        }
        if (i >= text.size()) return false;
        ++i;
        return true;
    };
    ws();
    if (i >= text.size() || text[i++] != '{') return false;
    ws();
    if (i < text.size() && text[i] == '}') return ++i, true;
    for (;;) {
        std::string key, value;
        ws();
        if (!str(&key)) return false;
        ws();
        if (i >= text.size() || text[i++] != ':') return false;
        ws();
        if (i < text.size() && text[i] == '"') {
            if (!str(&value)) return false;
        } else {
            std::size_t start = i;
            while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) || text[i] == '.' ||
                                       text[i] == '-' || text[i] == '+'))
                ++i;
            value = text.substr(start, i - start);
            if (value.empty()) return false;
        }
        (*out)[key] = value;
        ws();
        if (i < text.size() && text[i] == ',') {
            ++i;
            continue;
        }
        if (i < text.size() && text[i] == '}') {
            ++i;
            break;
        }
        return false;
    }
    ws();
    return i == text.size();
}

inline long long number(const std::map<std::string, std::string>& j, const std::string& key) {
    auto it = j.find(key);
    return it == j.end() ? -1 : std::atoll(it->second.c_str());
}

inline std::string text(const std::map<std::string, std::string>& j, const std::string& key) {
    auto it = j.find(key);
    return it == j.end() ? "" : it->second;
}

inline unsigned long long random_number(unsigned long long low, unsigned long long high) {
    static std::mt19937_64 gen{std::random_device{}()};
    return std::uniform_int_distribution<unsigned long long>(low, high)(gen);
}

// A fresh directory handed to the program as TMPDIR: whatever it still holds after
// the run (a socket file, a FIFO, a private directory) was left behind.
class ScratchTmp {
  public:
    ScratchTmp() {
        const char* base = std::getenv("TMPDIR");
        std::string name = std::string(base && *base ? base : P_tmpdir) + "/pw06-test-XXXXXX";
        if (mkdtemp(&name[0])) dir_ = name.c_str();
    }
    ~ScratchTmp() { remove_below(dir_, true); }
    std::string env() const { return "TMPDIR=" + dir_; }
    // "pipeworks-Ab12Cd/channel.sock, ..." or "" when nothing is left.
    std::string leftovers() const {
        std::string out;
        list(dir_, "", &out);
        return out;
    }

  private:
    static void list(const std::string& dir, const std::string& prefix, std::string* out) {
        DIR* d = opendir(dir.c_str());
        if (!d) return;
        while (dirent* e = readdir(d)) {
            std::string n = e->d_name;
            if (n == "." || n == "..") continue;
            struct stat st;
            std::string path = dir + "/" + n;
            if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
                std::string before = *out;
                list(path, prefix + n + "/", out);
                if (*out == before) *out += (out->empty() ? "" : ", ") + prefix + n + "/ (an empty directory)";
            } else {
                *out += (out->empty() ? "" : ", ") + prefix + n;
            }
        }
        closedir(d);
    }
    static void remove_below(const std::string& dir, bool self) {
        if (dir.empty()) return;
        if (DIR* d = opendir(dir.c_str())) {
            while (dirent* e = readdir(d)) {
                std::string n = e->d_name;
                if (n == "." || n == "..") continue;
                std::string path = dir + "/" + n;
                struct stat st;
                if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
                    remove_below(path, true);
                else
                    unlink(path.c_str());
            }
            closedir(d);
        }
        if (self) rmdir(dir.c_str());
    }
    std::string dir_;
};

// The checksum pingpong must print: every reply, round by round.
inline std::string pingpong_checksum(std::size_t size, unsigned long long count, unsigned long long seed) {
    std::vector<unsigned char> msg(size), reply;
    fill_pattern(seed, msg.data(), msg.size());
    Checksum sum;
    for (unsigned long long round = 0; round < count; ++round) {
        stamp_round(msg.data(), msg.size(), round);
        reply = msg;
        make_reply(reply.data(), reply.size());
        sum.add(reply.data(), reply.size());
    }
    return sum.hex();
}

// The checksum blast must print: the stream in pieces of chunk bytes.
inline std::string blast_checksum(unsigned long long bytes, std::size_t chunk, unsigned long long seed) {
    std::vector<unsigned char> pattern(chunk + 4096);
    fill_pattern(seed, pattern.data(), pattern.size());
    Checksum sum;
    unsigned long long done = 0;
    for (std::uint64_t k = 0; done < bytes; ++k) {
        std::size_t n = static_cast<std::size_t>(bytes - done < chunk ? bytes - done : chunk);
        sum.add(pattern.data() + blast_offset(k), n);
        done += n;
    }
    return sum.hex();
}

// "" when out is one JSON object (python3's json module is the referee) that has every
// one of fields; otherwise what is wrong, in words.
inline std::string json_problem(const std::string& out, const std::vector<std::string>& fields) {
    pw::RunOptions py;
    py.stdin_data = out;
    pw::RunResult check = pw::run({"python3", "-c", "import json, sys; json.load(sys.stdin)"}, py);
    if (!check.ok()) return "python3's json module rejects stdout: " + check.err.substr(0, check.err.find('\n'));
    std::map<std::string, std::string> j;
    if (!parse_flat_json(out, &j)) return "stdout is not one flat JSON object";
    std::string missing;
    for (const auto& f : fields)
        if (!j.count(f)) missing += (missing.empty() ? "" : ", ") + f;
    return missing.empty() ? "" : "fields missing from the JSON object: " + missing;
}

// ---- the one way these tests check a run -------------------------------------------------
// googletest predicates: on failure they name the first thing that differs with both values
// (expected and got), which googletest prints; the test streams pw::explain after them for
// the likely cause, the section and the reproduce command. Never a bare EXPECT_TRUE(a && b).

// The run exited with status 0, left no process and (given a ScratchTmp's leftovers) no file.
inline testing::AssertionResult ran_cleanly(const pw::RunResult& r, const std::string& leftovers = "") {
    if (!r.ok()) return testing::AssertionFailure() << "expected exit status 0, got: " << r.status();
    if (!r.left_behind.empty())
        return testing::AssertionFailure() << "expected no process left behind, got " << r.left_behind.size();
    if (!leftovers.empty()) return testing::AssertionFailure() << "expected an empty TMPDIR, got: " << leftovers;
    return testing::AssertionSuccess();
}

// ran_cleanly, and stdout is one flat JSON object whose fields have these values (as text).
using Fields = std::vector<std::pair<std::string, std::string>>;
inline testing::AssertionResult reported(const pw::RunResult& r, const Fields& want,
                                         const std::string& leftovers = "") {
    testing::AssertionResult ran = ran_cleanly(r, leftovers);
    if (!ran) return ran;
    std::map<std::string, std::string> j;
    if (!parse_flat_json(r.out, &j))
        return testing::AssertionFailure() << "expected one JSON object on stdout, got " << pw::quote(r.out);
    for (const auto& field : want) {
        auto it = j.find(field.first);
        if (it == j.end()) return testing::AssertionFailure() << "expected a field \"" << field.first << "\", got none";
        if (it->second != field.second)
            return testing::AssertionFailure()
                   << "\"" << field.first << "\": expected " << field.second << ", got " << it->second;
    }
    return testing::AssertionSuccess();
}

// ran_cleanly, and json_problem (below) finds nothing wrong with the report.
inline testing::AssertionResult documented_json(const pw::RunResult& r, const std::vector<std::string>& fields) {
    testing::AssertionResult ran = ran_cleanly(r);
    if (!ran) return ran;
    std::string problem = json_problem(r.out, fields);
    if (!problem.empty()) return testing::AssertionFailure() << problem;
    return testing::AssertionSuccess();
}

// ---- white-box tests: a call of yours in a sandboxed child that prints what it got ------

// The message when that child did not print `want`: the likely cause, the section, and
// what the test did (a call cannot be typed in as a command, so the reproduce line says
// how to rerun it and what it does).
inline pw::Why printed(const std::string& want, const std::string& cause, const std::string& anchor,
                       const std::string& what_the_test_does) {
    return pw::Why()
        .expected(pw::quote(want))
        .cause(cause)
        .topic(anchor)
        .reproduce("make grade LESSON=06   # the test " + what_the_test_does);
}

// The likely cause, from a table: the first clue whose words stdout or stderr shows (a clue
// without words: the run never finished), else `otherwise`. Only read when the check failed.
struct Clue {
    std::string shows;
    std::string cause;
};
inline std::string likely_cause(const pw::RunResult& r, const std::vector<Clue>& clues, const std::string& otherwise) {
    for (const Clue& c : clues) {
        bool shown = r.out.find(c.shows) != std::string::npos || r.err.find(c.shows) != std::string::npos;
        if (c.shows.empty() ? r.timed_out : shown) return c.cause;
    }
    return otherwise;
}

// A sandboxed run that may take this long before it counts as hung.
inline pw::RunOptions deadline(double seconds) {
    pw::RunOptions o;
    o.timeout_seconds = seconds;
    return o;
}

// A white-box server test: runs body in the sandbox, in a fresh directory for its socket
// or FIFO (under the test's TMPDIR), with 10 s before it counts as hung; body returns
// its exit status and ends with finish_clients.
inline pw::RunResult run_server_test(const std::function<int(const std::string& dir)>& body) {
    return pw::run_function(
        [body] {
            std::string dir = temp_dir_template();
            if (!mkdtemp(&dir[0])) return 90;
            return body(dir);
        },
        deadline(10));
}

// The end of a white-box server test with clients: stops and reaps the clients (one may
// still wait in open() or connect() for a server that has gone), removes the scratch
// socket or FIFO and its directory, and prints what the tally counted, as
// tally_line(clients, messages) says a server that got everything prints it.
inline void finish_clients(std::initializer_list<pid_t> clients, const std::string& path, const std::string& dir,
                           const Tally& tally) {
    for (pid_t kid : clients) {
        kill(kid, SIGKILL);
        waitpid(kid, nullptr, 0);
    }
    unlink(path.c_str());
    rmdir(dir.c_str());
    std::printf("%d clients finished, %lld messages, %lld garbled\n", tally.clients_finished(), tally.received(),
                tally.garbled());
}
inline std::string tally_line(int clients, long long messages) {
    return std::to_string(clients) + " clients finished, " + std::to_string(messages) + " messages, 0 garbled\n";
}

// Counts the times `needle` occurs in `hay`.
inline int count_of(const std::string& hay, const std::string& needle) {
    int n = 0;
    for (std::size_t at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + 1)) ++n;
    return n;
}

// The first line of stderr, for causes that quote the program's own complaint.
inline std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

}  // namespace lesson06
