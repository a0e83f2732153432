// message_server.cpp - a newline message server over two named pipes (FIFOs).
//
// Usage: see message_server.hpp (the class) and fifo_server_main.cpp (the program
// `fifo_server DIR [--upper]` built on it).
//
// You are going to write the server side of the simplest IPC a shell script can join:
// two named pipes and lines of text. start() makes DIR/to-server and DIR/from-server
// and opens them without ever waiting for a client. serve() then waits in poll() for
// three things: bytes from clients (cut into lines, each handed to the handler, whose
// answer is queued as a reply), room in from-server for queued replies, and a byte on
// the self-pipe, which is how stop() wakes it. Clients come and go as they like: the
// server holds its own handle on the far end of each FIFO, so it never sees an end of
// file and never dies of SIGPIPE. When stop() is called, serve() closes its FIFO
// descriptors and removes the FIFOs.
#include "message_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <utility>

// What the server keeps. The header only names this struct, so it is ours to shape;
// MessageServer's own methods (at the end of this file) hand each call to it.
struct MessageServer::State {
    explicit State(const std::string& dir);
    ~State();
    bool start();
    bool serve();
    void stop();
    void set_handler(Handler handler);
    void send(const std::string& message);

    bool fail(const char* what);  // error_ = "what: strerror(errno)"; returns false
    bool read_messages();         // reads what is there, calls the handler per line
    bool flush_replies();         // writes queued replies until the FIFO is full
    void wake();                  // one byte into the self-pipe
    bool close_fifos();           // closes the four FIFO descriptors, removes the FIFOs

    std::string to_server_path_;
    std::string from_server_path_;
    bool made_to_server_ = false;  // did start() create it (so we may remove it)?
    bool made_from_server_ = false;

    int in_fd_ = -1;              // to-server, read end: messages arrive here
    int in_keep_fd_ = -1;         // to-server, the server's own write end: no EOF when clients leave
    int out_keep_fd_ = -1;        // from-server, the server's own read end: no EPIPE with no client
    int out_fd_ = -1;             // from-server, write end (non-blocking): replies leave here
    int wake_fds_[2] = {-1, -1};  // the self-pipe: stop() and send() wake poll() with a byte

    std::atomic<bool> stopping_{false};

    std::mutex handler_mutex_;  // guards handler_
    Handler handler_;

    std::mutex outbox_mutex_;  // guards outbox_ and sent_
    std::string outbox_;       // replies not yet written, from byte sent_ on
    std::size_t sent_ = 0;

    std::string inbox_;        // bytes read but not yet a whole line (serve()'s thread only)
    std::size_t scanned_ = 0;  // inbox_[0, scanned_) holds no '\n'

    std::string error_;
};

// No handler_ until set_handler(): the server echoes, and read_messages() then sends each
// message back without copying it.
MessageServer::State::State(const std::string& dir)
    : to_server_path_(dir + "/to-server"), from_server_path_(dir + "/from-server") {}

MessageServer::State::~State() {
    close_fifos();
    // The self-pipe lives as long as the object: stop() may still be called (from a
    // signal handler, say) after serve() has returned, and must find it open.
    for (int fd : wake_fds_)
        if (fd != -1) close(fd);
}

bool MessageServer::State::fail(const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
}

bool MessageServer::State::start() {
    // mkfifo's mode is filtered by the umask (a umask of 0277 would leave 0400), so set
    // the mode again with chmod: only the user who runs the server may talk to it.
    if (mkfifo(to_server_path_.c_str(), 0600) == -1) return fail("mkfifo");
    made_to_server_ = true;
    if (mkfifo(from_server_path_.c_str(), 0600) == -1) return fail("mkfifo");
    made_from_server_ = true;
    if (chmod(to_server_path_.c_str(), 0600) == -1 || chmod(from_server_path_.c_str(), 0600) == -1)
        return fail("chmod");

    // The order matters. A read end opened with O_NONBLOCK never waits for a writer;
    // once it is open, opening the write end never waits either (it has a reader).
    // Opening a write end first with O_NONBLOCK would fail with ENXIO: no reader yet.
    in_fd_ = open(to_server_path_.c_str(), O_RDONLY | O_NONBLOCK);
    if (in_fd_ == -1) return fail("open to-server");
    // Our own writer on to-server: read() returns EOF only when every writer is
    // gone, so with this one open, a client leaving is not an end of file.
    in_keep_fd_ = open(to_server_path_.c_str(), O_WRONLY);
    if (in_keep_fd_ == -1) return fail("open to-server");
    // Our own reader on from-server: a write with no reader at all raises SIGPIPE.
    // With this one open, replies wait in the FIFO for the next client instead.
    out_keep_fd_ = open(from_server_path_.c_str(), O_RDONLY | O_NONBLOCK);
    if (out_keep_fd_ == -1) return fail("open from-server");
    // Non-blocking, so that a client who does not read can never stall the server:
    // write() then says EAGAIN and the rest of the reply waits in outbox_.
    out_fd_ = open(from_server_path_.c_str(), O_WRONLY | O_NONBLOCK);
    if (out_fd_ == -1) return fail("open from-server");

    // The self-pipe: stop() (maybe in a signal handler) writes one byte into it, and
    // serve()'s poll() wakes up. Both ends non-blocking: a full self-pipe already
    // holds a wake-up, so stop() must never wait for room.
    if (pipe(wake_fds_) == -1) return fail("pipe");
    for (int fd : wake_fds_)
        if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) return fail("fcntl");
    return true;
}

void MessageServer::State::wake() {
    int saved = errno;  // stop() may run inside a signal handler: leave errno as it was
    if (wake_fds_[1] != -1) {
        ssize_t n = write(wake_fds_[1], "x", 1);
        (void)n;  // EAGAIN: the pipe is full of wake-ups already, which is just as good
    }
    errno = saved;
}

