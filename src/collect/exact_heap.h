#pragma once
// Heap, exact mode, as a collector: uprobes on the allocator (HeapCollector, the BPF side)
// of the tracked processes and those they fork or exec, and the overhead guard, which
// measures the probes' cost every quarter second and detaches them (not the CPU profile)
// when the target's projected slowdown, or other processes' share through shared probes, is
// above --max-overhead.
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "collect/bpf_access.h"
#include "collect/collector.h"
#include "collect/heap_collector.h"

namespace hotline {

class ExactHeap final : public Collector {
 public:
  struct Options {
    double map_scale = 1.0;
    bool per_process = true;     // probes in the profiled processes only (else shared per file)
    bool uprobe_multi = false;   // the kernel has uprobe_multi links
    bool required = false;       // --heap=exact: a failure to load is an error, not a warning
    double max_overhead_pct = 5.0;
    bool verbose = false;
    bool quiet = false;
    int targets_fd = -1;         // the process tracker's map of tracked processes
    UnwindMode unwind = UnwindMode::fp;
    const UnwindMapFds* unwind_maps = nullptr;
    std::uint64_t map_bytes_left = 0;  // of the budget every map shares
    BpfAccessRule access;
  };

  // Loads the BPF side and calibrates the probe cost, before any target runs. nullptr (no
  // heap profile, said, and why in `why_not`) when its maps do not fit the memory left;
  // throws Error when the user asked for exact mode.
  static std::unique_ptr<ExactHeap> load(const Options& options, std::string& why_not);

  std::vector<SampleType> sample_types() const override;
  void start(const std::vector<pid_t>& roots, const std::string& command) override;
  void process_changed(pid_t pid, ProcessChange change) override;
  void process_ended(pid_t pid) override;
  void tick() override;
  void finishing(bool targets_ended) override;
  std::vector<StackSample> drain() override;
  MetaEntries meta() const override;
  std::uint64_t map_bytes() const override { return heap_->map_bytes(); }
  void stop() override;

 private:
  using Clock = std::chrono::steady_clock;
  ExactHeap(const Options& options, std::unique_ptr<HeapCollector> heap, int halvings);
  void probe(pid_t pid, const std::vector<std::string>& files = {});
  void follow(pid_t pid);
  void check_overhead();

  Options options_;
  std::unique_ptr<HeapCollector> heap_;
  std::pair<double, double> probe_cost_ns_{0, 0};
  std::set<pid_t> tracked_;
  std::optional<Clock::time_point> guard_at_;
  Clock::time_point checked_at_;
  std::map<pid_t, double> cpu_;  // CPU seconds of each tracked process at the guard's last look
  HeapStats stats_start_;
  std::string probe_list_;
  std::set<std::string> probe_names_;
  std::string decision_;  // meta heap_decision
  int halvings_ = 0;
  int checks_ = 0;
  bool attached_ = false;
  bool detached_ = false;
  bool complete_ = false;
  bool unprobed_warned_ = false;
};

}  // namespace hotline
