// Storage round trip and the reports computed from it, on a synthetic recording whose
// answers are known exactly.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "report/events_report.h"
#include "report/query_render.h"
#include "report/top.h"
#include "store/query.h"
#include "store/reader.h"
#include "store/sample_types.h"
#include "store/schema.h"
#include "store/writer.h"
#include "util/error.h"
#include "util/files.h"

namespace hotline {
namespace {

// A CPU sample row, as the recorder writes it.
void add_cpu(RecordingWriter& w, std::int64_t checkpoint, std::int64_t stack, pid_t pid, pid_t tid, std::uint64_t n) {
  const SampleValue v{w.sample_type(sample_types::cpu), n};
  w.add_sample(checkpoint, stack, pid, tid, {&v, 1});
}


using std::chrono::milliseconds;

// main(app.c:10) -> work(app.c:20) -> hot(app.c:30)   [leaf]
// main(app.c:10) -> work(app.c:21)                     [leaf]
// main(app.c:10) -> recurse(app.c:40) -> recurse(app.c:40) [leaf, recursion]
// Checkpoint 1 (0..1000 ms): hot x 60, work:21 x 20
// Checkpoint 2 (1000..2000 ms): hot x 10, recurse x 30
// Checkpoint 3 (2000..3000 ms): work:21 x 80
class Recording : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("synthetic.db");
    create_private_file(path_, false);
    RecordingWriter w(path_);
    w.set_meta("process_name", "app");
    w.set_meta("pids", "42");
    w.set_meta("cpu_frequency_hz", "99");
    std::int64_t mod = w.module_id("/usr/bin/app", "abcd");
    auto node = [&](std::int64_t parent, const char* fn, int line, std::uint64_t addr) {
      return w.stack_node(parent, w.frame_id({fn, "/src/app.c", line, 0, mod}), w.location_id(mod, addr));
    };
    std::int64_t main_ = node(0, "main", 10, 0x100);
    std::int64_t work20 = node(main_, "work", 20, 0x200);
    std::int64_t hot = node(work20, "hot", 30, 0x300);
    std::int64_t work21 = node(main_, "work", 21, 0x210);
    std::int64_t rec1 = node(main_, "recurse", 40, 0x400);
    std::int64_t rec2 = node(rec1, "recurse", 40, 0x400);
    auto c1 = w.begin_checkpoint(1000);
    add_cpu(w, c1, hot, 42, 42, 60);
    add_cpu(w, c1, work21, 42, 43, 20);
    w.add_thread(42, 42, "app");
    w.commit_checkpoint();
    auto c2 = w.begin_checkpoint(2000);
    add_cpu(w, c2, hot, 42, 42, 10);
    add_cpu(w, c2, rec2, 42, 42, 30);
    w.commit_checkpoint();
    auto c3 = w.begin_checkpoint(3000);
    add_cpu(w, c3, work21, 42, 43, 80);
    w.commit_checkpoint();
    w.finish();
  }

  const TopEntry* entry(const TopReport& r, const std::string& fn, int line) {
    for (const auto& e : r.entries) {
      if (e.function == fn && e.line == line) return &e;
    }
    return nullptr;
  }

  test::TempDir dir_;
  std::string path_;
};

TEST_F(Recording, RoundTripKeepsMetaFramesAndPrefixTree) {
  RecordingReader reader(path_);
  EXPECT_EQ(reader.meta_or("process_name"), "app");
  EXPECT_EQ(reader.meta_or("format"), "hotline-recording");
  EXPECT_EQ(reader.checkpoints().size(), 3u);
  // Each frame once: main, work:20, hot, work:21, recurse.
  EXPECT_EQ(reader.frames().size(), 5u);
  // Six tree nodes; the recursion is two nodes sharing one frame.
  auto stacks = reader.stacks();
  EXPECT_EQ(stacks.size(), 6u);
  std::size_t roots = 0;
  for (const auto& [id, n] : stacks) roots += n.parent == 0;
  EXPECT_EQ(roots, 1u);
}

