// Stacks through code without frame pointers (bpf/unwind.h, src/unwind/): real BPF on
// fixtures built the usual way (-O2, no frame pointers, GCC and clang) and on Debian's own
// binaries, against `perf record --call-graph dwarf` as ground truth where it applies.
#include <signal.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

RunResult record(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {hotline_bin(), "record", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

// Total % per function (--by function).
std::map<std::string, double> totals(const std::string& db) {
  std::map<std::string, double> out;
  const nlohmann::json report = top_json(db, {"--by", "function", "--top", "500"});
  for (const auto& e : report["entries"]) {
    out[e["function"].get<std::string>()] = e["total_pct"].get<double>();
  }
  return out;
}

double total_of(const std::map<std::string, double>& t, const std::string& function) {
  auto it = t.find(function);
  return it == t.end() ? 0.0 : it->second;
}

// Folded stacks (root first), with their sample counts.
std::vector<std::pair<std::vector<std::string>, long>> folded(const std::string& db,
                                                              const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {hotline_bin(), "export", db, "--format", "folded"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunResult r = run(argv);
  std::vector<std::pair<std::vector<std::string>, long>> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    std::vector<std::string> frames;
    std::istringstream f(line.substr(0, space));
    for (std::string frame; std::getline(f, frame, ';');) frames.push_back(frame);
    out.emplace_back(frames, std::stol(line.substr(space + 1)));
  }
  return out;
}

// Of the samples whose stack holds `frame`, how many, and how many also hold `callers` in
// that order (outermost first) above it.
std::pair<long, long> through(const std::vector<std::pair<std::vector<std::string>, long>>& stacks,
                              const std::string& frame, const std::vector<std::string>& callers) {
  long all = 0, complete = 0;
  for (const auto& [frames, n] : stacks) {
    auto at = std::find(frames.begin(), frames.end(), frame);
    if (at == frames.end()) continue;
    all += n;
    auto from = frames.begin();
    bool found = true;
    for (const std::string& caller : callers) {
      from = std::find(from, at, caller);
      if (from == at) {
        found = false;
        break;
      }
    }
    if (found) complete += n;
  }
  return {all, complete};
}

// perf's answer: the share of samples whose stack holds each function (perf script of a
// `perf record --call-graph dwarf` run).
std::map<std::string, double> perf_dwarf_totals(const std::vector<std::string>& command, const TempDir& dir,
                                                int& samples) {
  const std::string data = dir.file("perf.data");
  std::vector<std::string> argv = {"/usr/bin/perf", "record", "-q", "-e", "cpu-clock", "-F", "499", "--call-graph", "dwarf",
                                   "-o", data, "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  RunResult r = run(argv, 120s);
  EXPECT_EQ(r.code, 0) << r.err;
  RunResult s = run({"/usr/bin/perf", "script", "-i", data, "-F", "comm,ip,sym"}, 120s);
  EXPECT_EQ(s.code, 0) << s.err;
  std::map<std::string, long> counts;
  samples = 0;
  std::set<std::string> in_sample;
  bool open = false;
  auto close = [&] {
    if (!open) return;
    ++samples;
    for (const auto& f : in_sample) ++counts[f];
    in_sample.clear();
    open = false;
  };
  std::istringstream in(s.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      close();
      continue;
    }
    if (line[0] != '\t' && line[0] != ' ') {  // the sample's header (comm)
      close();
      open = true;
      continue;
    }
    std::istringstream fields(line);
    std::string ip, sym;
    fields >> ip >> sym;
    if (const auto plus = sym.find('+'); plus != std::string::npos) sym = sym.substr(0, plus);
    in_sample.insert(sym);
  }
  close();
  std::map<std::string, double> out;
  for (const auto& [f, n] : counts) out[f] = samples > 0 ? 100.0 * static_cast<double>(n) / samples : 0.0;
  return out;
}

class NoFramePointers : public ::testing::TestWithParam<std::string> {};

// -O2 without frame pointers (GCC, clang, GCC linked by lld), and GCC with frame pointers
// whose leaf sets up none: every function of the 5-deep chain within 2 points of perf's DWARF unwinding, main
// on nearly every sample.
TEST_P(NoFramePointers, TheChainMatchesPerfDwarf) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("chain.db");
  const std::vector<std::string> command = {fixture(GetParam()), "chain", "4"};
  std::vector<std::string> args = {"-F", "499", "-o", db, "--"};
  args.insert(args.end(), command.begin(), command.end());
  RunResult r = record(args);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'unwind_mode'"), "auto");
  const auto ours = totals(db);
  int perf_samples = 0;
  const auto perf = perf_dwarf_totals(command, dir, perf_samples);
  ASSERT_GT(perf_samples, 500);
  for (const char* f : {"leaf", "level4", "level3", "level2", "level1", "main"}) {
    EXPECT_NEAR(total_of(ours, f), total_of(perf, f), 2.0) << f << ": hotline " << total_of(ours, f) << "%, perf dwarf "
                                                          << total_of(perf, f) << "%\n"
                                                          << describe(top_json(db, {"--by", "function"}));
  }
  EXPECT_GE(total_of(ours, "main"), 99.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(ours, "_start"), 99.0) << "the stacks reach their root";
  const auto hot = top_json(db);
  ASSERT_FALSE(hot["entries"].empty());
  EXPECT_EQ(hot["entries"][0]["line"], line_of("nofp.c", "NOFP_LEAF_LINE")) << describe(hot);
}

INSTANTIATE_TEST_SUITE_P(Compilers, NoFramePointers, ::testing::Values("nofp_gcc", "nofp_clang", "nofp_gcc_fp", "nofp_lld"),
                         [](const auto& info) { return info.param.substr(5); });

// A running process attached by --pid, with the exact heap probes --pid gets by default
// (they take about a second to calibrate): its tables are in the maps before that, so its
// stacks are complete from the start of the recording, not only after the heap is ready.
TEST(Unwind, AttachedByPidWithTheDefaultHeapFromTheStart) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  Child target({fixture("nofp_gcc"), "chain", "8"});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string db = dir.file("attached.db");
  RunResult r = record({"--pid", std::to_string(target.pid()), "-d", "2s", "-o", db});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'heap_mode'"), "exact");
  EXPECT_GE(total_of(totals(db), "main"), 95.0) << describe(top_json(db, {"--by", "function"}));
}

