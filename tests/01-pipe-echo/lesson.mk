# Lesson 01 builds one program from one file the learner writes.
PROGRAMS := pipe_echo
pipe_echo_SOURCES := pipe_echo.cpp
TEST_LINKS :=
