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

const nlohmann::json* heap_line(const nlohmann::json& report, const std::string& marker,
                                const std::string& source = "heap.c") {
  const int line = line_of(source, marker);
  for (const auto& e : report["entries"]) {
    if (e["line"] == line && e["file"].get<std::string>().ends_with("/" + source)) return &e;
  }
  return nullptr;
}

// Records a launched command to its end; returns hotline's result and the recording.
struct LaunchRun {
  RunResult result;
  std::string db;
};
LaunchRun record_command(const TempDir& dir, const std::string& name, const std::vector<std::string>& options,
                         const std::vector<std::string>& command) {
  LaunchRun out;
  out.db = dir.file(name + ".db");
  std::vector<std::string> argv = {hotline_bin(), "record", "-o", out.db};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  out.result = run(argv, std::chrono::seconds(120));
  return out;
}

std::string meta(const std::string& db, const std::string& key) {
  return query_value(db, "SELECT value FROM meta WHERE key = '" + key + "'");
}

double field(const nlohmann::json* entry, const char* name) {
  return entry == nullptr ? -1.0 : (*entry)[name].get<double>();
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

std::size_t uprobe_count() {
  std::size_t n = 0;
  for (const char* what : {"link", "perf"}) {
    RunResult r = run({"/usr/sbin/bpftool", what, "list"});
    // uprobe_multi links are "type 12" to the bpftool of bookworm (7.1), older than them.
    for (const char* name : {"uprobe", "type 12"}) {
      for (std::size_t pos = 0; (pos = r.out.find(name, pos)) != std::string::npos; ++pos) ++n;
    }
  }
  return n;
}

// How the recording ends: SIGTERM to hotline, its --duration, or the target dying.
class HeapCleanup : public ::testing::TestWithParam<std::string> {};

TEST_P(HeapCleanup, NoProbeRemainsAfterHotlineEnds) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  auto target = std::make_unique<Child>(std::vector<std::string>{fixture("heap")});
  std::this_thread::sleep_for(200ms);
  const std::size_t before = uprobe_count();
  std::vector<std::string> argv = {hotline_bin(), "record", "-q", "--pid", std::to_string(target->pid()), "--heap",
                                   "exact", "--max-overhead", "100", "-o", dir.file("t.db")};
  if (GetParam() == "duration") argv.insert(argv.end(), {"--duration", "3s"});
  Child recorder(argv, true);
  std::this_thread::sleep_for(1500ms);
  EXPECT_GT(uprobe_count(), before) << "the probes were visible while recording";
  if (GetParam() == "sigterm") recorder.signal(SIGTERM);
  if (GetParam() == "target-dies") target.reset();  // SIGKILL and reaped
  auto status = recorder.wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << recorder.read_stderr();
  EXPECT_EQ(uprobe_count(), before) << "every uprobe is gone after " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Endings, HeapCleanup, ::testing::Values("sigterm", "duration", "target-dies"));

std::size_t open_fds(pid_t pid) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
  return n;
}

// A shell loop starting ~20 short children a second, with both kinds of probes: per
// process (the default: a set per child, released when it exits) and shared (one set per
// file for all). Either way links and descriptors stay bounded whatever the number of
// children, and SIGTERM ends the recording at once; shared probes see the children from their
// first allocation.
class HeapForking : public ::testing::TestWithParam<std::string> {};

