// shake.cpp - an LD_PRELOAD shim for `make grade SHAKE=N`: random short delays around
// the calls where IPC programs race (fork, pthread_create, pipe, read, write, close,
// dup2, wait).
//
// A program can pass by luck of scheduling: a parent that sleeps "long enough" instead
// of waiting, output that is "usually" complete. Under the shim, after fork() one of the
// two processes (chosen at random) is held back for 100 to 300 ms - and after
// pthread_create() one of the two threads, the same way - and one call in four
// of the others waits up to 2 ms, half of them before the call and half after it (at
// most 100 such waits a process, so big transfers stay fast). A wait after a call is
// what exposes "wake first, then publish": a write() that wakes another thread or
// process, and only then the line that stores what the woken one should find.
// The delays follow PIPEWORKS_SHAKE_SEED, so a failing run can be repeated.
// Without PIPEWORKS_SHAKE_SEED in the environment the shim does nothing.
#include <dlfcn.h>
#include <pthread.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

namespace {

bool enabled = false;  // set once, before main()
// Each thread has its own sequence: no data race between threads, and a thread's delays
// do not depend on how the others happened to interleave.
thread_local std::uint64_t state = 0;
thread_local int small_delays_left = 100;

std::uint64_t next() {  // xorshift64*: tiny, and safe to call anywhere (no locks)
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 0x2545F4914F6CDD1DULL;
}

// The sequence depends on the seed and on the path of forks and thread starts that led
// to this thread, never on pids: the same run with the same seed is delayed the same way.
void seed_from_environment() {
    const char* s = std::getenv("PIPEWORKS_SHAKE_SEED");
    enabled = s != nullptr;
    if (!enabled) return;
    state = (std::strtoull(s, nullptr, 10) + 1) * 0x9E3779B97F4A7C15ULL;
    small_delays_left = 100;
}

// A new process or thread goes on from its parent's sequence, made to differ from it,
// deterministically.
std::uint64_t child_state(std::uint64_t parent) {
    std::uint64_t s = parent * 0xD1342543DE82EF95ULL + 1;
    return s != 0 ? s : 1;
}

void seed_as_child() {
    state = child_state(state);
    small_delays_left = 100;
}

void pause_us(std::uint64_t us) {
    timespec t{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
    nanosleep(&t, nullptr);  // async-signal-safe, and it calls none of the wrapped functions
}

// Wraps one call: constructed before it, destroyed after it (once the result is
// computed). One call in eight waits before, one in eight after; errno survives.
class Around {
  public:
    Around() {
        if (!enabled || small_delays_left <= 0) return;
        std::uint64_t when = next() % 8;
        if (when > 1) return;
        --small_delays_left;
        std::uint64_t us = next() % 2000;
        if (when == 0)
            pause_us(us);
        else
            after_us_ = us;
    }
    ~Around() {
        if (after_us_ == 0) return;
        int saved = errno;  // nanosleep may set it (EINTR); the caller reads the call's own
        pause_us(after_us_);
        errno = saved;
    }
    Around(const Around&) = delete;
    Around& operator=(const Around&) = delete;

  private:
    std::uint64_t after_us_ = 0;
};

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

// A new thread is the same race as a new process: who runs first is up to the scheduler.
// The new thread starts in start_thread(), which seeds its sequence and, when it is the
// one held back, waits before it runs its own routine.
struct ThreadStart {
    void* (*routine)(void*);
    void* arg;
    std::uint64_t state;
    std::uint64_t hold_us;  // 0: the creator is the one held back
};

void* start_thread(void* p) {
    ThreadStart start = *static_cast<ThreadStart*>(p);
    delete static_cast<ThreadStart*>(p);
    state = start.state;
    small_delays_left = 100;
    if (start.hold_us) pause_us(start.hold_us);
    return start.routine(start.arg);
}

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*routine)(void*), void* arg) {
    using Create = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
    static auto fn = real<Create>("pthread_create");
    if (!enabled) return fn(thread, attr, routine, arg);
    bool hold_new = next() % 2 == 0;
    std::uint64_t hold_us = 100000 + next() % 200000;  // 100 to 300 ms, as after fork()
    auto* start = new ThreadStart{routine, arg, child_state(state), hold_new ? hold_us : 0};
    int rc = fn(thread, attr, start_thread, start);
    if (rc != 0) {
        delete start;
        return rc;
    }
    if (!hold_new) pause_us(hold_us);
    return rc;
}

int pipe(int fds[2]) {
    static auto fn = real<int (*)(int*)>("pipe");
    Around around;
    return fn(fds);
}

ssize_t read(int fd, void* buf, size_t n) {
    static auto fn = real<ssize_t (*)(int, void*, size_t)>("read");
    Around around;
    return fn(fd, buf, n);
}

ssize_t write(int fd, const void* buf, size_t n) {
    static auto fn = real<ssize_t (*)(int, const void*, size_t)>("write");
    Around around;
    return fn(fd, buf, n);
}

int close(int fd) {
    static auto fn = real<int (*)(int)>("close");
    Around around;
    return fn(fd);
}

int dup2(int from, int to) {
    static auto fn = real<int (*)(int, int)>("dup2");
    Around around;
    return fn(from, to);
}

pid_t waitpid(pid_t pid, int* status, int options) {
    static auto fn = real<pid_t (*)(pid_t, int*, int)>("waitpid");
    Around around;
    return fn(pid, status, options);
}

pid_t wait(int* status) {
    static auto fn = real<pid_t (*)(int*)>("wait");
    Around around;
    return fn(status);
}

}  // extern "C"
