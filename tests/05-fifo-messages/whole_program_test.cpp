// whole_program_test.cpp - black-box tests of lesson 05's fifo_server program, with
// the three clients the lesson ships: bash, Python 3 and C++.
//
// Each test runs one small shell script in the sandbox: it starts fifo_server in the
// background, waits until both FIFOs exist, runs a client, stops the server with a
// signal, and prints the client's and the server's exit statuses and what is left in
// the directory. Server and client live in the sandbox's process tree, so when they
// hang, the timeout report says what each of them was blocked in. The test process
// itself never opens a FIFO, so it can never block on one.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "fifo_dir.hpp"
#include "lesson.hpp"

namespace {

using fifo_test::FifoDir;
using pw::RunOptions;
using pw::RunResult;

const std::string kGiven = "exercises/05-fifo-messages/given";

// $DIR, $SERVER, $FLAGS, $CLIENT (a shell command) and $STOP (a signal name) come
// from the environment.
const char* kHarness = R"sh(
"$SERVER" "$DIR" $FLAGS &
server=$!
until [ -p "$DIR/to-server" ] && [ -p "$DIR/from-server" ]; do
    if ! kill -0 "$server" 2>/dev/null; then
        wait "$server"
        echo "fifo_server exited with status $? before both FIFOs were there"
        exit 3
    fi
    sleep 0.01
done
eval "$CLIENT"
echo "client exit: $?"
kill -"$STOP" "$server"
wait "$server"
echo "fifo_server exit: $?"
echo "left in DIR: $(ls -A "$DIR" | tr '\n' ' ')"
)sh";

struct Session {
    std::string client;            // shell command; $DIR is the FIFO directory
    std::string input;             // the client's stdin
    std::string flags;             // for fifo_server, e.g. --upper
    std::string stop = "TERM";     // how the server is stopped
    std::vector<std::string> env;  // more NAME=value for the client command
    std::string shown_client;      // the client command as a learner would type it
};

RunResult run_session(const FifoDir& dir, const Session& s) {
    RunOptions options;
    options.timeout_seconds = 5;
    options.stdin_data = s.input;
    options.extra_env = {"DIR=" + dir.path(), "SERVER=" + pw::program("fifo_server"),
                         "FLAGS=" + s.flags,  "CLIENT=" + s.client,
                         "STOP=" + s.stop,    "BIN=" + pw::program("")};
    options.extra_env.insert(options.extra_env.end(), s.env.begin(), s.env.end());
    return pw::run({"bash", "-c", kHarness}, options);
}

