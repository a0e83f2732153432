// transports.cpp - four ways for a parent and its child to talk: two pipes, a
// socketpair, a Unix-domain socket and TCP over loopback (127.0.0.1).
//
// Usage: linked into pingpong, blast and fanin (see exercises/06-pipe-vs-loopback/given/):
//   pingpong --via pipe|socketpair|unix|tcp ...    blast --via ...    fanin --via ...
//
// You are going to give two processes a two-way channel in four different ways and
// then measure them against each other. A pipe carries bytes one way only, so a
// conversation needs two of them. A socketpair is one two-way channel made in one
// call. A Unix-domain socket and a TCP connection on 127.0.0.1 are made the way a
// server and its clients make them: the parent listens, the child connects, the
// parent accepts. Everything else - timing, pinning to CPUs, checksums, reports -
// is given in common.hpp and the mains; your code only moves bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "transports.hpp"

namespace {

void close_or_die(int fd, const char* what) {
    if (fd >= 0 && close(fd) == -1) die(what);
}

// Small writes must leave at once: without this, Nagle's algorithm holds a small
// segment back while an earlier one is unacknowledged, and a ping-pong stalls.
void set_nodelay(int fd) {
    int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == -1) die("setsockopt TCP_NODELAY");
}

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1: not reachable from other machines
    return addr;
}

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un addr;
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) {
        errno = ENAMETOOLONG;
        die("socket path");
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

}  // namespace

int listen_tcp(std::uint16_t* port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) die("socket");
    sockaddr_in addr = loopback(0);  // port 0: the kernel picks a free one
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == -1) die("bind");
    if (listen(fd, SOMAXCONN) == -1) die("listen");
    socklen_t len = sizeof addr;  // which port did we get? Ask the socket.
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == -1) die("getsockname");
    *port = ntohs(addr.sin_port);
    return fd;
}

int connect_tcp(std::uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd == -1) die("socket");
    sockaddr_in addr = loopback(port);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == -1) die("connect");
    set_nodelay(fd);
    return fd;
}

int listen_unix(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1) die("socket");
    sockaddr_un addr = unix_address(path);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == -1) die("bind");  // creates the socket file
    if (listen(fd, SOMAXCONN) == -1) die("listen");
    return fd;
}

int connect_unix(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd == -1) die("socket");
    sockaddr_un addr = unix_address(path);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == -1) die("connect");
    return fd;
}

int accept_connection(int listener, Via via) {
    int fd;
    do fd = accept(listener, nullptr, nullptr);
    while (fd == -1 && errno == EINTR);
    if (fd == -1) die("accept");
    if (via == Via::Tcp) set_nodelay(fd);  // the parent writes small messages too
    return fd;
}

Channel open_channel(Via via) {
    Channel ch;
    ch.via = via;
    switch (via) {
        case Via::Pipe:
            // A pipe is one-way: one for each direction.
            if (pipe(ch.to_child) == -1 || pipe(ch.to_parent) == -1) die("pipe");
            break;
        case Via::Socketpair:
            // One call, two connected sockets, each end both reads and writes.
            if (socketpair(AF_UNIX, SOCK_STREAM, 0, ch.pair) == -1) die("socketpair");
            break;
        case Via::Unix: {
            // A fresh directory only we may enter: no other user can connect, and no
            // name clashes with a socket file someone else left behind.
            std::string dir = temp_dir_template();
            if (mkdtemp(&dir[0]) == nullptr) die("mkdtemp");
            ch.dir = dir;
            ch.path = dir + "/channel.sock";
            ch.listener = listen_unix(ch.path);
            break;
        }
        case Via::Tcp:
            ch.listener = listen_tcp(&ch.port);
            break;
        case Via::Fifo:
            errno = EINVAL;
            die("open_channel: fifo is for fanin only");
    }
    return ch;
}

End child_end(Channel& ch) {
    End end;
    switch (ch.via) {
        case Via::Pipe:
            // The child reads what the parent sends and writes the way back.
            close_or_die(ch.to_child[1], "close - child");
            close_or_die(ch.to_parent[0], "close - child");
            end.in = ch.to_child[0];
            end.out = ch.to_parent[1];
            break;
        case Via::Socketpair:
            close_or_die(ch.pair[0], "close - child");
            end.in = end.out = ch.pair[1];
            break;
        case Via::Unix:
        case Via::Tcp:
            close_or_die(ch.listener, "close - child");  // only the parent accepts
            end.in = end.out = ch.via == Via::Unix ? connect_unix(ch.path) : connect_tcp(ch.port);
            break;
        case Via::Fifo:
            break;
    }
    return end;
}

End parent_end(Channel& ch) {
    End end;
    switch (ch.via) {
        case Via::Pipe:
            close_or_die(ch.to_child[0], "close - parent");
            close_or_die(ch.to_parent[1], "close - parent");
            end.in = ch.to_parent[0];
            end.out = ch.to_child[1];
            break;
        case Via::Socketpair:
            close_or_die(ch.pair[1], "close - parent");
            end.in = end.out = ch.pair[0];
            break;
        case Via::Unix:
        case Via::Tcp:
            end.in = end.out = accept_connection(ch.listener, ch.via);
            // One child, one connection: the listener has done its job.
            close_or_die(ch.listener, "close - parent");
            if (ch.via == Via::Unix) {
                // The connection lives on without its name: remove the socket file
                // and the directory now, so nothing is left behind whatever happens next.
                if (unlink(ch.path.c_str()) == -1) die("unlink");
                if (rmdir(ch.dir.c_str()) == -1) die("rmdir");
            }
            break;
        case Via::Fifo:
            break;
    }
    return end;
}

void close_end(End& end, const char* who) {
    std::string what = std::string("close - ") + who;
    close_or_die(end.in, what.c_str());
    if (end.out != end.in) close_or_die(end.out, what.c_str());  // a socket is closed once
    end.in = end.out = -1;
}

bool write_all(int fd, const void* data, std::size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        if (n == -1) {
            if (errno == EINTR) continue;  // a signal came before any byte moved: try again
            return false;                  // errno says why; the caller names the call
        }
        p += n;  // a short write: send the rest
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

std::size_t read_full(int fd, void* buf, std::size_t len, const char* what) {
    char* p = static_cast<char*>(buf);
    std::size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n == 0) break;  // EOF: the other side closed
        if (n == -1) {
            if (errno == EINTR) continue;
            die(what);
        }
        got += static_cast<std::size_t>(n);
    }
    return got;
}