TEST_P(HeapForking, ProbesStayBoundedAndSigtermStopsAtOnce) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  Child loop({"/bin/sh", "-c", "while :; do /bin/true; /bin/sleep 0.03; done"});
  std::this_thread::sleep_for(200ms);
  const std::string db = dir.file("fork.db");
  Child recorder({hotline_bin(), "record", "-q", "--pid", std::to_string(loop.pid()), "--heap", "exact",
                  "--heap-probes", GetParam(), "--max-overhead", "100", "-d", "120s", "-o", db},
                 true);
  std::this_thread::sleep_for(6s);
  const std::size_t links = uprobe_count();
  EXPECT_LE(links, GetParam() == "shared" ? 8u : 16u) << "not a set per child ever forked";
  EXPECT_GE(links, 1u);
  const std::size_t fds = open_fds(recorder.pid());
  EXPECT_LT(fds, 150u) << "descriptors do not grow with the children";
  const auto term = std::chrono::steady_clock::now();
  recorder.signal(SIGTERM);
  auto status = recorder.wait(30s);
  const auto took = std::chrono::steady_clock::now() - term;
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << recorder.read_stderr();
  EXPECT_LT(took, 1500ms) << "SIGTERM honoured at once";
  EXPECT_EQ(uprobe_count(), 0u) << "every probe is gone";
  EXPECT_GT(std::stoi(query_value(db, "SELECT COUNT(*) FROM processes")), 60) << "the children were followed";
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'heap_probe_scope'"), GetParam());
  const int with_heap = std::stoi(query_value(
      db, "SELECT COUNT(DISTINCT pid) FROM heap_samples WHERE pid != " + std::to_string(loop.pid())));
  // Shared: allocations of the children (true and sleep run libc's start-up mallocs).
  if (GetParam() == "shared") {
    EXPECT_GT(with_heap, 20);
  }
}

INSTANTIATE_TEST_SUITE_P(Probes, HeapForking, ::testing::Values("per-process", "shared"));

// Shared probes make other processes trap too: their calls are counted, and the guard
// detaches the probes when they cost more than --max-overhead of a CPU. Per-process probes
// leave them alone.
TEST(HeapExact, SharedProbesCountOtherProcessesAndTheGuardProtectsThem) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  Child target({fixture("single")});  // allocates nothing
  for (const std::string scope : {"shared", "per-process"}) {
    SCOPED_TRACE(scope);
    Child other({fixture("heap")});  // not profiled: churns 1 GiB through malloc/free on SIGUSR1
    std::this_thread::sleep_for(300ms);
    const std::string db = dir.file(scope + ".db");
    Child recorder({hotline_bin(), "record", "-q", "--pid", std::to_string(target.pid()), "--heap-probes", scope,
                    "-d", "4s", "-o", db},
                   true);
    std::this_thread::sleep_for(1500ms);
    other.signal(SIGUSR1);
    ASSERT_EQ(recorder.wait(60s).value_or(-1), 0) << recorder.read_stderr();
    const std::string err = recorder.read_stderr();
    if (scope == "shared") {
      EXPECT_NE(err.find("heap probes detached"), std::string::npos) << err;
      EXPECT_NE(err.find("other processes made"), std::string::npos) << err;
      EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'heap_mode'"), "detached");
      EXPECT_GT(std::stoll(query_value(db, "SELECT value FROM meta WHERE key = 'heap_bystander_calls'")), 1000);
    } else {
      EXPECT_EQ(err.find("detached"), std::string::npos) << err;
      EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'heap_bystander_calls'"), "0");
    }
  }
}

TEST(HeapSampled, TheChannelIsPrivateAndTheLibrarySealed) {
  TempDir dir;
  // The command looks at what it was given: the socket and the library's memfd, the
  // environment, and whether it can write to the library it is running.
  const std::string script =
      "for f in /proc/self/fd/*; do echo \"fd $f $(readlink $f)\"; done; "
      "env | grep -E '^(LD_PRELOAD|HOTLINE_HEAP)'; "
      "lib=${LD_PRELOAD%%:*}; if (echo x >> $lib) 2>/dev/null; then echo LIBRARY-WRITABLE; else echo LIBRARY-SEALED; fi";
  LaunchRun r = record_command(dir, "chan", {"-q"}, {"/bin/sh", "-c", script});
  ASSERT_EQ(r.result.code, 0) << r.result.err;
  const std::string& out = r.result.out;
  EXPECT_NE(out.find("LIBRARY-SEALED"), std::string::npos) << out;
  EXPECT_EQ(out.find("LIBRARY-WRITABLE"), std::string::npos) << out;
  EXPECT_NE(out.find("LD_PRELOAD=/proc/self/fd/"), std::string::npos) << out;
  EXPECT_NE(out.find("/memfd:hotline-heap"), std::string::npos) << "the library is a memfd, not a file: " << out;
  EXPECT_NE(out.find("socket:["), std::string::npos) << "the channel is an anonymous socket: " << out;
  EXPECT_EQ(out.find("/dev/shm"), std::string::npos) << out;
  EXPECT_GE(std::stoi(meta(r.db, "heap_processes")), 1) << "sh (and each readlink it ran) loaded the sampler";
}

