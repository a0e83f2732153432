// common.hpp - what random_byte and random_bytes share, given: you use it, you do not edit it.
//
// Error messages, reading a number from the command line, writing a whole buffer, random
// bytes and their checksum. None of it is what lesson 02 is about (pipe, fork, reading
// until end of file, waiting for the child), so it is written once, here, for both
// programs, and your files keep only the plumbing.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

// ---- errors -------------------------------------------------------------------------

// The program's name, which starts every message: each program defines it once, e.g.
//     const char* const kProgram = "random_byte";
extern const char* const kProgram;

// Prints "prog: what: reason" and exits 1. Call it when a system call fails, e.g.
// die("pipe") or die("close - child"). Any process may call it: it uses _exit, so a child
// never flushes stdio buffers it copied from its parent.
[[noreturn]] inline void die(const char* what) {
    std::fprintf(stderr, "%s: %s: %s\n", kProgram, what, std::strerror(errno));
    _exit(1);
}

// ---- the command line ---------------------------------------------------------------

// Reads a whole decimal number into out: digits only (no sign, no spaces), at most max.
// Returns false when text is not such a number. Use it for COUNT and for --seed's N.
inline bool parse_number(const char* text, std::uint64_t max, std::uint64_t& out) {
    if (*text < '0' || *text > '9') return false;  // strtoull would accept " 5", "-5" and ""
    errno = 0;
    char* end;
    unsigned long long value = std::strtoull(text, &end, 10);
    if (errno == ERANGE || *end != '\0' || value > max) return false;
    out = value;
    return true;
}

// ---- moving bytes -------------------------------------------------------------------

// write() may move fewer bytes than asked (a signal, a full pipe): this loops until all
// of them are out, and dies naming what on an error. You wrote it in lesson 01.
inline void write_all(int fd, const unsigned char* buf, std::size_t len, const char* what) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            die(what);
        }
        buf += n;
        len -= static_cast<std::size_t>(n);
    }
}

// Fills buf with len random bytes, eight from each 64-bit draw of the engine.
inline void fill_random(std::mt19937_64& engine, unsigned char* buf, std::size_t len) {
    for (std::size_t i = 0; i < len; i += 8) {
        std::uint64_t r = engine();
        for (std::size_t k = 0; k < 8 && i + k < len; ++k) buf[i + k] = static_cast<unsigned char>(r >> (8 * k));
    }
}

// ---- the checksum -------------------------------------------------------------------

// FNV-1a, 64 bits: start from the offset basis; for each byte, XOR it in, then multiply
// by the FNV prime (modulo 2^64). Simple, and any lost, extra or changed byte changes the
// result. Checksum a stream piece by piece:
//     std::uint64_t hash = kFnvOffsetBasis;
//     hash = fnv1a(hash, piece, piece_length);   // for each piece, in order
// and print it with std::printf("%016llx", static_cast<unsigned long long>(hash)).
constexpr std::uint64_t kFnvOffsetBasis = 0xcbf29ce484222325;
constexpr std::uint64_t kFnvPrime = 0x100000001b3;

inline std::uint64_t fnv1a(std::uint64_t hash, const unsigned char* data, std::size_t len) {
    for (std::size_t i = 0; i < len; ++i) {
        hash ^= data[i];
        hash *= kFnvPrime;
    }
    return hash;
}