// The same fixture with --unwind fp: the callers vanish. The tables are what the test above
// measures.
TEST(Unwind, FramePointersAloneLoseTheCallers) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("fp.db");
  RunResult r = record({"--unwind", "fp", "-d", "2s", "-o", db, "--", fixture("nofp_gcc"), "chain", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'unwind_mode'"), "fp");
  EXPECT_LT(total_of(totals(db), "level1"), 50.0) << describe(top_json(db, {"--by", "function"}));
}

// Debian's python3.11 (no frame pointers): the interpreter loop and Py_BytesMain on nearly
// every sample.
TEST(Unwind, DebianPythonReachesPyBytesMain) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string script = dir.file("loop.py");
  std::ofstream(script) << "import time\n"
                           "def f(n):\n"
                           "    s = 0\n"
                           "    for i in range(n):\n"
                           "        s += i * i % 7\n"
                           "    return s\n"
                           "end = time.time() + 3\n"
                           "while time.time() < end:\n"
                           "    f(100000)\n";
  const std::string db = dir.file("py.db");
  RunResult r = record({"-o", db, "--", "/usr/bin/python3.11", script});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto t = totals(db);
  EXPECT_GE(total_of(t, "_PyEval_EvalFrameDefault"), 95.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "Py_BytesMain"), 95.0) << describe(top_json(db, {"--by", "function"}));
}

// A qsort callback: main → sort_many → qsort's internals in libc (no frame pointers) → compare.
TEST(Unwind, QsortCallbackThroughLibc) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("qsort.db");
  RunResult r = record({"-o", db, "--", fixture("nofp_gcc"), "qsort", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto t = totals(db);
  EXPECT_GE(total_of(t, "compare"), 50.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "sort_many"), 97.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "main"), 97.0);
  // Every stack through compare passes libc's sort on the way to main.
  long through = 0, complete = 0;
  for (const auto& [frames, n] : folded(db)) {
    if (std::find(frames.begin(), frames.end(), "compare") == frames.end()) continue;
    through += n;
    const bool has_main = std::find(frames.begin(), frames.end(), "main") != frames.end();
    const bool has_sort = std::any_of(frames.begin(), frames.end(), [](const std::string& f) {
      return f.find("msort") != std::string::npos || f.find("qsort") != std::string::npos;
    });
    if (has_main && has_sort) complete += n;
  }
  ASSERT_GT(through, 50);
  EXPECT_GE(static_cast<double>(complete), 0.97 * static_cast<double>(through));
}

