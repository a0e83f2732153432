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

namespace process_table {

bool available();  // true where /proc describes processes (Linux)
// A small file of /proc, whole ("" when it cannot be read): plain read(2), as the warden
// reads these files every few milliseconds.
std::string read_file(const std::string& path);
// The number on the "key:" line of a /proc status file (dir + "/status", dir a process's
// or a thread's folder): 0 when the line or the file is missing.
unsigned long long status_field(const std::string& dir, const std::string& key);
// The fields of a /proc stat file (dir + "/stat") after its "pid (comm)": [0] the state
// letter, [1] the parent's pid, ... [7] minor and [9] major page faults; empty when gone.
// comm, when given, gets the command name between the parens.
std::vector<std::string> stat_fields(const std::string& dir, std::string* comm = nullptr);
// A process's or thread's state letter (R, S, D, T, Z, ...) from dir + "/stat", dir as
// "/proc/PID" or "/proc/PID/task/TID"; 'X' (dead) when it is gone.
char state_letter(const std::string& dir);
// What a process or thread (dir) is blocked in, from dir + "/syscall": nr is the call's
// number, -1 while it runs, left as it was when the file cannot be read.
void read_syscall(const std::string& dir, long& nr, unsigned long long args[6]);

// One process, with details.
ProcessSnapshot one(pid_t pid);

// Every descendant of root (not root itself), parents before children.
std::vector<ProcessSnapshot> descendants(pid_t root, bool with_details);

// A snapshot as text and back (the warden hands snapshots to the test this way).
// One line per process ("proc PID PPID STATE NR ARG0 THREAD TIMED COMMAND") and per
// channel ("chan PID FD R W INODE OBJECT"). deserialize fills each channel's other_end.
std::string serialize(const std::vector<ProcessSnapshot>& tree);
std::vector<ProcessSnapshot> deserialize(const std::string& text);

// The kind of a system call number (Linux numbers; Other elsewhere).
Call call_of(long nr);
// The name of a system call, for messages ("poll", "read"; "system call N" otherwise).
std::string call_name(long nr);

// Fills every channel's other_end from the tree (who holds the opposite end).
void link_ends(std::vector<ProcessSnapshot>& tree);

// Explains, in plain words, what each process is blocked in and who holds the other
// end of the pipe it waits on. main_pid is the program that was started.
std::string explain_hang(const std::vector<ProcessSnapshot>& tree, pid_t main_pid);

}  // namespace process_table
}  // namespace pw
