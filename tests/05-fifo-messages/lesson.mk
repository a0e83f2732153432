# Lesson 05: the learner writes the MessageServer class (message_server.cpp). Its
# header, the program's main and the model C++ client are given.
PROGRAMS := fifo_server fifo_client
fifo_server_SOURCES := message_server.cpp given/fifo_server_main.cpp
fifo_client_SOURCES := given/fifo_client.cpp
# The white-box tests drive the class itself.
TEST_LINKS := message_server.cpp
