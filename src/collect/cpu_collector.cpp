#include "collect/cpu_collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/membarrier.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstdio>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "cpu.skel.h"
#include "skeletons.h"
#include "collect/libbpf_log.h"
#include "collect/map_memory.h"
#include "collect/percpu.h"
#include "hotline_abi.h"
#include "unwind/stack_reader.h"
#include "util/error.h"
#include "util/files.h"
#include "util/text.h"

namespace hotline {
namespace {

int open_cpu_clock(int cpu, int frequency_hz) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.freq = 1;
  attr.sample_freq = static_cast<std::uint64_t>(frequency_hz);
  // No sample_type bits: the BPF program reads registers and unwinds in the kernel; no
  // PERF_SAMPLE_STACK_USER / REGS_USER, nothing of the target's memory is copied out.
  attr.sample_type = 0;
  return static_cast<int>(::syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC));
}

// Waits until every BPF program that may have read the old slot has finished: they run
// inside RCU read-side sections, and MEMBARRIER_CMD_GLOBAL waits for a grace period.
void wait_for_samplers() {
  if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::vector<int> online_cpus() {
  std::vector<int> cpus;
  auto text = read_text_file("/sys/devices/system/cpu/online", 4096);
  if (text) {
    std::size_t pos = 0;
    while (pos < text->size()) {
      std::size_t end = text->find_first_of(",\n", pos);
      if (end == std::string::npos) end = text->size();
      std::string part = text->substr(pos, end - pos);
      pos = end + 1;
      if (part.empty()) continue;
      // "N" or "N-M"
      int first = 0, last = 0;
      const char* begin = part.data();
      const char* end_of_part = part.data() + part.size();
      auto [p, ec] = std::from_chars(begin, end_of_part, first);
      if (ec != std::errc()) continue;
      last = first;
      if (p != end_of_part && *p == '-') {
        auto [q, ec2] = std::from_chars(p + 1, end_of_part, last);
        if (ec2 != std::errc()) continue;
      }
      for (int c = first; c <= last && c < 65536; ++c) cpus.push_back(c);
    }
  }
  if (cpus.empty()) {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    for (int c = 0; c < n; ++c) cpus.push_back(c);
  }
  return cpus;
}

void CpuCollector::set_verbose(bool verbose) { set_libbpf_verbose(verbose); }

namespace {
// Smallest maps worth running with: below this a checkpoint loses most stacks.
constexpr std::uint32_t kMinEntries = 1024;
}  // namespace

CpuCollector::CpuCollector(const Options& options) : options_(options) {
  use_hotline_libbpf_log();
  if (options_.targets_fd < 0) throw Error(ExitCode::general, "the CPU sampler needs the process tracker's map");
  // Stay under the memory budget before asking the kernel at all.
  while (estimated_map_bytes() > options_.max_map_bytes && halve_maps()) {
  }
  // Map creation fails with ENOMEM (memory cgroup, vmalloc) or EPERM (RLIMIT_MEMLOCK on
  // kernels before 5.11) when the maps are too big for this host: halve and retry.
  while (true) {
    skel_ = skeleton::open_cpu();
    if (skel_ == nullptr) throw bpf_error("cannot open the CPU sampler BPF object", errno);
    if (int err = bpf_map__reuse_fd(skel_->maps.targets, options_.targets_fd); err != 0) {
      skeleton::destroy_cpu(skel_);
      skel_ = nullptr;
      throw bpf_error("cannot share the process tracker's map with the CPU sampler", err);
    }
    if (options_.unwind_maps != nullptr) {
      if (int err = reuse_unwind_maps(skel_->maps, *options_.unwind_maps); err != 0) {
        skeleton::destroy_cpu(skel_);
        skel_ = nullptr;
        throw bpf_error("cannot share the unwind tables with the CPU sampler", err);
      }
    }
    skel_->rodata->hotline_unwind_mode = static_cast<std::uint32_t>(options_.unwind);
    for (bpf_map* m : {skel_->maps.stacks0, skel_->maps.stacks1}) bpf_map__set_max_entries(m, options_.stack_entries);
    for (bpf_map* m : {skel_->maps.counts0, skel_->maps.counts1}) bpf_map__set_max_entries(m, options_.count_entries);
    skel_->rodata->hotline_restricted = options_.access.restricted ? 1 : 0;
    skel_->rodata->hotline_uid = options_.access.uid;
    skel_->rodata->hotline_gid = options_.access.gid;
    skel_->rodata->hotline_caps = options_.access.permitted_caps;
    const int err = skeleton::load_cpu(skel_);
    if (err == 0) break;
    skeleton::destroy_cpu(skel_);
    skel_ = nullptr;
    const bool memory = err == -ENOMEM || err == -EPERM || err == -E2BIG;
    if (memory && halve_maps()) continue;
    if (memory && halvings_ > 0) {
      Error e = bpf_error(fmt::format("cannot create the CPU sampler's BPF maps even at {} entries", options_.stack_entries),
                          err);
      throw Error(e.code(), e.what(),
                  "the memory limit for BPF maps is too low: raise the memory cgroup limit (memory.max) or, on "
                  "kernels before 5.11, RLIMIT_MEMLOCK (ulimit -l); or run as root with CAP_BPF and CAP_PERFMON");
    }
    throw bpf_error("cannot load the CPU sampler BPF programs", err);
  }
}

bool CpuCollector::halve_maps() {
  if (options_.stack_entries / 2 < kMinEntries || options_.count_entries / 2 < kMinEntries) return false;
  options_.stack_entries /= 2;
  options_.count_entries /= 2;
  ++halvings_;
  return true;
}

std::uint64_t CpuCollector::estimated_map_bytes() const {
  using namespace map_memory;
  // The targets map is the process tracker's (its own estimate).
  return 2 * (hash(sizeof(std::uint32_t), sizeof(hotline_stack), options_.stack_entries) +
              hash(sizeof(hotline_cpu_key), sizeof(std::uint64_t), options_.count_entries)) +
         percpu_array(8, HOTLINE_CPU_STAT_COUNT) + percpu_array(sizeof(hotline_stack), 1) + mmapable_array(8, 1) +
         mmapable_array(32, 1);  // .bss (slot), .rodata (access rule)
}

CpuCollector::~CpuCollector() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  perf_fds_.clear();
  if (skel_) skeleton::destroy_cpu(skel_);
}

