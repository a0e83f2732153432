# Lesson 04 has a library: the learner writes filter.cpp (run: start, pump, reap); its
# header, filter_bytes and filter_stream on top of run (given/filter_api.cpp) and the
# program's main are given (exercises/04-filter-child/given/).
PROGRAMS := filter_through
filter_through_SOURCES := filter.cpp given/filter_api.cpp given/filter_through_main.cpp
# White-box tests call filter_bytes and filter_stream directly, inside pw::run_function.
TEST_LINKS := filter.cpp given/filter_api.cpp
# feed_bytes: pseudo-random bytes from a seed into a command's stdin (the 256 MiB test).
# list_fds: prints the descriptors it was started with (what a child inherits).
TOOLS := feed_bytes list_fds
