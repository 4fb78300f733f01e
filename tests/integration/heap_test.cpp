// Heap exact mode end to end: uprobes on the target's allocator, live and allocated bytes
// per allocating line, realloc/calloc/posix_memalign, threads, frees of blocks allocated
// before attaching, the overhead guard, and nothing left attached afterwards.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

constexpr std::int64_t kMiB = 1024 * 1024;

nlohmann::json heap_json(const std::string& db, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {hotline_bin(), "top", "heap", db, "--json", "-n", "50"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

const nlohmann::json* heap_line(const nlohmann::json& report, const std::string& marker) {
  const int line = line_of("heap.c", marker);
  for (const auto& e : report["entries"]) {
    if (e["line"] == line && e["file"].get<std::string>().ends_with("heap.c")) return &e;
  }
  return nullptr;
}

// Records the heap fixture by --pid: hotline attaches first, then the fixture runs its
// phases (SIGUSR1), then the recording ends.
struct HeapRun {
  RunResult result;
  std::string db;
};

HeapRun record_heap_fixture(const TempDir& dir, const std::vector<std::string>& extra) {
  Child target({fixture("heap")});
  std::this_thread::sleep_for(300ms);  // its early allocations happen before attaching
  HeapRun out;
  out.db = dir.file("heap.db");
  std::vector<std::string> argv = {hotline_bin(), "record", "-q", "--pid", std::to_string(target.pid()),
                                   "--duration", "5s", "-o", out.db};
  argv.insert(argv.end(), extra.begin(), extra.end());
  Child recorder(argv, true);
  std::this_thread::sleep_for(1500ms);  // attached (calibration and probes take well under 1 s)
  target.signal(SIGUSR1);
  auto status = recorder.wait(60s);
  out.result.code = status.value_or(-1);
  out.result.err = recorder.read_stderr();
  return out;
}

TEST(HeapExact, LiveAndAllocatedBytesPerLine) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  HeapRun run = record_heap_fixture(dir, {"--heap", "exact", "--max-overhead", "100"});
  ASSERT_EQ(run.result.code, 0) << run.result.err;
  EXPECT_EQ(query_value(run.db, "SELECT value FROM meta WHERE key = 'heap_mode'"), "exact");
  EXPECT_NE(query_value(run.db, "SELECT value FROM meta WHERE key = 'heap_probes'").find("malloc@libc.so.6"),
            std::string::npos);

  auto live = heap_json(run.db);
  // 64 MiB kept at the live line: first, within 1%.
  ASSERT_FALSE(live["entries"].empty()) << live.dump(1);
  EXPECT_EQ(live["entries"][0]["line"], line_of("heap.c", "HEAP_LIVE_LINE")) << live.dump(1);
  const auto* l1 = heap_line(live, "HEAP_LIVE_LINE");
  ASSERT_NE(l1, nullptr);
  EXPECT_NEAR((*l1)["live_bytes"].get<double>(), 64.0 * kMiB, 0.01 * 64 * kMiB);
  EXPECT_EQ((*l1)["alloc_count"], 64);

  // 1 GiB churned through malloc/free at the churn line: allocated within 1%, nothing live.
  auto alloc = heap_json(run.db, {"--metric", "alloc"});
  const auto* l2 = heap_line(alloc, "HEAP_CHURN_LINE");
  ASSERT_NE(l2, nullptr) << alloc.dump(1);
  EXPECT_EQ(alloc["entries"][0]["line"], line_of("heap.c", "HEAP_CHURN_LINE"));
  EXPECT_NEAR((*l2)["alloc_bytes"].get<double>(), 1024.0 * kMiB, 0.01 * 1024 * kMiB);
  EXPECT_EQ((*l2)["alloc_count"], 16384);
  EXPECT_EQ((*l2)["live_bytes"], 0);

  // realloc growth 1 KiB → 8 MiB: every step allocated, the moved-from blocks freed, 8 MiB live.
  const auto* l3 = heap_line(live, "HEAP_REALLOC_LINE");
  ASSERT_NE(l3, nullptr);
  EXPECT_EQ((*l3)["live_bytes"], 8 * kMiB);
  EXPECT_EQ((*l3)["alloc_bytes"], 16 * kMiB - 1024);
  EXPECT_EQ((*l3)["alloc_count"], 14);
  const auto* l4 = heap_line(live, "HEAP_CALLOC_LINE");
  ASSERT_NE(l4, nullptr);
  EXPECT_EQ((*l4)["live_bytes"], 4 * kMiB);
  const auto* l5 = heap_line(live, "HEAP_MEMALIGN_LINE");
  ASSERT_NE(l5, nullptr);
  EXPECT_EQ((*l5)["live_bytes"], 2 * kMiB);
  const auto* l6 = heap_line(live, "HEAP_THREAD_LINE");
  ASSERT_NE(l6, nullptr);
  EXPECT_EQ((*l6)["live_bytes"], 16 * kMiB) << "4 threads x 4 MiB";
  EXPECT_EQ((*l6)["alloc_count"], 16);

  // Blocks allocated before attaching and freed after: counted as untracked frees, never
  // as negative live bytes.
  EXPECT_GE(live["untracked_frees"].get<int>(), 100);
  for (const auto& e : live["entries"]) EXPECT_GE(e["live_bytes"].get<std::int64_t>(), 0) << e.dump();
  EXPECT_GE(live["live_bytes"].get<std::int64_t>(), 94 * kMiB);
  EXPECT_GE(live["peak_bytes"].get<std::int64_t>(), live["live_bytes"].get<std::int64_t>());

  // --at before the phases: nothing of them is live yet.
  auto early = heap_json(run.db, {"--at", "1s"});
  EXPECT_EQ(heap_line(early, "HEAP_LIVE_LINE"), nullptr) << early.dump(1);
}

TEST(HeapExact, TheOverheadGuardDetachesAnAllocationHeavyTarget) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  HeapRun run = record_heap_fixture(dir, {"--heap", "exact"});  // default --max-overhead 5
  ASSERT_EQ(run.result.code, 0) << run.result.err;
  EXPECT_NE(run.result.err.find("heap probes detached"), std::string::npos) << run.result.err;
  EXPECT_NE(run.result.err.find("--max-overhead=100"), std::string::npos) << "the way to keep them is named";
  EXPECT_EQ(query_value(run.db, "SELECT value FROM meta WHERE key = 'heap_mode'"), "detached");
  EXPECT_NE(query_value(run.db, "SELECT value FROM meta WHERE key = 'heap_decision'").find("detached:"),
            std::string::npos);
  // CPU profiling went on: the recording has its full length.
  EXPECT_GE(std::stoi(query_value(run.db, "SELECT value FROM meta WHERE key = 'duration_ms'")), 4500);
}

