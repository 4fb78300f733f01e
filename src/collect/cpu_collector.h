#pragma once
// The BPF CPU sampler: software cpu-clock perf events on every online CPU running the
// `on_cpu_sample` BPF program, which keeps to the process tracker's processes (its map, by
// fd).
// Owns the BPF skeleton, its links and perf event fds (RAII: destroying the collector
// detaches everything; a killed hotline leaves nothing either, as all are fd-based).
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "collect/cpu_source.h"
#include "collect/bpf_access.h"
#include "unwind/unwind_maps.h"
#include "util/fd.h"

struct cpu_bpf;
struct bpf_link;

namespace hotline {

class CpuCollector final : public CpuSource {
 public:
  struct Options {
    int frequency_hz = 99;
    int targets_fd = -1;  // the process tracker's map (required)
    std::uint32_t stack_entries = 16384;
    std::uint32_t count_entries = 16384;
    // Budget for all maps together; sizes are halved (down to a floor) to fit it, and again
    // whenever the kernel refuses them for lack of memory.
    std::uint64_t max_map_bytes = ~0ull;
    BpfAccessRule access;  // who may be sampled (bpf/access.h)
    UnwindMode unwind = UnwindMode::fp;
    const UnwindMapFds* unwind_maps = nullptr;  // the process tracker's (required unless fp)
  };

  // Loads the BPF object (CO-RE against the running kernel's BTF). Throws Error.
  explicit CpuCollector(const Options& options);
  // Show libbpf's own warnings (off by default: hotline explains failures itself).
  static void set_verbose(bool verbose);
  ~CpuCollector() override;
  CpuCollector(const CpuCollector&) = delete;
  CpuCollector& operator=(const CpuCollector&) = delete;

  // Attaches the per-CPU perf events.
  void attach() override;
  // Flips the double buffer and returns everything sampled since the last drain.
  std::vector<CpuSample> drain() override;
  CpuStats stats() const override;
  int cpu_count() const override { return static_cast<int>(perf_fds_.size()); }
  // What the maps lock, as the kernel reports it (fdinfo memlock).
  std::uint64_t map_bytes() const override;
  // The same, computed from the sizes before the maps are created.
  std::uint64_t estimated_map_bytes() const;
  // How many times the stack and count maps were halved to fit (0: as requested).
  int map_halvings() const { return halvings_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  cpu_bpf* skel_ = nullptr;
  std::vector<UniqueFd> perf_fds_;
  std::vector<bpf_link*> links_;
  std::uint64_t truncated_ = 0;
  int halvings_ = 0;

  bool halve_maps();
};

}  // namespace hotline
