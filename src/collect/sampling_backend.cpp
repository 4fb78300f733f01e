#include "collect/sampling_backend.h"

#include <algorithm>

#include <fmt/format.h>

#include "collect/cpu_collector.h"
#include "collect/perf_collector.h"
#include "store/meta_keys.h"
#include "unwind/table_loader.h"
#include "util/log.h"

namespace hotline {

void SamplingBackend::attach() {
  tracker->attach();  // the fallback is both: its attach does nothing either way
  sampler->attach();
}

void SamplingBackend::reset() {
  sampler.reset();
  tracker = nullptr;
  owned_tracker.reset();
}

SamplingBackend make_sampling_backend(const SamplingSetup& setup) {
  SamplingBackend b;
  if (!setup.bpf) {
    PerfCollector::Options popts;
    popts.frequency_hz = setup.frequency_hz;
    popts.kernel = setup.kernel_frames;
    popts.may_profile = setup.may_profile;
    auto perf = std::make_unique<PerfCollector>(popts);
    b.meta.emplace_back(meta_key::unwind_mode, to_string(UnwindMode::fp));
    b.tracker = perf.get();
    b.sampler = std::move(perf);
    return b;
  }
  auto scale = [&](std::uint32_t n) {
    return static_cast<std::uint32_t>(std::clamp(n * setup.map_scale, 64.0, 16.0 * 1024 * 1024));
  };
  BpfProcessTracker::Options topts;
  topts.max_processes = scale(topts.max_processes);
  topts.access = setup.access;
  topts.unwind_tables = setup.unwind != UnwindMode::fp;
  CpuCollector::set_verbose(setup.verbose);
  auto tracker = std::make_unique<BpfProcessTracker>(topts);
  CpuCollector::Options copts;
  copts.frequency_hz = setup.frequency_hz;
  copts.targets_fd = tracker->targets_fd();
  copts.stack_entries = scale(copts.stack_entries);
  copts.count_entries = scale(copts.count_entries);
  // Every map together: never more than the budget (1/8 of RAM).
  const std::uint64_t tracker_bytes = tracker->tracker_map_bytes();
  copts.max_map_bytes = setup.map_budget > tracker_bytes ? setup.map_budget - tracker_bytes : 0;
  copts.access = setup.access;
  copts.unwind = setup.unwind;
  copts.unwind_maps = tracker->unwind_maps();
  auto cpu = std::make_unique<CpuCollector>(copts);
  b.unwind = setup.unwind;
  if (setup.unwind != UnwindMode::fp) {
    TableLoader::Options lopts;
    lopts.maps = *tracker->unwind_maps();
    lopts.mode = setup.unwind;
    lopts.max_bytes = setup.unwind_table_bytes;
    lopts.verbose = setup.verbose;
    b.unwinder = std::make_unique<TableLoader>(lopts);
  }
  b.meta.emplace_back(meta_key::map_halvings, std::to_string(cpu->map_halvings()));
  b.meta.emplace_back(meta_key::unwind_mode, to_string(setup.unwind));
  if (const int h = cpu->map_halvings(); h > 0) {
    warn(fmt::format("BPF maps reduced to 1/{} of the requested size ({} stacks, {:.1f} MiB) to fit the memory "
                     "available: more stacks may be lost per checkpoint",
                     1 << h, cpu->options().stack_entries, static_cast<double>(cpu->map_bytes()) / (1 << 20)));
  }
  b.checks_in_kernel = true;
  b.tracker = tracker.get();
  b.owned_tracker = std::move(tracker);
  b.sampler = std::move(cpu);
  return b;
}

}  // namespace hotline
