// transports.hpp - the channels of lesson 06: what you write in transports.cpp.
//
// Every program of the lesson talks between a parent and a child (or many children)
// in the same three moves, whatever the transport:
//
//   Channel ch = open_channel(via);     before fork(): pipes, a socketpair, or a listener
//   switch (fork()) {
//     case 0:  End e = child_end(ch);   the child keeps its ends (connects, for sockets)
//     default: End e = parent_end(ch);  the parent keeps its ends (accepts, for sockets)
//   }
//   ... write_all(e.out, ...) / read_full(e.in, ...) ...   (checked: die() on failure)
//   close_end(e, "child");              or "parent"
//
// The given mains (pingpong, blast, fanin) do the measuring and the reporting.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common.hpp"

// What the parent prepares before fork(); both processes inherit a copy.
struct Channel {
    Via via = Via::Pipe;
    int to_child[2] = {-1, -1};   // pipe: the parent writes [1], the child reads [0]
    int to_parent[2] = {-1, -1};  // pipe: the child writes [1], the parent reads [0]
    int pair[2] = {-1, -1};       // socketpair: the parent keeps [0], the child [1]
    int listener = -1;            // unix, tcp: the parent's listening socket
    std::uint16_t port = 0;       // tcp: the port the kernel chose for the listener
    std::string dir, path;        // unix: a fresh private directory, the socket file in it
};

// One process's side of a two-way channel: it reads from `in` and writes to `out`.
// For a socket both are the same descriptor; for pipes they are two different pipes.
struct End {
    int in = -1;
    int out = -1;
};

// Before fork(): makes the channel for via (pipe, socketpair, unix or tcp).
Channel open_channel(Via via);

// In the child, after fork(): closes what belongs to the parent, connects if the
// transport needs it, and returns the child's ends.
End child_end(Channel& ch);

// In the parent, after fork(): closes what belongs to the child, accepts the child's
// connection if the transport needs it, removes what it put in the file system, and
// returns the parent's ends.
End parent_end(Channel& ch);

// Closes an end (once, even when in and out are the same socket). who names the
// process in error messages: "close - child".
void close_end(End& end, const char* who);

// A TCP socket listening on 127.0.0.1 (never on every interface) on a port the kernel
// chooses (port 0); *port receives that port, read back with getsockname().
int listen_tcp(std::uint16_t* port);

// Connects to 127.0.0.1:port, with TCP_NODELAY on (no Nagle delay for small writes).
int connect_tcp(std::uint16_t port);

// A Unix-domain stream socket listening at path.
int listen_unix(const std::string& path);

// Connects to the Unix-domain socket at path.
int connect_unix(const std::string& path);

// Accepts one connection on listener; for tcp, turns TCP_NODELAY on for it too.
int accept_connection(int listener, Via via);

// Writes all size bytes of data to fd: write() may move fewer, or be interrupted by a
// signal before it moves any (EINTR); both are retried. True when every byte was
// written; false, with errno set by the failing write(), otherwise: the caller names
// the call in its message (if (!write_all(...)) die("write - child")). The same
// contract as every lesson's write_all.
bool write_all(int fd, const void* data, std::size_t size);

// Reads until len bytes are in buf or the other side has closed (EOF); returns how
// many bytes it got (less than len only at EOF).
std::size_t read_full(int fd, void* buf, std::size_t len, const char* what);
