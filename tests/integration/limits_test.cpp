// Bounded kernel memory: maps that do not fit the memory available are halved until they
// do (down to a floor), announced, and recorded in the meta table.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <fstream>
#include <thread>

#include "collect/cpu_collector.h"
#include "collect/process_tracker.h"
#include "collect/heap_collector.h"
#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

// A memory cgroup (v1 or v2) with a limit, removed (after killing what is left) at the end.
class MemoryCgroup {
 public:
  explicit MemoryCgroup(std::uint64_t limit_bytes) {
    const std::string name = "hotline-test-" + std::to_string(::getpid());
    if (std::filesystem::exists("/sys/fs/cgroup/memory/memory.limit_in_bytes")) {
      path_ = "/sys/fs/cgroup/memory/" + name;
      std::filesystem::create_directory(path_);
      std::ofstream(path_ + "/memory.limit_in_bytes") << limit_bytes;
    } else if (std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers")) {
      path_ = "/sys/fs/cgroup/" + name;
      std::filesystem::create_directory(path_);
      std::ofstream(path_ + "/memory.max") << limit_bytes;
    }
  }
  ~MemoryCgroup() {
    if (path_.empty()) return;
    for (int i = 0; i < 50; ++i) {
      std::ifstream procs(path_ + "/cgroup.procs");
      pid_t pid = 0;
      bool any = false;
      while (procs >> pid) {
        ::kill(pid, SIGKILL);
        any = true;
      }
      if (!any && ::rmdir(path_.c_str()) == 0) return;
      std::this_thread::sleep_for(20ms);
    }
  }
  bool ok() const { return !path_.empty() && std::filesystem::exists(path_ + "/cgroup.procs"); }
  // argv run inside the cgroup (a shell moves itself in, then execs).
  std::vector<std::string> wrap(const std::vector<std::string>& argv) const {
    std::vector<std::string> out = {"/bin/sh", "-c", "echo $$ > \"$0\" && exec \"$@\"", path_ + "/cgroup.procs"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

 private:
  std::string path_;
};

TEST(Limits, MapsAreHalvedToFitAMemoryCgroup) {
  HOTLINE_REQUIRE_ROOT();
  // 16x the default maps ask for ~530 MiB of stack maps; 160 MiB holds hotline and 1/4 of that.
  MemoryCgroup cgroup(160ull << 20);
  ASSERT_TRUE(cgroup.ok()) << "no memory cgroup controller to test with";
  TempDir dir;
  const std::string db = dir.file("halved.db");
  RunResult r = run(cgroup.wrap({hotline_bin(), "record", "-q", "-d", "2s", "--map-scale", "16", "-o", db, "--",
                                 fixture("single")}));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("BPF maps reduced to 1/"), std::string::npos) << r.err;
  const int halvings = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'map_halvings'"));
  EXPECT_GE(halvings, 1);
  const std::uint64_t bytes = std::stoull(query_value(db, "SELECT value FROM meta WHERE key = 'map_bytes'"));
  EXPECT_LT(bytes, 160ull << 20) << "the maps that were kept fit the limit";
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);

  // Without the limit the same request is granted as asked: nothing halved.
  const std::string full = dir.file("full.db");
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "--map-scale", "16", "-o", full, "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("reduced"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(full, "SELECT value FROM meta WHERE key = 'map_halvings'"), "0");
}

std::string meta(const std::string& db, const std::string& key) {
  return query_value(db, "SELECT value FROM meta WHERE key = '" + key + "'");
}

// The default run (CPU and heap exact mode on a running process) in a 100 MB memory cgroup:
// the heap maps are halved to fit (or, below their floor, dropped with the reason), and the
// CPU profile is recorded.
TEST(Limits, TheDefaultRunFitsAHundredMegabyteCgroup) {
  HOTLINE_REQUIRE_ROOT();
  MemoryCgroup cgroup(100ull << 20);
  ASSERT_TRUE(cgroup.ok()) << "no memory cgroup controller to test with";
  Child target({fixture("single")});
  std::this_thread::sleep_for(100ms);
  TempDir dir;
  const std::string db = dir.file("small.db");
  RunResult r = run(cgroup.wrap({hotline_bin(), "record", "-q", "-d", "2s", "--pid", std::to_string(target.pid()),
                                 "-o", db}));
  ASSERT_EQ(r.code, 0) << r.err;
  const bool halved = r.err.find("heap BPF maps reduced to 1/") != std::string::npos;
  const bool dropped = r.err.find("no heap profile") != std::string::npos;
  EXPECT_TRUE(halved || dropped) << "the heap's maps were made to fit, or left out, and it was said: " << r.err;
  if (halved) {
    EXPECT_EQ(meta(db, "heap_mode"), "exact");
  }
  if (dropped) {
    EXPECT_EQ(meta(db, "heap_mode"), "off");
  }
  EXPECT_LT(std::stoull(meta(db, "map_bytes")), 100ull << 20);
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);
}