TEST(HeapExact, NoProbeRemainsAfterHotlineEnds) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  Child target({fixture("heap")});
  std::this_thread::sleep_for(200ms);
  auto uprobe_links = [] {
    RunResult r = run({"/usr/sbin/bpftool", "link", "list"});
    std::size_t n = 0, pos = 0;
    while ((pos = r.out.find("uprobe", pos)) != std::string::npos) {
      ++n;
      ++pos;
    }
    RunResult p = run({"/usr/sbin/bpftool", "perf", "list"});
    pos = 0;
    while ((pos = p.out.find("uprobe", pos)) != std::string::npos) {
      ++n;
      ++pos;
    }
    return n;
  };
  const std::size_t before = uprobe_links();
  Child recorder({hotline_bin(), "record", "-q", "--pid", std::to_string(target.pid()), "--heap", "exact",
                  "--max-overhead", "100", "-o", dir.file("t.db")},
                 true);
  std::this_thread::sleep_for(1500ms);
  EXPECT_GT(uprobe_links(), before) << "the probes were visible while recording";
  recorder.signal(SIGTERM);
  auto status = recorder.wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << recorder.read_stderr();
  EXPECT_EQ(uprobe_links(), before) << "every uprobe is gone after SIGTERM";
}

}  // namespace
}  // namespace hotline::test
