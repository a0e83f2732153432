// process_table.hpp - a snapshot of a process tree from /proc: who is whose child,
// what each process is blocked in, and which pipe ends each one holds.
//
// The sandbox takes one when a program ends (to find what it left behind) and when
// it times out (to explain the hang); hygiene checks use it to find live children.
// Linux only: elsewhere available() is false and every snapshot is empty.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sandbox.hpp"

namespace pw {

// One open file descriptor that is a pipe, a FIFO or a socket.
struct OpenChannel {
    int fd = -1;
    std::string object;  // "pipe 55123", "FIFO /tmp/x/to-server", "socket 8812"
    unsigned long long inode = 0;
    bool readable = false, writable = false;
};

struct ProcessSnapshot {
    ProcessInfo info;
    long syscall_nr = -2;  // -1 running, -2 unknown
    pid_t thread = 0;      // when the telling call is another thread's: its id
    unsigned long long syscall_arg0 = 0;
    std::string wchan;  // kernel function it sleeps in, if readable
    std::vector<OpenChannel> channels;
};

namespace process_table {

bool available();  // true where /proc describes processes (Linux)

// One process, with details.
ProcessSnapshot one(pid_t pid);

// Every descendant of root (not root itself), parents before children.
std::vector<ProcessSnapshot> descendants(pid_t root, bool with_details);

// A snapshot as text and back (the warden hands snapshots to the test this way).
// One line per process ("proc PID PPID STATE NR ARG0 THREAD COMMAND") and per channel
// ("chan PID FD R W INODE OBJECT").
std::string serialize(const std::vector<ProcessSnapshot>& tree);
std::vector<ProcessSnapshot> deserialize(const std::string& text);

// Explains, in plain words, what each process is blocked in and who holds the other
// end of the pipe it waits on. main_pid is the program that was started.
std::string explain_hang(const std::vector<ProcessSnapshot>& tree, pid_t main_pid);

}  // namespace process_table
}  // namespace pw
