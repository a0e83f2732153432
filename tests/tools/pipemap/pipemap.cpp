// pipemap.cpp - draws the processes of a running program and the pipes between them.
//
// Usage: pipemap [--text] [--after SECONDS] [--timeout SECONDS] -- PROGRAM [ARGS...]
//        pipemap [--text] --pid PID
//
// The first form runs PROGRAM in the grader's sandbox, waits SECONDS (default 1), and
// takes a snapshot from /proc: every process of its tree (pid, parent, command), every
// pipe, FIFO and socket, and which process holds which end at which fd, read or write.
// The program then runs on until it exits or the timeout (default: SECONDS + 10) ends
// it. The second form maps a tree that is already running: PID and its descendants.
//
// Output: a Mermaid graph in the style of the lessons (processes round, pipes as boxes
// between them, an arrow per open end: writer --> pipe --> reader), or with --text a
// table. A pipe end left open where it should not be shows up as an extra arrow.
// Linux only (it reads /proc); elsewhere it says so and exits 2. Exit status: 0 with a
// map, 1 when no snapshot could be taken (the program had already ended), 2 on usage.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "process_table.hpp"
#include "sandbox.hpp"

namespace {

using pw::ProcessSnapshot;

[[noreturn]] void usage() {
    std::fprintf(stderr,
                 "usage: pipemap [--text] [--after SECONDS] [--timeout SECONDS] -- PROGRAM [ARGS...]\n"
                 "       pipemap [--text] --pid PID\n");
    std::exit(2);
}

double number(const char* text) {
    char* end;
    double v = std::strtod(text, &end);
    if (*end != '\0' || v < 0) usage();
    return v;
}

// Mermaid wants identifiers without spaces; a channel is named by its kind and inode.
std::string channel_id(const pw::OpenChannel& ch) {
    std::string kind = ch.object.rfind("socket", 0) == 0 ? "socket" : ch.object.rfind("FIFO", 0) == 0 ? "fifo" : "pipe";
    return kind + std::to_string(ch.inode);
}

std::string label(const ProcessSnapshot& p) {
    return std::to_string(p.info.pid) + "<br>" + p.info.command;
}

// A pipe with only readers or only writers in the tree has its other end outside: the
// program's own stdin, stdout or stderr (pipemap's sandbox holds the far end), or
// something else. Naming them keeps them from looking like the program's plumbing.
void name_outside_ends(std::vector<ProcessSnapshot>& tree) {
    std::map<unsigned long long, std::pair<int, int>> ends;  // inode -> readers, writers
    for (const auto& p : tree)
        for (const auto& ch : p.channels) {
            ends[ch.inode].first += ch.readable;
            ends[ch.inode].second += ch.writable;
        }
    std::map<unsigned long long, std::string> names;
    if (!tree.empty()) {
        const char* stdio[] = {"stdin", "stdout", "stderr"};
        for (const auto& ch : tree[0].channels)
            if (ch.fd <= 2) names[ch.inode] = std::string(stdio[ch.fd]) + " of " + tree[0].info.command;
    }
    for (auto& p : tree)
        for (auto& ch : p.channels) {
            if (ch.object.rfind("pipe ", 0) != 0) continue;
            auto [readers, writers] = ends[ch.inode];
            if (readers > 0 && writers > 0) continue;
            ch.object = names.count(ch.inode) ? names[ch.inode] : ch.object + " (other end closed or outside)";
        }
}

void print_mermaid(const std::vector<ProcessSnapshot>& tree) {
    std::set<pid_t> pids;
    for (const auto& p : tree) pids.insert(p.info.pid);
    std::map<std::string, std::string> channels;  // id -> shown name
    std::printf("graph LR\n");
    for (const auto& p : tree) std::printf("  p%d((\"%s\"))\n", p.info.pid, label(p).c_str());
    for (const auto& p : tree)
        for (const auto& ch : p.channels) channels[channel_id(ch)] = ch.object;
    for (const auto& [id, name] : channels) {
        const char* shape = name.rfind("socket", 0) == 0 ? "[/\"%s\"/]" : "[[\"%s\"]]";
        std::printf("  %s", id.c_str());
        std::printf(shape, name.c_str());
        std::printf("\n");
    }
    for (const auto& p : tree)
        if (pids.count(p.info.ppid)) std::printf("  p%d -.-> p%d\n", p.info.ppid, p.info.pid);
    for (const auto& p : tree) {
        for (const auto& ch : p.channels) {
            std::string id = channel_id(ch);
            if (ch.readable && ch.writable)
                std::printf("  p%d <-->|\"fd %d\"| %s\n", p.info.pid, ch.fd, id.c_str());
            else if (ch.writable)
                std::printf("  p%d -->|\"fd %d\"| %s\n", p.info.pid, ch.fd, id.c_str());
            else
                std::printf("  %s -->|\"fd %d\"| p%d\n", id.c_str(), ch.fd, p.info.pid);
        }
    }
    std::printf("  classDef proc fill:#0af,stroke:#333,stroke-width:2px;\n");
    std::printf("  classDef pipe fill:#0ff,stroke:#333,stroke-width:2px;\n");
    std::string procs, pipes;
    for (const auto& p : tree) procs += (procs.empty() ? "p" : ",p") + std::to_string(p.info.pid);
    for (const auto& [id, name] : channels) pipes += (pipes.empty() ? "" : ",") + id;
    if (!procs.empty()) std::printf("  class %s proc;\n", procs.c_str());
    if (!pipes.empty()) std::printf("  class %s pipe;\n", pipes.c_str());
}

void print_text(const std::vector<ProcessSnapshot>& tree) {
    std::printf("%-8s %-8s %-16s %4s  %-6s %s\n", "PID", "PPID", "COMMAND", "FD", "END", "OBJECT");
    for (const auto& p : tree) {
        if (p.channels.empty())
            std::printf("%-8d %-8d %-16s %4s  %-6s %s\n", p.info.pid, p.info.ppid, p.info.command.c_str(), "-", "-",
                        "-");
        for (const auto& ch : p.channels) {
            const char* end = ch.readable && ch.writable ? "both" : ch.writable ? "write" : "read";
            std::printf("%-8d %-8d %-16s %4d  %-6s %s\n", p.info.pid, p.info.ppid, p.info.command.c_str(), ch.fd, end,
                        ch.object.c_str());
        }
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    bool text = false;
    double after = 1, timeout = -1;
    pid_t pid = 0;
    int i = 1;
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--text") {
            text = true;
        } else if (a == "--after" && i + 1 < argc) {
            after = number(argv[++i]);
        } else if (a == "--timeout" && i + 1 < argc) {
            timeout = number(argv[++i]);
        } else if (a == "--pid" && i + 1 < argc) {
            pid = static_cast<pid_t>(number(argv[++i]));
        } else if (a == "--") {
            ++i;
            break;
        } else {
            usage();
        }
    }
    if ((pid == 0) == (i >= argc)) usage();  // exactly one of --pid and a program
    if (!pw::process_table::available()) {
        std::fprintf(stderr, "pipemap: needs Linux's /proc to see processes and descriptors; not available here\n");
        return 2;
    }

