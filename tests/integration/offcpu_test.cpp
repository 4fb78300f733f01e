// Off-CPU time (record --offcpu, bpf/offcpu.bpf.c, top offcpu): real BPF on a fixture whose
// threads block in known ways and measure their own waits, as root.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

// "name ns" lines the fixture prints at exit.
std::map<std::string, double> measured_ms(const std::string& out) {
  std::map<std::string, double> m;
  std::istringstream in(out);
  std::string name;
  double ns = 0;
  while (in >> name >> ns) m[name] = ns / 1e6;
  return m;
}

nlohmann::json offcpu_json(const std::string& db, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {hotline_bin(), "top", "offcpu", db, "--json", "--top", "500"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

const nlohmann::json* entry_at(const nlohmann::json& report, int line) {
  for (const auto& e : report["entries"]) {
    if (e["file"].is_string() && e["file"].get<std::string>().ends_with("offcpu.c") && e["line"].is_number() &&
        e["line"].get<int>() == line) {
      return &e;
    }
  }
  return nullptr;
}

TEST(OffCpu, EachBlockingLineHasItsWaitAndItsReason) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("offcpu.db");
  RunResult r = run({hotline_bin(), "record", "-q", "--offcpu", "-o", db, "--", fixture("offcpu"), "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto known = measured_ms(r.out);
  ASSERT_EQ(known.size(), 10u) << r.out;
  const nlohmann::json report = offcpu_json(db);
  ASSERT_GT(report["blocks"].get<int>(), 50) << report.dump();
  struct Case {
    const char* marker;
    const char* measured;
    const char* reason;  // part of the kernel function's name (they vary across kernel versions)
  };
  for (const Case& c : {Case{"NAP_LINE", "nap", "nanosleep"}, Case{"READ_LINE", "read", "pipe_read"},
                        Case{"LOCK_LINE", "lock", "futex"}, Case{"HOLD_LINE", "hold", "nanosleep"}}) {
    const int line = line_of("offcpu.c", c.marker);
    const nlohmann::json* e = entry_at(report, line);
    ASSERT_NE(e, nullptr) << c.marker << " (line " << line << ") missing: " << report.dump(1);
    const double want = known.at(c.measured), got = (*e)["total_offcpu_ms"].get<double>();
    EXPECT_NEAR(got, want, want * 0.05) << c.marker << ": " << e->dump();
    EXPECT_NE((*e)["reason"].get<std::string>().find(c.reason), std::string::npos) << c.marker << ": " << e->dump();
    EXPECT_GT((*e)["total_pct"].get<double>(), 10.0) << e->dump();
  }
  // The spinning line never waits.
  if (const nlohmann::json* spin = entry_at(report, line_of("offcpu.c", "SPIN_LINE"))) {
    EXPECT_LT((*spin)["total_offcpu_ms"].get<double>(), 20.0) << spin->dump();
  }
  // Self time is the call that blocked: libc's sleep (two threads sleep) comes first.
  ASSERT_FALSE(report["entries"].empty());
  EXPECT_NE(report["entries"][0]["function"].get<std::string>().find("nanosleep"), std::string::npos)
      << report["entries"][0].dump();
  EXPECT_EQ(report["entries"][0]["offcpu_ms"], report["entries"][0]["total_offcpu_ms"]);

  // One thread: the reader, blocked from its start to the end.
  const std::string tid = query_value(db, "SELECT tid FROM threads WHERE comm = 'reader'");
  ASSERT_FALSE(tid.empty());
  const nlohmann::json one = offcpu_json(db, {"--tid", tid});
  EXPECT_NEAR(one["total_offcpu_ms"].get<double>(), known.at("read"), known.at("read") * 0.05) << one.dump(1);

  // The text table names the reason; the CSV has the same columns as the JSON.
  RunResult text = run({hotline_bin(), "top", "offcpu", db, "--by", "function"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("futex"), std::string::npos) << text.out;
  RunResult csv = run({hotline_bin(), "top", "offcpu", db, "--csv"});
  EXPECT_TRUE(csv.out.starts_with("offcpu_ms,total_offcpu_ms,self_pct,total_pct,reason,function,file,line\n"))
      << csv.out;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'offcpu'"), "on");
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'offcpu_dropped_blocks'"), "0");
}

nlohmann::json wall_json(const std::string& db, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {hotline_bin(), "top", "wall", db, "--json", "--top", "500"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

// Wall-clock time: each thread's time on the CPU plus its time blocked is its life, and the
// spinning line's wall time is the spin's.
TEST(OffCpu, WallTimePerLineAndPerThread) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("wall.db");
  RunResult r = run({hotline_bin(), "record", "-q", "--offcpu", "-o", db, "--", fixture("offcpu"), "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto known = measured_ms(r.out);
  ASSERT_EQ(known.size(), 10u) << r.out;

  const nlohmann::json report = wall_json(db);
  const nlohmann::json* spin = entry_at(report, line_of("offcpu.c", "SPIN_LINE"));
  ASSERT_NE(spin, nullptr) << report.dump(1);
  EXPECT_NEAR((*spin)["wall_ms"].get<double>(), known.at("spin"), known.at("spin") * 0.05) << spin->dump();
  EXPECT_LT((*spin)["offcpu_ms"].get<double>(), 5.0) << spin->dump();
  EXPECT_EQ((*spin)["wall_ms"], (*spin)["cpu_ms"]) << spin->dump();
  // A blocking line's wall time is its blocked time (it barely runs): its total, as the
  // self time is the libc call's.
  const nlohmann::json* read = entry_at(report, line_of("offcpu.c", "READ_LINE"));
  ASSERT_NE(read, nullptr) << report.dump(1);
  EXPECT_NEAR((*read)["total_wall_ms"].get<double>(), known.at("read"), known.at("read") * 0.05) << read->dump();
  EXPECT_NEAR(report["wall_ms"].get<double>(), report["cpu_ms"].get<double>() + report["offcpu_ms"].get<double>(),
              0.01);

  // Per thread, wall = running + blocked = the thread's life.
  const nlohmann::json threads = wall_json(db, {"--by", "thread"});
  ASSERT_TRUE(threads["threads"].is_array()) << threads.dump(1);
  std::set<std::string> seen;
  for (const auto& t : threads["threads"]) {
    std::string comm = t["comm"].get<std::string>();
    if (comm == "offcpu") comm = "main";
    const auto life = known.find("life-" + comm);
    if (life == known.end()) continue;
    seen.insert(comm);
    EXPECT_NEAR(t["wall_ms"].get<double>(), life->second, life->second * 0.05) << t.dump();
    EXPECT_NEAR(t["wall_ms"].get<double>(), t["cpu_ms"].get<double>() + t["offcpu_ms"].get<double>(), 0.01);
  }
  EXPECT_EQ(seen, (std::set<std::string>{"main", "napper", "reader", "holder", "waiter"})) << threads.dump(1);
  for (const auto& t : threads["threads"]) {
    if (t["comm"] == "reader") {
      EXPECT_TRUE(t["reasons"].contains("anon_pipe_read") || t["reasons"].contains("pipe_read")) << t.dump();
    }
    if (t["comm"] == "offcpu") {
      EXPECT_GT(t["cpu_ms"].get<double>(), 0.9 * known.at("spin")) << t.dump();
    }
  }
  // One thread's lines: the waiter's time is its lock.
  const std::string tid = query_value(db, "SELECT tid FROM threads WHERE comm = 'waiter'");
  const nlohmann::json waiter = wall_json(db, {"--tid", tid});
  EXPECT_NEAR(waiter["wall_ms"].get<double>(), known.at("life-waiter"), known.at("life-waiter") * 0.05)
      << waiter.dump(1);

  RunResult text = run({hotline_bin(), "top", "wall", db, "--by", "thread"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("RUNNING"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("reader"), std::string::npos) << text.out;
  RunResult csv = run({hotline_bin(), "top", "wall", db, "--csv"});
  EXPECT_TRUE(csv.out.starts_with("wall_ms,cpu_ms,offcpu_ms,total_wall_ms,self_pct,total_pct,function,file,line\n"))
      << csv.out;
  // --by thread is wall's alone.
  EXPECT_EQ(run({hotline_bin(), "top", "offcpu", db, "--by", "thread"}).code, 2);
}

// Exports: pprof's off_cpu/nanoseconds in go tool pprof, folded stacks, diff.
TEST(OffCpu, ExportsAndDiff) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("offcpu.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--offcpu", "-o", db, "--", fixture("offcpu"), "1"}).code, 0);
  const std::string out = dir.file("offcpu.pb.gz");
  RunResult r = run({hotline_bin(), "export", db, "--type", "offcpu", "--format", "pprof", "-o", out});
  ASSERT_EQ(r.code, 0) << r.err;
  RunResult top = run({GO_BIN, "tool", "pprof", "-top", "-cum", "-lines", out});
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("Type: off_cpu"), std::string::npos) << top.out;
  // The fixture's first line by cumulative blocked time is one of its blocking calls.
  std::set<std::string> blocking;
  for (const char* m : {"NAP_LINE", "READ_LINE", "LOCK_LINE", "HOLD_LINE"}) {
    blocking.insert("offcpu.c:" + std::to_string(line_of("offcpu.c", m)));
  }
  std::istringstream rows(top.out);
  std::string first;
  for (std::string row; std::getline(rows, row);) {
    if (const auto at = row.find("offcpu.c:"); at != std::string::npos) {
      first = row.substr(at, row.find_first_not_of("0123456789", at + 9) - at);
      break;
    }
  }
  EXPECT_TRUE(blocking.contains(first)) << first << "\n" << top.out;
  // hotline's own program is not in the stacks: they end in the scheduler.
  RunResult folded = run({hotline_bin(), "export", db, "--type", "offcpu", "--format", "folded"});
  ASSERT_EQ(folded.code, 0) << folded.err;
  EXPECT_EQ(folded.out.find("bpf_prog"), std::string::npos) << folded.out.substr(0, 2000);
  EXPECT_NE(folded.out.find(";napper;"), std::string::npos) << folded.out.substr(0, 2000);
  RunResult d = run({hotline_bin(), "diff", db, db, "--type", "offcpu", "--json"});
  EXPECT_EQ(d.code, 0) << d.err;
  // Wall time: on and off the CPU in one profile; the spinning line and the blocking calls.
  const std::string wall = dir.file("wall.pb.gz");
  r = run({hotline_bin(), "export", db, "--type", "wall", "--format", "pprof", "-o", wall});
  ASSERT_EQ(r.code, 0) << r.err;
  top = run({GO_BIN, "tool", "pprof", "-top", "-lines", wall});
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("Type: wall"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("offcpu.c:" + std::to_string(line_of("offcpu.c", "SPIN_LINE"))), std::string::npos)
      << top.out;
  EXPECT_NE(top.out.find("offcpu.c:" + std::to_string(line_of("offcpu.c", "READ_LINE"))), std::string::npos)
      << top.out;
  d = run({hotline_bin(), "diff", db, db, "--type", "wall", "--json"});
  EXPECT_EQ(d.code, 0) << d.err;
  EXPECT_NE(d.out.find("\"type\": \"wall\""), std::string::npos) << d.out.substr(0, 500);
  // A recording without off-CPU data is refused for an off-CPU export.
  const std::string cpu = dir.file("cpu.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "-d", "1s", "-o", cpu, "--", fixture("single")}).code, 0);
  r = run({hotline_bin(), "export", cpu, "--type", "offcpu", "--format", "folded"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--offcpu"), std::string::npos) << r.err;
  r = run({hotline_bin(), "top", "wall", cpu});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--offcpu"), std::string::npos) << r.err;
}

// 10,000 threads napping 100 ms each (100,000 blocks a second on 2 CPUs), with maps a tenth
// of their size: what does not fit is counted and announced, the rest is recorded, and
// SIGTERM ends hotline within a second.
TEST(OffCpu, AThreadStormStaysBoundedAndSaysWhatItDropped) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("storm.db");
  Child recorder({hotline_bin(), "record", "-q", "--offcpu", "--map-scale", "0.1", "-o", db, "--", fixture("offcpu"),
                  "storm", "10000", "30", "100"},
                 true);
  ASSERT_TRUE(wait_for_checkpoints(db, 3)) << recorder.read_stderr();
  std::this_thread::sleep_for(2s);
  const auto stop = std::chrono::steady_clock::now();
  recorder.signal(SIGTERM);
  const auto status = recorder.wait(15s);
  ASSERT_TRUE(status.has_value()) << "SIGTERM did not end hotline within 15 s";
  const double stopping = std::chrono::duration<double>(std::chrono::steady_clock::now() - stop).count();
  EXPECT_LT(stopping, 1.0) << "SIGTERM took " << stopping << " s";
  const std::string err = recorder.read_stderr();
  EXPECT_NE(err.find("off-CPU blocks were not counted"), std::string::npos) << err;
  EXPECT_NE(err.find("--map-scale"), std::string::npos) << err;
  EXPECT_GT(std::stoll(query_value(db, "SELECT value FROM meta WHERE key = 'offcpu_dropped_blocks'")), 0);
  EXPECT_GT(std::stoll(query_value(db, "SELECT value FROM meta WHERE key = 'offcpu_blocks'")), 1000);
  const nlohmann::json report = offcpu_json(db);
  EXPECT_GT(report["total_offcpu_ms"].get<double>(), 1000.0) << report.dump().substr(0, 2000);
  EXPECT_GT(report["dropped_blocks"].get<int>(), 0);
}

// A target switching context as fast as the machine lets it (two threads ping-ponging over
// pipes: 100,000+ blocks a second here, every one counted): hotline's own CPU stays a
// fraction of one CPU, the maps hold, and SIGTERM ends the recording within a second.
TEST(OffCpu, AContextSwitchStormCostsHotlineLittleAndStopsAtOnce) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("switches.db");
  Child recorder({hotline_bin(), "record", "-q", "--offcpu", "--heap", "off", "-o", db, "--", fixture("offcpu"),
                  "pingpong", "60"},
                 true);
  ASSERT_TRUE(wait_for_checkpoints(db, 3)) << recorder.read_stderr();
  const auto cpu_ticks = [&] {  // hotline's utime + stime so far
    std::ifstream stat("/proc/" + std::to_string(recorder.pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    std::istringstream fields(text.substr(text.rfind(')') + 2));
    std::string f;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i) {
      if (i == 14) utime = std::stoll(f);
      if (i == 15) stime = std::stoll(f);
    }
    return utime + stime;
  };
  const long long before = cpu_ticks();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(3s);
  const double used = static_cast<double>(cpu_ticks() - before) / static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(used / elapsed, 0.5) << "hotline used " << used << " s of CPU in " << elapsed << " s";
  const auto stop = std::chrono::steady_clock::now();
  recorder.signal(SIGTERM);
  const auto status = recorder.wait(10s);
  ASSERT_TRUE(status.has_value()) << "SIGTERM did not end hotline within 10 s";
  const double stopping = std::chrono::duration<double>(std::chrono::steady_clock::now() - stop).count();
  EXPECT_LT(stopping, 1.0) << "SIGTERM took " << stopping << " s";
  const double duration = std::stod(query_value(db, "SELECT value FROM meta WHERE key = 'duration_ms'")) / 1000.0;
  const double blocks = std::stod(query_value(db, "SELECT value FROM meta WHERE key = 'offcpu_blocks'"));
  EXPECT_GT(blocks / duration, 20000.0) << blocks << " blocks in " << duration << " s";
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'offcpu_dropped_blocks'"), "0");
  // Both threads spent most of the run blocked in the pipe's read.
  const nlohmann::json threads = wall_json(db, {"--by", "thread"});
  int readers = 0;
  for (const auto& t : threads["threads"]) {
    const auto& reasons = t["reasons"];
    if (reasons.contains("anon_pipe_read") || reasons.contains("pipe_read")) ++readers;
  }
  EXPECT_EQ(readers, 2) << threads.dump(1);
}

TEST(OffCpu, AProcessAttachedByPid) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("attached.db");
  Child target({fixture("offcpu"), "8"});
  std::this_thread::sleep_for(300ms);
  // (--heap off: the exact heap probes are not what this test is about.)
  RunResult r = run({hotline_bin(), "record", "-q", "--offcpu", "--heap", "off", "-d", "3s", "-o", db, "--pid",
                     std::to_string(target.pid())});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = offcpu_json(db);
  // The napper sleeps all the time in 20 ms naps: it waited for about the whole recording.
  // (The reader, blocked since before hotline attached, is seen only when it wakes.)
  const std::string tid = query_value(db, "SELECT tid FROM threads WHERE comm = 'napper'");
  ASSERT_FALSE(tid.empty());
  // After the first checkpoint (hotline's own start-up: loading, verifying, attaching).
  const nlohmann::json napper = offcpu_json(db, {"--tid", tid, "--window", "1s.."});
  const double duration = napper["duration_ms"].get<double>();
  EXPECT_GT(napper["total_offcpu_ms"].get<double>(), 0.85 * duration) << napper.dump(1);
  EXPECT_LT(napper["total_offcpu_ms"].get<double>(), 1.05 * duration) << napper.dump(1);
  // Its line, once the tables of the process it attached to are loaded.
  const nlohmann::json* nap = entry_at(report, line_of("offcpu.c", "NAP_LINE"));
  ASSERT_NE(nap, nullptr) << report.dump(1);
  EXPECT_GT((*nap)["total_offcpu_ms"].get<double>(), 0.5 * duration) << nap->dump();
  EXPECT_NE((*nap)["reason"].get<std::string>().find("nanosleep"), std::string::npos) << nap->dump();
}

// A forked child's waits (Debian's sh forks Debian's sleep): its thread, its time, its reason.
TEST(OffCpu, AForkedChild) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("child.db");
  RunResult r = run({hotline_bin(), "record", "-q", "--offcpu", "-o", db, "--", "/bin/sh", "-c", "/bin/sleep 1.2; true"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json threads = wall_json(db, {"--by", "thread"});
  const nlohmann::json* sleep = nullptr;
  const nlohmann::json* sh = nullptr;
  for (const auto& t : threads["threads"]) {
    if (t["comm"] == "sleep") sleep = &t;
    if (t["comm"] == "sh") sh = &t;
  }
  ASSERT_NE(sleep, nullptr) << threads.dump(1);
  ASSERT_NE(sh, nullptr) << threads.dump(1);
  EXPECT_NE((*sleep)["pid"], (*sh)["pid"]);
  EXPECT_NEAR((*sleep)["offcpu_ms"].get<double>(), 1200.0, 60.0) << sleep->dump();
  EXPECT_TRUE((*sleep)["reasons"].contains("do_nanosleep")) << sleep->dump();
  // The shell waited for it, in wait4.
  EXPECT_NEAR((*sh)["offcpu_ms"].get<double>(), 1200.0, 100.0) << sh->dump();
  EXPECT_TRUE((*sh)["reasons"].contains("do_wait")) << sh->dump();
}

TEST(OffCpu, AskingWithoutDataOrWithABadMinimumIsExplained) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("cpu.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "-d", "1s", "-o", db, "--", fixture("single")}).code, 0);
  RunResult r = run({hotline_bin(), "top", "offcpu", db});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--offcpu"), std::string::npos) << r.err;
  r = run({hotline_bin(), "record", "-q", "--offcpu", "--offcpu-min", "5parsecs", "-o", dir.file("x.db"), "--",
           fixture("single")});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("500ns, 1us"), std::string::npos) << r.err;
  // With a 50 ms minimum the 20 ms naps are not counted; the 100 ms holds are.
  const std::string min_db = dir.file("min.db");
  r = run({hotline_bin(), "record", "-q", "--offcpu", "--offcpu-min", "50ms", "-o", min_db, "--", fixture("offcpu"),
           "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = offcpu_json(min_db);
  EXPECT_EQ(entry_at(report, line_of("offcpu.c", "NAP_LINE")), nullptr) << report.dump(1);
  EXPECT_NE(entry_at(report, line_of("offcpu.c", "HOLD_LINE")), nullptr) << report.dump(1);
  EXPECT_GT(std::stoi(query_value(min_db, "SELECT value FROM meta WHERE key = 'offcpu_short_blocks'")), 20);
}

}  // namespace
}  // namespace hotline::test
