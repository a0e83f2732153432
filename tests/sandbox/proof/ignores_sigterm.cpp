// ignores_sigterm.cpp - a bad program for the grader's own proof: it ignores SIGTERM
// and SIGINT and sleeps. Politeness does not stop it; the sandbox must.
#include <signal.h>
#include <unistd.h>

int main() {
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    for (;;) pause();
}
