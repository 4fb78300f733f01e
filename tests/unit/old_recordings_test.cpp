// Recordings written by earlier releases stay readable by every command: files of schema 1
// (CPU only), 2 (CPU and heap) and 3 (typed samples, off-CPU time), kept in tests/fixtures/recordings/ exactly as those
// releases wrote them (see the README there).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "harness.h"
#include "store/reader.h"
#include "tui/model.h"

namespace hotline {
namespace {

using test::run;
using test::RunResult;

std::string recording(const std::string& name) { return std::string(FIXTURE_SRC_DIR) + "/recordings/" + name; }

nlohmann::json json_of(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {test::hotline_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

const nlohmann::json& first_entry(const nlohmann::json& report) {
  static const nlohmann::json none = nlohmann::json::object();
  return report.contains("entries") && !report["entries"].empty() ? report["entries"][0] : none;
}

class CpuRecording : public ::testing::TestWithParam<std::string> {};

// The demo fixture's hot line (demo.c, DEMO_HOT_LINE) leads every CPU view of both files.
TEST_P(CpuRecording, EveryCommandReadsIt) {
  const std::string db = recording(GetParam());
  const int hot_line = test::line_of("demo.c", "DEMO_HOT_LINE");
  {
    RecordingReader reader(db);
    EXPECT_EQ(reader.schema_version(), GetParam()[1] - '0');
  }

  const nlohmann::json top = json_of({"top", "cpu", db, "--json"});
  const auto& hot = first_entry(top);
  EXPECT_EQ(hot.value("function", ""), "checksum") << top.dump(1);
  EXPECT_EQ(hot.value("line", 0), hot_line);
  EXPECT_GT(hot.value("self_pct", 0.0), 30.0);
  const std::uint64_t total = top.value("total_samples", 0u);
  EXPECT_GT(total, 400u);
  EXPECT_EQ(test::query_value(db, "SELECT SUM(count) FROM cpu_samples"), std::to_string(total));
  bool checksum_found = false;
  const nlohmann::json by_function = json_of({"top", "cpu", db, "--json", "--by", "function"});
  for (const auto& e : by_function["entries"]) {
    if (e.value("function", "") != "checksum") continue;
    checksum_found = true;
    EXPECT_GE(e.value("self_pct", 0.0), hot.value("self_pct", 0.0)) << "a function holds its lines";
  }
  EXPECT_TRUE(checksum_found);

  // Exports: every format, the folded stacks summing to every sample.
  test::TempDir dir;
  for (const std::string format : {"pprof", "folded", "speedscope", "svg", "flamegraph"}) {
    const std::string out = dir.file("out." + format);
    RunResult r = run({test::hotline_bin(), "export", db, "--format", format, "-o", out});
    EXPECT_EQ(r.code, 0) << format << ": " << r.err;
  }
  RunResult folded = run({test::hotline_bin(), "export", db, "--format", "folded"});
  ASSERT_EQ(folded.code, 0) << folded.err;
  std::uint64_t sum = 0;
  for (std::size_t at = 0; at < folded.out.size();) {
    const std::size_t nl = folded.out.find('\n', at);
    const std::string row = folded.out.substr(at, nl - at);
    sum += std::stoull(row.substr(row.rfind(' ') + 1));
    at = nl == std::string::npos ? folded.out.size() : nl + 1;
  }
  EXPECT_EQ(sum, total);

  // Diff against the other file of the same program: the same hot line on both sides.
  const std::string other = recording(GetParam().starts_with("v1") ? "v2-cpu.db" : "v1-cpu.db");
  RunResult diff = run({test::hotline_bin(), "diff", other, db});
  EXPECT_EQ(diff.code, 0) << diff.err;
  EXPECT_NE(diff.out.find("checksum"), std::string::npos) << diff.out;

  // The live view's model (`hotline view` draws it).
  RecordingReader reader(db);
  const ViewData view = load_view(reader, {});
  ASSERT_FALSE(view.cpu.empty());
  EXPECT_EQ(view.cpu[0].function, "checksum");
  EXPECT_EQ(view.cpu[0].line, hot_line);
  EXPECT_EQ(view.samples, total);
  EXPECT_TRUE(view.finished);
  EXPECT_FALSE(stacks_through(reader, view.cpu[0].file, hot_line, 5).empty());
}

INSTANTIATE_TEST_SUITE_P(Schemas, CpuRecording, ::testing::Values("v1-cpu.db", "v2-cpu.db", "v3-cpu.db"),
                         [](const auto& info) { return info.param.substr(0, 2); });

class HeapRecording : public ::testing::TestWithParam<std::string> {};

// The heap fixture (heap.c, --run): 64 MiB live at HEAP_LIVE_LINE, 1 GiB churned at
// HEAP_CHURN_LINE, 93 MiB leaked at exit.
TEST_P(HeapRecording, EveryHeapViewReadsIt) {
  const std::string db = recording(GetParam());
  const nlohmann::json live = json_of({"top", "heap", db, "--json"});
  const auto& first = first_entry(live);
  EXPECT_EQ(first.value("line", 0), test::line_of("heap.c", "HEAP_LIVE_LINE")) << live.dump(1);
  // Exact in exact mode; the sampled file's weights are estimates (within a percent here).
  EXPECT_NEAR(static_cast<double>(first.value("live_bytes", std::int64_t{0})), 64.0 * (1 << 20), 0.64 * (1 << 20));
  EXPECT_EQ(live.value("heap_mode", ""), GetParam() == "v2-heap-exact.db" ? "exact" : "sampled");
  const nlohmann::json alloc = json_of({"top", "heap", db, "--json", "--metric", "alloc"});
  EXPECT_EQ(first_entry(alloc).value("line", 0), test::line_of("heap.c", "HEAP_CHURN_LINE")) << alloc.dump(1);
  const nlohmann::json leaks = json_of({"top", "heap", db, "--json", "--leaks"});
  EXPECT_TRUE(leaks.value("leaks", false));
  EXPECT_NEAR(static_cast<double>(leaks.value("live_bytes", std::int64_t{0})), 93.0 * (1 << 20), 1.0 * (1 << 20));

  test::TempDir dir;
  for (const std::string type : {"heap-live", "heap-alloc"}) {
    for (const std::string format : {"pprof", "folded", "flamegraph"}) {
      const std::string out = dir.file(type + "." + format);
      RunResult r = run({test::hotline_bin(), "export", db, "--type", type, "--format", format, "-o", out});
      EXPECT_EQ(r.code, 0) << type << " " << format << ": " << r.err;
    }
  }
  RecordingReader reader(db);
  const ViewData view = load_view(reader, {});
  EXPECT_TRUE(view.has_heap);
  ASSERT_FALSE(view.heap.empty());
  EXPECT_EQ(view.heap[0].line, test::line_of("heap.c", "HEAP_LIVE_LINE"));
}

INSTANTIATE_TEST_SUITE_P(Schemas, HeapRecording, ::testing::Values("v2-heap-exact.db", "v2-heap-sampled.db"),
                         [](const auto& info) { return info.param == "v2-heap-exact.db" ? "exact" : "sampled"; });

// Schema 3 with off-CPU time (offcpu.c): its views, and `events`, which it predates.
TEST(OffCpuRecording, SchemaThreeReadsWithoutEvents) {
  const std::string db = recording("v3-offcpu.db");
  {
    RecordingReader reader(db);
    EXPECT_EQ(reader.schema_version(), 3);
    EXPECT_TRUE(reader.events().empty());
  }
  // (By function: the fixture's lines have moved since the file was written.)
  const nlohmann::json offcpu = json_of({"top", "offcpu", db, "--json", "--top", "100", "--by", "function"});
  bool reader_seen = false;
  for (const auto& e : offcpu["entries"]) {
    if (e["function"] == "reader") {
      reader_seen = true;
      EXPECT_NEAR(e.value("total_offcpu_ms", 0.0), 2000.0, 100.0) << e.dump();
      EXPECT_NE(e.value("reason", "").find("pipe_read"), std::string::npos) << e.dump();
    }
  }
  EXPECT_TRUE(reader_seen) << offcpu.dump(1);
  EXPECT_TRUE(offcpu["abnormal_exits"].empty());
  const nlohmann::json wall = json_of({"top", "wall", db, "--json", "--by", "thread"});
  EXPECT_EQ(wall["threads"].size(), 5u) << wall.dump(1);
  const nlohmann::json events = json_of({"events", db, "--json"});
  EXPECT_EQ(events["recorded"], false);
  EXPECT_TRUE(events["events"].empty());
  RunResult text = run({test::hotline_bin(), "events", db});
  EXPECT_EQ(text.code, 0);
  EXPECT_NE(text.out.find("recorded before hotline kept process events"), std::string::npos) << text.out;
}

}  // namespace
}  // namespace hotline