TEST_F(Recording, TopCpuSelfAndTotalPercentages) {
  RecordingReader reader(path_);
  auto r = cpu_top(reader, {});
  EXPECT_EQ(r.total_samples, 200u);
  ASSERT_FALSE(r.entries.empty());
  // Ranked by self samples: work:21 (100), hot (70), recurse (30).
  EXPECT_EQ(r.entries[0].function, "work");
  EXPECT_EQ(r.entries[0].line, 21);
  EXPECT_DOUBLE_EQ(r.entries[0].self_pct, 50.0);
  const TopEntry* hot = entry(r, "hot", 30);
  ASSERT_NE(hot, nullptr);
  EXPECT_EQ(hot->self_samples, 70u);
  EXPECT_DOUBLE_EQ(hot->total_pct, 35.0);
  const TopEntry* main_ = entry(r, "main", 10);
  ASSERT_NE(main_, nullptr);
  EXPECT_EQ(main_->self_samples, 0u);
  EXPECT_DOUBLE_EQ(main_->total_pct, 100.0);
  // Recursion is counted once per sample in total.
  const TopEntry* rec = entry(r, "recurse", 40);
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->total_samples, 30u);
  EXPECT_EQ(rec->self_samples, 30u);
}

TEST_F(Recording, TimeWindowsSelectCheckpoints) {
  RecordingReader reader(path_);
  TopOptions o;
  o.window.since = milliseconds(1000);  // last second: checkpoint 3
  EXPECT_EQ(cpu_top(reader, o).total_samples, 80u);
  o = {};
  o.window.until = milliseconds(1000);  // first second: checkpoint 1
  EXPECT_EQ(cpu_top(reader, o).total_samples, 80u);
  o = {};
  o.window.range = {milliseconds(1000), milliseconds(2000)};  // checkpoint 2
  auto r = cpu_top(reader, o);
  EXPECT_EQ(r.total_samples, 40u);
  EXPECT_EQ(r.entries[0].function, "recurse");
  o = {};
  o.window.since = milliseconds(2000);  // checkpoints 2 and 3
  EXPECT_EQ(cpu_top(reader, o).total_samples, 120u);
  o = {};
  o.window.range = {milliseconds(10000), milliseconds::max()};
  EXPECT_THROW(cpu_top(reader, o), Error);
}

TEST_F(Recording, FilterTopThresholdAndGrouping) {
  RecordingReader reader(path_);
  TopOptions o;
  o.filter = "HOT";
  auto r = cpu_top(reader, o);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].function, "hot");
  EXPECT_DOUBLE_EQ(r.entries[0].self_pct, 35.0);  // percentages stay relative to everything
  o = {};
  o.top = 2;
  EXPECT_EQ(cpu_top(reader, o).entries.size(), 2u);
  o = {};
  o.threshold_pct = 40;  // work:21 (50% self) and main (100% total) only
  EXPECT_EQ(cpu_top(reader, o).entries.size(), 2u);
  o = {};
  o.by = GroupBy::function;
  r = cpu_top(reader, o);
  const TopEntry* work = nullptr;
  for (const auto& e : r.entries) work = e.function == "work" ? &e : work;
  ASSERT_NE(work, nullptr);
  EXPECT_EQ(work->self_samples, 100u);
  EXPECT_EQ(work->total_samples, 170u);  // work:20 (under hot) + work:21
  o.by = GroupBy::file;
  r = cpu_top(reader, o);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].file, "/src/app.c");
  EXPECT_DOUBLE_EQ(r.entries[0].total_pct, 100.0);
}

TEST_F(Recording, JsonAndCsvShapes) {
  RecordingReader reader(path_);
  auto r = cpu_top(reader, {});
  auto j = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(j["file"], path_);
  EXPECT_EQ(j["duration_ms"], 3000);
  EXPECT_EQ(j["total_samples"], 200);
  ASSERT_TRUE(j["entries"].is_array());
  for (const char* key : {"self_pct", "total_pct", "samples", "function", "file", "line"}) {
    EXPECT_TRUE(j["entries"][0].contains(key)) << key;
  }
  EXPECT_EQ(j["entries"][0]["line"], 21);
  std::string csv = render_csv(r);
  EXPECT_TRUE(csv.starts_with("self_pct,total_pct,samples,total_samples,function,file,line\n")) << csv;
  EXPECT_NE(csv.find(",work,/src/app.c,21\n"), std::string::npos) << csv;
  std::string text = render_text(r, GroupBy::line);
  EXPECT_NE(text.find("/src/app.c:21"), std::string::npos) << text;
}

