// pipemap_test.cpp - pipemap draws known topologies right: pipelines of 1, 2 and 5
// commands (lesson 03's reference `pipeline`), the FIFO server of lesson 05 with two
// clients, and a leaked write end. Run by `make test` after the solutions are built.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "lesson.hpp"
#include "process_table.hpp"

namespace {

const std::string kPipemap = "build/tools/pipemap";
const std::string kPipeline = "build/solutions/03-pipeline/bin/pipeline";
const std::string kFifoServer = "build/solutions/05-fifo-messages/bin/fifo_server";

struct Row {
    int pid, ppid;
    std::string command;
    int fd;
    std::string end, object;
};

// Runs pipemap --text on argv and parses its table.
std::vector<Row> map_of(const std::vector<std::string>& argv, std::string& raw) {
    std::vector<std::string> cmd = {kPipemap, "--text", "--after", "1", "--timeout", "2", "--"};
    cmd.insert(cmd.end(), argv.begin(), argv.end());
    pw::RunOptions o;
    o.timeout_seconds = 20;
    pw::RunResult r = pw::run(cmd, o);
    raw = r.out + r.err;
    std::vector<Row> rows;
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line);  // header
    while (std::getline(lines, line)) {
        std::istringstream in(line);
        Row row;
        std::string fd;
        in >> row.pid >> row.ppid >> row.command >> fd >> row.end;
        std::getline(in >> std::ws, row.object);
        row.fd = fd == "-" ? -1 : std::stoi(fd);
        rows.push_back(row);
    }
    return rows;
}

std::set<int> processes(const std::vector<Row>& rows) {
    std::set<int> pids;
    for (const auto& r : rows) pids.insert(r.pid);
    return pids;
}

// Pipes joining two processes of the tree: object -> (writers, readers) as "command:fd".
std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>> inner_pipes(
    const std::vector<Row>& rows) {
    std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>> pipes;
    for (const auto& r : rows) {
        if (r.object.rfind("pipe ", 0) != 0 || r.object.find("outside") != std::string::npos) continue;
        std::string who = r.command + ":" + std::to_string(r.fd);
        if (r.end == "write" || r.end == "both") pipes[r.object].first.insert(who);
        if (r.end == "read" || r.end == "both") pipes[r.object].second.insert(who);
    }
    return pipes;
}

TEST(Pipemap, OneCommandPipelineHasTwoProcessesAndNoPipe) {
    std::string raw;
    auto rows = map_of({kPipeline, "sleep 30"}, raw);
    EXPECT_EQ(processes(rows).size(), 2u) << raw;
    EXPECT_TRUE(inner_pipes(rows).empty()) << raw;
    EXPECT_NE(raw.find("stdout of pipeline"), std::string::npos) << raw;
}

TEST(Pipemap, TwoCommandPipelineHasOnePipeFromTheFirstToTheSecond) {
    std::string raw;
    auto rows = map_of({kPipeline, "sleep 30", "cat"}, raw);
    EXPECT_EQ(processes(rows).size(), 3u) << raw;
    auto pipes = inner_pipes(rows);
    ASSERT_EQ(pipes.size(), 1u) << raw;
    EXPECT_EQ(pipes.begin()->second.first, std::set<std::string>{"sleep:1"}) << raw;
    EXPECT_EQ(pipes.begin()->second.second, std::set<std::string>{"cat:0"}) << raw;
}

TEST(Pipemap, FiveCommandPipelineHasFourPipesEachWithOneWriterAndOneReader) {
    std::string raw;
    auto rows = map_of({kPipeline, "sleep 30", "cat", "cat", "cat", "wc -l"}, raw);
    EXPECT_EQ(processes(rows).size(), 6u) << raw;
    auto pipes = inner_pipes(rows);
    ASSERT_EQ(pipes.size(), 4u) << raw;
    for (const auto& [name, ends] : pipes) {
        EXPECT_EQ(ends.first.size(), 1u) << name << "\n" << raw;
        EXPECT_EQ(ends.second.size(), 1u) << name << "\n" << raw;
        EXPECT_EQ(ends.first.begin()->substr(ends.first.begin()->find(':')), ":1") << raw;
        EXPECT_EQ(ends.second.begin()->substr(ends.second.begin()->find(':')), ":0") << raw;
    }
}

