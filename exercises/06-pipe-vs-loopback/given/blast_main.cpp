// blast_main.cpp - throughput from a child to its parent (given).
//
// Usage: blast --via pipe|socketpair|unix|tcp [--bytes N] [--chunk BYTES]
//              [--pipe-size BYTES] [--pin same|cross|none] [--seed N] [--floor] [--json]
//        blast --via pipe --splice ...      (advanced, Linux only)
//
// The child streams --bytes bytes (default 64M) to the parent in writes of --chunk
// bytes (default 64K), then an 8-byte trailer with its checksum of what it sent. The
// parent reads the stream in the same pieces, checks that its own checksum matches the
// child's and that not one byte more or less came, and reports the throughput in GB/s
// (10^9 bytes per second), timed from the first piece's arrival to the last.
// --pipe-size sets the pipe's capacity with F_SETPIPE_SZ (Linux; pipes only).
//
// --splice (advanced, Linux only; pipes only): the child hands its pages to the pipe
// with vmsplice() instead of copying them in with write(); the parent still read()s
// and checks every byte. One copy per byte instead of two.
//
// --floor: no transport at all, memcpy() of the same pieces from one buffer to another
// in one process: the memory bandwidth no channel that copies can beat.
#ifdef __linux__
#ifndef _GNU_SOURCE
#define _GNU_SOURCE  // vmsplice
#endif
#include <sys/uio.h>
#endif
#include <fcntl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common.hpp"
#include "transports.hpp"

namespace {

struct Options : Measure {
    unsigned long long bytes = 64ULL << 20, chunk = 64 << 10, pipe_size = 0;
    bool splice = false;
};

const char* const kUsage =
    "blast --via pipe|socketpair|unix|tcp [--bytes N] [--chunk BYTES] [--pipe-size BYTES] [--splice (pipe, Linux)] "
    "[--pin same|cross|none] [--seed N] [--floor] [--json]";

Options parse(int argc, char* argv[]) {
    Options o;
    parse_measure(argc, argv, kUsage, &o,
                  {flag_option("--splice", &o.splice), size_option("--bytes", &o.bytes),
                   size_option("--chunk", &o.chunk, 64u << 20), size_option("--pipe-size", &o.pipe_size)});
    if (o.splice && o.via != Via::Pipe) usage_error(kUsage);
#ifndef __linux__
    if (o.splice) {
        std::fprintf(stderr, "blast: --splice needs vmsplice(2), which only Linux has\n");
        std::exit(2);
    }
#endif
    return o;
}

std::size_t piece_len(const Options& o, unsigned long long done) {
    unsigned long long left = o.bytes - done;
    return static_cast<std::size_t>(left < o.chunk ? left : o.chunk);
}

// vmsplice: the pipe takes references to our pages instead of a copy of the bytes.
// Safe here because the pattern is never changed while the pipe may still hold it.
void send_spliced(int fd, const unsigned char* data, std::size_t len) {
#ifdef __linux__
    while (len > 0) {
        iovec piece{const_cast<unsigned char*>(data), len};
        ssize_t n = vmsplice(fd, &piece, 1, 0);
        if (n == -1) {
            if (errno == EINTR) continue;
            die("vmsplice");
        }
        data += n;
        len -= static_cast<std::size_t>(n);
    }
#else
    (void)fd, (void)data, (void)len;
#endif
}

// The child: send the stream, then the checksum of what it sent.
[[noreturn]] void child(Channel& ch, const Options& o) {
    End end = child_end(ch);
    std::vector<unsigned char> pattern(o.chunk + 4096);
    fill_pattern(o.seed, pattern.data(), pattern.size());
    unsigned long long done = 0;
    for (std::uint64_t k = 0; done < o.bytes; ++k) {
        std::size_t n = piece_len(o, done);
        if (o.splice)
            send_spliced(end.out, pattern.data() + blast_offset(k), n);
        else if (!write_all(end.out, pattern.data() + blast_offset(k), n))
            die("write - child");
        done += n;
    }
    // The parent's clock has stopped by now: summing afterwards costs it nothing.
    Checksum sum;
    done = 0;
    for (std::uint64_t k = 0; done < o.bytes; ++k) {
        std::size_t n = piece_len(o, done);
        sum.add(pattern.data() + blast_offset(k), n);
        done += n;
    }
    std::uint64_t trailer = sum.value();
    if (!write_all(end.out, &trailer, sizeof trailer)) die("write - child");
    close_end(end, "child");
    _exit(0);
}

double memcpy_floor(const Options& o) {
    std::vector<unsigned char> pattern(o.chunk + 4096), dst(o.chunk);
    fill_pattern(o.seed, pattern.data(), pattern.size());
    double t0 = now_us();
    unsigned long long done = 0;
    for (std::uint64_t k = 0; done < o.bytes; ++k) {
        std::size_t n = piece_len(o, done);
        std::memcpy(dst.data(), pattern.data() + blast_offset(k), n);
        done += n;
        asm volatile("" : : "r"(dst.data()) : "memory");  // the copy must really happen
    }
    return now_us() - t0;
}

}  // namespace

