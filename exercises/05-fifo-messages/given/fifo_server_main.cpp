// fifo_server_main.cpp - the program fifo_server: an echo server on two FIFOs.
// Given: you do not edit it; it uses your MessageServer (message_server.cpp).
//
// Usage: fifo_server DIR [--upper]
//
// Creates DIR/to-server and DIR/from-server and answers every line a client writes
// into to-server with the same line (upper-cased with --upper) in from-server. Runs
// until SIGINT (Ctrl-C) or SIGTERM, then removes both FIFOs and exits 0. Exit status
// 2 on a usage error, 1 when a system call fails (the message names the call).
#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>

#include "message_server.hpp"

namespace {

MessageServer* the_server = nullptr;

// A signal handler may only do async-signal-safe things. stop() is one of them: it
// sets a flag and writes one byte into the server's self-pipe.
extern "C" void on_stop_signal(int) {
    if (the_server) the_server->stop();
}

std::string upper(const std::string& message) {
    std::string out = message;
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

int main(int argc, char* argv[]) {
    bool upper_case = argc == 3 && std::strcmp(argv[2], "--upper") == 0;
    if (argc != 2 && !upper_case) {
        std::fprintf(stderr, "usage: %s DIR [--upper]\n", argv[0]);
        return 2;
    }

    MessageServer server(argv[1]);
    if (upper_case) server.set_handler(upper);

    // The handlers come first: a SIGTERM that arrives while start() runs must stop
    // the server cleanly too (stop() before serve() makes serve() return at once).
    the_server = &server;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, nullptr) == -1 || sigaction(SIGTERM, &sa, nullptr) == -1) {
        std::perror("fifo_server: sigaction");
        return 1;
    }

    if (!server.start()) {
        std::fprintf(stderr, "fifo_server: %s\n", server.error().c_str());
        return 1;
    }
    bool ok = server.serve();  // returns after a signal called stop(); the FIFOs are gone
    the_server = nullptr;
    if (!ok) {
        std::fprintf(stderr, "fifo_server: %s\n", server.error().c_str());
        return 1;
    }
    return 0;
}
