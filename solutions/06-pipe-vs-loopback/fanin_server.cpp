// fanin_server.cpp - one server, many clients: over sockets (TCP or Unix) and over a FIFO.
//
// Usage: linked into fanin (see exercises/06-pipe-vs-loopback/given/fanin_main.cpp):
//   fanin --via tcp|unix|fifo --clients K --messages M [--json]
//
// You are going to receive K clients' lines in one server, losing none and mixing none
// up. This is what loopback and Unix sockets are made for: every client has its own
// connection, and one listening socket serves them all. You will also do it the FIFO
// way - all clients write into one named pipe - and see what each way asks of you.
// The given main starts the clients, hands you the listener or the FIFO's path, and
// checks everything you pass to tally.add().
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "fanin_server.hpp"

namespace {

// Hands every complete line in pending to the tally and keeps the unfinished rest:
// a read() can end anywhere, in the middle of a line too.
void take_lines(std::string& pending, Tally& tally) {
    std::size_t start = 0, newline;
    while ((newline = pending.find('\n', start)) != std::string::npos) {
        tally.add(pending.substr(start, newline - start));
        start = newline + 1;
    }
    pending.erase(0, start);
}

}  // namespace

void serve_sockets(int listener, int clients, Tally& tally) {
    // fds[0] is the listener; every client's connection gets its own slot and its own
    // unfinished line. poll() tells us which of them has something, so a client that
    // is slow, or silent, never keeps the others waiting.
    std::vector<pollfd> fds{{listener, POLLIN, 0}};
    std::vector<std::string> pending{""};
    int accepted = 0, connected = 0;
    char buf[65536];
    while (accepted < clients || connected > 0) {
        if (poll(fds.data(), fds.size(), -1) == -1) {
            if (errno == EINTR) continue;
            die("poll");
        }
        if (fds[0].revents & POLLIN) {
            int fd = accept(listener, nullptr, nullptr);
            if (fd == -1 && errno != EINTR) die("accept");
            if (fd >= 0) {
                ++accepted;
                ++connected;
                if (accepted == clients) fds[0].fd = -1;  // everyone is here: poll() skips negative fds
                fds.push_back({fd, POLLIN, 0});
                pending.emplace_back();
            }
        }
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n == -1) {
                if (errno == EINTR) continue;
                die("read - server");
            }
            if (n == 0) {                                        // EOF: this client has sent everything and closed
                if (!pending[i].empty()) tally.add(pending[i]);  // a last line without '\n': the tally flags it
                if (close(fds[i].fd) == -1) die("close - server");
                // Forget its slot: with hundreds of short clients the array would grow past
                // what poll() accepts (EINVAL beyond RLIMIT_NOFILE entries).
                fds.erase(fds.begin() + static_cast<std::ptrdiff_t>(i));
                pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
                --i;  // the next slot has moved into this one
                --connected;
                continue;
            }
            pending[i].append(buf, static_cast<std::size_t>(n));
            take_lines(pending[i], tally);
        }
    }
}

void serve_fifo(const std::string& path, int clients, Tally& tally) {
    // Opening a FIFO to read waits until some process opens it to write: a client.
    // A signal may interrupt that wait (EINTR): nothing happened yet, so open again.
    int fd;
    do fd = open(path.c_str(), O_RDONLY);
    while (fd == -1 && errno == EINTR);
    if (fd == -1) die("open - server");
    // Hold a write end of our own. read() returns EOF as soon as NO process has the
    // FIFO open for writing - for instance between one client closing and the next
    // opening - and a server that stops there loses every later client. With our own
    // write end EOF never comes, so we stop by counting the clients' end lines.
    int keep_open = open(path.c_str(), O_WRONLY);
    if (keep_open == -1) die("open - server");

    // All clients share this one pipe: a line written with a single write() of at most
    // PIPE_BUF bytes arrives whole, but the lines of different clients come mixed.
    std::string pending;
    char buf[65536];
    while (tally.clients_finished() < clients) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == -1) {
            if (errno == EINTR) continue;
            die("read - server");
        }
        if (n == 0) break;  // cannot happen while we hold keep_open; stop rather than spin
        pending.append(buf, static_cast<std::size_t>(n));
        take_lines(pending, tally);
    }
    if (close(keep_open) == -1) die("close - server");
    if (close(fd) == -1) die("close - server");
}
