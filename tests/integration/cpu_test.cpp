// CPU recording end to end: real eBPF against fixtures with known hot lines.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

// Every CPU test runs with both samplers: the BPF one, and the perf_event callchain
// fallback for callers without CAP_BPF (chosen through HOTLINE_CPU_BACKEND, which every
// hotline started by the test inherits).
class Backend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ::setenv("HOTLINE_CPU_BACKEND", GetParam().c_str(), 1); }
  void TearDown() override { ::unsetenv("HOTLINE_CPU_BACKEND"); }
};
class CpuLaunch : public Backend {};
class CpuAttach : public Backend {};

RunResult record(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {hotline_bin(), "record", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

TEST_P(CpuLaunch, SingleThreadedHotLineIsFirst) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("single.db");
  RunResult r = record({"--duration", "3s", "-o", db, "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'cpu_backend'"), GetParam());
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty()) << describe(top);
  const auto& first = top["entries"][0];
  EXPECT_EQ(first["file"].get<std::string>().ends_with("single.c"), true) << describe(top);
  EXPECT_EQ(first["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);
  EXPECT_EQ(first["function"], "mix");
  EXPECT_GT(first["self_pct"].get<double>(), 50.0) << describe(top);
  // ~99 Hz for 3 s of one busy thread.
  EXPECT_GT(top["total_samples"].get<int>(), 200);
  EXPECT_LT(top["total_samples"].get<int>(), 400);
  // The caller chain is complete: main is on the stack of nearly every sample.
  bool main_seen = false;
  const auto by_function = top_json(db, {"--by", "function"});
  for (const auto& e : by_function["entries"]) {
    if (e["function"] == "main") main_seen = e["total_pct"].get<double>() > 90.0;
  }
  EXPECT_TRUE(main_seen);
}

TEST_P(CpuAttach, EveryThreadAppearsIncludingOneStartedAfterAttaching) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("threads.db");
  Child target({fixture("threads")});
  std::this_thread::sleep_for(300ms);
  Child recorder({hotline_bin(), "record", "--quiet", "--pid", std::to_string(target.pid()), "--duration", "4s",
                  "-o", db},
                 true);
  std::this_thread::sleep_for(1500ms);
  target.signal(SIGUSR1);  // starts the late thread, after hotline attached
  auto status = recorder.wait(30s);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(*status, 0) << recorder.read_stderr();

  auto top = top_json(db);
  for (const char* marker : {"THREAD_ALPHA_LINE", "THREAD_BETA_LINE", "THREAD_LATE_LINE"}) {
    const auto* e = find_entry(top, "threads.c", line_of("threads.c", marker));
    ASSERT_NE(e, nullptr) << marker << " missing: " << describe(top);
    EXPECT_GT((*e)["samples"].get<int>(), 20) << marker;
  }
  // Three busy threads plus the main one are recorded with their tids.
  std::string threads = query_value(db, "SELECT COUNT(DISTINCT tid) FROM cpu_samples");
  EXPECT_GE(std::stoi(threads), 3);
}

TEST_P(CpuAttach, HotFunctionInSharedLibraryOfPie) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("pie.db");
  Child target({fixture("pie_main")});
  std::this_thread::sleep_for(200ms);
  RunResult r = record({"--pid", std::to_string(target.pid()), "--duration", "3s", "-o", db});
  ASSERT_EQ(r.code, 0) << r.err;
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  const auto& first = top["entries"][0];
  EXPECT_EQ(first["function"], "libhot_work") << describe(top);
  EXPECT_TRUE(first["file"].get<std::string>().ends_with("libhot.c")) << describe(top);
  int line = first["line"].get<int>();
  // The loop of libhot_work: its header or body line.
  int body = line_of("libhot.c", "LIBHOT_LINE");
  EXPECT_TRUE(line == body || line == body - 1) << describe(top);
  const auto* caller = find_entry(top, "pie_main.c", line_of("pie_main.c", "PIE_CALL_LINE"));
  ASSERT_NE(caller, nullptr) << describe(top);
  EXPECT_GT((*caller)["total_pct"].get<double>(), 90.0);
  // The module is recorded with its build id.
  std::string modules = query_value(db, "SELECT build_id FROM modules WHERE path LIKE '%libhot.so'");
  EXPECT_EQ(modules.size(), 40u) << modules;  // hex SHA-1
}

TEST_P(CpuLaunch, InlinedFunctionAtItsOwnLineWithCallerInChain) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("inline.db");
  RunResult r = record({"--duration", "3s", "-o", db, "--", fixture("inline")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto top = top_json(db);
  const int hot = line_of("inline.c", "INLINE_HOT_LINE");
  const int call = line_of("inline.c", "INLINE_CALL_LINE");
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["function"], "inlined_hot") << describe(top);
  EXPECT_EQ(top["entries"][0]["line"], hot) << describe(top);
  const auto* caller = find_entry(top, "inline.c", call);
  ASSERT_NE(caller, nullptr) << describe(top);
  EXPECT_EQ((*caller)["function"], "outer_caller");
  EXPECT_GT((*caller)["total_pct"].get<double>(), 90.0) << describe(top);
  // In the stored tree the inlined frame (inline_depth 1) hangs under its caller's frame
  // (depth 0) at the same address.
  std::string chain = query_value(db,
                            "SELECT pf.function, pf.line, cf.inline_depth FROM stacks c "
                            "JOIN frames cf ON cf.id = c.frame_id JOIN stacks p ON p.id = c.parent "
                            "JOIN frames pf ON pf.id = p.frame_id "
                            "WHERE cf.function = 'inlined_hot' AND p.location_id = c.location_id LIMIT 1");
  EXPECT_EQ(chain, "outer_caller," + std::to_string(call) + ",1");
}