int main(int argc, char* argv[]) {
    start_program("blast");
    Options o = parse(argc, argv);
    Placement place = plan_placement(o.pin);
    long pipe_size = 0;

    double elapsed_us = 0;
    unsigned long long timed_bytes = o.bytes;
    Checksum sum;
    std::uint64_t trailer = 0;
    if (o.floor) {
        place.one_process();
        run_on_cpu(place.parent_cpu);
        elapsed_us = memcpy_floor(o);
    } else {
        Channel ch = open_channel(o.via);
#if defined(F_SETPIPE_SZ) && defined(F_GETPIPE_SZ)
        if (o.via == Via::Pipe) {
            if (o.pipe_size && fcntl(ch.to_parent[1], F_SETPIPE_SZ, static_cast<int>(o.pipe_size)) == -1)
                die("fcntl F_SETPIPE_SZ");
            if ((pipe_size = fcntl(ch.to_parent[1], F_GETPIPE_SZ)) == -1) die("fcntl F_GETPIPE_SZ");
        }
#else
        if (o.pipe_size) place.note += "--pipe-size needs F_SETPIPE_SZ (Linux); the default size was used";
#endif
        int pid = -1;
        End end = fork_child(
            ch, place, [&](Channel& c) { child(c, o); }, &pid);

        std::vector<unsigned char> buf(o.chunk);
        unsigned long long done = 0;
        double t0 = 0;
        for (std::uint64_t k = 0; done < o.bytes; ++k) {
            std::size_t n = piece_len(o, done);
            std::size_t got = read_full(end.in, buf.data(), n, "read - parent");
            if (got < n)
                fail("the stream ended after " + std::to_string(done + got) + " of " + std::to_string(o.bytes) +
                     " bytes: bytes were lost on the way (a partial write not finished?)");
            if (k == 0) {
                t0 = now_us();  // the first piece is here: the child is running
                timed_bytes = o.bytes - n;
            }
            sum.add(buf.data(), n);
            done += n;
        }
        elapsed_us = now_us() - t0;
        if (read_full(end.in, &trailer, sizeof trailer, "read - parent") != sizeof trailer)
            fail("the stream ended without the child's checksum: bytes were lost on the way");
        unsigned char extra;
        if (read_full(end.in, &extra, 1, "read - parent") != 0)
            fail("more bytes came than were sent: something was written twice");
        close_end(end, "parent");
        reap_child(pid);
        if (trailer != sum.value()) {
            char sent[17];
            std::snprintf(sent, sizeof sent, "%016llx", static_cast<unsigned long long>(trailer));
            fail(std::string("checksums differ: the child sent ") + sent + ", the parent got " + sum.hex() +
                 ": bytes were changed, lost or repeated on the way");
        }
    }

    double gbps = elapsed_us > 0 ? timed_bytes / (elapsed_us * 1e3) : 0;
    std::string checksum = o.floor ? "" : sum.hex();
    if (o.json) {
        print_json(
            measure_fields("blast", o, place),
            {"bytes", std::to_string(o.bytes), "chunk", std::to_string(o.chunk), "pipe_size", std::to_string(pipe_size),
             "splice", json_bool(o.splice), "seconds", json_real(elapsed_us / 1e6, 6), "gb_per_s", json_real(gbps, 3),
             "checksum", json_string(checksum), "verified", json_bool(!o.floor)});
    } else if (o.floor) {
        std::printf("blast: floor (memcpy, one process), %llu bytes in %llu-byte pieces, placement %s: %.2f GB/s\n",
                    o.bytes, o.chunk, place.describe().c_str(), gbps);
    } else {
        std::printf(
            "blast: %s%s, %llu bytes in %llu-byte writes%s, placement %s%s%s: %.2f GB/s; checksum %s on both "
            "ends\n",
            via_name(o.via), o.splice ? " (vmsplice)" : "", o.bytes, o.chunk,
            pipe_size ? (", pipe size " + std::to_string(pipe_size)).c_str() : "", place.describe().c_str(),
            place.note.empty() ? "" : " - ", place.note.c_str(), gbps, checksum.c_str());
    }
    return 0;
}
