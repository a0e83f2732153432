# Lesson 06: the learner writes the channels (transports.cpp) and the fan-in server
# (fanin_server.cpp); the measuring and reporting mains are given (exercises/06-.../given/).
PROGRAMS := pingpong blast fanin
# make bench compares the pipe figures with the barest loops doing the same (not graded).
TOOLS := bare_pipe
pingpong_SOURCES := transports.cpp given/common.cpp given/pingpong_main.cpp
blast_SOURCES := transports.cpp given/common.cpp given/blast_main.cpp
fanin_SOURCES := transports.cpp fanin_server.cpp given/common.cpp given/fanin_main.cpp
# White-box tests call connect_tcp, accept_connection, write_all and serve_fifo directly.
TEST_LINKS := transports.cpp fanin_server.cpp given/common.cpp