    std::vector<ProcessSnapshot> tree;
    std::string after_map;
    if (pid != 0) {
        if (kill(pid, 0) != 0) {
            std::perror("pipemap: kill");
            return 1;
        }
        tree.push_back(pw::process_table::one(pid));
        auto below = pw::process_table::descendants(pid, true);
        tree.insert(tree.end(), below.begin(), below.end());
    } else {
        std::vector<std::string> command(argv + i, argv + argc);
        pw::RunOptions options;
        options.snapshot_after_seconds = after;
        options.timeout_seconds = timeout >= 0 ? timeout : after + 10;
        pw::RunResult r = pw::run(command, options);
        tree = pw::process_table::deserialize(r.snapshot);
        // Said after the map (stdout is flushed first), so the two never interleave.
        after_map = "pipemap: " + command[0] + " " + r.status() + "\n" + r.err;
        if (r.snapshot.empty()) {
            std::fputs(after_map.c_str(), stderr);
            std::fprintf(stderr, "pipemap: it ended before the snapshot at %g s; try a smaller --after\n", after);
            return 1;
        }
    }
    name_outside_ends(tree);
    if (text)
        print_text(tree);
    else
        print_mermaid(tree);
    std::fflush(stdout);
    std::fputs(after_map.c_str(), stderr);
    return 0;
}
