// fanin_main.cpp - many clients, one server (given).
//
// Usage: fanin --via tcp|unix|fifo [--clients K] [--messages M] [--json]
//
// Starts K client processes (default 4) that each send M lines (default 1000) and an
// end line to one server - this process - and checks that all K x M lines arrive
// whole, in each client's order, none lost: the many-to-one case that sockets are
// made for, next to the FIFO way of doing it. tcp listens on 127.0.0.1 on a port the
// kernel picks; unix and fifo use a fresh private directory that is removed at the
// end. The receiving is yours: serve_sockets and serve_fifo in fanin_server.cpp.
// Exit status 0 when every message arrived intact, 1 otherwise.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "common.hpp"
#include "fanin_server.hpp"
#include "transports.hpp"

namespace {

struct Options {
    Via via = Via::Tcp;
    unsigned long long clients = 4, messages = 1000;
    bool json = false;
};

const char* const kUsage = "fanin --via tcp|unix|fifo [--clients K] [--messages M] [--json]";

Options parse(int argc, char* argv[]) {
    Options o;
    parse_args(argc, argv, kUsage, &o.via, {Via::Tcp, Via::Unix, Via::Fifo},
               {flag_option("--json", &o.json), size_option("--clients", &o.clients, 512),
                size_option("--messages", &o.messages, 100000000)});
    return o;
}

// One client: connect (or open the FIFO), send every line, then the end line.
[[noreturn]] void client(const Options& o, int id, int listener, std::uint16_t port, const std::string& path) {
    if (listener >= 0 && close(listener) == -1) die("close - client");  // only the server accepts
    int fd = -1;
    if (o.via == Via::Tcp)
        fd = connect_tcp(port);
    else if (o.via == Via::Unix)
        fd = connect_unix(path);
    else if ((fd = open(path.c_str(), O_WRONLY)) == -1)
        die("open - client");
    int messages = static_cast<int>(o.messages);
    for (int m = 0; m <= messages; ++m) {
        std::string line = m < messages ? fanin_line(id, m) : fanin_end_line(id, messages);
        // One write() per line: into a FIFO, a write of at most PIPE_BUF bytes is
        // atomic, so no other client's bytes can land inside this line.
        ssize_t n = write(fd, line.data(), line.size());
        if (n == -1 && errno != EINTR) die("write - client");
        if (n != static_cast<ssize_t>(line.size())) {
            if (o.via == Via::Fifo) fail("a line was split: a FIFO write of at most PIPE_BUF bytes should be whole");
            std::size_t sent = n > 0 ? static_cast<std::size_t>(n) : 0;
            if (!write_all(fd, line.data() + sent, line.size() - sent)) die("write - client");
        }
    }
    if (close(fd) == -1) die("close - client");
    _exit(0);
}

}  // namespace

int main(int argc, char* argv[]) {
    start_program("fanin");
    Options o = parse(argc, argv);
    int clients = static_cast<int>(o.clients);

    int listener = -1;
    std::uint16_t port = 0;
    std::string dir, path;
    if (o.via == Via::Tcp) {
        listener = listen_tcp(&port);
    } else {
        dir = temp_dir_template();
        if (mkdtemp(&dir[0]) == nullptr) die("mkdtemp");
        path = dir + (o.via == Via::Unix ? "/fanin.sock" : "/fanin.fifo");
        if (o.via == Via::Unix)
            listener = listen_unix(path);
        else if (mkfifo(path.c_str(), 0600) == -1)
            die("mkfifo");
    }

    std::vector<pid_t> pids;
    for (int id = 0; id < clients; ++id) {
        pid_t pid = fork();
        if (pid == -1) die("fork");
        if (pid == 0) client(o, id, listener, port, path);  // does not return
        pids.push_back(pid);
        stop_on_failure(pid);
    }

    Tally tally(clients, static_cast<int>(o.messages));
    double t0 = now_us();
    if (o.via == Via::Fifo)
        serve_fifo(path, clients, tally);
    else
        serve_sockets(listener, clients, tally);
    double seconds = (now_us() - t0) / 1e6;

    if (listener >= 0 && close(listener) == -1) die("close - server");
    // A server that stopped early leaves clients waiting forever (in connect, open or
    // a full write): stop them, so that the report comes instead of a hang.
    if (!tally.complete())
        for (pid_t pid : pids) kill(pid, SIGKILL);
    int failed_clients = 0;
    for (pid_t pid : pids) {
        int status;
        while (waitpid(pid, &status, 0) == -1)
            if (errno != EINTR) die("waitpid");
        failed_clients += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    children_reaped();
    if (!path.empty() && unlink(path.c_str()) == -1 && errno != ENOENT) die("unlink");
    if (!dir.empty() && rmdir(dir.c_str()) == -1) die("rmdir");

    long long lost = tally.expected() - tally.received();
    bool ok = tally.complete() && failed_clients == 0;
    if (o.json) {
        print_json({"program",
                    json_string("fanin"),
                    "via",
                    json_string(via_name(o.via)),
                    "clients",
                    std::to_string(clients),
                    "messages",
                    std::to_string(o.messages),
                    "expected",
                    std::to_string(tally.expected()),
                    "received",
                    std::to_string(tally.received()),
                    "lost",
                    std::to_string(lost),
                    "garbled",
                    std::to_string(tally.garbled()),
                    "clients_heard",
                    std::to_string(tally.clients_heard()),
                    "clients_finished",
                    std::to_string(tally.clients_finished()),
                    "first_problem",
                    json_string(tally.first_problem()),
                    "seconds",
                    json_real(seconds, 6),
                    "ok",
                    json_bool(ok)});
    } else {
        std::printf(
            "fanin: %s, %d clients x %llu messages: %lld of %lld arrived, from %d of %d clients; %lld garbled; "
            "%.3f s\n",
            via_name(o.via), clients, o.messages, tally.received(), tally.expected(), tally.clients_heard(), clients,
            tally.garbled(), seconds);
    }
    if (!tally.first_problem().empty())
        std::fprintf(stderr, "fanin: first problem: %s\n", tally.first_problem().c_str());
    if (lost > 0) std::fprintf(stderr, "fanin: %lld messages lost\n", lost);
    return ok ? 0 : 1;
}
