// message_server.hpp - a newline message server over two named pipes (FIFOs).
// Given: you implement it in exercises/05-fifo-messages/message_server.cpp.
//
// The server makes two FIFOs in a directory, named from the client's point of view:
//
//   DIR/to-server     clients write lines here; the server reads them
//   DIR/from-server   the server writes its replies here; clients read them
//
// Every line (bytes up to '\n', any bytes but '\n' allowed, NUL included) is one
// message. The handler turns each message into a reply, which goes back as one line.
// Clients may come and go while the server runs: the server keeps its own handle on
// the far end of each FIFO, so a client leaving is never an end of file and a reply
// with no client attached is never a SIGPIPE.
//
// Typical use (this is what fifo_server_main.cpp does):
//
//   MessageServer server("/some/dir");
//   server.set_handler([](const std::string& m) { return "you said: " + m; });
//   if (!server.start()) { print server.error(); exit 1; }
//   server.serve();   // returns after stop(), called from a signal handler or another thread
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

class MessageServer {
  public:
    // Turns one message (without its '\n') into the reply (sent with a '\n' added).
    using Handler = std::function<std::string(const std::string& message)>;

    // Nothing happens yet: start() creates the FIFOs in dir.
    explicit MessageServer(const std::string& dir);
    // Closes whatever is still open and removes the FIFOs this server created.
    ~MessageServer();
    MessageServer(const MessageServer&) = delete;
    MessageServer& operator=(const MessageServer&) = delete;

    // Creates both FIFOs with mode 0600 (whatever the umask), opens the server's four
    // FIFO descriptors without blocking, and creates the self-pipe. Never waits for a
    // client. On failure returns false and error() says why ("mkfifo: File exists").
    bool start();

    // The server loop, to call once start() has returned true: waits (poll) for
    // messages, answers each, sends queued replies, until stop() is called. Then closes
    // the FIFOs and removes them. Returns false (error() says why) only when a system
    // call failed.
    bool serve();

    // Asks serve() to return. Never blocks, and is async-signal-safe: a signal handler
    // or another thread may call it, in any state, even before serve() runs.
    void stop();

    // Replaces the handler; callable at any time, from any thread (the handler itself too).
    // The default handler echoes each message.
    void set_handler(Handler handler);

    // Queues one message (a '\n' is added) for the clients. Never blocks, even when no
    // client is attached; serve() writes it out as the FIFO takes it. Any thread.
    void send(const std::string& message);

    const std::string& to_server_path() const { return to_server_path_; }
    const std::string& from_server_path() const { return from_server_path_; }
    const std::string& error() const { return error_; }

  private:
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
