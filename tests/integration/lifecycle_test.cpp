// The process lifecycle (`hotline events`, the abnormal-exit notes of `top`): real BPF, as
// root, on children that exit with a code, are killed, crash with and without a core dump,
// exec another program, and are OOM-killed in a memory cgroup.
#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <set>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  return static_cast<bool>(f);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// A memory cgroup limited to 32 MiB (no swap), on cgroup v2 or v1, removed at the end.
class MemoryCgroup {
 public:
  MemoryCgroup() {
    const std::string name = "hotline-test-" + std::to_string(::getpid());
    if (read_file("/sys/fs/cgroup/cgroup.controllers").find("memory") != std::string::npos) {
      dir_ = "/sys/fs/cgroup/" + name;
      if (::mkdir(dir_.c_str(), 0755) != 0) {
        fail("mkdir " + dir_);
        return;
      }
      write_file(dir_ + "/memory.swap.max", "0");
      if (!write_file(dir_ + "/memory.max", std::to_string(32 << 20))) {
        fail("memory.max");
        return;
      }
    } else if (::access("/sys/fs/cgroup/memory/memory.limit_in_bytes", F_OK) == 0) {
      dir_ = "/sys/fs/cgroup/memory/" + name;
      if (::mkdir(dir_.c_str(), 0755) != 0) {
        fail("mkdir " + dir_);
        return;
      }
      if (!write_file(dir_ + "/memory.limit_in_bytes", std::to_string(32 << 20))) {
        fail("memory.limit_in_bytes");
        return;
      }
      write_file(dir_ + "/memory.memsw.limit_in_bytes", std::to_string(32 << 20));
    } else {
      {
        fail("no memory controller under /sys/fs/cgroup");
        return;
      }
    }
    procs_ = dir_ + "/cgroup.procs";
  }
  ~MemoryCgroup() {
    for (int i = 0; i < 50 && !dir_.empty() && ::rmdir(dir_.c_str()) != 0; ++i) std::this_thread::sleep_for(20ms);
  }
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;
  const std::string& procs() const { return procs_; }
  const std::string& error() const { return error_; }

 private:
  void fail(const std::string& what) { error_ = what + ": " + std::strerror(errno); }
  std::string dir_, procs_, error_;
};

struct Ended {
  int pid = 0, status = 0;  // status: as waitpid() gave it to the fixture
};

// The fixture's "NAME PID STATUS" lines.
std::map<std::string, Ended> children_of(const std::string& out) {
  std::map<std::string, Ended> m;
  std::istringstream in(out);
  std::string name;
  Ended c;
  while (in >> name >> c.pid >> c.status) m[name] = c;
  return m;
}

