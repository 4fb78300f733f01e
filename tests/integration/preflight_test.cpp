// Privileges and refusals, run for real: doctor against the machine's actual state, hidden
// BTF, an unprivileged user with and without file capabilities, sensitive targets.
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

std::string read_sysctl(const std::string& name) {
  std::ifstream in("/proc/sys/kernel/" + name);
  std::string v;
  in >> v;
  return v;
}

const nlohmann::json* check(const nlohmann::json& doctor, const std::string& name) {
  for (const auto& c : doctor["checks"]) {
    if (c["name"] == name) return &c;
  }
  return nullptr;
}

nlohmann::json doctor_json(const std::map<std::string, std::string>& env = {}, int* code = nullptr,
                           const std::string& as_user = "") {
  std::vector<std::string> argv = {hotline_bin(), "doctor", "--json"};
  if (!as_user.empty()) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", as_user, "--"});
  RunResult r = run(argv, 60s, env);
  if (code) *code = r.code;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

TEST(Doctor, MatchesTheMachinesState) {
  HOTLINE_REQUIRE_ROOT();
  int code = -1;
  auto d = doctor_json({}, &code);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(d["can_record_cpu"].get<bool>());
  EXPECT_EQ((*check(d, "BTF"))["status"], std::filesystem::exists("/sys/kernel/btf/vmlinux") ? "ok" : "missing");
  EXPECT_EQ((*check(d, "CAP_BPF"))["status"], "ok");
  EXPECT_EQ((*check(d, "perf_event_paranoid"))["value"], read_sysctl("perf_event_paranoid"));
  EXPECT_TRUE((*check(d, "kptr_restrict"))["value"].get<std::string>().starts_with(read_sysctl("kptr_restrict")));
  EXPECT_EQ(check(d, "yama_ptrace_scope")->at("value").get<std::string>().starts_with("absent"),
            !std::filesystem::exists("/proc/sys/kernel/yama/ptrace_scope"));
  ASSERT_NE(check(d, "uprobes (heap exact mode)"), nullptr);
  EXPECT_EQ((*check(d, "uprobes (heap exact mode)"))["status"],
            std::filesystem::exists("/sys/bus/event_source/devices/uprobe") ? "ok" : "degraded");

  // Toggle a setting and see doctor follow it.
  const std::string before = read_sysctl("kptr_restrict");
  const std::string other = before == "1" ? "0" : "1";
  { std::ofstream("/proc/sys/kernel/kptr_restrict") << other; }
  auto toggled = doctor_json();
  { std::ofstream("/proc/sys/kernel/kptr_restrict") << before; }
  ASSERT_EQ(read_sysctl("kptr_restrict"), before) << "restored";
  EXPECT_TRUE((*check(toggled, "kptr_restrict"))["value"].get<std::string>().starts_with(other));
}

TEST(Doctor, HiddenBtfMakesRecordingImpossible) {
  HOTLINE_REQUIRE_ROOT();
  int code = -1;
  auto d = doctor_json({{"HOTLINE_TEST_BTF_PATH", "/nonexistent/vmlinux"}}, &code);
  EXPECT_EQ(code, 4);
  EXPECT_FALSE(d["can_record_cpu"].get<bool>());
  EXPECT_EQ((*check(d, "BTF"))["status"], "missing");
  EXPECT_NE((*check(d, "BTF"))["remedy"].get<std::string>().find("CONFIG_DEBUG_INFO_BTF"), std::string::npos);

  TempDir dir;
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("x.db"), "--", fixture("single")}, 60s,
                    {{"HOTLINE_TEST_BTF_PATH", "/nonexistent/vmlinux"}});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("BTF"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.db"))) << "refused before creating anything";
  EXPECT_NE(r.err.find("--cpu-backend=perf"), std::string::npos) << "the way out is named: " << r.err;
  // ... and taking it records without loading any BPF.
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "--cpu-backend", "perf", "-o", dir.file("y.db"), "--",
           fixture("single")},
          60s, {{"HOTLINE_TEST_BTF_PATH", "/nonexistent/vmlinux"}});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(query_value(dir.file("y.db"), "SELECT value FROM meta WHERE key = 'cpu_backend'"), "perf");
}

