// What a user checks of the recording itself: the file (mode, no overwrite, no symlink),
// default naming, clean ends on signals, SIGKILL durability, exit codes.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

TEST(RecordingFile, IsPrivateNeverOverwrittenNeverThroughASymlink) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("rec.db");
  ::umask(0);  // even a permissive umask must not widen the mode
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", db, "--", fixture("single")});
  ::umask(022);
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(db + "-wal")) << "finished recordings are a single file";

  // Existing file: refused (exit 1) and untouched, unless --force.
  auto size_before = std::filesystem::file_size(db);
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", db, "--", fixture("single")});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::file_size(db), size_before);
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-f", "-o", db, "--", fixture("single")});
  EXPECT_EQ(r.code, 0) << r.err;

  // A symlink planted at the output path is never followed.
  std::string victim = dir.file("victim");
  { std::ofstream(victim) << "precious"; }
  std::string link = dir.file("link.db");
  ASSERT_EQ(::symlink(victim.c_str(), link.c_str()), 0);
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", link, "--", fixture("single")});
  EXPECT_NE(r.code, 0);
  std::ifstream in(victim);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "precious");
}

TEST(RecordingFile, DefaultNameInOutputDirectory) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "--", fixture("single")}, 60s,
                    {{"HOTLINE_OUTPUT_DIR", dir.path()}});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) names.push_back(e.path().filename());
  ASSERT_EQ(names.size(), 1u);
  // hotline.{comm}.{YYMMDDhhmmss}.db
  EXPECT_TRUE(names[0].starts_with("hotline.single.")) << names[0];
  EXPECT_TRUE(names[0].ends_with(".db")) << names[0];
  EXPECT_EQ(names[0].size(), std::string("hotline.single.").size() + 12 + 3) << names[0];
}

TEST(RecordingEnd, SigintClosesCleanlyWithEverySample) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("int.db");
  Child recorder({hotline_bin(), "record", "-q", "-o", db, "--", fixture("single")}, true);
  std::this_thread::sleep_for(2500ms);
  recorder.signal(SIGINT);
  auto status = recorder.wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << recorder.read_stderr();
  EXPECT_FALSE(query_value(db, "SELECT value FROM meta WHERE key = 'end_time'").empty());
  int samples = std::stoi(query_value(db, "SELECT SUM(count) FROM cpu_samples"));
  EXPECT_GT(samples, 150);  // ~2.5 s at 99 Hz, including the last partial checkpoint
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'samples'"), std::to_string(samples));
}

TEST(RecordingEnd, SigkillKeepsEveryCommittedCheckpoint) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("kill.db");
  Child target({fixture("single")});
  Child recorder({hotline_bin(), "record", "-q", "--interval", "200ms", "-o", db, "--pid",
                  std::to_string(target.pid())});
  wait_for_checkpoints(db, 8);
  recorder.signal(SIGKILL);
  ASSERT_TRUE(recorder.wait(10s).has_value());
  int checkpoints = std::stoi(query_value(db, "SELECT COUNT(*) FROM checkpoints"));
  EXPECT_GE(checkpoints, 8);
  int samples = std::stoi(query_value(db, "SELECT SUM(count) FROM cpu_samples"));
  EXPECT_GT(samples, 100);
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE"));
  // The kernel side died with the process: no hotline BPF program is left loaded.
  RunResult progs = run({"/usr/sbin/bpftool", "prog", "show"});
  EXPECT_EQ(progs.out.find("on_cpu_sample"), std::string::npos) << progs.out;
}