// Schema 3: typed values in one table, the types named once, zero values not stored, and
// each module's executable segments kept with it.
TEST(RecordingV3, TypedSamplesAndModuleSegmentsRoundTrip) {
  test::TempDir dir;
  const std::string path = dir.file("v3.db");
  create_private_file(path, false);
  {
    RecordingWriter w(path);
    const std::int64_t mod = w.module_id("/usr/lib/libx.so", "ab12", {{0x1000, 0x5000, 0x1000}, {0x9000, 0x9800, 0x8000}});
    EXPECT_EQ(w.module_id("/usr/lib/libx.so", "ab12", {{0, 1, 0}}), mod) << "interned: segments stored once";
    const std::int64_t leaf = w.stack_node(0, w.frame_id({"grow", "/src/x.c", 7, 0, mod}), w.location_id(mod, 0x1234));
    const std::int64_t c = w.begin_checkpoint(1000);
    const SampleValue heap[] = {{w.sample_type(sample_types::heap_alloc_bytes), 4096},
                                {w.sample_type(sample_types::heap_alloc_count), 2},
                                {w.sample_type(sample_types::heap_free_bytes), 0},
                                {w.sample_type(sample_types::heap_free_count), 0}};
    w.add_sample(c, leaf, 9, 0, heap);
    add_cpu(w, c, leaf, 9, 10, 5);
    w.commit_checkpoint();
    w.finish();
  }
  RecordingReader reader(path);
  EXPECT_EQ(reader.schema_version(), kSchemaVersion);
  EXPECT_EQ(test::query_value(path, "SELECT group_concat(name || '/' || unit, ' ') FROM (SELECT * FROM sample_types ORDER BY id)"),
            "heap_alloc_bytes/bytes heap_alloc_count/count heap_free_bytes/bytes heap_free_count/count cpu/samples");
  EXPECT_EQ(test::query_value(path, "SELECT COUNT(*) FROM samples"), "3") << "zero values are not stored";
  const auto heap = reader.heap_counts({1});
  ASSERT_EQ(heap.size(), 1u);
  EXPECT_EQ(heap.begin()->second.alloc_bytes, 4096);
  EXPECT_EQ(heap.begin()->second.alloc_count, 2);
  EXPECT_EQ(heap.begin()->second.free_bytes, 0);
  EXPECT_EQ(reader.cpu_counts({1}).begin()->second, 5u);
  const auto rows = reader.cpu_samples({1});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].tid, 10);
  // The views of schema 1 and 2 answer the old queries.
  EXPECT_EQ(test::query_value(path, "SELECT pid, tid, count FROM cpu_samples"), "9,10,5");
  EXPECT_EQ(test::query_value(path, "SELECT alloc_bytes, alloc_count, free_bytes, free_count FROM heap_samples"),
            "4096,2,0,0");
  const auto segments = reader.module_segments();
  ASSERT_EQ(segments.size(), 1u);
  const auto& s = segments.begin()->second;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].start, 0x1000u);
  EXPECT_EQ(s[0].end, 0x5000u);
  EXPECT_EQ(s[1].file_offset, 0x8000u);
}

TEST_F(Recording, QueryIsReadOnly) {
  RecordingReader reader(path_);
  auto ok = run_readonly_query(reader.db(), "SELECT COUNT(*) AS n FROM cpu_samples");
  ASSERT_EQ(ok.rows.size(), 1u);
  EXPECT_EQ(ok.columns[0], "n");
  EXPECT_EQ(ok.rows[0][0].text.value_or(""), "5");
  for (const char* sql : {"DELETE FROM meta", "UPDATE meta SET value = 'x'", "INSERT INTO meta VALUES ('a', 'b')",
                          "DROP TABLE frames", "CREATE TABLE x(y)", "SELECT 1; DELETE FROM meta",
                          "ATTACH DATABASE '/tmp/other.db' AS o", "PRAGMA journal_mode=WAL", "VACUUM"}) {
    try {
      run_readonly_query(reader.db(), sql);
      ADD_FAILURE() << "ran: " << sql;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::invalid_args) << sql << ": " << e.what();
    }
  }
  // Nothing was changed.
  RecordingReader again(path_);
  EXPECT_EQ(again.meta_or("process_name"), "app");
  EXPECT_THROW(run_readonly_query(reader.db(), "SELEC nonsense"), Error);
  EXPECT_THROW(run_readonly_query(reader.db(), "   "), Error);
}

}  // namespace
}  // namespace hotline

