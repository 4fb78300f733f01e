// What crosses the kernel/user boundary: only instruction pointers, sizes, ids and comm.
// Fails if a BPF program calls a helper outside the allowlist, reads user memory other than
// 8 bytes at a time (the unwinder's return addresses and saved frame pointers, the
// allocator's return address and result pointer), reads it outside the two objects that
// unwind, or if hotline opens a perf event that copies user registers or user stack memory
// (PERF_SAMPLE_REGS_USER, PERF_SAMPLE_STACK_USER).
#include <linux/perf_event.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

// Helper ids (include/uapi/linux/bpf.h) hotline's programs may call.
const std::map<int, std::string> kAllowedHelpers = {
    {1, "map_lookup_elem"},     {2, "map_update_elem"},   {3, "map_delete_elem"},
    {14, "get_current_pid_tgid"}, {16, "get_current_comm"}, {27, "get_stackid (IPs only)"},
    {67, "get_stack (IPs only: the kernel's walk)"}, {181, "loop (the unwinder's steps and searches)"},
    {5, "ktime_get_ns (rate of the unwinder's requests)"},
    {158, "get_current_task_btf (the user registers of a sample in kernel mode)"},
    {175, "task_pt_regs (the user registers of a sample in kernel mode)"},
    {35, "get_current_task (the ptrace rule reads its credentials, bpf/access.h)"},
    {174, "get_attach_cookie (which allocator function a shared probe is on)"},
    {113, "probe_read_kernel (CO-RE reads of task_struct)"},
    {131, "ringbuf_reserve"},   {132, "ringbuf_submit"},
};
// Named so a failure says what was attempted: every helper that copies user memory.
const std::map<int, std::string> kUserMemoryReaders = {
    {4, "probe_read"}, {45, "probe_read_str"}, {112, "probe_read_user"}, {114, "probe_read_user_str"},
    {148, "copy_from_user"}, {191, "copy_from_user_task"},
};

// The CPU sampler and the heap programs may read exactly 8 bytes of user memory per read
// (bpf/unwind.h: return addresses and saved frame pointers at computed addresses; the heap's
// return address at the allocator's entry and posix_memalign's result pointer):
// bpf_probe_read_user with a constant size of 8, and nothing else. The process tracker reads
// no user memory.
bool reads_one_word(const std::vector<std::string>& lines, std::size_t call_index) {
  for (std::size_t back = 1; back <= 6 && back <= call_index; ++back) {
    const std::string& l = lines[call_index - back];
    if (l.find("\tr2 = ") == std::string::npos) continue;
    return l.ends_with("\tr2 = 8");
  }
  return false;
}

TEST(Boundary, BpfProgramsCallOnlyAllowedHelpers) {
  int objects = 0, calls = 0, user_reads = 0, cpu_reads = 0, offcpu_reads = 0;
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(BPF_OBJECT_DIR)) {
    if (!entry.path().string().ends_with(".bpf.o")) continue;
    ++objects;
    const std::string name = entry.path().filename().string();
    names.insert(name);
    RunResult r = run({LLVM_OBJDUMP, "-d", entry.path().string()});
    ASSERT_EQ(r.code, 0) << r.err;
    std::vector<std::string> lines;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::regex call(R"(\tcall (-?\d+)$)");
    for (std::size_t i = 0; i < lines.size(); ++i) {
      std::smatch m;
      if (!std::regex_search(lines[i], m, call)) continue;
      int id = std::stoi(m[1]);
      ++calls;
      // The unwinder (bpf/unwind.h) in the objects that include it: one word at a time.
      if (id == 112 && (name == "heap.bpf.o" || name == "cpu.bpf.o" || name == "offcpu.bpf.o")) {
        ++user_reads;
        if (name == "cpu.bpf.o") ++cpu_reads;
        if (name == "offcpu.bpf.o") ++offcpu_reads;
        EXPECT_TRUE(reads_one_word(lines, i)) << name << " reads more than one 8-byte word of user memory at: "
                                              << lines[i];
        continue;
      }
      EXPECT_FALSE(kUserMemoryReaders.contains(id)) << name << " reads user memory with bpf_" << kUserMemoryReaders.at(id);
      EXPECT_TRUE(kAllowedHelpers.contains(id)) << name << " calls helper " << id << ", not on the allowlist";
    }
  }
  EXPECT_TRUE(names.contains("cpu.bpf.o") && names.contains("heap.bpf.o") && names.contains("offcpu.bpf.o"))
      << "every object was checked";
  EXPECT_GT(calls, 10) << "the disassembly was not read";
  EXPECT_GT(user_reads, 0) << "the heap programs' return-address reads were seen (the check is live)";
  EXPECT_GT(cpu_reads, 0) << "the unwinder's reads were seen (the check is live)";
  EXPECT_GT(offcpu_reads, 0) << "the off-CPU program's unwinder reads were seen";
}

TEST(Boundary, PerfEventsNeverCopyUserRegistersOrStack) {
  HOTLINE_REQUIRE_ROOT();
  // Both samplers: the BPF one (events carry no sample data at all) and the perf fallback
  // (kernel-unwound callchains and thread ids, nothing else).
  for (const std::string backend : {"bpf", "perf"}) {
    SCOPED_TRACE(backend);
    TempDir dir;
    std::string log = dir.file("perf_events.log");
    RunResult r = run({hotline_bin(), "record", "-q", "-d", "1s", "--cpu-backend", backend, "-o", dir.file("x.db"),
                       "--", fixture("single")},
                      60s, {{"LD_PRELOAD", fixture("perf_attr_spy.so")}, {"HOTLINE_SPY_LOG", log}});
    ASSERT_EQ(r.code, 0) << r.err;
    std::ifstream in(log);
    std::string line;
    int opened = 0, callchains = 0;
    while (std::getline(in, line)) {
      ++opened;
      std::istringstream fields(line);
      std::string type, config, sample_type, regs, stack;
      fields >> type >> config >> sample_type >> regs >> stack;
      unsigned long long bits = std::stoull(sample_type.substr(sample_type.find('=') + 1));
      EXPECT_EQ(bits & PERF_SAMPLE_STACK_USER, 0u) << line;
      EXPECT_EQ(bits & PERF_SAMPLE_REGS_USER, 0u) << line;
      EXPECT_EQ(bits & ~static_cast<unsigned long long>(PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN), 0u)
          << "only thread ids and instruction pointers: " << line;
      EXPECT_EQ(regs, "sample_regs_user=0") << line;
      EXPECT_EQ(stack, "sample_stack_user=0") << line;
      callchains += (bits & PERF_SAMPLE_CALLCHAIN) != 0;
    }
    // One cpu-clock event per CPU at least: proves the spy saw hotline's calls.
    EXPECT_GE(opened, static_cast<int>(std::thread::hardware_concurrency())) << "spy log: " << log;
    if (backend == "perf") {
      EXPECT_GE(callchains, 1) << "the fallback's events were seen";
    } else {
      EXPECT_EQ(callchains, 0);
    }
  }
}

}  // namespace
}  // namespace hotline::test
