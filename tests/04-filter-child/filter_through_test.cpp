// filter_through_test.cpp - black-box tests of lesson 04's program filter_through,
// which the given main builds on the learner's filter_stream().
//
// Every run goes through the sandbox. Inputs are random; the 256 MiB runs are fed by
// the grader's feed_bytes tool (pseudo-random bytes from a seed), so that neither the
// test nor the program under test ever holds them all.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "lesson.hpp"
#include "test_support.hpp"

namespace {

using pw::explain;
using pw::RunOptions;
using pw::RunResult;

const std::string kProgram = "filter_through";

RunResult through(const std::vector<std::string>& command, const std::string& input, RunOptions options = {}) {
    // An absolute path when the program runs in a scratch working directory.
    std::string path = pw::program(kProgram);
    if (!options.working_dir.empty()) path = std::filesystem::absolute(path).string();
    std::vector<std::string> argv{path};
    argv.insert(argv.end(), command.begin(), command.end());
    options.stdin_data = input;
    options.extra_env.push_back("LC_ALL=C");
    return pw::run(argv, options);
}

std::string random_bytes(std::size_t n) {
    static std::mt19937 gen{std::random_device{}()};
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(gen() & 0xff);
    return s;
}

std::string report_line(unsigned long long in, unsigned long long out) {
    return "filter_through: " + std::to_string(in) + " bytes in, " + std::to_string(out) + " bytes out\n";
}

// Why a run that should have passed `want` through did not.
std::string cause(const RunResult& r, const std::string& want) {
    if (r.timed_out) return lesson04::hang_cause(r);
    if (r.term_signal == SIGPIPE)
        return "filter_through was killed by SIGPIPE: the child stopped reading and a write() to its stdin raised "
               "SIGPIPE. Ignore SIGPIPE while you pump and treat EPIPE as \"the child wants no more input\".";
    if (r.term_signal) return "filter_through crashed; run the reproduce command under gdb to see where.";
    if (r.err.find("not written yet") != std::string::npos) {
        std::size_t at = r.err.rfind("filter_through: ") + 16;
        return r.err.substr(at, r.err.find(' ', at) - at) +
               " is still the stub: follow its TODOs in exercises/04-filter-child/filter.cpp.";
    }
    if (!r.left_behind.empty()) return "the child was not reaped: waitpid() for it before filter_stream returns.";
    if (r.err.find(": Broken pipe") != std::string::npos)
        return "EPIPE here is not an error: the child stopped reading its stdin. Close your end, leave the rest "
               "of the input unread, and go on copying the child's output.";
    if (r.out.size() < want.size() && want.compare(0, r.out.size(), r.out) == 0)
        return "the output stops after " + std::to_string(r.out.size()) + " of " + std::to_string(want.size()) +
               " bytes: copy the child's stdout until read() returns 0.";
    if (r.out == want) return "the output is right; the report line on stderr or the exit status is not.";
    return "the output is not what the child printed: copy exactly the bytes read() returns, NUL included.";
}

void expect_passes_through(const std::vector<std::string>& command, const std::string& input, const std::string& want,
                           const std::string& anchor, RunOptions options = {}) {
    RunResult r = through(command, input, options);
    std::string report = report_line(input.size(), want.size());
    EXPECT_TRUE(pw::Check(r).exits(0).out(want).err(report).nothing_left_behind()) << explain(
        r, pw::Why()
               .expected("stdout " + lesson04::shown(want) + ", stderr " + pw::quote(report) + ", exit status 0")
               .cause(cause(r, want))
               .topic(anchor));
}

// filter_through ends as its child did: exit status `code`, `out` and `err`. `fix` is the
// likely cause when filter_through itself ran to its end (else what stopped it is).
void expect_ends_as_the_child(const RunResult& r, int code, const std::string& code_text, const std::string& out,
                              const std::string& err, const std::string& fix, const std::string& anchor) {
    EXPECT_TRUE(pw::Check(r).exits(code).out(out).err(err))
        << explain(r, pw::Why()
                          .expected(code_text + " and stderr " + pw::quote(err))
                          .cause(r.timed_out || r.term_signal ? cause(r, out) : fix)
                          .topic(anchor));
}

TEST(FilterThrough, UppercasesStdinThroughTr) {
    std::string in = pw::random_word(40) + "\n" + pw::random_word(30) + "\n";
    std::string want = in;
    for (auto& c : want) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    expect_passes_through({"tr", "a-z", "A-Z"}, in, want, "streaming-between-two-descriptors");
}

TEST(FilterThrough, ReportsBytesInAndOut) {
    std::string in = random_bytes(70000 + std::random_device{}() % 5000);
    expect_passes_through({"wc", "-c"}, in, std::to_string(in.size()) + "\n", "streaming-between-two-descriptors");
}

TEST(FilterThrough, PreservesNulBytes) {
    std::string in = random_bytes(5000) + std::string(300, '\0') + random_bytes(5000);
    expect_passes_through({"cat"}, in, in, "streaming-between-two-descriptors");
}

TEST(FilterThrough, HandlesAnEmptyInput) {
    expect_passes_through({"cat"}, "", "", "closing-stdin-is-the-childs-end-of-file");
}

TEST(FilterThrough, Streams16MebibytesThroughCat) {
    std::string in = random_bytes(16 << 20);
    RunOptions options;
    options.timeout_seconds = 60;  // 16 MiB on a loaded machine; a deadlock or a spin ends sooner
    options.output_cap = 17 << 20;
    expect_passes_through({"cat"}, in, in, "streaming-between-two-descriptors", options);
}

constexpr unsigned long long k256MiB = 256ull << 20;
constexpr long kMemoryCapKiB = 32 * 1024;

// feed_bytes SEED SIZE CMD...: CMD's stdin is SIZE pseudo-random bytes.
std::vector<std::string> fed(const std::string& seed, const std::vector<std::string>& command) {
    std::vector<std::string> argv{pw::tool("feed_bytes"), seed, std::to_string(k256MiB)};
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

// cat's output is as big as its input: both directions stream 256 MiB at once. The
// peak memory (of feed_bytes, filter_through and cat, the biggest of the three) must
// stay far below the data: filter_through may hold a few chunks, never the stream.
TEST(FilterThrough, Streams256MebibytesInBoundedMemory) {
    std::string seed = std::to_string(std::random_device{}());
    RunOptions options;
    // A long cap, on purpose: 256 MiB on a slow, loaded machine. A hang does not wait for
    // it: the sandbox ends a deadlock or a spin as soon as it sees one.
    options.timeout_seconds = 180;
    RunResult r = pw::run(fed(seed, {pw::program(kProgram), "cat"}), options);
    std::string report = report_line(k256MiB, k256MiB);
    bool small = r.max_rss_kb >= 0 && r.max_rss_kb < kMemoryCapKiB;
    std::string why = cause(r, "");
    if (r.ok() && r.err == report && !small)
        why = "filter_through's peak memory was " + std::to_string(r.max_rss_kb / 1024) +
              " MiB: it holds the data "
              "instead of streaming it. Read the input only as fast as the child takes it, one buffer at a time.";
    else if (r.ok() && r.err != report)
        why = "not every byte went through: the report line counts what the child accepted and what it wrote.";
    std::string cap = "peak memory below " + std::to_string(kMemoryCapKiB / 1024) + " MiB";
    EXPECT_TRUE(
        pw::Check(r).exits(0).err(report).that(small, cap, "peak memory " + std::to_string(r.max_rss_kb) + " KiB"))
        << explain(r,
                   pw::Why()
                       .expected("stderr " + pw::quote(report) + ", exit status 0, " + cap)
                       .cause(why)
                       .topic("streaming-between-two-descriptors")
                       .reproduce("head -c " + std::to_string(k256MiB) + " /dev/urandom | command time -f '%M KiB' " +
                                  pw::program(kProgram) + " cat | wc -c"));
}

// The same 256 MiB through sha256sum, compared with sha256sum run on them directly.
TEST(FilterThrough, Streams256MebibytesIntact) {
    std::string seed = std::to_string(std::random_device{}());
    RunOptions options;
    options.timeout_seconds = 180;  // 256 MiB, twice: a long cap on purpose (a hang ends sooner)
    RunResult reference = pw::run(fed(seed, {"sha256sum"}), options);
    ASSERT_TRUE(reference.ok()) << "the test could not hash its own data: " << reference.status();
    RunResult r = pw::run(fed(seed, {pw::program(kProgram), "sha256sum"}), options);
    std::string report = report_line(k256MiB, reference.out.size());
    EXPECT_TRUE(pw::Check(r).exits(0).out(reference.out).err(report)) << explain(
        r,
        pw::Why()
            .expected("stdout " + pw::quote(reference.out) + " (the hash of the 256 MiB), stderr " + pw::quote(report))
            .cause(r.ok() && r.out != reference.out ? "bytes were lost, repeated or changed on the way to the child."
                                                    : cause(r, reference.out))
            .topic("streaming-between-two-descriptors")
            .reproduce("head -c " + std::to_string(k256MiB) + " /dev/urandom | tee >(sha256sum >&2) | " +
                       pw::program(kProgram) + " sha256sum"));
}

// head -c 100 exits after 100 bytes: the rest of the megabyte is left unread on purpose.
TEST(FilterThrough, StopsFeedingWhenHeadStopsReading) {
    std::string in = random_bytes(1 << 20);
    RunResult r = through({"head", "-c", "100"}, in);
    static const std::regex report("filter_through: [0-9]+ bytes in, 100 bytes out\n");
    std::string want = in.substr(0, 100);
    std::string report_text = "stderr \"filter_through: N bytes in, 100 bytes out\\n\"";
    EXPECT_TRUE(pw::Check(r).exits(0).out(want).that(std::regex_match(r.err, report), report_text, pw::quote(r.err)))
        << explain(r, pw::Why()
                          .expected("stdout: the first 100 bytes of the input; " + report_text + "; exit status 0")
                          .cause(cause(r, want))
                          .topic("when-the-child-stops-reading-sigpipe-and-epipe"));
}

// ---- exit status: the child's, in the shell's convention -----------------------------

TEST(FilterThrough, ExitsWithTheChildsStatus) {
    std::string in = pw::random_word(20);
    RunResult r = through({"sh", "-c", "cat; exit 3"}, in);
    std::string err = report_line(in.size(), in.size()) + "filter_through: sh exited with status 3\n";
    expect_ends_as_the_child(r, 3, "exit status 3", in, err,
                             "filter_stream must record the child's exit status (WEXITSTATUS) and say \"sh exited "
                             "with status 3\".",
                             "saying-how-the-child-ended");
}

TEST(FilterThrough, ExitsWith128PlusTheSignal) {
    RunResult r = through({"sh", "-c", "kill -TERM $$"}, "");
    std::string err = report_line(0, 0) + "filter_through: sh was killed by signal 15 (Terminated)\n";
    expect_ends_as_the_child(r, 128 + SIGTERM, "exit status 143 (128 + 15)", "", err,
                             "filter_stream must record the signal (WIFSIGNALED, WTERMSIG) and say \"sh was killed "
                             "by signal 15 (Terminated)\".",
                             "saying-how-the-child-ended");
}

TEST(FilterThrough, Exits127WhenTheCommandIsMissing) {
    std::string name = "no-such-command-" + pw::random_word(6);
    RunResult r = through({name}, pw::random_word(10));
    std::string err = report_line(0, 0) + "filter_through: cannot execute " + name + ": No such file or directory\n";
    expect_ends_as_the_child(r, 127, "exit status 127", "", err,
                             "when execvp fails, the child writes errno into a close-on-exec pipe; the parent reads "
                             "it and sets exec_errno and the error.",
                             "when-exec-fails");
}

TEST(FilterThrough, PrintsUsageWithoutCommand) {
    RunResult r = pw::run({pw::program(kProgram)});
    EXPECT_TRUE(pw::Check(r).exits(2).err("usage: filter_through CMD [ARGS...]\n").out(""))
        << explain(r, pw::Why()
                          .expected("exit status 2 and one usage line on stderr")
                          .cause("the given main prints the usage: has given/filter_through_main.cpp been changed?")
                          .topic("the-program-filter_through"));
}

// With five descriptors allowed, the first pipe fits and the second cannot.
TEST(FilterThrough, ReportsAFailedSystemCall) {
    RunOptions options;
    options.max_open_files = 5;
    RunResult r = through({"cat"}, "hello", options);
    std::string err = report_line(0, 0) + "filter_through: pipe: Too many open files\n";
    EXPECT_TRUE(pw::Check(r).exits(1).err(err).nothing_left_behind())
        << explain(r, pw::Why()
                          .expected("exit status 1 and stderr " + pw::quote(err))
                          .cause(r.timed_out || r.term_signal
                                     ? cause(r, "")
                                     : "check every pipe(); when one fails, close what is already open and report "
                                       "\"pipe: \" and strerror(errno) in status.error.")
                          .topic("starting-the-child-with-two-pipes")
                          .reproduce("(ulimit -n 5; echo hello | " + pw::program(kProgram) + " cat)"));
}

TEST(FilterThrough, LeavesNoChildBehind) {
    std::string in = pw::random_word(30);
    RunResult r = through({"cat"}, in);
    EXPECT_TRUE(pw::Check(r).exits(0).out(in).nothing_left_behind())
        << explain(r, pw::Why()
                          .expected("the input on stdout, exit status 0, no process left behind")
                          .cause(cause(r, in))
                          .topic("saying-how-the-child-ended"));
}

// ---- no temporary files ------------------------------------------------------------------

// An empty scratch folder, used as TMPDIR and as the working directory.
struct Scratch {
    std::string path;
    Scratch() {
        std::string pattern = (std::filesystem::temp_directory_path() / "pipeworks-04-XXXXXX").string();
        if (mkdtemp(pattern.data())) path = pattern;
    }
    ~Scratch() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
    std::string listing() const {
        std::string names;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(path, ec)) names += " " + e.path().filename().string();
        return names;
    }
};

RunOptions in_scratch(const Scratch& s) {
    RunOptions o;
    o.working_dir = s.path;
    o.extra_env.push_back("TMPDIR=" + s.path);
    return o;
}

// While the child runs, it lists TMPDIR (= the working directory): a temp-file
// implementation shows its files there, even if it removes them afterwards.
TEST(FilterThrough, CreatesNoFiles) {
    Scratch scratch;
    ASSERT_FALSE(scratch.path.empty()) << "the test could not make its scratch folder";
    std::string in = pw::random_word(5000);
    RunResult r = through({"sh", "-c", "cat >/dev/null; ls -A \"$TMPDIR\""}, in, in_scratch(scratch));
    std::string after = scratch.listing();
    std::string why = cause(r, "");
    if (!r.out.empty() || !after.empty())
        why = "files appeared in TMPDIR while the child ran (" + pw::quote(r.out) + ")" +
              (after.empty() ? std::string() : ", and stayed:" + after) +
              ". Connect the child's stdin and stdout to pipes: no temporary file is needed, or wanted.";
    EXPECT_TRUE(pw::Check(r).exits(0).out("").that(after.empty(), "an empty folder after", "files left:" + after))
        << explain(r, pw::Why()
                          .expected("an empty listing of TMPDIR, taken by the child while it ran, and an empty "
                                    "folder after")
                          .cause(why)
                          .topic("why-not-a-temporary-file")
                          .reproduce("mkdir -p scratch; echo hi | TMPDIR=$PWD/scratch " + pw::program(kProgram) +
                                     " sh -c 'cat >/dev/null; ls -A \"$TMPDIR\"'"));
}

#ifdef __linux__
// The child sees what its stdin and stdout are: both must be pipes, not files.
TEST(FilterThrough, GivesTheChildPipesNotFiles) {
    Scratch scratch;
    ASSERT_FALSE(scratch.path.empty()) << "the test could not make its scratch folder";
    std::string in = pw::random_word(100);
    RunResult r =
        through({"sh", "-c", "cat >/dev/null; readlink /proc/$$/fd/0 /proc/$$/fd/1"}, in, in_scratch(scratch));
    static const std::regex pipes("pipe:\\[[0-9]+\\]\npipe:\\[[0-9]+\\]\n");
    std::string why = cause(r, "");
    if (r.ok() && !std::regex_match(r.out, pipes))
        why = "the child's stdin or stdout is not a pipe (it is " + pw::quote(r.out) +
              "): connect both to pipes "
              "with dup2, and stream.";
    std::string two_pipes = "two lines \"pipe:[N]\": the child's fd 0 and fd 1 are pipes";
    EXPECT_TRUE(pw::Check(r).exits(0).that(std::regex_match(r.out, pipes), two_pipes, pw::quote(r.out))) << explain(
        r, pw::Why()
               .expected(two_pipes)
               .cause(why)
               .topic("why-not-a-temporary-file")
               .reproduce("echo hi | " + pw::program(kProgram) + " sh -c 'readlink /proc/$$/fd/0 /proc/$$/fd/1'"));
}
#endif

}  // namespace