// Sets a kernel sysctl for the scope of a test and restores it.
class SysctlGuard {
 public:
  SysctlGuard(std::string name, const std::string& value) : name_(std::move(name)), before_(read_sysctl(name_)) {
    std::ofstream("/proc/sys/kernel/" + name_) << value;
  }
  ~SysctlGuard() { std::ofstream("/proc/sys/kernel/" + name_) << before_; }
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;

 private:
  std::string name_, before_;
};

TEST(Doctor, UnprivilegedUserIsToldWhatIsMissing) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "2");
  int code = -1;
  auto d = doctor_json({}, &code, "nobody");
  EXPECT_EQ(code, 0) << "the perf fallback records CPU profiles of one's own processes";
  EXPECT_FALSE(d["root"].get<bool>());
  EXPECT_EQ((*check(d, "CAP_BPF"))["status"], "missing");
  EXPECT_NE((*check(d, "CAP_BPF"))["remedy"].get<std::string>().find("setcap"), std::string::npos);
  EXPECT_EQ((*check(d, "CPU sampler"))["status"], "degraded");
  EXPECT_NE((*check(d, "CPU sampler"))["value"].get<std::string>().find("perf_event callchains"), std::string::npos);
}

TEST(Doctor, RaisedParanoiaLeavesAnUnprivilegedUserNothing) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "3");
  int code = -1;
  auto d = doctor_json({}, &code, "nobody");
  EXPECT_EQ(code, 4);
  EXPECT_FALSE(d["can_record_cpu"].get<bool>());
  EXPECT_EQ((*check(d, "CPU sampler"))["status"], "missing");
  EXPECT_EQ((*check(d, "perf_event_paranoid"))["value"], "3");
}

// A copy of hotline run as nobody, with the given file capabilities (none: a plain user).
class UnprivilegedCopy : public ::testing::Test {
 protected:
  explicit UnprivilegedCopy(std::string caps) : caps_(std::move(caps)) {}
  void SetUp() override {
    if (!is_root()) return;
    ::chmod(dir_.path().c_str(), 0777);
    binary_ = dir_.file("hotline");
    std::filesystem::copy_file(hotline_bin(), binary_);
    ::chmod(binary_.c_str(), 0755);
    if (!caps_.empty()) {
      RunResult r = run({"/usr/sbin/setcap", caps_, binary_});
      ASSERT_EQ(r.code, 0) << r.err;
    }
  }
  // `args` to the copy as nobody; `with_binary` false: `args` is the whole command line.
  RunResult as_nobody(std::vector<std::string> args, bool with_binary = true) {
    std::vector<std::string> argv = {"/usr/sbin/runuser", "-u", "nobody", "--"};
    if (with_binary) argv.push_back(binary_);
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv);
  }
  TempDir dir_;
  std::string binary_;
  std::string caps_;
};

// Only cap_bpf,cap_perfmon: the least-privilege setup for the BPF sampler.
class LeastPrivilege : public UnprivilegedCopy {
 protected:
  LeastPrivilege() : UnprivilegedCopy("cap_bpf,cap_perfmon+ep") {}
};

// No capabilities at all: the perf_event fallback, own processes only.
class NoCapabilities : public UnprivilegedCopy {
 protected:
  NoCapabilities() : UnprivilegedCopy("") {}
};

