#include "collect/collectors.h"
#include "store/meta_keys.h"

#include "collect/cpu_samples.h"
#include "collect/exact_heap.h"
#include "collect/offcpu.h"
#include "collect/process_tracker.h"
#include "util/log.h"
#include "collect/sampled_heap.h"

namespace hotline {

std::vector<std::unique_ptr<Collector>> collectors_before_launch(const CollectorSetup& setup) {
  std::vector<std::unique_ptr<Collector>> out;
  if (setup.heap_sampled) out.push_back(std::make_unique<SampledHeap>(setup.heap_sample_bytes, setup.access.restricted));
  return out;
}

std::vector<std::unique_ptr<Collector>> collectors_after_launch(const CollectorSetup& setup, CpuSource& cpu,
                                                                 const ProcessTracker& tracker,
                                                                 std::uint64_t map_bytes_used,
                                                                 std::function<bool(pid_t)> keep,
                                                                 MetaEntries& decisions) {
  std::vector<std::unique_ptr<Collector>> out;
  out.push_back(std::make_unique<CpuSamples>(cpu, std::move(keep), setup.access.restricted));
  map_bytes_used += cpu.map_bytes();
  // Before the heap probes, whose calibration takes a while: off-CPU time counts from here.
  if (setup.offcpu) {
    OffCpu::Options o;
    o.min_ns = setup.offcpu_min_ns;
    o.map_scale = setup.map_scale;
    o.targets_fd = tracker.targets_fd();
    o.unwind_maps = tracker.unwind_maps();
    o.unwind = o.unwind_maps != nullptr ? setup.unwind : UnwindMode::fp;
    o.access = setup.access;
    o.verbose = setup.verbose;
    o.map_bytes_left = setup.map_budget > map_bytes_used ? setup.map_budget - map_bytes_used : 0;
    std::string why_not;
    std::unique_ptr<OffCpu> offcpu;
    if (!setup.offcpu_bpf) {
      why_not = "the perf_event CPU backend has no off-CPU collector (it needs CAP_BPF and tp_btf)";
    } else {
      offcpu = OffCpu::load(o, why_not);
    }
    if (offcpu) {
      map_bytes_used += offcpu->map_bytes();
      out.push_back(std::move(offcpu));
      decisions.emplace_back(meta_key::offcpu, "on");
    } else {
      warn("no off-CPU profile: " + why_not);
      decisions.emplace_back(meta_key::offcpu, "off: " + why_not);
    }
  }
  if (setup.heap_exact) {
    ExactHeap::Options o;
    o.map_scale = setup.map_scale;
    o.per_process = setup.heap_per_process;
    o.uprobe_multi = setup.uprobe_multi;
    o.required = setup.heap_required;
    o.max_overhead_pct = setup.max_overhead_pct;
    o.verbose = setup.verbose;
    o.quiet = setup.quiet;
    o.targets_fd = tracker.targets_fd();
    o.unwind_maps = tracker.unwind_maps();
    o.unwind = o.unwind_maps != nullptr ? setup.unwind : UnwindMode::fp;
    o.map_bytes_left = setup.map_budget > map_bytes_used ? setup.map_budget - map_bytes_used : 0;
    o.access = setup.access;
    std::string why_not;
    if (auto heap = ExactHeap::load(o, why_not)) {
      out.push_back(std::move(heap));
    } else {
      decisions.emplace_back(meta_key::heap_mode, "off");
      decisions.emplace_back(meta_key::heap_decision, "off: " + why_not);
    }
  }
  return out;
}

}  // namespace hotline