TEST_P(CpuLaunch, ForkedAndExecedDescendantsAreProfiled) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("forker.db");
  RunResult r = record({"--duration", "3s", "-o", db, "--", fixture("forker")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto top = top_json(db);
  const auto* forked = find_entry(top, "forker.c", line_of("forker.c", "FORKED_WORKER_LINE"));
  const auto* execed = find_entry(top, "forker.c", line_of("forker.c", "EXEC_CHILD_LINE"));
  ASSERT_NE(forked, nullptr) << describe(top);
  ASSERT_NE(execed, nullptr) << describe(top);
  EXPECT_GT((*forked)["samples"].get<int>(), 50);
  EXPECT_GT((*execed)["samples"].get<int>(), 20);
  // The parent and its three children are in the processes table, linked to their parent.
  std::string children = query_value(db, "SELECT COUNT(*) FROM processes WHERE parent_pid = "
                                   "(SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'pids')");
  EXPECT_EQ(children, "3");
  std::string sampled = query_value(db, "SELECT COUNT(DISTINCT pid) FROM cpu_samples");
  EXPECT_GE(std::stoi(sampled), 3);
}

TEST_P(CpuAttach, TargetExitingMidRecordingEndsItWithItsSamples) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("exit.db");
  // 4 s: hotline's start-up (half a second or more on a loaded machine, plus the exact
  // heap's calibration) leaves well over 150 samples at 99 Hz before the target exits.
  Child target({fixture("single"), "4"});
  std::this_thread::sleep_for(200ms);
  auto start = std::chrono::steady_clock::now();
  RunResult r = record({"--pid", std::to_string(target.pid()), "--duration", "30s", "-o", db});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_LT(took, 10s) << "recording did not end when its target exited";
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);
  EXPECT_GT(top["total_samples"].get<int>(), 150);
  std::string exited = query_value(db, "SELECT COUNT(*) FROM processes WHERE exit_ms IS NOT NULL");
  EXPECT_EQ(exited, "1");
}

TEST_P(CpuLaunch, KernelHeavyWorkShowsKernelFrames) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("syscalls.db");
  RunResult r = record({"--duration", "3s", "-o", db, "--", fixture("syscalls")});
  ASSERT_EQ(r.code, 0) << r.err;
  // Most samples end in kernel code, named from /proc/kallsyms.
  std::string kernel_share = query_value(db,
                                   "SELECT SUM(s.count) * 100 / (SELECT SUM(count) FROM cpu_samples) "
                                   "FROM cpu_samples s JOIN stacks st ON st.id = s.stack_id "
                                   "JOIN frames f ON f.id = st.frame_id JOIN modules m ON m.id = f.module_id "
                                   "WHERE m.path = '[kernel]'");
  EXPECT_GT(std::stoi(kernel_share), 40) << kernel_share;
  std::string named = query_value(db, "SELECT COUNT(DISTINCT f.function) FROM frames f JOIN modules m ON m.id = f.module_id "
                                "WHERE m.path = '[kernel]' AND f.function <> '[kernel]'");
  EXPECT_GT(std::stoi(named), 3) << "kernel frames are not named";
  // The write path is on the stack: a vfs or syscall entry function appears.
  std::string write_path = query_value(db, "SELECT COUNT(*) FROM frames WHERE function LIKE '%vfs_write%' "
                                     "OR function LIKE '%sys_write%'");
  EXPECT_GT(std::stoi(write_path), 0);
}

}  // namespace
}  // namespace hotline::test

namespace hotline::test {
namespace {

TEST_P(CpuLaunch, JitCodeIsNamedFromItsPerfMap) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("jit.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "2s", "-o", db, "--", fixture("jit")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto top = top_json(db);
  std::string pid = top["pids"];
  ::unlink(("/tmp/perf-" + pid + ".map").c_str());
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["function"], "jit_hot_loop") << describe(top);
  EXPECT_GT(top["entries"][0]["self_pct"].get<double>(), 80.0);
}

TEST_P(CpuLaunch, VdsoFramesAreNamed) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string db = dir.file("vdso.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "2s", "-o", db, "--", fixture("vdso")});
  ASSERT_EQ(r.code, 0) << r.err;
  // Most time is in the vdso: in __vdso_clock_gettime, or in its unexported helpers, which
  // are grouped as one "[vdso]" frame rather than scattered over offsets.
  RunResult q = run({hotline_bin(), "query", db,
                     "SELECT f.function, SUM(s.count) FROM cpu_samples s JOIN stacks st ON st.id = s.stack_id "
                     "JOIN frames f ON f.id = st.frame_id JOIN modules m ON m.id = f.module_id "
                     "WHERE m.path = '[vdso]' GROUP BY f.function ORDER BY 2 DESC",
                     "--csv"});
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_NE(q.out.find("__vdso_clock_gettime,"), std::string::npos) << q.out;
  EXPECT_EQ(q.out.find("[vdso+"), std::string::npos) << q.out;
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  std::string first = top["entries"][0]["function"];
  EXPECT_TRUE(first == "[vdso]" || first == "__vdso_clock_gettime") << describe(top);
}

INSTANTIATE_TEST_SUITE_P(Samplers, CpuLaunch, ::testing::Values("bpf", "perf"),
                         [](const auto& info) { return info.param; });
INSTANTIATE_TEST_SUITE_P(Samplers, CpuAttach, ::testing::Values("bpf", "perf"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace hotline::test