TEST_F(NoCapabilities, OwnProcessIsProfiledThroughThePerfFallback) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "2");
  std::string db = dir_.file("own.db");
  RunResult r = as_nobody({"record", "-q", "-d", "2s", "-o", db, "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  // Announced even with -q: what is lost and how to get it back.
  EXPECT_NE(r.err.find("falls back to perf_event callchains"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("time spent in the kernel is not sampled"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("setcap cap_perfmon,cap_bpf"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'cpu_backend'"), "perf");
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);
  EXPECT_GT(top["total_samples"].get<int>(), 100);
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Asking for the BPF sampler explicitly is refused, naming the capabilities.
  r = as_nobody({"record", "-q", "-d", "1s", "--cpu-backend", "bpf", "-o", dir_.file("bpf.db"), "--",
                 fixture("single")});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("CAP_BPF"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("bpf.db")));
}

TEST_F(NoCapabilities, RaisedParanoiaIsRefusedWithTheSysctlRemedy) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "3");
  std::string db = dir_.file("refused.db");
  RunResult r = as_nobody({"record", "-q", "-d", "1s", "-o", db, "--", fixture("single")});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("perf_event_paranoid=3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sudo sysctl kernel.perf_event_paranoid=2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("setcap cap_perfmon,cap_bpf"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db)) << "refused before creating anything or starting the command";
}

TEST_F(NoCapabilities, AnotherUsersProcessIsRefusedBeforeAnythingAttaches) {
  HOTLINE_REQUIRE_ROOT();
  Child roots({fixture("single")});
  std::this_thread::sleep_for(100ms);
  std::string db = dir_.file("theirs.db");
  RunResult r = as_nobody({"record", "-q", "-d", "1s", "-o", db, "--pid", std::to_string(roots.pid())});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("another user"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
}

TEST_F(LeastPrivilege, OwnProcessIsProfiledWithItsHotLine) {
  HOTLINE_REQUIRE_ROOT();
  std::string db = dir_.file("own.db");
  RunResult r = as_nobody({"record", "-q", "-d", "2s", "-o", db, "--", fixture("single")});
  ASSERT_EQ(r.code, 0) << r.err;
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);
  // Shared libraries are named too (read by path: no CAP_SYS_ADMIN for map_files).
  const auto by_function = top_json(db, {"--by", "function"});
  bool libc_named = false;
  for (const auto& e : by_function["entries"]) libc_named |= e["function"] == "__libc_start_call_main" ||
                                                             e["function"] == "__libc_start_main";
  EXPECT_TRUE(libc_named) << describe(by_function);
  struct stat st {};
  ASSERT_EQ(::stat(db.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(LeastPrivilege, AnotherUsersProcessIsRefusedBeforeAnythingAttaches) {
  HOTLINE_REQUIRE_ROOT();
  Child roots({fixture("single")});  // runs as root
  std::this_thread::sleep_for(100ms);
  std::string db = dir_.file("theirs.db");
  RunResult r = as_nobody({"record", "-q", "-d", "1s", "-o", db, "--pid", std::to_string(roots.pid())});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("another user"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cap_sys_ptrace"), std::string::npos) << "the remedy is named: " << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
}

// ---- The ownership rule without CAP_SYS_PTRACE: only processes the caller could ptrace. ----

// A process of nobody's (started through runuser), and its pid.
class NobodysProcess {
 public:
  explicit NobodysProcess(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "nobody", "--"});
    runner_ = std::make_unique<Child>(argv);
    for (int i = 0; i < 100 && pid_ == 0; ++i) {
      std::ifstream in("/proc/" + std::to_string(runner_->pid()) + "/task/" + std::to_string(runner_->pid()) +
                       "/children");
      in >> pid_;
      if (pid_ == 0) std::this_thread::sleep_for(20ms);
    }
    std::this_thread::sleep_for(150ms);
  }
  pid_t pid() const { return pid_; }
  void signal(int sig) const { ::kill(pid_, sig); }

 private:
  std::unique_ptr<Child> runner_;
  pid_t pid_ = 0;
};

std::string meta(const std::string& db, const std::string& key) {
  return query_value(db, "SELECT value FROM meta WHERE key = '" + key + "'");
}

std::string setuid_root_copy(const TempDir& dir, const std::string& program) {
  const std::string copy = dir.file("setuid-" + program);
  std::filesystem::copy_file(fixture(program), copy);
  ::chown(copy.c_str(), 0, 0);
  ::chmod(copy.c_str(), 04755);
  return copy;
}

TEST_F(LeastPrivilege, ASetuidRootCommandIsRefusedBeforeItStarts) {
  HOTLINE_REQUIRE_ROOT();
  const std::string program = setuid_root_copy(dir_, "single");
  const std::string db = dir_.file("setuid.db");
  RunResult r = as_nobody({"record", "-q", "-d", "2s", "-o", db, "--", program, "2"});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("is setuid (runs as uid 0)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cap_sys_ptrace"), std::string::npos) << "the remedy is named: " << r.err;
  EXPECT_FALSE(std::filesystem::exists(db)) << "refused before creating anything";
}

TEST_F(LeastPrivilege, ANonDumpableProcessIsRefusedBeforeAnythingAttaches) {
  HOTLINE_REQUIRE_ROOT();
  NobodysProcess agent({fixture("nondumpable"), "now"});
  const std::string db = dir_.file("agent.db");
  RunResult r = as_nobody({"record", "-q", "-d", "1s", "-o", db, "--pid", std::to_string(agent.pid())});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("is not dumpable"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
}

TEST_F(NoCapabilities, ANonDumpableProcessIsRefusedWithoutASysctlHint) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "2");
  NobodysProcess agent({fixture("nondumpable"), "now"});
  const std::string db = dir_.file("agent.db");
  RunResult r = as_nobody({"record", "-q", "-d", "1s", "-o", db, "--pid", std::to_string(agent.pid())});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("is not dumpable"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("perf_event_paranoid"), std::string::npos) << "no sysctl that is already set: " << r.err;
  EXPECT_FALSE(std::filesystem::exists(db)) << "refused before creating anything";
}

// Both samplers: the BPF one with cap_bpf,cap_perfmon, the perf_event one with none.
class RestrictedCopy : public UnprivilegedCopy, public ::testing::WithParamInterface<std::string> {
 protected:
  RestrictedCopy() : UnprivilegedCopy(GetParam() == "bpf" ? "cap_bpf,cap_perfmon+ep" : "") {}
};

TEST_P(RestrictedCopy, ACommandThatExecsASetuidProgramStopsBeingSampled) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "2");
  const std::string program = setuid_root_copy(dir_, "single");
  const std::string db = dir_.file("execs.db");
  RunResult r = as_nobody({"record", "-q", "-d", "3s", "--cpu-backend", GetParam(), "-o", db, "--", "/bin/sh", "-c",
                           "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec " + program + " 3"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("a program you may not profile without CAP_SYS_PTRACE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no longer sampled"), std::string::npos) << r.err;
  auto top = top_json(db);
  EXPECT_GT(top["total_samples"].get<int>(), 0) << "the shell was sampled before the exec";
  EXPECT_EQ(find_entry(top, "single.c", line_of("single.c", "SINGLE_HOT_LINE")), nullptr)
      << "nothing of the setuid program: " << describe(top);
}

TEST_P(RestrictedCopy, AProcessThatTurnsNonDumpableStopsBeingSampled) {
  HOTLINE_REQUIRE_ROOT();
  SysctlGuard paranoid("perf_event_paranoid", "2");
  NobodysProcess agent({fixture("nondumpable"), "after", "1.5"});
  const std::string db = dir_.file("turns.db");
  RunResult r = as_nobody({"record", "-q", "-d", "3s", "--heap", "off", "--cpu-backend", GetParam(), "-o", db,
                           "--pid", std::to_string(agent.pid())});
  ASSERT_EQ(r.code, 0) << r.err;
  auto top = top_json(db);
  EXPECT_NE(find_entry(top, "nondumpable.c", line_of("nondumpable.c", "DUMPABLE_LINE")), nullptr) << describe(top);
  EXPECT_EQ(find_entry(top, "nondumpable.c", line_of("nondumpable.c", "NONDUMPABLE_LINE")), nullptr) << describe(top);
  EXPECT_GT(std::stoll(meta(db, "denied_samples")), 0);
  EXPECT_NE(r.err.find("is not dumpable"), std::string::npos) << "which process, and why: " << r.err;
  EXPECT_NE(r.err.find("no longer sampled"), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Samplers, RestrictedCopy, ::testing::Values("bpf", "perf"),
                         [](const auto& info) { return info.param; });

// With cap_bpf,cap_perfmon the default options work on one's own process: heap exact mode
// through uprobe_multi links where the kernel has them (probes in one's own processes only),
// and where it does not, CPU alone, announced.
TEST_F(LeastPrivilege, OwnProcessByPidRecordsItsHeapWithDefaultOptions) {
  HOTLINE_REQUIRE_ROOT();
  NobodysProcess target({fixture("heap")});
  const std::string db = dir_.file("heap.db");
  Child recorder({"/usr/sbin/runuser", "-u", "nobody", "--", binary_, "record", "-q", "-d", "4s", "--max-overhead",
                  "100", "-o", db, "--pid", std::to_string(target.pid())},
                 true);
  std::this_thread::sleep_for(1500ms);
  target.signal(SIGUSR1);
  auto status = recorder.wait(60s);
  ASSERT_EQ(status.value_or(-1), 0) << recorder.read_stderr();
  EXPECT_EQ(meta(db, "heap_mode"), "exact");
  EXPECT_EQ(meta(db, "heap_probe_scope"), "per-process");
  RunResult heap = run({hotline_bin(), "top", "heap", db, "--json"});
  ASSERT_EQ(heap.code, 0) << heap.err;
  auto report = nlohmann::json::parse(heap.out);
  ASSERT_FALSE(report["entries"].empty()) << heap.out;
  EXPECT_EQ(report["entries"][0]["line"], line_of("heap.c", "HEAP_LIVE_LINE")) << heap.out;
}

TEST_F(LeastPrivilege, SharedHeapProbesAreRefused) {
  HOTLINE_REQUIRE_ROOT();
  NobodysProcess target({fixture("single")});
  const std::string db = dir_.file("shared.db");
  RunResult r = as_nobody({"record", "-q", "-d", "1s", "--heap-probes", "shared", "-o", db, "--pid",
                           std::to_string(target.pid())});
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("every process mapping a probed file"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db));
}

TEST_F(LeastPrivilege, WithoutUprobeMultiTheHeapFallsBackToCpuOnly) {
  HOTLINE_REQUIRE_ROOT();
  NobodysProcess target({fixture("single")});
  const std::string db = dir_.file("cpu.db");
  RunResult r = as_nobody({"/usr/bin/env", "HOTLINE_TEST_NO_UPROBE_MULTI=1", binary_, "record", "-q", "-d", "2s",
                           "-o", db, "--pid", std::to_string(target.pid())},
                          false);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("heap exact mode is unavailable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("CAP_SYS_ADMIN"), std::string::npos) << "the capability is named: " << r.err;
  EXPECT_EQ(meta(db, "heap_mode"), "off");
  auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty());
  EXPECT_EQ(top["entries"][0]["line"], line_of("single.c", "SINGLE_HOT_LINE")) << describe(top);

  // Asked for explicitly, it is refused with the way out.
  r = as_nobody({"/usr/bin/env", "HOTLINE_TEST_NO_UPROBE_MULTI=1", binary_, "record", "-q", "-d", "1s", "--heap",
                 "exact", "-o", dir_.file("exact.db"), "--pid", std::to_string(target.pid())},
                false);
  EXPECT_EQ(r.code, 4) << r.err;
  EXPECT_NE(r.err.find("--heap=off"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("exact.db")));

  // doctor says which capability heap exact mode needs, and that it has it with uprobe_multi.
  RunResult d = as_nobody({"/usr/bin/env", "HOTLINE_TEST_NO_UPROBE_MULTI=1", binary_, "doctor", "--json"}, false);
  auto doctor = nlohmann::json::parse(d.out);
  const auto* heap = check(doctor, "uprobes (heap exact mode)");
  ASSERT_NE(heap, nullptr) << d.out;
  EXPECT_EQ((*heap)["status"], "degraded");
  EXPECT_NE((*heap)["value"].get<std::string>().find("CAP_SYS_ADMIN"), std::string::npos) << d.out;
  d = as_nobody({"doctor", "--json"});
  doctor = nlohmann::json::parse(d.out);
  EXPECT_EQ((*check(doctor, "uprobes (heap exact mode)"))["status"], "ok") << d.out;
}

TEST(Sensitive, RootIsWarnedEvenWhenQuiet) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  std::string fake = dir.file("sshd");  // comm "sshd"
  std::filesystem::copy_file(fixture("single"), fake);
  ::chmod(fake.c_str(), 0755);
  Child target({fake});
  std::this_thread::sleep_for(200ms);
  RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("s.db"), "--pid",
                     std::to_string(target.pid())});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: profiling sshd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("as root"), std::string::npos) << r.err;
  // A process that is not on the list: no warning.
  Child plain({fixture("single")});
  std::this_thread::sleep_for(100ms);
  r = run({hotline_bin(), "record", "-q", "-d", "1s", "-o", dir.file("p.db"), "--pid", std::to_string(plain.pid())});
  EXPECT_EQ(r.err, "");
}

}  // namespace
}  // namespace hotline::test
