// Mistake: the fan-in server accepts the first client, reads it to the end and stops: the others are lost.
// Replaces: fanin_server.cpp
// Caught by: FanIn.UnixLosesNothingWithEightClients
// Message: only 1 of the 8 clients was heard
//
// A catalogue entry of lesson 06: the reference solution with one typical learner
// mistake. `make test` checks that the test above fails with the message above.
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
    // MISTAKE: accept one client, read it to the end, and stop.
    (void)clients;
    int fd = accept(listener, nullptr, nullptr);
    if (fd == -1) die("accept");
    std::string rest;
    char chunk[65536];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof chunk)) > 0) {
        rest.append(chunk, static_cast<std::size_t>(got));
        take_lines(rest, tally);
    }
    if (got == -1) die("read - server");
    if (close(fd) == -1) die("close - server");
}

void serve_fifo(const std::string& path, int clients, Tally& tally) {
    // Opening a FIFO to read waits until some process opens it to write: a client.
    int fd = open(path.c_str(), O_RDONLY);
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
