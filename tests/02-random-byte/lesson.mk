# Lesson 02 builds two programs, each from one file the learner writes.
PROGRAMS := random_byte random_bytes
random_byte_SOURCES := random_byte.cpp
random_bytes_SOURCES := random_bytes.cpp
TEST_LINKS :=
TOOLS := trace_pipes