// A write() loop: most samples are in the kernel, where the user registers come from the
// thread's saved ones; the user part still reaches main through libc's write.
TEST(Unwind, WriteLoopThroughLibcAndTheKernel) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("write.db");
  RunResult r = record({"-o", db, "--", fixture("nofp_gcc"), "write", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto t = totals(db);
  EXPECT_GE(total_of(t, "write_many"), 97.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "main"), 97.0);
  long kernel = 0, all = 0, complete = 0;
  for (const auto& [frames, n] : folded(db)) {
    all += n;
    const bool in_write = std::any_of(frames.begin(), frames.end(), [](const std::string& f) {
      return f.find("ksys_write") != std::string::npos || f.find("vfs_write") != std::string::npos;
    });
    if (!in_write) continue;
    kernel += n;
    if (std::find(frames.begin(), frames.end(), "main") != frames.end()) complete += n;
  }
  EXPECT_GT(kernel, all / 10) << "samples in the kernel's write path";
  EXPECT_GE(static_cast<double>(complete), 0.97 * static_cast<double>(kernel)) << "their user part reaches main";
}

// A hot signal handler: on_alarm ← the signal frame ← spin (the interrupted loop) ← main.
TEST(Unwind, SignalHandlerLeadsToTheInterruptedFunction) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("signal.db");
  RunResult r = record({"-o", db, "--", fixture("nofp_gcc"), "signal", "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto [handler, complete] = through(folded(db), "on_alarm", {"main", "spin"});
  ASSERT_GT(handler, 20) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(static_cast<double>(complete), 0.95 * static_cast<double>(handler)) << describe(top_json(db, {"--by", "function"}));
}

// std::sort with the program's comparator, through libstdc++'s templates.
TEST(Unwind, StdSortComparatorThroughLibstdcxx) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("sort.db");
  RunResult r = record({"-o", db, "--", fixture("nofp_sort"), "3"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto t = totals(db);
  EXPECT_GE(total_of(t, "heavy_less(Heavy const&, Heavy const&)"), 50.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "sort_round(std::vector<Heavy, std::allocator<Heavy> >&)"), 97.0)
      << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "main"), 97.0);
}

// Recursion deeper than the frame limit: cut, counted and said, never a verifier failure.
TEST(Unwind, DeepRecursionIsCutAtTheLimitAndSaysSo) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("deep.db");
  RunResult r = record({"-o", db, "--", fixture("nofp_gcc"), "recurse", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_GT(std::stol(query_value(db, "SELECT value FROM meta WHERE key = 'unwind_stop_depth'")), 50);
  EXPECT_GE(total_of(totals(db), "[truncated: depth]"), 90.0) << describe(top_json(db, {"--by", "function"}));
}

// A library dlopen'd after hotline attached (--pid): its code unwinds to main.
TEST(Unwind, LibraryOpenedAfterAttaching) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("dlopen.db");
  Child target({fixture("nofp_gcc"), "dlopen", fixture("libhot.so"), "3"});
  std::this_thread::sleep_for(200ms);
  Child recorder({hotline_bin(), "record", "-q", "--pid", std::to_string(target.pid()), "-o", db}, true);
  std::this_thread::sleep_for(1500ms);
  target.signal(SIGUSR1);
  ASSERT_EQ(recorder.wait(60s).value_or(-1), 0) << recorder.read_stderr();
  const auto t = totals(db);
  EXPECT_GE(total_of(t, "libhot_work"), 80.0) << describe(top_json(db, {"--by", "function"}));
  EXPECT_GE(total_of(t, "main"), 97.0) << describe(top_json(db, {"--by", "function"}));
}

// Exact heap mode on code without frame pointers: the allocating line is the immediate
// caller (allocate tail-calls malloc: build is the caller), its chain reaches main.
TEST(Unwind, ExactHeapChainsAreComplete) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("heap.db");
  RunResult r = record({"--heap", "exact", "--max-overhead", "100", "-o", db, "--", fixture("nofp_gcc"), "heap", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  RunResult top = run({hotline_bin(), "top", "heap", db, "--json"});
  ASSERT_EQ(top.code, 0) << top.err;
  const auto j = nlohmann::json::parse(top.out);
  ASSERT_FALSE(j["entries"].empty()) << top.out;
  EXPECT_EQ(j["entries"][0]["line"], line_of("nofp.c", "NOFP_ALLOC_LINE")) << top.out;
  const auto [through_build, complete] = through(folded(db, {"--type", "heap-alloc"}), "build", {"main", "outer"});
  ASSERT_GT(through_build, 0);
  EXPECT_GE(static_cast<double>(complete), 0.99 * static_cast<double>(through_build));
}

}  // namespace
}  // namespace hotline::test