TEST(RecordingEnd, LaunchedCommandStatusIsHotlinesStatus) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  RunResult r = run({hotline_bin(), "record", "-q", "-o", dir.file("a.db"), "--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(r.code, 7) << r.err;
  r = run({hotline_bin(), "record", "-q", "-o", dir.file("b.db"), "--", "/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(r.code, 128 + SIGTERM) << r.err;
  // Ended by --duration: the command is stopped, hotline succeeds, no descendant survives.
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("c.db"), "--", fixture("forker")});
  EXPECT_EQ(r.code, 0) << r.err;
  std::this_thread::sleep_for(200ms);
  RunResult ps = run({"/usr/bin/pgrep", "-f", fixture("forker")});
  EXPECT_NE(ps.code, 0) << "left running: " << ps.out;
}

TEST(ExitCodes, InvalidArguments) {
  for (std::vector<std::string> args : {
           std::vector<std::string>{"record"},                                   // no target
           {"record", "--pid", "1", "--process", "x"},                          // two targets
           {"record", "--cpu-freq", "0", "--pid", "1"},                         // out of range
           {"record", "--cpu-freq", "5001", "--pid", "1"},
           {"record", "--duration", "5 minutes", "--pid", "1"},                 // bad duration
           {"record", "--interval", "1x", "--pid", "1"},
           {"record", "--", "/nonexistent/command"},                            // no such command
           {"top", "cpu"},                                                      // missing file
           {"top", "cpu", "x.db", "--by", "module"},
           {"bogus"},
           // Values CLI11 alone would take: NaN passes range checks, 2^64 wraps, "" is a string.
           {"record", "--map-scale", "nan", "--pid", "1"},
           {"record", "--max-overhead", "nan", "--pid", "1"},
           {"top", "cpu", "x.db", "--threshold", "nan"},
           {"top", "cpu", "x.db", "--top", "18446744073709551616"},
           {"top", "heap", "x.db", "--top", "0"},
           {"diff", "a.db", "b.db", "--top", "99999999999"},
           {"record", "-o", "", "--", "/bin/true"},
           {"export", "x.db", "-o", ""},
           {"top", "cpu", "x.db", "--since", "1s", "--window", "0s..2s"},
           {"top", "heap", "x.db", "--until", "1s", "--window", "0s..2s"},
           {"export", "x.db", "--since", "1s", "--window", "0s..2s"},
       }) {
    std::vector<std::string> argv = {hotline_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, 2) << joined << "\n" << r.err;
    EXPECT_FALSE(r.err.empty()) << joined;
  }
  RunResult r = run({hotline_bin(), "record", "--duration", "5 minutes", "--pid", "1"});
  EXPECT_NE(r.err.find("1h30m"), std::string::npos) << "the accepted forms are listed: " << r.err;
  r = run({hotline_bin(), "record", "--map-scale", "nan", "--pid", "1"});
  EXPECT_NE(r.err.find("finite number"), std::string::npos) << r.err;
  r = run({hotline_bin(), "top", "cpu", "x.db", "--top", "18446744073709551616"});
  EXPECT_NE(r.err.find("from 1 to 1000000000"), std::string::npos) << r.err;
  // Nothing is left behind by a refused recording.
  TempDir dir;
  r = run({hotline_bin(), "record", "-q", "--map-scale", "nan", "-o", dir.file("nan.db"), "--", "/bin/true"});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(std::filesystem::exists(dir.file("nan.db")));
}

TEST(RecordingFile, ADirectoryReachedThroughASymlinkIsFine) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::filesystem::create_directory(dir.file("real"));
  std::filesystem::create_directory_symlink(dir.file("real"), dir.file("link"));
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("link/x.db"), "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_regular_file(dir.file("real/x.db")));
  EXPECT_GT(std::stoi(query_value(dir.file("link/x.db"), "SELECT COUNT(*) FROM checkpoints")), 0);
  // The last component is what must not be a symlink: refused, its target untouched.
  std::filesystem::create_symlink(dir.file("real/x.db"), dir.file("real/y.db"));
  const auto size = std::filesystem::file_size(dir.file("real/x.db"));
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("link/y.db"), "--", fixture("single")});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::file_size(dir.file("real/x.db")), size);
}

