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

#include <functional>
#include <memory>
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

    // DIR/to-server, DIR/from-server, and what went wrong (after start() or serve()
    // returned false).
    const std::string& to_server_path() const;
    const std::string& from_server_path() const;
    const std::string& error() const;

  private:
    // Everything the server keeps (its descriptors, flags, buffers, locks) is yours to
    // choose: message_server.cpp defines struct MessageServer::State, and the
    // constructor makes one. This header never names a member of it, so any design
    // compiles against it: poll or select or epoll, one buffer or several.
    struct State;
    std::unique_ptr<State> state_;
};
