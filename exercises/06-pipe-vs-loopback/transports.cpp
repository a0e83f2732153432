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
//
// Read lessons/06-pipe-vs-loopback.md first; it walks through every step below.
// The declarations, with what each function must do, are in
// exercises/06-pipe-vs-loopback/given/transports.hpp. die("call") (from common.hpp)
// prints "prog: call: strerror(errno)" and exits 1: use it after every failing call.
// Check your work with:  make grade LESSON=06     Stuck?  make hint LESSON=06
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

// ---- Step 4: the loopback socket helpers ----------------------------------------------

int listen_tcp(std::uint16_t* port) {
    // TODO: socket(AF_INET, SOCK_STREAM, 0); a sockaddr_in with sin_family AF_INET,
    // sin_addr.s_addr = htonl(INADDR_LOOPBACK) (127.0.0.1, never INADDR_ANY) and
    // sin_port = htons(0), so the kernel picks a free port; bind(); listen(fd, SOMAXCONN).
    // Then ask the socket which port it got: getsockname() into the sockaddr_in, and
    // *port = ntohs(addr.sin_port). Return the listening socket.
    (void)port;
    return -1;
}

int connect_tcp(std::uint16_t port) {
    // TODO: socket(AF_INET, SOCK_STREAM, 0); connect() to 127.0.0.1:port (htons!);
    // then turn TCP_NODELAY on: int one = 1;
    // setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one). Return the socket.
    (void)port;
    return -1;
}

int listen_unix(const std::string& path) {
    // TODO: socket(AF_UNIX, SOCK_STREAM, 0); a sockaddr_un with sun_family AF_UNIX
    // and path copied into sun_path (check it fits: sizeof addr.sun_path); bind()
    // (this creates the socket file); listen(fd, SOMAXCONN). Return the socket.
    (void)path;
    return -1;
}

int connect_unix(const std::string& path) {
    // TODO: socket(AF_UNIX, SOCK_STREAM, 0); connect() to the same sockaddr_un.
    (void)path;
    return -1;
}

int accept_connection(int listener, Via via) {
    // TODO: accept(listener, nullptr, nullptr), again on EINTR; for Via::Tcp turn
    // TCP_NODELAY on for the new socket too. Return it.
    (void)listener;
    (void)via;
    return -1;
}

// ---- Steps 1 to 3: the channel, before and after fork() --------------------------------

Channel open_channel(Via via) {
    Channel ch;
    ch.via = via;
    // TODO: make what each transport needs before fork():
    //   Via::Pipe        two pipes: pipe(ch.to_child) and pipe(ch.to_parent). One is
    //                    not enough: a pipe carries bytes one way only.
    //   Via::Socketpair  socketpair(AF_UNIX, SOCK_STREAM, 0, ch.pair).
    //   Via::Unix        a private directory: std::string dir = temp_dir_template();
    //                    mkdtemp(&dir[0]); then ch.dir = dir, ch.path = dir +
    //                    "/channel.sock", ch.listener = listen_unix(ch.path).
    //   Via::Tcp         ch.listener = listen_tcp(&ch.port).
    //   Via::Fifo        not a pingpong/blast transport: errno = EINVAL; die(...).
    return ch;
}

End child_end(Channel& ch) {
    End end;
    // TODO: in the child, keep only the child's side, close everything else:
    //   Pipe        close the parent's ends (to_child[1], to_parent[0]); then
    //               end.in = to_child[0], end.out = to_parent[1].
    //   Socketpair  close pair[0]; end.in = end.out = pair[1].
    //   Unix, Tcp   close the listener (only the parent accepts), then connect:
    //               end.in = end.out = connect_unix(ch.path) or connect_tcp(ch.port).
    // Check every close(): on -1, die("close - child").
    (void)ch;
    return end;
}

End parent_end(Channel& ch) {
    End end;
    // TODO: in the parent, the mirror image:
    //   Pipe        close to_child[0] and to_parent[1]; end.in = to_parent[0],
    //               end.out = to_child[1].
    //   Socketpair  close pair[1]; end.in = end.out = pair[0].
    //   Unix, Tcp   end.in = end.out = accept_connection(ch.listener, ch.via); then
    //               close the listener. For Unix, the connection no longer needs its
    //               name: unlink(ch.path) and rmdir(ch.dir), so nothing is left behind.
    (void)ch;
    return end;
}

void close_end(End& end, const char* who) {
    // TODO: close end.in, and end.out too unless it is the same socket (close a
    // descriptor once); skip -1. On failure die() with "close - " + who. Then set
    // both to -1.
    (void)end;
    (void)who;
}

// ---- read_full and write_all ------------------------------------------------------------

bool write_all(int fd, const void* data, std::size_t size) {
    // TODO: write() may move fewer bytes than asked (a signal, a full socket buffer).
    // Loop until size bytes are out: on -1 try again if errno == EINTR, else return
    // false (errno is already set); otherwise advance the pointer and reduce size by
    // what write() returned. Return true once every byte is out.
    (void)fd;
    (void)data;
    (void)size;
    errno = ENOSYS;  // the stub: "Function not implemented"
    return false;
}

std::size_t read_full(int fd, void* buf, std::size_t len, const char* what) {
    // TODO: read() returns whatever has arrived, often less than len. Loop until you
    // have len bytes or read() returns 0 (EOF); on -1 try again on EINTR, else
    // die(what). Return how many bytes you got.
    (void)fd;
    (void)buf;
    (void)len;
    (void)what;
    return 0;
}
