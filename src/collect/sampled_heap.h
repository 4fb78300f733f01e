#pragma once
// Heap, sampled mode, as a collector: the preloaded sampler (HeapSampler) of a launched
// command and its descendants; four heap values per allocation stack.
#include <memory>

#include "collect/collector.h"
#include "collect/heap_sampler.h"

namespace hotline {

class SampledHeap final : public Collector {
 public:
  SampledHeap(std::uint64_t mean_bytes, bool restricted);

  std::vector<SampleType> sample_types() const override;
  void prepare_launch(LaunchExtras& extras) override;
  void launched(pid_t) override { sampler_.started(); }
  void finishing(bool targets_ended) override;
  std::vector<StackSample> drain() override;
  MetaEntries meta() const override;
  void stop() override;

 private:
  HeapSampler sampler_;
  bool complete_ = false;  // the command ended by itself: live blocks are its leaks
};

// A heap delta (either heap mode) as a stack sample: every user address is a return address.
StackSample heap_sample(HeapDelta&& delta);
// The heap's sample types, in heap_sample's value order.
std::vector<SampleType> heap_sample_types();

}  // namespace hotline
