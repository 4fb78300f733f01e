#pragma once
// The CPU backend a plan chose, built: the sampler and the process tracker that goes with
// it. The BPF sampler runs over the BPF process tracker (bpf/proc.bpf.c), whose map it
// shares; the perf_event fallback is its own tracker (it follows processes through its
// perf events).
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "collect/bpf_access.h"
#include "collect/collector.h"
#include "collect/cpu_source.h"
#include "collect/process_tracker.h"

namespace hotline {

struct SamplingSetup {
  bool bpf = true;             // the BPF sampler; else the perf_event fallback
  bool kernel_frames = true;   // the fallback samples and unwinds kernel mode too
  int frequency_hz = 99;
  double map_scale = 1.0;
  std::uint64_t map_budget = 0;  // for every map together
  BpfAccessRule access;
  // The fallback, for callers without CAP_SYS_PTRACE: whether a process may be profiled
  // (checked when it execs).
  std::function<bool(pid_t)> may_profile;
  bool verbose = false;
  UnwindMode unwind = UnwindMode::automatic;  // the BPF sampler's (the fallback: frame pointers)
  std::uint64_t unwind_table_bytes = std::uint64_t{64} << 20;
};

struct SamplingBackend {
  std::unique_ptr<ProcessTracker> owned_tracker;  // the BPF tracker (the fallback owns none)
  ProcessTracker* tracker = nullptr;
  std::unique_ptr<CpuSource> sampler;
  bool checks_in_kernel = false;  // the ownership rule is applied to every sample in BPF
  MetaEntries meta;               // what sizing decided (map_halvings), how stacks are unwound
  // The unwind tables' loader, when the sampler unwinds from tables: a collector (without
  // samples) for the session to drive.
  std::unique_ptr<Collector> unwinder;
  UnwindMode unwind = UnwindMode::fp;

  // Starts following processes and sampling.
  void attach();
  // The tracker and the sampler go (the sampler first: it uses the tracker's map).
  void reset();
};

// Throws Error (with the remedy) when the backend cannot load here.
SamplingBackend make_sampling_backend(const SamplingSetup& setup);

}  // namespace hotline
