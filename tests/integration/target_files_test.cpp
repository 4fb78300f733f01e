// Files hotline reads on a target's behalf, planted by the target's owner: a JIT map that
// is a symlink out of a container's root, a FIFO, another user's file. None is followed,
// blocks the recording, or lands in it; each refusal is announced.
#include <sys/stat.h>
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
    std::ifstream in(fmt::format("/proc/{}/task/{}/children", parent, parent));
    pid_t child = 0;
    if (in >> child) return child;
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

// The first line of a perf map once its writer has written it.
std::string wait_for_line(const std::string& path) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(path);
    std::string line;
    if (std::getline(in, line) && line.find(' ') != std::string::npos) return line;
    std::this_thread::sleep_for(10ms);
  }
  return "";
}

// "ADDR SIZE NAME" with another name.
std::string renamed(const std::string& line, const std::string& name) {
  const auto second = line.find(' ', line.find(' ') + 1);
  return line.substr(0, second) + " " + name + "\n";
}

std::string functions_of(const std::string& db) {
  return query_value(db, "SELECT group_concat(function, ' ') FROM frames");
}

TEST(TargetFiles, ContainerPerfMapSymlinkDoesNotReachTheHost) {
  HOTLINE_REQUIRE_ROOT();
  // A container (own PID and mount namespaces and root) running the JIT fixture as its pid 1.
  TempDir dir;
  const std::string root = dir.file("root");
  fs::create_directories(root + "/app");
  fs::create_directories(root + "/tmp");
  fs::create_directories(root + "/lib/x86_64-linux-gnu");
  fs::create_directories(root + "/lib64");
  fs::copy_file(fixture("jit"), root + "/app/jit");
  fs::copy_file("/lib/x86_64-linux-gnu/libc.so.6", root + "/lib/x86_64-linux-gnu/libc.so.6");
  fs::copy_file("/lib64/ld-linux-x86-64.so.2", root + "/lib64/ld-linux-x86-64.so.2");
  Child container({"/usr/bin/unshare", "--pid", "--fork", "--mount", "--root=" + root, "/app/jit"});
  auto host_pid = first_child(container.pid());
  ASSERT_TRUE(host_pid.has_value());
  const std::string map = root + "/tmp/perf-1.map";
  const std::string line = wait_for_line(map);
  ASSERT_FALSE(line.empty()) << "the JIT wrote its map";
  // A root-only file of the host that would name the JIT code, and the container's map
  // turned into a symlink to it: resolved against the host's root, it would be read.
  const std::string secret = dir.file("host-secret.map");
  std::ofstream(secret) << renamed(line, "host_secret_function");
  ::chmod(secret.c_str(), 0600);
  fs::remove(map);
  fs::create_symlink(secret, map);

  const std::string db = dir.file("container.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "2s", "--pid", std::to_string(*host_pid), "-o", db});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(functions_of(db).find("host_secret_function"), std::string::npos) << functions_of(db);
  EXPECT_NE(functions_of(db).find("[jit]"), std::string::npos) << functions_of(db);
  EXPECT_NE(r.err.find("not reading /tmp/perf-1.map of process " + std::to_string(*host_pid)), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("symlink"), std::string::npos) << r.err;
}

// The JIT fixture as nobody on the host, its map replaced by `plant` (run as root).
class PlantedPerfMap : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) return;
    ::chmod(dir_.path().c_str(), 0777);
    runner_ = std::make_unique<Child>(std::vector<std::string>{"/usr/sbin/runuser", "-u", "nobody", "--", fixture("jit")});
    auto pid = first_child(runner_->pid());
    ASSERT_TRUE(pid.has_value());
    pid_ = *pid;
    map_ = fmt::format("/tmp/perf-{}.map", pid_);
    line_ = wait_for_line(map_);
    ASSERT_FALSE(line_.empty());
  }
  void TearDown() override {
    if (!map_.empty()) ::unlink(map_.c_str());
  }
  RunResult record(const std::string& db) {
    return run({hotline_bin(), "record", "-q", "-d", "2s", "--pid", std::to_string(pid_), "-o", db}, 30s);
  }
  TempDir dir_;
  std::unique_ptr<Child> runner_;
  pid_t pid_ = 0;
  std::string map_, line_;
};

TEST_F(PlantedPerfMap, AFifoDoesNotBlockTheRecording) {
  HOTLINE_REQUIRE_ROOT();
  RunResult planted = run({"/usr/sbin/runuser", "-u", "nobody", "--", "/bin/sh", "-c",
                           fmt::format("rm -f {0} && mkfifo {0}", map_)});
  ASSERT_EQ(planted.code, 0) << planted.err;
  const auto start = std::chrono::steady_clock::now();
  const std::string db = dir_.file("fifo.db");
  RunResult r = record(db);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s) << "--duration 2s is honoured";
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("is a FIFO"), std::string::npos) << r.err;
  EXPECT_NE(functions_of(db).find("[jit]"), std::string::npos);
}

TEST_F(PlantedPerfMap, AnotherUsersFileIsNotRead) {
  HOTLINE_REQUIRE_ROOT();
  ::unlink(map_.c_str());
  std::ofstream(map_) << renamed(line_, "daemons_function");
  ASSERT_EQ(::chown(map_.c_str(), 1, 1), 0);  // daemon's file where nobody's JIT map should be
  const std::string db = dir_.file("daemon.db");
  RunResult r = record(db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(functions_of(db).find("daemons_function"), std::string::npos);
  EXPECT_NE(r.err.find("belongs to uid 1"), std::string::npos) << r.err;
}

TEST_F(PlantedPerfMap, TheOwnersOwnMapIsRead) {
  HOTLINE_REQUIRE_ROOT();
  const std::string db = dir_.file("own.db");
  RunResult r = record(db);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(functions_of(db).find("jit_hot_loop"), std::string::npos) << functions_of(db);
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace hotline::test
