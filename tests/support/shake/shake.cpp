// shake.cpp - an LD_PRELOAD shim for `make grade SHAKE=N`: random short delays around
// the calls where IPC programs race (fork, pipe, read, write, close, dup2, wait).
//
// A program can pass by luck of scheduling: a parent that sleeps "long enough" instead
// of waiting, output that is "usually" complete. Under the shim, after fork() one of the
// two processes (chosen at random) is held back for 100 to 300 ms, and one call in four
// of the others waits up to 2 ms (at most 100 such waits a process, so big transfers
// stay fast). The delays follow PIPEWORKS_SHAKE_SEED, so a failing run can be repeated.
// Without PIPEWORKS_SHAKE_SEED in the environment the shim does nothing.
#include <dlfcn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>

namespace {

bool enabled = false;
std::uint64_t state = 0;
int small_delays_left = 100;

std::uint64_t next() {  // xorshift64*: tiny, and safe to call anywhere (no locks)
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

// The sequence depends on the seed and on the path of forks that led to this process,
// never on pids: the same run with the same seed is delayed the same way.
void seed_from_environment() {
    const char* s = std::getenv("PIPEWORKS_SHAKE_SEED");
    enabled = s != nullptr;
    if (!enabled) return;
    state = (std::strtoull(s, nullptr, 10) + 1) * 0x9E3779B97F4A7C15ULL;
    small_delays_left = 100;
}

void seed_as_child() {
    state = state * 0xD1342543DE82EF95ULL + 1;  // differ from the parent, deterministically
    if (state == 0) state = 1;
    small_delays_left = 100;
}

void pause_us(std::uint64_t us) {
    timespec t{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
    nanosleep(&t, nullptr);  // async-signal-safe, and it calls none of the wrapped functions
}

void maybe_small_delay() {
    if (!enabled || small_delays_left <= 0 || next() % 4 != 0) return;
    --small_delays_left;
    pause_us(next() % 2000);
}

template <typename F>
F real(const char* name) {
    return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

struct Init {
    Init() { seed_from_environment(); }
} init;

}  // namespace

extern "C" {

pid_t fork(void) {
    static auto fn = real<pid_t (*)(void)>("fork");
    bool hold_child = enabled && next() % 2 == 0;
    std::uint64_t hold_us = enabled ? 100000 + next() % 200000 : 0;  // 100 to 300 ms
    pid_t pid = fn();
    if (pid == 0 && enabled) seed_as_child();
    if (enabled && pid >= 0 && (pid == 0) == hold_child) pause_us(hold_us);
    return pid;
}

int pipe(int fds[2]) {
    static auto fn = real<int (*)(int*)>("pipe");
    maybe_small_delay();
    return fn(fds);
}

ssize_t read(int fd, void* buf, size_t n) {
    static auto fn = real<ssize_t (*)(int, void*, size_t)>("read");
    maybe_small_delay();
    return fn(fd, buf, n);
}

ssize_t write(int fd, const void* buf, size_t n) {
    static auto fn = real<ssize_t (*)(int, const void*, size_t)>("write");
    maybe_small_delay();
    return fn(fd, buf, n);
}

int close(int fd) {
    static auto fn = real<int (*)(int)>("close");
    maybe_small_delay();
    return fn(fd);
}

int dup2(int from, int to) {
    static auto fn = real<int (*)(int, int)>("dup2");
    maybe_small_delay();
    return fn(from, to);
}

pid_t waitpid(pid_t pid, int* status, int options) {
    static auto fn = real<pid_t (*)(pid_t, int*, int)>("waitpid");
    maybe_small_delay();
    return fn(pid, status, options);
}

pid_t wait(int* status) {
    static auto fn = real<pid_t (*)(int*)>("wait");
    maybe_small_delay();
    return fn(status);
}

}  // extern "C"
