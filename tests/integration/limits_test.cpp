// Bounded kernel memory: maps that do not fit the memory available are halved until they
// do (down to a floor), announced, and recorded in the meta table.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

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

}  // namespace
}  // namespace hotline::test
