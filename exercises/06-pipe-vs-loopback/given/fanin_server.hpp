// fanin_server.hpp - the many-to-one server of lesson 06: what you write in
// fanin_server.cpp. fanin's given main starts the clients and reports; you receive.
#pragma once

#include <string>

#include "common.hpp"

// Serves `clients` clients on a listening socket (TCP or Unix) at the same time,
// until every one of them has connected and hung up. Each complete line that arrives
// goes to tally.add(), without its '\n'.
void serve_sockets(int listener, int clients, Tally& tally);

// Reads the FIFO at path, into which `clients` clients write their lines, until every
// one of them has sent its end line (tally.clients_finished() == clients). Each
// complete line goes to tally.add(), without its '\n'.
void serve_fifo(const std::string& path, int clients, Tally& tally);
