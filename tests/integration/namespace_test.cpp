// PID namespaces: a target inside a container is profiled by its host pid, with both
// samplers; a hotline that itself runs in a PID namespace falls back to the perf sampler
// (the BPF sampler reports host pids it could not match) and says so.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::optional<pid_t> first_child(pid_t parent) {
  for (int i = 0; i < 100; ++i) {
    std::ifstream in("/proc/" + std::to_string(parent) + "/task/" + std::to_string(parent) + "/children");
    pid_t child = 0;
    if (in >> child) return child;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

TEST(Namespaces, HotlineInItsOwnPidNamespaceFallsBackToPerf) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("inside.db");
  RunResult r = run({"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", hotline_bin(), "record", "-q", "-d", "2s",
                     "-o", db, "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("own PID namespace"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'cpu_backend'"), "perf");
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);

  // Insisting on BPF there is refused with the reason.
  r = run({"/usr/bin/unshare", "--pid", "--fork", "--mount-proc", hotline_bin(), "record", "-q", "-d", "1s",
           "--cpu-backend", "bpf", "-o", dir.file("bpf.db"), "--", fixture("single")});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("PID namespace"), std::string::npos) << r.err;
}

TEST(Namespaces, TargetInAContainerIsProfiledByItsHostPid) {
  HOTLINE_REQUIRE_ROOT();
  // A minimal container: its own PID and mount namespaces and root directory holding the
  // program and its loader and libc. Its executable is then removed from the host's view
  // of the directory: only /proc/PID/map_files or /proc/PID/root can still reach it.
  TempDir dir;
  const std::string root = dir.file("root");
  fs::create_directories(root + "/app");
  fs::create_directories(root + "/lib/x86_64-linux-gnu");
  fs::create_directories(root + "/lib64");
  fs::copy_file(fixture("single"), root + "/app/boxed");
  fs::copy_file("/lib/x86_64-linux-gnu/libc.so.6", root + "/lib/x86_64-linux-gnu/libc.so.6");
  fs::copy_file("/lib64/ld-linux-x86-64.so.2", root + "/lib64/ld-linux-x86-64.so.2");
  Child container({"/usr/bin/unshare", "--pid", "--fork", "--mount", "--root=" + root, "/app/boxed"});
  auto host_pid = first_child(container.pid());
  ASSERT_TRUE(host_pid.has_value());
  std::this_thread::sleep_for(300ms);
  {
    std::ifstream status("/proc/" + std::to_string(*host_pid) + "/status");
    std::string line, nspid;
    while (std::getline(status, line)) {
      if (line.starts_with("NSpid:")) nspid = line;
    }
    ASSERT_TRUE(nspid.ends_with("\t1")) << "the target is pid 1 in its namespace: " << nspid;
  }

  for (const std::string backend : {"bpf", "perf"}) {
    SCOPED_TRACE(backend);
    const std::string db = dir.file(backend + ".db");
    RunResult r = run({hotline_bin(), "record", "-q", "-d", "2s", "--cpu-backend", backend, "--pid",
                       std::to_string(*host_pid), "-o", db});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.err.find(fmt::format("process {} runs in another PID namespace", *host_pid)), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("where it is pid 1"), std::string::npos) << r.err;
    auto top = top_json(db);
    EXPECT_EQ(top["pids"], std::to_string(*host_pid));
    ASSERT_FALSE(top["entries"].empty());
    EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);
    EXPECT_EQ(query_value(db, "SELECT COUNT(*) FROM processes WHERE pid = " + std::to_string(*host_pid)), "1");
    if (backend == "bpf") fs::remove(root + "/app/boxed");  // from now on reachable through /proc only
  }
}

}  // namespace
}  // namespace hotline::test
