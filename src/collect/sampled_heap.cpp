#include "collect/sampled_heap.h"
#include "store/meta_keys.h"

#include <cstdlib>

#include <fmt/format.h>

#include "target/launch.h"
#include "util/log.h"

extern char** environ;

namespace hotline {

std::vector<SampleType> heap_sample_types() {
  return {sample_types::heap_alloc_bytes, sample_types::heap_alloc_count, sample_types::heap_free_bytes,
          sample_types::heap_free_count};
}

StackSample heap_sample(HeapDelta&& d) {
  StackSample s;
  s.pid = d.pid;
  s.user_ips = std::move(d.user_ips);
  s.values = {d.alloc_bytes, d.alloc_count, d.free_bytes, d.free_count};
  return s;
}

SampledHeap::SampledHeap(std::uint64_t mean_bytes, bool restricted) : sampler_(mean_bytes, restricted) {}

std::vector<SampleType> SampledHeap::sample_types() const { return heap_sample_types(); }

void SampledHeap::prepare_launch(LaunchExtras& extras) {
  extras.inherit_fds = sampler_.inherited_fds();
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  extras.environment = sampler_.environment(env);
}

void SampledHeap::finishing(bool targets_ended) {
  if (!targets_ended) return;
  sampler_.finish();  // what it sent before exiting
  complete_ = true;
}

std::vector<StackSample> SampledHeap::drain() {
  std::vector<StackSample> out;
  for (HeapDelta& d : sampler_.drain()) out.push_back(heap_sample(std::move(d)));
  return out;
}

MetaEntries SampledHeap::meta() const {
  const SampledHeapStats h = sampler_.stats();
  MetaEntries m = {
      {meta_key::heap_sample_bytes, std::to_string(sampler_.mean_bytes())},
      {meta_key::heap_allocations, std::to_string(h.samples)},  // sampled ones
      {meta_key::heap_frees, std::to_string(h.frees)},
      {meta_key::heap_untracked_frees, std::to_string(h.untracked_frees)},
      {meta_key::heap_dropped, std::to_string(h.dropped)},
      {meta_key::heap_processes, std::to_string(h.processes)},
  };
  if (complete_) m.emplace_back(meta_key::heap_at_exit, "1");
  return m;
}

void SampledHeap::stop() {
  sampler_.finish();
  const SampledHeapStats h = sampler_.stats();
  if (h.processes == 0) {
    warn("heap: the command never loaded hotline's heap sampler (a statically linked or setuid program ignores "
         "LD_PRELOAD): no heap data; try --heap=exact");
  }
  if (h.dropped > 0) {
    warn(fmt::format("heap: {} sampled allocations could not be tracked (too many live samples): raise "
                     "--heap-sample-bytes",
                     h.dropped));
  }
}

}  // namespace hotline
