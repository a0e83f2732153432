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
//
// Read lessons/05-fifo-messages.md first; its steps follow the TODOs below. The class's
// public calls are declared in exercises/05-fifo-messages/given/message_server.hpp; what
// the server keeps is struct MessageServer::State, right here, and it is yours: the
// members below are one design (the lesson's), add, rename or drop any of them.
// Check your work with:  make grade LESSON=05     Stuck?  make hint LESSON=05
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

// What the server keeps. The header only names this struct, so it is yours to shape;
// MessageServer's own methods (given, at the end of this file) hand each call to it.
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

// Given: the paths, and a default handler that echoes.
MessageServer::State::State(const std::string& dir)
    : to_server_path_(dir + "/to-server"),
      from_server_path_(dir + "/from-server"),
      handler_([](const std::string& message) { return message; }) {}

// Given: whatever serve() did not get to close is closed here.
MessageServer::State::~State() {
    close_fifos();
    for (int fd : wake_fds_)
        if (fd != -1) close(fd);
}

// Given: records "what: reason" for error() and returns false, so that a failing call
// reads  if (mkfifo(...) == -1) return fail("mkfifo");
bool MessageServer::State::fail(const char* what) {
    error_ = std::string(what) + ": " + std::strerror(errno);
    return false;
}

bool MessageServer::State::start() {
    // TODO 1 (Step 1): create both FIFOs with mkfifo(path, 0600); on -1 return
    //         fail("mkfifo"). Set made_to_server_ / made_from_server_ as each one is
    //         made, so that close_fifos() removes only what you created. Then
    //         chmod(path, 0600) both: mkfifo's mode passes through the umask.

    // TODO 2 (Step 2): open without ever waiting for a client. The order matters:
    //         in_fd_       = to-server,   O_RDONLY | O_NONBLOCK  (a read end never waits)
    //         in_keep_fd_  = to-server,   O_WRONLY               (has a reader now: no wait)
    //         out_keep_fd_ = from-server, O_RDONLY | O_NONBLOCK
    //         out_fd_      = from-server, O_WRONLY | O_NONBLOCK  (ENXIO if no reader yet!)
    //         Each on -1: return fail("open to-server") or fail("open from-server").
    // TODO 3 (Step 3): the two *_keep_ descriptors are the server's own handles on the
    //         far ends. Never close them while serving: they are why a client leaving
    //         is no EOF, and a reply with no client reading is no SIGPIPE.

    // TODO 4 (Step 5): the self-pipe: pipe(wake_fds_), then make BOTH ends
    //         non-blocking with fcntl(fd, F_SETFL, O_NONBLOCK). Return true.
    error_ = "start() is not written yet (exercises/05-fifo-messages/message_server.cpp)";
    return false;
}

void MessageServer::State::wake() {
    // TODO 5 (Step 5): write one byte into wake_fds_[1] (if it is open). Ignore the
    //         result (EAGAIN: the pipe is already full of wake-ups), but save errno
    //         first and restore it after: stop() may run inside a signal handler.
}

void MessageServer::State::stop() {
    // TODO 6 (Step 5): set stopping_, then wake(). Nothing else: this must be
    //         async-signal-safe (no locks, no allocation, no close, no unlink).
}

void MessageServer::State::set_handler(Handler handler) {
    // TODO 7: store handler in handler_, holding handler_mutex_ (std::lock_guard).
    (void)handler;
}

void MessageServer::State::send(const std::string& message) {
    // TODO 8 (Sending on your own): append message and '\n' to outbox_ while holding
    //         outbox_mutex_, then wake() so that serve() polls for POLLOUT. Never write
    //         here: send() must not block.
    (void)message;
}

bool MessageServer::State::serve() {
    // TODO 9 (Step 5): loop until stopping_ is set:
    //         - pending = are there unsent replies (sent_ < outbox_.size(), under the lock)?
    //         - pollfd fds[3] = {in_fd_, POLLIN}, {wake_fds_[0], POLLIN}, {out_fd_, POLLOUT};
    //           poll(fds, pending ? 3 : 2, -1); on -1: EINTR -> continue, else fail("poll").
    //         - self-pipe readable: read it until it is empty (it is non-blocking).
    //         - to-server readable: read_messages().
    //         - then flush_replies().
    //         After the loop: close_fifos(); return false if the loop or the
    //         clean-up failed.
    error_ = "serve() is not written yet";
    return false;
}

bool MessageServer::State::read_messages() {
    // TODO 10 (Step 4): one read() of in_fd_ into a 64 KiB buffer (EINTR/EAGAIN: return
    //         true; other errors: fail("read")). Append to inbox_. Then for every '\n'
    //         in inbox_: the bytes before it are one message; reply = handler(message)
    //         (copy handler_ under handler_mutex_, call the copy without the lock);
    //         append reply and '\n' to outbox_ under outbox_mutex_. A read may hold half
    //         a message, or three: keep the unfinished tail in inbox_ for next time.
    //         Search from scanned_, and erase what you used once per read, not per message.
    error_ = "read_messages() is not written yet";
    return false;
}

bool MessageServer::State::flush_replies() {
    // TODO 11 (Sending on your own): under outbox_mutex_, write() outbox_ from sent_ on
    //         until it is all out or write() says EAGAIN (the FIFO is full: poll() will
    //         say when there is room). EINTR: try again; another error: fail("write").
    //         When everything is out, clear outbox_ and set sent_ to 0.
    return true;
}

bool MessageServer::State::close_fifos() {
    // TODO 12 (Step 5): close in_fd_, in_keep_fd_, out_keep_fd_ and out_fd_ (each that
    //         is not -1; a failing close: fail("close")), set each to -1, then unlink
    //         the FIFOs you created (an unlink failing with ENOENT is fine: someone
    //         deleted it already) and clear made_to_server_ / made_from_server_.
    //         Do every step even when one fails; return false if any failed.
    return true;
}

// Given: the class itself: each call goes to the State, which the constructor makes.
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