void CpuCollector::attach() {
  for (int cpu : online_cpus()) {
    UniqueFd fd(open_cpu_clock(cpu, options_.frequency_hz));
    if (!fd) {
      int err = errno;
      if (err == ENODEV || err == ENOENT) continue;  // CPU went offline meanwhile
      if (err == EACCES || err == EPERM) {
        throw Error(ExitCode::permission, errno_text(fmt::format("cannot open a cpu-clock perf event on CPU {}", cpu), err),
                    "run as root or grant CAP_PERFMON (setcap cap_perfmon,cap_bpf,cap_sys_ptrace+ep "
                    "$(command -v hotline)), or lower kernel.perf_event_paranoid");
      }
      throw Error(ExitCode::general, errno_text(fmt::format("cannot open a cpu-clock perf event on CPU {}", cpu), err));
    }
    bpf_link* link = bpf_program__attach_perf_event(skel_->progs.on_cpu_sample, fd.get());
    if (link == nullptr) throw bpf_error(fmt::format("cannot attach the sampler on CPU {}", cpu), errno);
    links_.push_back(link);
    perf_fds_.push_back(std::move(fd));
  }
  if (perf_fds_.empty()) throw Error(ExitCode::general, "no online CPU accepted a cpu-clock perf event");
}

std::vector<CpuSample> CpuCollector::drain() {
  const std::uint32_t old_slot = skel_->bss->slot;
  __atomic_store_n(&skel_->bss->slot, old_slot ^ 1u, __ATOMIC_SEQ_CST);
  wait_for_samplers();

  const int counts_fd = bpf_map__fd(old_slot ? skel_->maps.counts1 : skel_->maps.counts0);
  const int stacks_fd = bpf_map__fd(old_slot ? skel_->maps.stacks1 : skel_->maps.stacks0);

  std::vector<std::pair<hotline_cpu_key, std::uint64_t>> entries;
  hotline_cpu_key key{}, next{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(counts_fd, prev, &next) == 0) {
    std::uint64_t count = 0;
    if (bpf_map_lookup_elem(counts_fd, &next, &count) == 0) entries.emplace_back(next, count);
    key = next;
    prev = &key;
  }
  for (const auto& [k, count] : entries) bpf_map_delete_elem(counts_fd, &k);

  StackReader stacks(stacks_fd);
  std::vector<CpuSample> out;
  out.reserve(entries.size());
  for (const auto& [k, count] : entries) {
    CpuSample s;
    s.pid = static_cast<pid_t>(k.pid);
    s.tid = static_cast<pid_t>(k.tid);
    s.comm.assign(k.comm, strnlen(k.comm, sizeof k.comm));
    s.count = count;
    const ReadStack& user = stacks.read(k.user_stack);
    const ReadStack& kernel = stacks.read(k.kernel_stack);
    s.user_ips = user.ips;
    s.kernel_ips = kernel.ips;
    s.user_stop = user.stop;
    s.truncated = StackReader::truncated(user) || StackReader::truncated(kernel);
    if (s.truncated) truncated_ += count;
    out.push_back(std::move(s));
  }

  // Clear the old slot's stack map for its next turn.
  std::vector<std::uint32_t> ids;
  std::uint32_t sid = 0, next_sid = 0;
  const void* prev_sid = nullptr;
  while (bpf_map_get_next_key(stacks_fd, prev_sid, &next_sid) == 0) {
    ids.push_back(next_sid);
    sid = next_sid;
    prev_sid = &sid;
  }
  for (std::uint32_t id : ids) bpf_map_delete_elem(stacks_fd, &id);
  return out;
}

CpuStats CpuCollector::stats() const {
  CpuStats s;
  const int fd = bpf_map__fd(skel_->maps.cpu_stats);
  auto sum = [fd](std::uint32_t index) { return sum_percpu(fd, index); };
  s.samples = sum(HOTLINE_CPU_STAT_SAMPLES);
  s.user_stacks_lost = sum(HOTLINE_CPU_STAT_USER_STACK_LOST);
  s.kernel_stacks_lost = sum(HOTLINE_CPU_STAT_KERNEL_STACK_LOST);
  s.counts_full = sum(HOTLINE_CPU_STAT_COUNTS_FULL);
  s.denied = sum(HOTLINE_CPU_STAT_DENIED);
  s.truncated = truncated_;
  return s;
}

std::uint64_t CpuCollector::map_bytes() const {
  std::uint64_t total = 0;
  for (const bpf_map* m : {skel_->maps.stacks0, skel_->maps.stacks1, skel_->maps.counts0, skel_->maps.counts1,
                           skel_->maps.cpu_stats, skel_->maps.unwind_scratch, skel_->maps.bss, skel_->maps.rodata}) {
    total += map_memory::locked(bpf_map__fd(m));
  }
  return total;
}

}  // namespace hotline
