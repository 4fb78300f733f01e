#pragma once
// What a CPU sampler delivers, whichever way it samples: the BPF sampler (CpuCollector) or
// the perf_event callchain fallback for callers without CAP_BPF (PerfCollector).
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "unwind/stack_reader.h"

namespace hotline {

struct CpuSample {
  pid_t pid = 0;
  pid_t tid = 0;
  std::string comm;
  std::vector<std::uint64_t> user_ips;    // innermost first
  std::vector<std::uint64_t> kernel_ips;  // innermost first; empty when the tick hit user mode
  bool truncated = false;                 // a stack hit the depth limit
  UnwindStop user_stop = UnwindStop::frame_pointers;  // why the user stack ends there
  std::uint64_t count = 0;
};

struct CpuStats {
  std::uint64_t samples = 0;
  std::uint64_t user_stacks_lost = 0;
  std::uint64_t kernel_stacks_lost = 0;
  std::uint64_t counts_full = 0;
  std::uint64_t truncated = 0;  // counted in user space while draining
  std::uint64_t denied = 0;     // samples of processes the caller may not profile, dropped
};

// Which processes are sampled is the process tracker's (collect/process_tracker.h).
class CpuSource {
 public:
  virtual ~CpuSource() = default;
  // Starts sampling.
  virtual void attach() = 0;
  // Everything sampled since the last drain.
  virtual std::vector<CpuSample> drain() = 0;
  virtual CpuStats stats() const = 0;
  virtual int cpu_count() const = 0;
  // Bytes of kernel memory the sampler locks.
  virtual std::uint64_t map_bytes() const = 0;
};

// Online CPU numbers from /sys/devices/system/cpu/online ("0-3,8").
std::vector<int> online_cpus();

}  // namespace hotline