// A small file system (tmpfs) that fills while recording: the checkpoints committed before
// are kept and readable, the message says how much and what to do, the exit code is 6.
class SmallDisk : public ::testing::Test {
 protected:
  void mount(const std::string& size) {
    ASSERT_EQ(run({"/bin/mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir_.path()}).code, 0);
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) run({"/bin/umount", "-l", dir_.path()});
  }
  TempDir dir_;
  bool mounted_ = false;
};

TEST_F(SmallDisk, FillingUpKeepsWhatWasCommittedAndSaysSo) {
  HOTLINE_REQUIRE_ROOT();
  mount("4m");
  const std::string db = dir_.file("full.db");
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run({hotline_bin(), "record", "-q", "-F", "1000", "-d", "60s", "-o", db, "--", fixture("deep")}, 90s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "the recording stops when the disk is full";
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("is full: recording stopped after"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("checkpoints committed before"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("record to another file system with -o"), std::string::npos) << r.err;
  const int kept = std::stoi(query_value(db, "SELECT COUNT(*) FROM checkpoints"));
  EXPECT_GE(kept, 1);
  EXPECT_NE(r.err.find(fmt::format("the {} checkpoints", kept)), std::string::npos) << r.err;
  auto top = top_json(db);
  EXPECT_GT(top["total_samples"].get<int>(), 0) << "what was kept is readable";
}

TEST_F(SmallDisk, TooSmallForAnythingLeavesNoFile) {
  HOTLINE_REQUIRE_ROOT();
  mount("64k");
  const std::string db = dir_.file("none.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-F", "1000", "-d", "10s", "-o", db, "--", fixture("deep")}, 60s);
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("is full"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
  EXPECT_FALSE(std::filesystem::exists(db + "-wal"));
}

TEST(ExitCodes, ProcessNotFound) {
  RunResult r = run({hotline_bin(), "record", "--pid", "4194303"});
  EXPECT_EQ(r.code, 3) << r.err;
  r = run({hotline_bin(), "record", "--process", "no-such-process-name-xyz"});
  EXPECT_EQ(r.code, 3) << r.err;
  r = run({hotline_bin(), "--pid", "4194303"});  // record is the default subcommand
  EXPECT_EQ(r.code, 3) << r.err;
}

TEST(ExitCodes, SeveralProcessesMatchingANameAreListed) {
  Child a({fixture("threads")});
  Child b({fixture("threads")});
  // Both have executed (their comm is the fixture's, no longer the test binary's).
  auto comm = [](pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    in >> name;
    return name;
  };
  for (int i = 0; i < 250 && (comm(a.pid()) != "threads" || comm(b.pid()) != "threads"); ++i) {
    std::this_thread::sleep_for(20ms);
  }
  RunResult r = run({hotline_bin(), "record", "--process", "threads"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.out.find("PID " + std::to_string(a.pid()) + ": threads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("PID " + std::to_string(b.pid()) + ": threads"), std::string::npos) << r.out;
}

TEST(ExitCodes, PermissionDeniedForAnUnprivilegedUser) {
  HOTLINE_REQUIRE_ROOT();
  Child target({fixture("single")});
  std::this_thread::sleep_for(100ms);
  TempDir dir;
  ::chmod(dir.path().c_str(), 0777);
  RunResult r = run({"/usr/sbin/runuser", "-u", "nobody", "--", hotline_bin(), "record", "-q", "-d", "1s",
                     "-o", dir.file("x.db"), "--pid", std::to_string(target.pid())});
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_NE(r.err.find("setcap"), std::string::npos) << "the remedy is named: " << r.err;
}

TEST(ExitCodes, MissingDebugInfoWhenRequired) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "--require-debuginfo", "-o", dir.file("x.db"),
                     "--", fixture("nodebug")});
  EXPECT_EQ(r.code, 5) << r.err;
  EXPECT_NE(r.err.find("-g"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.db"))) << "refused before creating anything";
  // Without the flag: recorded, with function names and a warning.
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("y.db"), "--", fixture("nodebug")});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("no debug info"), std::string::npos) << r.err;
  auto top = top_json(dir.file("y.db"));
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["function"], "nodebug_spin");
}

TEST(ExitCodes, DatabaseErrors) {
  TempDir dir;
  std::string text = dir.file("notes.txt");
  { std::ofstream(text) << "not a database\n"; }
  RunResult r = run({hotline_bin(), "top", "cpu", text});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("not a hotline recording"), std::string::npos) << r.err;
  r = run({hotline_bin(), "top", "cpu", dir.file("missing.db")});
  EXPECT_EQ(r.code, 6) << r.err;
  // An SQLite file that is not a recording.
  std::string other = dir.file("other.db");
  ASSERT_EQ(run({"/usr/bin/sqlite3", other, "CREATE TABLE t(x); INSERT INTO t VALUES (1);"}).code, 0);
  r = run({hotline_bin(), "query", other, "SELECT * FROM t"});
  EXPECT_EQ(r.code, 6) << r.err;
  // A recording from a newer hotline.
  std::string newer = dir.file("newer.db");
  ASSERT_EQ(run({"/usr/bin/sqlite3", newer,
                 "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); "
                 "INSERT INTO meta VALUES ('format', 'hotline-recording'), ('schema_version', '999');"})
                .code,
            0);
  r = run({hotline_bin(), "top", "cpu", newer});
  EXPECT_EQ(r.code, 6) << r.err;
  EXPECT_NE(r.err.find("newer hotline"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hotline::test

namespace hotline::test {
namespace {

TEST(DataQuality, LostAndTruncatedStacksAreCountedAndReported) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("deep.db");
  // Tiny maps (163 stacks per checkpoint) against thousands of distinct, deep stacks.
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "3s", "-F", "999", "--map-scale", "0.01", "-o", db,
                     "--", fixture("deep")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("samples lost their stack"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--map-scale"), std::string::npos) << "the remedy is named: " << r.err;
  EXPECT_NE(r.err.find("deeper than 127 frames"), std::string::npos) << r.err;
  int lost = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'lost_user_stacks'"));
  int truncated = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'truncated_stacks'"));
  int samples = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'samples'"));
  int dropped = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'dropped_samples'"));
  // Which tiny map fills first varies from run to run: when the counts map is full before a
  // stack is lost, a sample that lost its stack has no room either and is dropped (counted
  // as dropped, not as lost). Either way nothing is lost silently.
  EXPECT_GT(lost + dropped, 0);
  EXPECT_GT(truncated, 0);
  // Lost stacks still count as samples (under a marker frame): totals are not understated,
  // and every lost stack is one of the kept samples (a dropped sample is counted once, as
  // dropped). How many samples a busy thread gets in 3 s depends on who shares the CPUs.
  EXPECT_GT(samples, 100);
  EXPECT_LE(lost, samples);
  // The warning's share is of the samples taken: never above 100%.
  const std::size_t pct = r.err.find("% of samples lost");
  ASSERT_NE(pct, std::string::npos) << r.err;
  const std::size_t start = r.err.rfind(' ', pct) + 1;
  EXPECT_LE(std::stod(r.err.substr(start, pct - start)), 100.0) << r.err;
  EXPECT_EQ(std::to_string(samples), query_value(db, "SELECT SUM(count) FROM cpu_samples"));
  auto top = top_json(db);
  EXPECT_GT(top["lost_samples"].get<int>(), 0);
  EXPECT_GT(top["truncated_stacks"].get<int>(), 0);
  RunResult text = run({hotline_bin(), "top", "cpu", db});
  EXPECT_NE(text.out.find("lost their stack"), std::string::npos) << text.out;
}

TEST(DataQuality, NoWarningsWhenNothingIsLost) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("ok.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", db, "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'lost_user_stacks'"), "0");
}

TEST(RecordingEnd, SigquitExitsAtOnceKeepingCommittedCheckpoints) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("quit.db");
  Child recorder({hotline_bin(), "record", "-q", "--interval", "200ms", "-o", db, "--", fixture("single")});
  wait_for_checkpoints(db, 4);
  recorder.signal(SIGQUIT);
  auto status = recorder.wait(2s);
  ASSERT_TRUE(status.has_value()) << "SIGQUIT did not end hotline at once";
  EXPECT_EQ(*status, 128 + SIGQUIT);
  EXPECT_GE(std::stoi(query_value(db, "SELECT COUNT(*) FROM checkpoints")), 4);
  std::this_thread::sleep_for(100ms);
  RunResult ps = run({"/usr/bin/pgrep", "-f", fixture("single")});
  EXPECT_NE(ps.code, 0) << "the launched command was left running: " << ps.out;
}

TEST(Cli, EnvironmentDefaultsHelpAndVersion) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("env.db");
  // 2 s at 250 ms: 8 checkpoints, fewer when hotline's start-up (before the command runs)
  // takes some of the first interval.
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "2s", "-o", db, "--", fixture("single")}, 60s,
                    {{"HOTLINE_CPU_FREQ", "499"}, {"HOTLINE_INTERVAL", "250ms"}});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'cpu_frequency_hz'"), "499");
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'interval_ms'"), "250");
  EXPECT_GE(std::stoi(query_value(db, "SELECT COUNT(*) FROM checkpoints")), 5);
  r = run({hotline_bin(), "record", "-q", "--pid", "1"}, 60s, {{"HOTLINE_CPU_FREQ", "0"}});
  EXPECT_EQ(r.code, 2) << r.err;

  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"record", "--help"},
                                        {"top", "--help"}, {"top", "cpu", "--help"}, {"query", "--help"}}) {
    std::vector<std::string> argv = {hotline_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult h = run(argv);
    EXPECT_EQ(h.code, 0) << args.back();
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << h.out;
  }
  RunResult v = run({hotline_bin(), "--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_TRUE(v.out.starts_with("hotline ")) << v.out;
}

}  // namespace
}  // namespace hotline::test
