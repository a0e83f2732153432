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
//
// Read lessons/06-pipe-vs-loopback.md#many-clients-one-server first.
// Check your work with:  make grade LESSON=06     Stuck?  make hint LESSON=06
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "fanin_server.hpp"

void serve_sockets(int listener, int clients, Tally& tally) {
    // TODO: serve all the clients at once with poll():
    //   - a std::vector<pollfd> whose slot 0 is {listener, POLLIN, 0}, and one
    //     std::string per slot for that connection's unfinished line;
    //   - loop while fewer than `clients` were accepted, or some are still connected:
    //     poll(fds.data(), fds.size(), -1) (again on EINTR);
    //     listener readable -> accept() a client and add a slot for it; once all
    //       `clients` are accepted set fds[0].fd = -1 (poll skips negative fds);
    //     a connection readable (POLLIN, POLLHUP or POLLERR) -> read() into a buffer:
    //       0 means the client hung up: hand any unfinished rest to tally.add(),
    //         close the socket and erase its slot and its string (hundreds of
    //         clients may come and go: poll() refuses more slots than RLIMIT_NOFILE);
    //       otherwise append the bytes to THAT connection's string and hand every
    //         complete line (without its '\n') to tally.add(), keeping the rest.
    // Why not accept one client and read it to the end? Try it, and read the lesson.
    (void)listener;
    (void)clients;
    (void)tally;
}

void serve_fifo(const std::string& path, int clients, Tally& tally) {
    // TODO: open(path, O_RDONLY) - it waits until a client opens the FIFO to write
    // (again on EINTR: a signal that interrupts the wait is not an error).
    // Then open(path, O_WRONLY) too and keep it: read() gives EOF as soon as no process
    // holds a write end, e.g. between two clients, and you would lose the later ones.
    // Read until tally.clients_finished() == clients (again on EINTR: only 0 is end of
    // file), splitting the bytes into lines
    // as above (one string for the unfinished rest: all clients share this pipe).
    // Close both descriptors at the end.
    (void)path;
    (void)clients;
    (void)tally;
}
