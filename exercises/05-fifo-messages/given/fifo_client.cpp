// fifo_client.cpp - a C++ client for fifo_server.
// Given: a model client; the lesson's tests run it against your server.
//
// Usage: fifo_client DIR
//
// Sends each line of stdin to DIR/to-server and prints the server's reply, read from
// DIR/from-server, before sending the next line. A last line without '\n' is sent
// with one. Exit status 0 when every line was answered, 1 when a system call failed
// or the server went away, 2 on a usage error.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

namespace {

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "fifo_client: %s: %s\n", what, std::strerror(errno));
    _exit(1);
}

void write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = write(fd, data.data() + done, data.size() - done);
        if (n == -1) {
            if (errno == EINTR) continue;
            die("write");
        }
        done += static_cast<std::size_t>(n);
    }
}

// Reads one line (without its '\n') from fd, keeping extra bytes in `pending` for
// the next call: one read() may return part of a line, or several lines.
bool read_line(int fd, std::string& pending, std::string& line) {
    for (;;) {
        std::size_t end = pending.find('\n');
        if (end != std::string::npos) {
            line = pending.substr(0, end);
            pending.erase(0, end + 1);
            return true;
        }
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0) return false;  // every writer is gone: the server stopped
        if (n == -1) {
            if (errno == EINTR) continue;
            die("read");
        }
        pending.append(buf, static_cast<std::size_t>(n));
    }
}

}  // namespace

int main(int argc, char* argv[]) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    std::string dir = argv[1];
    // Each open() waits until the server has its side open (the rendezvous). Open
    // to-server first, the order the simplest blocking servers use too.
    int to_server = open((dir + "/to-server").c_str(), O_WRONLY);
    if (to_server == -1) die("open to-server");
    int from_server = open((dir + "/from-server").c_str(), O_RDONLY);
    if (from_server == -1) die("open from-server");

    std::string pending, reply, line;
    while (std::getline(std::cin, line)) {
        write_all(to_server, line + "\n");
        if (!read_line(from_server, pending, reply)) {
            std::fprintf(stderr, "fifo_client: the server closed from-server before replying\n");
            return 1;
        }
        std::cout << reply << '\n' << std::flush;
    }
    if (close(to_server) == -1) die("close to-server");
    if (close(from_server) == -1) die("close from-server");
    return 0;
}