// ---- sampled mode (the preloaded library), launched commands, leaks -------------------

TEST(HeapSampled, IsTheDefaultForLaunchedCommandsAndReportsLeaks) {
  TempDir dir;
  LaunchRun r = record_command(dir, "heap", {"-q"}, {fixture("heap"), "--run"});
  ASSERT_EQ(r.result.code, 0) << r.result.err;
  EXPECT_EQ(meta(r.db, "heap_mode"), "sampled");
  EXPECT_EQ(meta(r.db, "heap_sample_bytes"), "524288");
  EXPECT_EQ(meta(r.db, "heap_processes"), "1");
  EXPECT_EQ(meta(r.db, "heap_at_exit"), "1");

  // At the default mean of 512 KiB, the 1 GiB churn line (~2,000 samples, 2.3% standard
  // error) is first by bytes allocated and within 10%; nothing of it is live.
  auto alloc = heap_json(r.db, {"--metric", "alloc"});
  ASSERT_FALSE(alloc["entries"].empty()) << alloc.dump(1);
  EXPECT_EQ(alloc["entries"][0]["line"], line_of("heap.c", "HEAP_CHURN_LINE")) << alloc.dump(1);
  const auto* churn = heap_line(alloc, "HEAP_CHURN_LINE");
  EXPECT_NEAR(field(churn, "alloc_bytes"), 1024.0 * kMiB, 0.10 * 1024 * kMiB) << alloc.dump(1);
  EXPECT_NEAR(field(churn, "alloc_count"), 16384, 0.10 * 16384);
  EXPECT_NEAR(field(churn, "live_bytes"), 0, 1.5 * kMiB) << "sampled churn blocks are all freed";
  EXPECT_EQ(alloc["heap_mode"], "sampled");
  EXPECT_EQ(alloc["sample_bytes"], 524288);

  // Leaks: what the fixture kept and never freed, by line; the churn line is not there.
  auto leaks = heap_json(r.db, {"--leaks"});
  EXPECT_EQ(leaks["leaks"], true);
  ASSERT_FALSE(leaks["entries"].empty()) << leaks.dump(1);
  EXPECT_EQ(leaks["entries"][0]["line"], line_of("heap.c", "HEAP_LIVE_LINE")) << leaks.dump(1);
  EXPECT_EQ(heap_line(leaks, "HEAP_CHURN_LINE"), nullptr) << leaks.dump(1);
  EXPECT_NEAR(leaks["live_bytes"].get<double>(), 95.0 * kMiB, 0.15 * 95 * kMiB) << "64+8+4+2+15 MiB kept";
  EXPECT_GT(leaks["live_count"].get<int>(), 40);
  RunResult text = run({hotline_bin(), "top", "heap", r.db, "--leaks"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("leaked at exit"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("sampled about every 512.0 KiB"), std::string::npos) << text.out;
}

TEST(HeapSampled, LinesOfEightMiBOrMoreAreWithinTenPercentOfExact) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  LaunchRun exact = record_command(dir, "exact", {"-q", "--heap", "exact", "--max-overhead", "100"},
                                   {fixture("heap"), "--run"});
  ASSERT_EQ(exact.result.code, 0) << exact.result.err;
  // A mean of 64 KiB samples a 1 MiB block with probability 1 - e^-16: the 1 MiB lines are
  // then within 10% by construction; the churn line has ~10,000 samples (1% error).
  LaunchRun sampled = record_command(dir, "sampled", {"-q", "--heap", "sampled", "--heap-sample-bytes", "65536"},
                                     {fixture("heap"), "--run"});
  ASSERT_EQ(sampled.result.code, 0) << sampled.result.err;
  EXPECT_EQ(meta(exact.db, "heap_mode"), "exact");
  EXPECT_EQ(meta(sampled.db, "heap_mode"), "sampled");
  auto e = heap_json(exact.db, {"--metric", "alloc"}), s = heap_json(sampled.db, {"--metric", "alloc"});
  // Exact mode on a launched command is probed before it execs: every allocation is seen.
  const auto* churn = heap_line(e, "HEAP_CHURN_LINE");
  EXPECT_EQ(field(churn, "alloc_count"), 16384) << e.dump(1);
  EXPECT_EQ(field(heap_line(e, "HEAP_LIVE_LINE"), "live_bytes"), 64.0 * kMiB);
  for (const char* marker : {"HEAP_LIVE_LINE", "HEAP_CHURN_LINE", "HEAP_REALLOC_LINE", "HEAP_THREAD_LINE"}) {
    const auto *x = heap_line(e, marker), *y = heap_line(s, marker);
    ASSERT_NE(x, nullptr) << marker << e.dump(1);
    ASSERT_NE(y, nullptr) << marker << s.dump(1);
    const double ea = field(x, "alloc_bytes"), sa = field(y, "alloc_bytes");
    EXPECT_GE(ea, 8.0 * kMiB) << marker;
    EXPECT_NEAR(sa, ea, 0.10 * ea) << marker << " allocated";
    const double el = field(x, "live_bytes"), sl = field(y, "live_bytes");
    if (el >= 8.0 * kMiB) {
      EXPECT_NEAR(sl, el, 0.10 * el) << marker << " live";
    }
  }
  // posix_memalign's block cannot carry the sampler's chunk mark: its free is found through
  // the table instead (2 MiB at 64 KiB: sampled with probability 1 - e^-32).
  EXPECT_NEAR(field(heap_line(s, "HEAP_MEMALIGN_LINE"), "live_bytes"), 2.0 * kMiB, 0.02 * 2 * kMiB) << s.dump(1);
  EXPECT_NEAR(field(heap_line(s, "HEAP_CALLOC_LINE"), "live_bytes"), 4.0 * kMiB, 0.02 * 4 * kMiB) << s.dump(1);
}

TEST(HeapSampled, RefusedForARunningProcessWithTheWayOut) {
  TempDir dir;
  Child target({fixture("heap")});
  RunResult r = run({hotline_bin(), "record", "--pid", std::to_string(target.pid()), "--heap", "sampled",
                     "--duration", "1s", "-o", dir.file("x.db")});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--heap=exact"), std::string::npos) << r.err;
  EXPECT_NE(::access(dir.file("x.db").c_str(), F_OK), 0) << "nothing created";
}

TEST(HeapSampled, LeaksNeedACommandThatRanToItsEnd) {
  TempDir dir;
  // The fixture waits for a signal that never comes: hotline's --duration ends it.
  LaunchRun cut = record_command(dir, "cut", {"-q", "--duration", "1s"}, {fixture("heap")});
  ASSERT_EQ(cut.result.code, 0) << cut.result.err;
  RunResult r = run({hotline_bin(), "top", "heap", cut.db, "--leaks"});
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.err.find("ended before the command did"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--metric live"), std::string::npos) << r.err;
  RunResult mixed = run({hotline_bin(), "top", "heap", cut.db, "--leaks", "--metric", "alloc"});
  EXPECT_EQ(mixed.code, 2);
}

TEST(HeapSampled, FollowsForksAndPreloadedExecsAndLeavesPlainChildrenAlone) {
  TempDir dir;
  LaunchRun r = record_command(dir, "fork", {"-q", "--heap-sample-bytes", "65536"}, {fixture("heap_fork")});
  ASSERT_EQ(r.result.code, 0) << r.result.err;
  auto leaks = heap_json(r.db, {"--leaks"});
  const std::string src = "heap_fork.c";
  EXPECT_NEAR(field(heap_line(leaks, "HEAP_PARENT_LINE", src), "live_bytes"), 4.0 * kMiB, 0.1 * 4 * kMiB)
      << leaks.dump(1);
  EXPECT_NEAR(field(heap_line(leaks, "HEAP_CHILD_LINE", src), "live_bytes"), 16.0 * kMiB, 0.1 * 16 * kMiB)
      << "a forked child keeps sampling, under its own pid";
  EXPECT_NEAR(field(heap_line(leaks, "HEAP_EXEC_LINE", src), "live_bytes"), 8.0 * kMiB, 0.1 * 8 * kMiB)
      << "an exec'd child that keeps the environment loads the sampler again";
  EXPECT_EQ(heap_line(leaks, "HEAP_PLAIN_LINE", src), nullptr) << "no environment, no sampler";
  EXPECT_EQ(meta(r.db, "heap_processes"), "2");
  // The plain child ran normally (its output is the command's own).
  EXPECT_NE(r.result.out.find("plain child ok (sampler absent)"), std::string::npos) << r.result.out;
  EXPECT_NE(r.result.out.find("all children ok"), std::string::npos) << r.result.out;
}

TEST(HeapSampled, TheCommandCarriesOnWhenHotlineIsKilled) {
  TempDir dir;
  const std::string out = dir.file("out"), status = dir.file("status"), started = dir.file("started");
  Child recorder({hotline_bin(), "record", "-q", "-o", dir.file("k.db"), "--", "/bin/sh", "-c",
                  "echo > " + started + "; sleep 1; " + fixture("heap") + " --run > " + out + "; echo $? > " + status},
                 true);
  // Killed while the command sleeps, before its program allocates (however long hotline's
  // start-up took).
  for (int i = 0; i < 200 && run({"/bin/cat", started}).code != 0; ++i) std::this_thread::sleep_for(20ms);
  ASSERT_EQ(run({"/bin/cat", started}).code, 0) << "the command never started";
  recorder.signal(SIGKILL);
  recorder.wait(10s);
  // The command outlives hotline (as with any parent); its sends now fail (no SIGPIPE):
  // sampling stops and the program finishes normally.
  std::string code;
  for (int i = 0; i < 200 && code.empty(); ++i) {
    std::this_thread::sleep_for(50ms);
    RunResult cat = run({"/bin/cat", status});
    if (cat.code == 0 && !cat.out.empty()) code = cat.out;
  }
  EXPECT_EQ(code, "0\n");
  EXPECT_NE(run({"/bin/cat", out}).out.find("done"), std::string::npos);
}

TEST(HeapExact, FollowsForkedChildren) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  // Uprobes filter by address space: a forked child gets its own probes when hotline sees
  // the fork; this child allocates 16 MiB two seconds after it was forked.
  LaunchRun r = record_command(dir, "forkx", {"-q", "--heap", "exact", "--max-overhead", "100"},
                               {fixture("heap_fork"), "--slow-child"});
  ASSERT_EQ(r.result.code, 0) << r.result.err;
  auto leaks = heap_json(r.db, {"--leaks"});
  const std::string src = "heap_fork.c";
  EXPECT_EQ(field(heap_line(leaks, "HEAP_PARENT_LINE", src), "live_bytes"), 4.0 * kMiB) << leaks.dump(1);
  EXPECT_EQ(field(heap_line(leaks, "HEAP_CHILD_LINE", src), "live_bytes"), 16.0 * kMiB) << leaks.dump(1);
  const std::string probes = meta(r.db, "heap_probes");
  EXPECT_EQ(probes.find("malloc@libc.so.6"), probes.rfind("malloc@libc.so.6")) << "listed once: " << probes;
}

// ---- C++ and static allocators --------------------------------------------------------

class HeapCxx : public ::testing::TestWithParam<std::string> {};

TEST_P(HeapCxx, NewAndStdVectorAreAttributedToTheProgramsLines) {
  if (GetParam() == "exact") HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::vector<std::string> options = {"-q", "--heap", GetParam()};
  if (GetParam() == "exact") options.insert(options.end(), {"--max-overhead", "100"});
  if (GetParam() == "sampled") options.insert(options.end(), {"--heap-sample-bytes", "65536"});
  LaunchRun r = record_command(dir, "cxx", options, {fixture("heap_cxx"), "--run"});
  ASSERT_EQ(r.result.code, 0) << r.result.err;
  auto live = heap_json(r.db);
  const std::string src = "heap_cxx.cpp";
  const double tolerance = GetParam() == "exact" ? 0.01 : 0.10;
  ASSERT_FALSE(live["entries"].empty());
  EXPECT_EQ(live["entries"][0]["line"], line_of(src, "HEAP_NEW_LINE")) << live.dump(1);
  EXPECT_NEAR(field(heap_line(live, "HEAP_NEW_LINE", src), "live_bytes"), 32.0 * kMiB, tolerance * 32 * kMiB);
  EXPECT_NEAR(field(heap_line(live, "HEAP_VECTOR_LINE", src), "live_bytes"), 16.0 * kMiB, tolerance * 16 * kMiB)
      << live.dump(1);
  EXPECT_NEAR(field(heap_line(live, "HEAP_STRING_LINE", src), "live_bytes"), 8.0 * kMiB, tolerance * 8 * kMiB)
      << live.dump(1);
  for (const auto& e : live["entries"]) {
    const std::string fn = e["function"], file = e["file"];
    EXPECT_FALSE(fn.starts_with("std::") || fn.starts_with("operator new") || file.find("/c++/") != std::string::npos)
        << "standard-library frame reported as a site: " << e.dump();
  }
  // --show-allocator keeps the allocator's immediate caller, inside the standard library.
  auto raw = heap_json(r.db, {"--show-allocator"});
  bool inside = false;
  for (const auto& e : raw["entries"]) {
    const std::string fn = e["function"];
    inside |= fn.starts_with("std::") || fn.starts_with("operator new");
  }
  EXPECT_TRUE(inside) << raw.dump(1);
}

INSTANTIATE_TEST_SUITE_P(Modes, HeapCxx, ::testing::Values("sampled", "exact"));

TEST(HeapExact, FindsAStaticallyLinkedJemalloc) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  // heap_jemalloc is the heap fixture with libjemalloc.a linked in: malloc is in the
  // executable, where no preloaded library can see it, so auto picks exact mode.
  LaunchRun r = record_command(dir, "je", {"--max-overhead", "100"}, {fixture("heap_jemalloc"), "--run"});
  ASSERT_EQ(r.result.code, 0) << r.result.err;
  EXPECT_NE(r.result.err.find("has its own allocator linked in"), std::string::npos) << r.result.err;
  EXPECT_EQ(meta(r.db, "heap_mode"), "exact");
  EXPECT_NE(meta(r.db, "heap_probes").find("malloc@heap_jemalloc"), std::string::npos) << meta(r.db, "heap_probes");
  auto live = heap_json(r.db);
  EXPECT_NEAR(field(heap_line(live, "HEAP_LIVE_LINE"), "live_bytes"), 64.0 * kMiB, 0.01 * 64 * kMiB) << live.dump(1);
  auto alloc = heap_json(r.db, {"--metric", "alloc"});
  const auto* churn = heap_line(alloc, "HEAP_CHURN_LINE");
  EXPECT_EQ(field(churn, "alloc_count"), 16384) << alloc.dump(1);
  EXPECT_NEAR(field(churn, "alloc_bytes"), 1024.0 * kMiB, 0.01 * 1024 * kMiB);
}

}  // namespace
}  // namespace hotline::test
