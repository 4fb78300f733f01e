#pragma once
// Off-CPU time as a collector (bpf/offcpu.bpf.c): where tracked threads wait while not
// runnable, per (thread, user stack, kernel stack), in nanoseconds, with the number of
// blocks. The kernel adds a block's whole time when the thread is switched back in; at
// each drain this class adds the time so far of blocks still in progress (a thread blocked
// for the whole recording counts from its first checkpoint), and takes it back from the
// block's total when that arrives, so every nanosecond is counted once.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "collect/bpf_access.h"
#include "collect/collector.h"
#include "hotline_abi.h"
#include "unwind/stack_reader.h"
#include "unwind/unwind_maps.h"

struct offcpu_bpf;
struct bpf_link;

namespace hotline {

// The value types of off-CPU samples: blocked time, and blocks that ended.
std::vector<SampleType> offcpu_sample_types();

class OffCpu final : public Collector {
 public:
  struct Options {
    std::uint64_t min_ns = 1000;  // blocks shorter than this are not counted (--offcpu-min)
    double map_scale = 1.0;
    int targets_fd = -1;  // the process tracker's map (required)
    UnwindMode unwind = UnwindMode::fp;
    const UnwindMapFds* unwind_maps = nullptr;  // required unless fp
    std::uint64_t map_bytes_left = ~0ull;       // of the budget every map shares
    BpfAccessRule access;
    bool verbose = false;
  };

  // Loads the BPF object, halving its maps to fit the memory left, and attaches it. nullptr
  // (and why in `why_not`) when it cannot load at all.
  static std::unique_ptr<OffCpu> load(const Options& options, std::string& why_not);
  ~OffCpu() override;
  OffCpu(const OffCpu&) = delete;
  OffCpu& operator=(const OffCpu&) = delete;

  std::vector<SampleType> sample_types() const override { return offcpu_sample_types(); }
  std::vector<StackSample> drain() override;
  MetaEntries meta() const override;
  std::uint64_t map_bytes() const override;
  void stop() override;

  struct Stats {
    std::uint64_t blocks = 0, short_blocks = 0, blocks_full = 0, counts_full = 0;
    std::uint64_t user_stacks_lost = 0, kernel_stacks_lost = 0, denied = 0;
  };
  Stats stats() const;

 private:
  explicit OffCpu(const Options& options);
  bool halve();
  std::uint64_t estimated_map_bytes() const;
  StackSample sample_of(const hotline_offcpu_key& key, std::uint64_t ns, std::uint64_t count);

  // A block seen in progress at a drain: how much of it was counted then.
  struct Open {
    hotline_offcpu_key key{};
    std::uint64_t start_ns = 0;
    std::uint64_t counted_ns = 0;
  };

  Options options_;
  std::uint32_t stack_entries_ = 8192, block_entries_ = 16384, total_entries_ = 16384;
  int halvings_ = 0;
  offcpu_bpf* skel_ = nullptr;
  bpf_link* link_ = nullptr;
  std::unique_ptr<StackReader> stacks_;  // the stack map is never cleared: ids stay valid
  std::unordered_map<std::uint32_t, Open> open_;  // by thread id
  std::vector<Open> ended_;  // ended after the last drain's flip: their totals come in this drain
  std::uint64_t truncated_ = 0;
  std::uint64_t open_full_ = 0;  // blocks in progress not followed by user space (cap)
};

}  // namespace hotline