TEST(Pipemap, LeakedWriteEndShowsAsAnExtraArrowFromTheParent) {
    std::string raw;
    auto rows = map_of({"build/shared/pipemap/bin/leaky_parent"}, raw);
    auto pipes = inner_pipes(rows);
    ASSERT_EQ(pipes.size(), 1u) << raw;
    EXPECT_EQ(pipes.begin()->second.first, std::set<std::string>{"leaky_parent:4"}) << raw;
    EXPECT_EQ(pipes.begin()->second.second, std::set<std::string>{"cat:0"}) << raw;
    // And in the Mermaid form: an arrow from the parent's fd 4 into the pipe.
    pw::RunOptions o;
    o.timeout_seconds = 20;
    pw::RunResult r =
        pw::run({kPipemap, "--after", "1", "--timeout", "2", "--", "build/shared/pipemap/bin/leaky_parent"}, o);
    EXPECT_NE(r.out.find("-->|\"fd 4\"| pipe"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("graph LR"), std::string::npos) << r.out;
}

TEST(Pipemap, FifoServerWithTwoClientsShowsBothFifosAndEveryHolder) {
    char dir_template[] = "/tmp/pipemap-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    std::string d = dir_template;
    std::string script = kFifoServer + " " + d +
                         " & "
                         "while [ ! -p " +
                         d +
                         "/from-server ]; do sleep 0.05; done; "
                         "for c in 1 2; do sleep 30 3>" +
                         d + "/to-server 4<" + d +
                         "/from-server & done; "
                         "wait";
    std::string raw;
    auto rows = map_of({"/bin/sh", "-c", script}, raw);
    std::filesystem::remove_all(d);                        // the server was killed, so its FIFOs may still be there
    std::map<std::string, std::set<std::string>> holders;  // FIFO -> "command:end"
    for (const auto& r : rows)
        if (r.object.rfind("FIFO ", 0) == 0)
            holders[r.object.substr(r.object.rfind('/') + 1)].insert(r.command + ":" + std::to_string(r.pid) + ":" +
                                                                     r.end);
    ASSERT_EQ(holders.size(), 2u) << raw;
    int client_writers = 0, client_readers = 0, server_ends = 0;
    for (const auto& h : holders["to-server"]) {
        client_writers += h.rfind("sleep:", 0) == 0 && h.find(":write") != std::string::npos;
        server_ends += h.rfind("fifo_server:", 0) == 0;
    }
    for (const auto& h : holders["from-server"]) {
        client_readers += h.rfind("sleep:", 0) == 0 && h.find(":read") != std::string::npos;
        server_ends += h.rfind("fifo_server:", 0) == 0;
    }
    EXPECT_EQ(client_writers, 2) << raw;
    EXPECT_EQ(client_readers, 2) << raw;
    EXPECT_GE(server_ends, 2) << raw;  // the server reads to-server and writes from-server (and keeps spares)
}

TEST(Pipemap, MapsARunningTreeByPid) {
    // pipemap --pid run inside the sandbox, on a pipeline started beside it.
    std::string script = kPipeline + " 'sleep 30' cat & sleep 1; " + kPipemap + " --text --pid $!; kill $!";
    pw::RunOptions o;
    o.timeout_seconds = 20;
    pw::RunResult r = pw::run({"/bin/sh", "-c", script}, o);
    EXPECT_NE(r.out.find("pipeline"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find("sleep"), std::string::npos) << r.out << r.err;
    EXPECT_NE(r.out.find("cat"), std::string::npos) << r.out << r.err;
}

TEST(Pipemap, NothingIsLeftBehind) {
    EXPECT_TRUE(pw::process_table::descendants(getpid(), false).empty());
}

}  // namespace
