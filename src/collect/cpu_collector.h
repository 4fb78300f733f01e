#pragma once
// The BPF CPU sampler: software cpu-clock perf events on every online CPU running the
// `on_cpu_sample` BPF program, plus fork/exec/exit tracking of the target processes.
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
#include "util/fd.h"

struct cpu_bpf;
struct bpf_link;
struct ring_buffer;

namespace hotline {

class CpuCollector final : public CpuSource {
 public:
  struct Options {
    int frequency_hz = 99;
    std::uint32_t max_processes = 4096;
    std::uint32_t stack_entries = 16384;
    std::uint32_t count_entries = 16384;
    // Budget for all maps together; sizes are halved (down to a floor) to fit it, and again
    // whenever the kernel refuses them for lack of memory.
    std::uint64_t max_map_bytes = ~0ull;
    BpfAccessRule access;  // who may be sampled (bpf/access.h)
  };

  // Loads the BPF object (CO-RE against the running kernel's BTF). Throws Error.
  explicit CpuCollector(const Options& options);
  // Show libbpf's own warnings (off by default: hotline explains failures itself).
  static void set_verbose(bool verbose);
  ~CpuCollector() override;
  CpuCollector(const CpuCollector&) = delete;
  CpuCollector& operator=(const CpuCollector&) = delete;

  // Starts tracking a process (and, from then on, the processes it forks).
  void add_target(pid_t pid) override;
  void remove_target(pid_t pid) override;
  // Attaches the process-tracking programs and the per-CPU perf events.
  void attach() override;

  // Waits up to `timeout_ms` for process events and hands each to `on_event`.
  void poll_events(int timeout_ms, const std::function<void(const ProcEvent&)>& on_event) override;
  // Flips the double buffer and returns everything sampled since the last drain.
  std::vector<CpuSample> drain() override;
  CpuStats stats() const override;
  int cpu_count() const override { return static_cast<int>(perf_fds_.size()); }
  // What the maps lock, as the kernel reports it (fdinfo memlock).
  std::uint64_t map_bytes() const override;
  // The same, computed from the sizes before the maps are created.
  std::uint64_t estimated_map_bytes() const;
  // The map of tracked processes, which the heap collector shares.
  int targets_fd() const;
  // How many times the stack and count maps were halved to fit (0: as requested).
  int map_halvings() const { return halvings_; }
  const Options& options() const { return options_; }

 private:
  Options options_;
  cpu_bpf* skel_ = nullptr;
  std::vector<UniqueFd> perf_fds_;
  std::vector<bpf_link*> links_;
  ring_buffer* events_ = nullptr;
  const std::function<void(const ProcEvent&)>* on_event_ = nullptr;  // set during poll_events
  std::uint64_t truncated_ = 0;
  int halvings_ = 0;

  bool halve_maps();
};

}  // namespace hotline
