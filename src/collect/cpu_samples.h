#pragma once
// CPU samples as a collector: what a CPU sampler (the BPF sampler or the perf_event
// fallback) counted per thread and stack, one `cpu` value each, with its loss counters.
// The sampler itself is the session's: it also tracks the processes (fork, exec, exit).
#include <array>
#include <cstdint>
#include <functional>

#include "collect/collector.h"
#include "collect/cpu_source.h"

namespace hotline {

class CpuSamples final : public Collector {
 public:
  // `keep`: whether a process's samples of this checkpoint may be kept (a caller without
  // CAP_SYS_PTRACE whose target made itself non-dumpable since); `restricted` adds
  // denied_samples to the meta.
  CpuSamples(CpuSource& source, std::function<bool(pid_t)> keep, bool restricted)
      : source_(source), keep_(std::move(keep)), restricted_(restricted) {}

  std::vector<SampleType> sample_types() const override { return {sample_types::cpu}; }
  std::vector<StackSample> drain() override;
  MetaEntries meta() const override;
  std::uint64_t map_bytes() const override { return source_.map_bytes(); }
  void stop() override;

 private:
  CpuSource& source_;
  std::function<bool(pid_t)> keep_;
  bool restricted_;
  std::uint64_t denied_ = 0;
  std::array<std::uint64_t, kUnwindStopCount> stops_{};  // samples per reason their user stack ends
};

}  // namespace hotline
