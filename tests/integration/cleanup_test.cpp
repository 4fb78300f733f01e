// Nothing left behind: after hotline ends, however it ends, none of its BPF programs,
// maps or links remain in the kernel.
#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

// Names as the kernel keeps them (at most 15 characters).
const char* kNames[] = {"on_cpu_sample", "on_fork", "on_exec", "on_exit", "counts0", "counts1",
                        "stacks0", "stacks1", "targets", "proc_events", "proc_stats", "cpu_stats"};

std::vector<std::string> hotline_objects() {
  std::vector<std::string> found;
  for (const char* kind : {"prog", "map", "link"}) {
    RunResult r = run({"/usr/sbin/bpftool", "-j", kind, "show"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) continue;
    for (const auto& obj : j) {
      std::string name = obj.value("name", "");
      for (const char* n : kNames) {
        if (name == n) found.push_back(std::string(kind) + " " + name);
      }
    }
  }
  return found;
}

// Kernel objects are released asynchronously after their last fd closes.
std::vector<std::string> leftovers_after_settling() {
  std::vector<std::string> left;
  for (int i = 0; i < 40; ++i) {
    left = hotline_objects();
    if (left.empty()) break;
    std::this_thread::sleep_for(50ms);
  }
  return left;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "; ";
  return out;
}

class Cleanup : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!is_root()) return;
    ASSERT_TRUE(leftovers_after_settling().empty()) << "objects from an earlier run: " << join(hotline_objects());
  }
  // While hotline runs, its objects are there (so the checks below can fail).
  void expect_loaded() {
    std::vector<std::string> seen;
    for (int i = 0; i < 40 && seen.size() < 4; ++i) {
      seen = hotline_objects();
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_GE(seen.size(), 4u) << "hotline's BPF objects were not visible while recording";
  }
  TempDir dir_;
};

TEST_F(Cleanup, AfterNormalEnd) {
  HOTLINE_REQUIRE_ROOT();
  Child recorder({hotline_bin(), "record", "-q", "-d", "1500ms", "-o", dir_.file("a.db"), "--", fixture("single")});
  expect_loaded();
  ASSERT_EQ(recorder.wait(20s).value_or(-1), 0);
  EXPECT_TRUE(leftovers_after_settling().empty()) << join(hotline_objects());
}

TEST_F(Cleanup, AfterSigintAndSigterm) {
  HOTLINE_REQUIRE_ROOT();
  for (int sig : {SIGINT, SIGTERM}) {
    Child recorder({hotline_bin(), "record", "-q", "-o", dir_.file("s" + std::to_string(sig) + ".db"), "--",
                    fixture("single")});
    expect_loaded();
    recorder.signal(sig);
    ASSERT_EQ(recorder.wait(20s).value_or(-1), 0) << "signal " << sig;
    EXPECT_TRUE(leftovers_after_settling().empty()) << "signal " << sig << ": " << join(hotline_objects());
  }
}

TEST_F(Cleanup, AfterTheTargetDies) {
  HOTLINE_REQUIRE_ROOT();
  Child target({fixture("single"), "1.5"});
  Child recorder({hotline_bin(), "record", "-q", "-o", dir_.file("t.db"), "--pid", std::to_string(target.pid())});
  expect_loaded();
  ASSERT_EQ(recorder.wait(20s).value_or(-1), 0);
  EXPECT_TRUE(leftovers_after_settling().empty()) << join(hotline_objects());
}

TEST_F(Cleanup, AfterAnErrorPastAttaching) {
  HOTLINE_REQUIRE_ROOT();
  // Executable bit but no valid format: exec fails after the sampler is attached.
  std::string bogus = dir_.file("bogus");
  { std::ofstream(bogus) << "\x01\x02 not a program"; }
  ::chmod(bogus.c_str(), 0755);
  RunResult r = run({hotline_bin(), "record", "-q", "-o", dir_.file("e.db"), "--", bogus});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("cannot execute"), std::string::npos) << r.err;
  EXPECT_TRUE(leftovers_after_settling().empty()) << join(hotline_objects());
}

TEST_F(Cleanup, AfterSigkill) {
  HOTLINE_REQUIRE_ROOT();
  Child recorder({hotline_bin(), "record", "-q", "-o", dir_.file("k.db"), "--", fixture("single")});
  expect_loaded();
  recorder.signal(SIGKILL);
  ASSERT_TRUE(recorder.wait(10s).has_value());
  EXPECT_TRUE(leftovers_after_settling().empty()) << join(hotline_objects());
}

}  // namespace
}  // namespace hotline::test