// The session as a learner would type it, from the kit's top folder.
std::string session_reproduce(const Session& s) {
    std::string input = s.input.empty() ? "" : "printf '" + s.input.substr(0, 60) + "' | ";
    for (std::size_t at = input.find('\n'); at != std::string::npos; at = input.find('\n', at))
        input.replace(at, 1, "\\n");
    return "DIR=$(mktemp -d); " + pw::program("fifo_server") + " $DIR " + s.flags + (s.flags.empty() ? "" : " ") +
           "& " + input + s.shown_client + "; kill -" + s.stop + " %1";
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::string the_rest(const std::string& expected_replies) {
    return expected_replies + "client exit: 0\nfifo_server exit: 0\nleft in DIR: \n";
}

// Why a session did not print what it should have, computed from what happened.
std::string session_cause(const RunResult& r, const std::string& expected_replies) {
    if (r.timed_out) {
        std::size_t opens = r.stuck_in(pw::Call::Open);
        if (opens >= 2)
            return "a deadlock: the server and the client each wait in open() for the other. Both opened the FIFO "
                   "they read first (the client from-server, the server to-server); a blocking open() of a read end "
                   "waits for a writer, and each one's writer is the other, still waiting. The server must not "
                   "wait at all: open the read ends with O_NONBLOCK, then the write ends.";
        if (opens == 1)
            return "one side waits in open() for the other, which never comes (see above). The server should "
                   "open its FIFOs without waiting: read ends with O_NONBLOCK first, then the write ends.";
        if (r.stuck_in(pw::Call::Write) > 0)
            return "the server waits in write() on a full from-server: write replies through a non-blocking "
                   "descriptor and keep what does not fit for later (poll for POLLOUT).";
        if (has(r.out, "client exit: 0") && !has(r.out, "fifo_server exit"))
            return "the client finished, but fifo_server did not stop on the signal: stop() must wake serve() "
                   "through the self-pipe, and serve() must then return.";
        return "the client waited for a reply that never came: does serve() read to-server, cut lines on '\\n' "
               "and write each reply with its '\\n' into from-server?";
    }
    if (has(r.out, "before both FIFOs were there"))
        return "fifo_server exited before both FIFOs existed; its stderr above says why (start() failed?).";
    if (has(r.out, "fifo_server exit: 141"))
        return "fifo_server was killed by SIGPIPE: it wrote into from-server while no process had it open for "
               "reading. Keep the server's own read end of from-server open.";
    if (has(r.out, "left in DIR: ") && !has(r.out, "left in DIR: \n"))
        return "the FIFOs were left behind: once serve() has closed them, it removes both (unlink).";
    if (!has(r.out, expected_replies + "client exit: 0"))
        return "the replies were not the lines the client sent (see stdout above): each line the server reads "
               "from to-server goes back, with its '\\n', into from-server.";
    return "fifo_server did not exit with status 0 after the signal; see its stderr above.";
}

std::string lines(const std::vector<std::string>& words) {
    std::string s;
    for (const auto& w : words) s += w + "\n";
    return s;
}

// The one check of every session: run s in a fresh directory; the client prints
// `replies`, SIGTERM (or s.stop) ends fifo_server with status 0, and no FIFO is left.
void expect_session(const Session& s, const std::string& replies, const std::string& expected,
                    const std::string& anchor) {
    FifoDir dir;
    ASSERT_TRUE(dir.ok());
    RunResult r = run_session(dir, s);
    EXPECT_TRUE(pw::Check(r).out(the_rest(replies))) << pw::explain(
        r, pw::Why().expected(expected).cause(session_cause(r, replies)).topic(anchor).reproduce(session_reproduce(s)));
}

// A session whose client runs `command` ($DIR is the FIFO directory), shown to a learner as `shown`.
Session session(const std::string& command, const std::string& shown) {
    Session s;
    s.client = command;
    s.shown_client = shown;
    return s;
}

// A session whose client is the given C++ fifo_client, fed `input`.
Session cpp_client_session(const std::string& input) {
    Session s = session("\"$BIN/fifo_client\" \"$DIR\"", pw::program("fifo_client") + " $DIR");
    s.input = input;
    return s;
}

// A session in which the client sends nothing: the signal alone must stop the server.
void expect_clean_stop(const Session& s, const std::string& expected) {
    expect_session(s, "", expected, "step-5-stop-with-a-self-pipe");
}

// Three lines of random words, the same test for each client the lesson ships.
void expect_echo_session(Session s, const std::string& who, const std::string& anchor) {
    s.input = lines({pw::random_word(6), pw::random_word(9) + " " + pw::random_word(3), pw::random_word(12)});
    expect_session(
        s, s.input,
        "the " + who + " prints each of its lines back, then SIGTERM stops fifo_server (exit 0) and no FIFO is left",
        anchor);
}

TEST(FifoServer, AnswersTheBashClient) {
    Session s = session("bash " + kGiven + "/fifo_client.sh \"$DIR\"", kGiven + "/fifo_client.sh $DIR");
    expect_echo_session(s, "bash client (it opens from-server, the FIFO it reads, first)",
                        "step-2-open-without-waiting");
}

TEST(FifoServer, AnswersThePythonClient) {
    Session s = session("python3 " + kGiven + "/fifo_client.py \"$DIR\"", kGiven + "/fifo_client.py $DIR");
    expect_echo_session(s, "Python client", "three-clients");
}

TEST(FifoServer, AnswersTheCppClient) {
    expect_echo_session(cpp_client_session(""), "C++ client", "three-clients");
}

TEST(FifoServer, UpperCasesWithTheUpperOption) {
    std::string word = pw::random_word(10);
    std::string upper = word;
    for (char& c : upper) c = static_cast<char>(c - 'a' + 'A');
    Session s = cpp_client_session(word + "\n");
    s.flags = "--upper";
    expect_session(s, upper + "\n", "fifo_server --upper answers " + pw::quote(word) + " with " + pw::quote(upper),
                   "step-4-cut-the-byte-stream-into-lines");
}

TEST(FifoServer, ServesOneClientAfterAnother) {
    std::string a = pw::random_word(8), b = pw::random_word(8);
    Session s;
    s.client =
        "printf '%s\\n' \"$A\" | \"$BIN/fifo_client\" \"$DIR\" && printf '%s\\n' \"$B\" | \"$BIN/fifo_client\" "
        "\"$DIR\"";
    s.env = {"A=" + a, "B=" + b};
    s.shown_client = "echo " + a + " | " + pw::program("fifo_client") + " $DIR; echo " + b + " | " +
                     pw::program("fifo_client") + " $DIR";
    expect_session(s, a + "\n" + b + "\n", "two clients, one after the other, each answered; then a clean stop",
                   "step-3-keep-a-handle-on-the-far-end");
}

// The client holds both FIFOs open and sends nothing; the signal must still stop the server.
TEST(FifoServer, StopsOnSigtermWhileAClientIsAttached) {
    expect_clean_stop(
        session("exec 5>\"$DIR/to-server\" 6<\"$DIR/from-server\"", "exec 5>$DIR/to-server 6<$DIR/from-server"),
        "SIGTERM stops fifo_server (exit 0) while a client holds both FIFOs; both FIFOs removed");
}

TEST(FifoServer, StopsOnSigint) {
    Session s = session("true", "true");
    s.stop = "INT";
    expect_clean_stop(s, "SIGINT (Ctrl-C) stops fifo_server with exit status 0, both FIFOs removed");
}

TEST(FifoServer, PrintsUsageWithoutDirectory) {
    RunOptions options;
    options.timeout_seconds = 3;
    RunResult r = pw::run({pw::program("fifo_server")}, options);
    EXPECT_TRUE(pw::Check(r).exits(2).err_mentions("usage").out(""))
        << pw::explain(r, pw::Why()
                              .expected("exit status 2 and a usage line on stderr")
                              .cause("the given main checks its arguments before it builds a MessageServer; did the "
                                     "build use it?")
                              .topic("step-0-see-it-work"));
}

TEST(FifoServer, ReportsAFailedMkfifo) {
    FifoDir dir;
    ASSERT_TRUE(dir.ok());
    RunOptions options;
    options.timeout_seconds = 3;
    std::string missing = dir.path() + "/no-such-dir";
    RunResult r = pw::run({pw::program("fifo_server"), missing}, options);
    EXPECT_TRUE(pw::Check(r).exits(1).err("fifo_server: mkfifo: No such file or directory\n")) << pw::explain(
        r, pw::Why()
               .expected("exit status 1 and stderr \"fifo_server: mkfifo: No such file or directory\\n\"")
               .cause(r.timed_out ? "start() did not return when mkfifo() failed: check what it "
                                    "returns, and on -1 set error_ (fail(\"mkfifo\")) and return false."
                                  : "when mkfifo() returns -1, start() must return false with error() "
                                    "\"mkfifo: \" and strerror(errno) (the fail() helper does it).")
               .topic("step-1-make-the-two-fifos")
               .reproduce(pw::program("fifo_server") + " /no/such/dir"));
}

}  // namespace