// --map-scale 64 asks for more than the budget (1/8 of memory) for the CPU and the heap maps
// together: they are halved to fit it, and what they lock is what meta says.
TEST(Limits, EveryMapCountsAgainstOneBudget) {
  HOTLINE_REQUIRE_ROOT();
  Child target({fixture("single")});
  std::this_thread::sleep_for(100ms);
  TempDir dir;
  const std::string db = dir.file("scaled.db");
  const auto start = std::chrono::steady_clock::now();
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "--map-scale", "64", "--max-overhead", "100", "--pid",
                     std::to_string(target.pid()), "-o", db},
                    120s);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 60s);
  const std::uint64_t budget = std::stoull(meta(db, "map_budget_bytes"));
  const std::uint64_t locked = std::stoull(meta(db, "map_bytes"));
  EXPECT_LE(locked, budget);
  EXPECT_GE(std::stoi(meta(db, "map_halvings")) + std::stoi(meta(db, "heap_map_halvings")), 1) << r.err;
  EXPECT_NE(r.err.find("reduced to 1/"), std::string::npos) << r.err;
}

// meta map_bytes is what the kernel says hotline's maps lock (bpftool's bytes_memlock).
TEST(Limits, MetaSaysWhatTheMapsLock) {
  HOTLINE_REQUIRE_ROOT();
  Child target({fixture("single")});
  std::this_thread::sleep_for(100ms);
  TempDir dir;
  const std::string db = dir.file("locked.db");
  Child recorder({hotline_bin(), "record", "-q", "-d", "4s", "--max-overhead", "100", "--pid",
                  std::to_string(target.pid()), "-o", db},
                 true);
  std::this_thread::sleep_for(2500ms);
  RunResult maps = run({"/usr/sbin/bpftool", "map", "show", "-j"});
  ASSERT_EQ(maps.code, 0) << maps.err;
  ASSERT_EQ(recorder.wait(60s).value_or(-1), 0) << recorder.read_stderr();
  const std::set<std::string> ours = {"targets", "stacks0", "stacks1", "counts0", "counts1", "cpu_stats",
                                      "proc_events", "proc_stats", "pending_calls", "live", "sites", "heap_stacks",
                                      "heap_stats", "unwind_procs", "unwind_pages", "unwind_rules", "unwind_tables",
                                      "unwind_requests", "unwind_request_", "unwind_scratch", "hl_unwind_rows"};
  std::uint64_t sum = 0;
  for (const auto& m : nlohmann::json::parse(maps.out)) {
    const std::string name = m.value("name", "");
    if (ours.contains(name) || name.starts_with("cpu_bpf.") || name.starts_with("heap_bpf.") ||
        name.starts_with("proc_bpf.")) {
      sum += m["bytes_memlock"].get<std::uint64_t>();
    }
  }
  const double locked = std::stod(meta(db, "map_bytes"));
  EXPECT_NEAR(static_cast<double>(sum), locked, 0.01 * locked) << "bpftool: " << sum << ", meta: " << locked;
}

// The sizes computed before creating the maps (what the budget is checked against) are
// what the kernel then charges.
TEST(Limits, MapEstimatesMatchTheKernel) {
  HOTLINE_REQUIRE_ROOT();
  BpfProcessTracker::Options topts;
  {
    BpfProcessTracker::Options with_tables;  // the unwind tables' maps sized for use
    with_tables.unwind_tables = true;
    BpfProcessTracker tables(with_tables);
    const double locked = static_cast<double>(tables.tracker_map_bytes());
    EXPECT_NEAR(static_cast<double>(BpfProcessTracker::estimated_map_bytes(with_tables)), locked, 0.02 * locked);
  }
  BpfProcessTracker tracker(topts);
  const double tracker_locked = static_cast<double>(tracker.tracker_map_bytes());
  EXPECT_NEAR(static_cast<double>(BpfProcessTracker::estimated_map_bytes(topts)), tracker_locked, 0.02 * tracker_locked);
  CpuCollector::Options copts;
  copts.targets_fd = tracker.targets_fd();
  CpuCollector cpu(copts);
  const double cpu_locked = static_cast<double>(cpu.map_bytes());
  EXPECT_NEAR(static_cast<double>(cpu.estimated_map_bytes()), cpu_locked, 0.02 * cpu_locked);
  HeapCollector::Options hopts;
  hopts.targets_fd = tracker.targets_fd();
  HeapCollector heap(hopts);
  const double heap_locked = static_cast<double>(heap.map_bytes());
  EXPECT_NEAR(static_cast<double>(HeapCollector::estimated_map_bytes(hopts)), heap_locked, 0.02 * heap_locked);
}

}  // namespace
}  // namespace hotline::test