nlohmann::json events_json(const std::string& db, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv = {hotline_bin(), "events", db, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// The event of `pid` of one of these kinds (the last one).
nlohmann::json event_of(const nlohmann::json& report, int pid, const std::set<std::string>& kinds) {
  nlohmann::json found;
  for (const auto& e : report["events"]) {
    if (e["pid"] == pid && kinds.contains(e["kind"].get<std::string>())) found = e;
  }
  return found;
}

const std::set<std::string> kEnds = {"exit", "killed", "core_dumped", "oom_killed"};

TEST(Lifecycle, EveryWayAChildEndsIsRecorded) {
  HOTLINE_REQUIRE_ROOT();
  MemoryCgroup cgroup;
  ASSERT_TRUE(cgroup.error().empty()) << "the OOM kill is tested in a memory cgroup: " << cgroup.error();
  TempDir dir;
  const std::string db = dir.file("life.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-o", db, "--", fixture("lifecycle"), dir.path(), cgroup.procs()});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto children = children_of(r.out);
  ASSERT_EQ(children.size(), 6u) << r.out;
  const nlohmann::json report = events_json(db);
  const int root = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'pids'"));

  // Each child: forked by the fixture, then ended its own way.
  for (const auto& [name, child] : children) {
    const nlohmann::json fork = event_of(report, child.pid, {"fork"});
    ASSERT_FALSE(fork.is_null()) << name << ": " << report.dump(1);
    EXPECT_EQ(fork["ppid"], root) << fork.dump();
    EXPECT_EQ(fork["comm"], "lifecycle") << fork.dump();
    const nlohmann::json end = event_of(report, child.pid, kEnds);
    ASSERT_FALSE(end.is_null()) << name << ": " << report.dump(1);
    EXPECT_GE(end["time_ms"].get<std::int64_t>(), fork["time_ms"].get<std::int64_t>()) << end.dump();
    EXPECT_EQ(end["by_hotline"], false) << end.dump();
    EXPECT_EQ(end["ppid"], root) << end.dump();
  }
  auto end_of = [&](const std::string& name) { return event_of(report, children.at(name).pid, kEnds); };
  EXPECT_EQ(end_of("exit3")["kind"], "exit");
  EXPECT_EQ(end_of("exit3")["exit_code"], 3);
  EXPECT_TRUE(end_of("exit3")["signal"].is_null());
  EXPECT_EQ(end_of("sigkill")["kind"], "killed");
  EXPECT_EQ(end_of("sigkill")["signal"], "SIGKILL");
  EXPECT_TRUE(end_of("sigkill")["exit_code"].is_null());
  EXPECT_EQ(end_of("segv")["kind"], "killed");
  EXPECT_EQ(end_of("segv")["signal"], "SIGSEGV");
  // A core is dumped where core_pattern names a file (here: "core", in the child's cwd).
  const std::string pattern = read_file("/proc/sys/kernel/core_pattern");
  if (!pattern.starts_with("|")) {
    EXPECT_EQ(end_of("core")["kind"], "core_dumped") << end_of("core").dump();
    EXPECT_NE(children.at("core").status & 0x80, 0) << "the kernel dumped no core: " << pattern;
  } else {
    EXPECT_TRUE(end_of("core")["kind"] == "core_dumped" || end_of("core")["kind"] == "killed");
  }
  EXPECT_EQ(end_of("core")["signal"], "SIGSEGV");
  EXPECT_EQ(end_of("oom")["kind"], "oom_killed") << report.dump(1);
  EXPECT_EQ(end_of("oom")["signal"], "SIGKILL");
  // The exec: the new program, its argv[0], its name after it, and its own exit.
  const nlohmann::json exec = event_of(report, children.at("exec").pid, {"exec"});
  ASSERT_FALSE(exec.is_null()) << report.dump(1);
  EXPECT_TRUE(exec["detail"].get<std::string>().ends_with("/sleep")) << exec.dump();
  EXPECT_EQ(exec["argv0"], "napping-sleep");
  EXPECT_EQ(exec["comm"], "sleep");
  EXPECT_EQ(end_of("exec")["kind"], "exit");
  EXPECT_EQ(end_of("exec")["exit_code"], 0);
  EXPECT_EQ(end_of("exec")["comm"], "sleep");
  // The fixture itself: exec'd by hotline, exit 0.
  EXPECT_EQ(event_of(report, root, kEnds)["exit_code"], 0) << report.dump(1);
  EXPECT_EQ(event_of(report, root, kEnds)["comm"], "lifecycle");
  EXPECT_FALSE(event_of(report, root, {"exec"}).is_null());

  // One process's events; CSV; the text table.
  const nlohmann::json one = events_json(db, {"--pid", std::to_string(children.at("oom").pid)});
  EXPECT_EQ(one["events"].size(), 2u) << one.dump(1);
  RunResult csv = run({hotline_bin(), "events", db, "--csv"});
  EXPECT_TRUE(csv.out.starts_with("time_ms,pid,ppid,comm,kind,exit_code,signal,detail,argv0,by_hotline\n")) << csv.out;
  RunResult text = run({hotline_bin(), "events", db});
  EXPECT_NE(text.out.find("OOM-killed (SIGKILL)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("exit 3"), std::string::npos) << text.out;

  // top says how targets died.
  RunResult top = run({hotline_bin(), "top", "cpu", db});
  EXPECT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("1 process killed by SIGKILL"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("1 OOM-killed"), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("killed by SIGSEGV"), std::string::npos) << top.out;
  const nlohmann::json top_json = nlohmann::json::parse(run({hotline_bin(), "top", "cpu", db, "--json"}).out);
  std::map<std::string, int> abnormal;
  for (const auto& a : top_json["abnormal_exits"]) abnormal[a["kind"].get<std::string>()] += a["count"].get<int>();
  EXPECT_EQ(abnormal["oom_killed"], 1) << top_json["abnormal_exits"].dump();
  EXPECT_EQ(abnormal["killed"] + abnormal["core_dumped"], 3) << top_json["abnormal_exits"].dump();
}

// A command hotline stops when the recording ends is killed by hotline's SIGTERM: recorded,
// and not reported as an abnormal death.
TEST(Lifecycle, ACommandStoppedByHotlineIsNotAnAbnormalDeath) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("stopped.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "-d", "1s", "-o", db, "--", fixture("single"), "30"}).code, 0);
  const nlohmann::json report = events_json(db);
  const int root = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'pids'"));
  const nlohmann::json end = event_of(report, root, kEnds);
  EXPECT_EQ(end["kind"], "killed") << report.dump(1);
  EXPECT_EQ(end["signal"], "SIGTERM");
  EXPECT_EQ(end["by_hotline"], true);
  EXPECT_TRUE(report["abnormal_exits"].empty()) << report.dump(1);
  RunResult top = run({hotline_bin(), "top", "cpu", db});
  EXPECT_EQ(top.out.find("killed"), std::string::npos) << top.out;
}

// A process attached by --pid (Debian's sh, which forks and execs sleep): its exit code.
TEST(Lifecycle, AnAttachedProcessAndWhatItRuns) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("sh.db");
  // (The first sleep outlasts hotline's start-up: the second is forked after it attached.)
  Child target({"/bin/sh", "-c", "sleep 2.5; /bin/sleep 0.2; exit 7"});
  std::this_thread::sleep_for(100ms);
  RunResult r = run({hotline_bin(), "record", "-q", "--heap", "off", "-o", db, "--pid", std::to_string(target.pid())});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = events_json(db);
  const nlohmann::json end = event_of(report, target.pid(), kEnds);
  EXPECT_EQ(end["kind"], "exit") << report.dump(1);
  EXPECT_EQ(end["exit_code"], 7) << report.dump(1);
  EXPECT_EQ(end["comm"], "sh");
  // The second sleep, forked and exec'd after hotline attached.
  bool sleep_seen = false;
  for (const auto& e : report["events"]) {
    if (e["kind"] == "exec" && e["argv0"] == "/bin/sleep" && e["ppid"] == target.pid()) sleep_seen = true;
  }
  EXPECT_TRUE(sleep_seen) << report.dump(1);
}

// The perf_event fallback sees exits but not their status; the launched command's is known
// from waiting for it.
TEST(Lifecycle, ThePerfEventFallbackSaysWhatItCannotSee) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("perf.db");
  RunResult r = run({hotline_bin(), "record", "-q", "--cpu-backend", "perf", "-o", db, "--", fixture("lifecycle"),
                     dir.path()});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json report = events_json(db);
  const int root = std::stoi(query_value(db, "SELECT value FROM meta WHERE key = 'pids'"));
  EXPECT_EQ(event_of(report, root, kEnds)["exit_code"], 0) << report.dump(1);
  const auto children = children_of(r.out);
  ASSERT_EQ(children.size(), 5u) << r.out;
  // The children's exits are there, without a status, saying why.
  int unknown = 0;
  for (const auto& [name, child] : children) {
    const nlohmann::json end = event_of(report, child.pid, kEnds);
    if (end.is_null()) continue;  // (the fallback can miss a short-lived child's exit)
    EXPECT_EQ(end["kind"], "exit") << end.dump();
    EXPECT_TRUE(end["exit_code"].is_null()) << end.dump();
    if (end["detail"].get<std::string>().find("perf_event") != std::string::npos) ++unknown;
  }
  EXPECT_GE(unknown, 3) << report.dump(1);
}

}  // namespace
}  // namespace hotline::test
