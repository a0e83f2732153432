// sleeps_forever.cpp - a bad program for the grader's own proof: it never ends.
// The sandbox must time it out, kill it and say so.
#include <unistd.h>

int main() {
    for (;;) pause();
}