namespace hotline {
namespace {

// Names come from binaries and comm: arbitrary bytes. JSON output must not fail on them
// (found by fuzz_recording).
TEST(JsonOutput, InvalidUtf8IsReplacedNotFatal) {
  TopReport r;
  r.process = "bad\xff";
  r.total_samples = 1;
  r.entries.push_back({1, 1, 100.0, 100.0, "fn\xc3(", "/src/\xfe.c", 3});
  std::string out;
  ASSERT_NO_THROW(out = render_json(r));
  auto j = nlohmann::json::parse(out);
  EXPECT_EQ(j["entries"][0]["function"], "fn\xef\xbf\xbd(");  // U+FFFD
  QueryResult q;
  q.columns = {"name"};
  q.rows.push_back({{std::string("x\xff"), false}});
  ASSERT_NO_THROW(render_query_json(q));
}

}  // namespace
}  // namespace hotline

#include <sqlite3.h>
#include <sys/stat.h>

#include <chrono>

namespace hotline {
namespace {

// A recording is untrusted input: what it holds is checked as it is read.
class HostileRecording : public Recording {
 protected:
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }
  void expect_refused(const std::string& contains) {
    try {
      RecordingReader reader(path_);
      TopOptions options;
      cpu_top(reader, options);
      ADD_FAILURE() << "read a recording that " << contains;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::database) << e.what();
      EXPECT_NE(std::string(e.what()).find(contains), std::string::npos) << e.what();
    }
  }
};

TEST_F(HostileRecording, CountsNearTwoToTheSixtyFourAreRefused) {
  tamper("UPDATE samples SET value = -1 WHERE rowid = 1");  // 2^64 - 1 as an unsigned count
  expect_refused("impossible values");
}

TEST_F(HostileRecording, HugeCountsThatWouldWrapTheTotalAreRefused) {
  tamper("UPDATE samples SET value = 281474976710656");  // 2^48 each
  expect_refused("impossible values");
}

TEST_F(HostileRecording, AViewInPlaceOfATableIsRefusedAtOnce) {
  tamper("DROP VIEW cpu_samples; DROP VIEW heap_samples; DROP TABLE samples; "
         "CREATE VIEW samples(checkpoint_id, type_id, stack_id, pid, tid, value) AS "
         "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT 1, 1, 1, 1, 1, x FROM r");
  const auto start = std::chrono::steady_clock::now();
  expect_refused("is a view, not a table");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// The views kept for queries written against schema 1 and 2 are accepted only as written:
// a recursive one in their place would hang `hotline query` users.
TEST_F(HostileRecording, ACompatibilityViewOtherThanHotlinesIsRefused) {
  tamper("DROP VIEW cpu_samples; CREATE VIEW cpu_samples(checkpoint_id, stack_id, pid, tid, count) AS "
         "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT 1, 1, 1, 1, x FROM r");
  const auto start = std::chrono::steady_clock::now();
  expect_refused("is not the view hotline writes");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HostileFile, AFifoGivenAsARecordingIsRefusedWithoutBlocking) {
  test::TempDir dir;
  const std::string fifo = dir.file("rec.db");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"top", "cpu", fifo}, {"export", fifo, "--format", "folded"},
                                             {"query", fifo, "SELECT 1"}, {"diff", fifo, fifo}, {"view", fifo}}) {
    std::vector<std::string> argv = {test::hotline_bin()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto start = std::chrono::steady_clock::now();
    test::RunResult r = test::run(argv, std::chrono::seconds(20));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5)) << args[0];
    EXPECT_EQ(r.code, 6) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find("is a FIFO, not a recording"), std::string::npos) << r.err;
  }
}