void MessageServer::State::stop() {
    stopping_ = true;
    wake();
}

void MessageServer::State::set_handler(Handler handler) {
    std::lock_guard<std::mutex> lock(handler_mutex_);
    handler_ = std::move(handler);
}

void MessageServer::State::send(const std::string& message) {
    {
        std::lock_guard<std::mutex> lock(outbox_mutex_);
        outbox_ += message;
        outbox_ += '\n';
    }
    wake();  // serve() now has something to write: let it poll for POLLOUT
}

bool MessageServer::State::serve() {
    bool ok = true;
    while (ok && !stopping_) {
        bool pending;
        {
            std::lock_guard<std::mutex> lock(outbox_mutex_);
            pending = sent_ < outbox_.size();
        }
        pollfd fds[3] = {{in_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}, {out_fd_, POLLOUT, 0}};
        if (poll(fds, pending ? 3 : 2, -1) == -1) {
            if (errno == EINTR) continue;  // a signal: its handler may have called stop()
            ok = fail("poll");
            break;
        }
        if (fds[1].revents & POLLIN) {
            char drain[64];
            while (read(wake_fds_[0], drain, sizeof drain) > 0) {
            }
        }
        if (fds[0].revents & POLLIN) ok = read_messages();
        if (ok) ok = flush_replies();
    }
    bool closed = close_fifos();
    return ok && closed;
}

bool MessageServer::State::read_messages() {
    char buf[65536];
    ssize_t n = read(in_fd_, buf, sizeof buf);
    if (n == -1) return errno == EINTR || errno == EAGAIN || fail("read");
    // n == 0 cannot happen: we hold a write end of to-server ourselves.
    inbox_.append(buf, static_cast<std::size_t>(n));

    // One read() may hold half a message, or three: cut on '\n', and keep the tail
    // for the next read. Only the new bytes are searched, so a 16 MiB line that
    // arrives in 64 KiB pieces is not scanned over and over.
    std::size_t begin = 0;  // where the next message starts
    std::size_t end;
    while ((end = inbox_.find('\n', scanned_)) != std::string::npos) {
        std::string message;
        if (begin == 0 && end + 1 == inbox_.size()) {
            // inbox_ holds exactly this one message (a big one, usually): take its
            // buffer instead of copying it. inbox_ is left empty.
            inbox_.pop_back();  // the '\n'
            message.swap(inbox_);
            begin = scanned_ = 0;
        } else {
            message = inbox_.substr(begin, end - begin);
            begin = scanned_ = end + 1;
        }
        Handler handler;
        {
            std::lock_guard<std::mutex> lock(handler_mutex_);
            handler = handler_;  // a copy: the handler may call set_handler() itself
        }
        // No handler: echo, and the message itself becomes the reply, not a copy of it.
        std::string reply = handler ? handler(message) : std::move(message);
        reply += '\n';
        std::lock_guard<std::mutex> lock(outbox_mutex_);
        if (outbox_.empty())
            outbox_.swap(reply);  // nothing queued: the reply's buffer becomes the outbox
        else
            outbox_ += reply;
    }
    inbox_.erase(0, begin);  // once per read, not once per message
    scanned_ = inbox_.size();
    return true;
}

bool MessageServer::State::flush_replies() {
    std::lock_guard<std::mutex> lock(outbox_mutex_);
    while (sent_ < outbox_.size()) {
        ssize_t n = write(out_fd_, outbox_.data() + sent_, outbox_.size() - sent_);
        if (n == -1) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;  // the FIFO is full: poll() says when there is room
            return fail("write");
        }
        sent_ += static_cast<std::size_t>(n);
    }
    if (sent_ == outbox_.size()) {
        outbox_.clear();
        sent_ = 0;
    } else if (sent_ > outbox_.size() / 2) {
        outbox_.erase(0, sent_);  // drop what is out, now and then, not after every write
        sent_ = 0;
    }
    return true;
}

bool MessageServer::State::close_fifos() {
    // Called by serve() and again by the destructor: each step happens once, and a
    // failure does not stop the rest of the clean-up.
    bool ok = true;
    for (int* fd : {&in_fd_, &in_keep_fd_, &out_keep_fd_, &out_fd_}) {
        if (*fd != -1 && close(*fd) == -1) ok = fail("close");
        *fd = -1;
    }
    // Remove only what we created. ENOENT is fine: someone deleted it already.
    if (made_to_server_ && unlink(to_server_path_.c_str()) == -1 && errno != ENOENT) ok = fail("unlink");
    if (made_from_server_ && unlink(from_server_path_.c_str()) == -1 && errno != ENOENT) ok = fail("unlink");
    made_to_server_ = made_from_server_ = false;
    return ok;
}

// The class itself: each call goes to the State, which the constructor makes.
MessageServer::MessageServer(const std::string& dir) : state_(new State(dir)) {}
MessageServer::~MessageServer() = default;  // ~State() closes and removes what is left
bool MessageServer::start() {
    return state_->start();
}
bool MessageServer::serve() {
    return state_->serve();
}
void MessageServer::stop() {
    state_->stop();  // no lock, no allocation: still async-signal-safe
}
void MessageServer::set_handler(Handler handler) {
    state_->set_handler(std::move(handler));
}
void MessageServer::send(const std::string& message) {
    state_->send(message);
}
const std::string& MessageServer::to_server_path() const {
    return state_->to_server_path_;
}
const std::string& MessageServer::from_server_path() const {
    return state_->from_server_path_;
}
const std::string& MessageServer::error() const {
    return state_->error_;
}
