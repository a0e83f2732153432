// filter_api.cpp - filter_bytes() and filter_stream(), the two functions of filter.hpp,
// built on the run() you write in filter.cpp.
//
// Usage: linked with your filter.cpp; callers see only given/filter.hpp.
//
// Both functions are the same pump; they differ only in where the bytes come from (a
// string, or in_fd) and where they go (a string, or out_fd), and that is all they say.
//
// This file is given: you do not edit it. You write filter.cpp.
#include "filter.hpp"
#include "filter_child.hpp"

namespace filter {

FilterOutput filter_bytes(const std::string& input, const std::vector<std::string>& argv) {
    FilterOutput result;
    Ends ends{input.data(), input.size(), -1, &result.output};
    result.status = run(argv, ends);
    return result;
}

StreamResult filter_stream(int in_fd, int out_fd, const std::vector<std::string>& argv) {
    Ends ends{nullptr, 0, in_fd, nullptr, out_fd};
    Status status = run(argv, ends);  // first: run counts the bytes into ends
    return {status, ends.bytes_in, ends.bytes_out};
}

}  // namespace filter