// The process lifecycle: wait statuses decoded as the shell would, the events table round
// trip, and the note `top` prints.
TEST(Events, WaitStatusesAreDecodedIntoKinds) {
  LifecycleEvent e;
  decode_wait_status(3 << 8, false, e);
  EXPECT_EQ(e.kind, EventKind::exit);
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_FALSE(e.signal);
  decode_wait_status(9, false, e);
  EXPECT_EQ(e.kind, EventKind::killed);
  EXPECT_EQ(e.signal, 9);
  EXPECT_FALSE(e.exit_code);
  decode_wait_status(11 | 0x80, false, e);
  EXPECT_EQ(e.kind, EventKind::core_dumped);
  EXPECT_EQ(e.signal, 11);
  decode_wait_status(9, true, e);
  EXPECT_EQ(e.kind, EventKind::oom_killed);
  decode_wait_status(0, true, e);  // chosen by the OOM killer, yet it exited on its own
  EXPECT_EQ(e.kind, EventKind::exit);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(signal_name(9), "SIGKILL");
  EXPECT_EQ(signal_name(11), "SIGSEGV");
  EXPECT_EQ(signal_name(34), "SIGRTMIN");
  EXPECT_EQ(signal_name(36), "SIGRTMIN+2");
  EXPECT_EQ(signal_name(0), "signal 0");
  EXPECT_EQ(signal_name(99), "signal 99");
  EXPECT_EQ(parse_event_kind("oom_killed"), EventKind::oom_killed);
  EXPECT_FALSE(parse_event_kind("vanished"));
}

TEST(Events, RoundTripAndTheAbnormalExitsNote) {
  test::TempDir dir;
  const std::string path = dir.file("events.db");
  create_private_file(path, false);
  {
    RecordingWriter w(path);
    w.begin_checkpoint(1000);
    LifecycleEvent fork;
    fork.ms = 5;
    fork.pid = 11;
    fork.ppid = 10;
    fork.comm = "server";
    fork.kind = EventKind::fork;
    w.add_event(fork);
    LifecycleEvent exec = fork;
    exec.kind = EventKind::exec;
    exec.detail = "/usr/bin/sleep";
    exec.argv0 = "napper";
    w.add_event(exec);
    for (int pid : {12, 13}) {
      LifecycleEvent crash;
      crash.ms = 20;
      crash.pid = pid;
      crash.comm = "worker";
      decode_wait_status(11, false, crash);
      w.add_event(crash);
    }
    LifecycleEvent oom;
    oom.pid = 14;
    oom.comm = "worker";
    decode_wait_status(9, true, oom);
    w.add_event(oom);
    LifecycleEvent stopped;
    stopped.pid = 10;
    stopped.comm = "server";
    decode_wait_status(15, false, stopped);
    stopped.by_hotline = true;  // not abnormal: hotline stopped what it launched
    w.add_event(stopped);
    w.commit_checkpoint();
    w.finish();
  }
  RecordingReader reader(path);
  const auto events = reader.events();
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].kind, EventKind::fork);
  EXPECT_EQ(events[0].ppid, 10);
  EXPECT_EQ(events[1].argv0, "napper");
  EXPECT_EQ(events[1].detail, "/usr/bin/sleep");
  EXPECT_FALSE(events[2].ppid);
  EXPECT_EQ(events[5].by_hotline, true);
  EXPECT_EQ(abnormal_exits_text(abnormal_exits(events)), "2 processes killed by SIGSEGV, 1 OOM-killed");

  EventsOptions one;
  one.pid = 11;
  const auto json = nlohmann::json::parse(render_events_json(events_report(reader, one)));
  ASSERT_EQ(json["events"].size(), 2u);
  EXPECT_EQ(json["events"][0]["kind"], "fork");
  EXPECT_EQ(json["events"][0]["ppid"], 10);
  EXPECT_TRUE(json["events"][0]["exit_code"].is_null());
  EXPECT_EQ(json["events"][1]["argv0"], "napper");
  const auto all = nlohmann::json::parse(render_events_json(events_report(reader, {})));
  EXPECT_EQ(all["events"][2]["signal"], "SIGSEGV");
  EXPECT_EQ(all["events"][4]["kind"], "oom_killed");
  EXPECT_EQ(all["abnormal_exits"].size(), 2u);
  // A kind written by a newer hotline is left out, not misread.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "INSERT INTO events(ms, pid, comm, kind, by_hotline) VALUES (1, 1, 'x', 'teleported', 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  EXPECT_EQ(RecordingReader(path).events().size(), 6u);
}

}  // namespace
}  // namespace hotline
