#pragma once
// Which collectors a recording runs, from its plan: the one place that names them. The
// session asks for them in two steps and drives them only through the Collector interface.
// A new collector is created here (and declares its sample types, store/sample_types.h).
#include <sys/types.h>

#include <functional>
#include <memory>
#include <vector>

#include "collect/bpf_access.h"
#include "collect/collector.h"
#include "unwind/unwind_maps.h"

namespace hotline {

class CpuSource;
class ProcessTracker;

struct CollectorSetup {
  bool heap_exact = false;    // the plan's heap mode
  bool heap_sampled = false;
  bool heap_required = false;  // --heap=exact: failing to load is an error
  bool heap_per_process = true;
  bool uprobe_multi = false;
  std::uint64_t heap_sample_bytes = std::uint64_t{512} * 1024;
  double max_overhead_pct = 5.0;
  double map_scale = 1.0;
  std::uint64_t map_budget = 0;  // every map of every collector and the tracker together
  bool verbose = false, quiet = false;
  BpfAccessRule access;
  UnwindMode unwind = UnwindMode::fp;  // the CPU sampler's (the heap probes unwind the same way)
  bool offcpu = false;              // record --offcpu
  std::uint64_t offcpu_min_ns = 1000;
  bool offcpu_bpf = true;            // the BPF backend (the perf_event fallback has no off-CPU collector)
};

// The collectors that must exist before a launched command starts (they hand it what it
// inherits: the sampled heap's library and socket).
std::vector<std::unique_ptr<Collector>> collectors_before_launch(const CollectorSetup& setup);

// The others, once the process tracker and the CPU sampler exist; `keep` says whether a
// process's CPU samples may be kept (see CpuSamples). A collector that cannot load here
// (its maps do not fit the memory left) is left out, said, and explained in `decisions`
// (meta entries).
std::vector<std::unique_ptr<Collector>> collectors_after_launch(const CollectorSetup& setup, CpuSource& cpu,
                                                                 const ProcessTracker& tracker,
                                                                 std::uint64_t map_bytes_used,
                                                                 std::function<bool(pid_t)> keep,
                                                                 MetaEntries& decisions);

}  // namespace hotline
