#pragma once
// CPU sampling without BPF, for callers that may open perf events on their own processes
// but not load BPF (no CAP_BPF), and for a hotline inside a non-initial PID namespace.
//
// Per-task software cpu-clock events, one per (thread, CPU), inherited by the threads and
// processes the targets create afterwards, sample PERF_SAMPLE_TID | PERF_SAMPLE_CALLCHAIN:
// frame-pointer stacks unwound by the kernel. Still only instruction pointers cross: never
// PERF_SAMPLE_STACK_USER or REGS_USER. Fork, exec and exit come from the same ring buffers
// (PERF_RECORD_FORK / COMM / EXIT). Samples are counted in user space per (thread, stack).
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "collect/cpu_source.h"
#include "collect/process_tracker.h"
#include "util/fd.h"

namespace hotline {

class PerfCollector final : public CpuSource, public ProcessTracker {
 public:
  struct Options {
    int frequency_hz = 99;
    // Kernel frames need perf_event_paranoid <= 1 or CAP_PERFMON; without them only user
    // mode is sampled (time spent in the kernel is then not seen at all).
    bool kernel = false;
    std::uint32_t buffer_pages = 32;  // per CPU, a power of two; halved on EPERM (mlock limit)
    // Callers without CAP_SYS_PTRACE: the ownership rule, asked the moment an exec is read,
    // so that the samples read after it are dropped at once (the kernel removes these events
    // itself at a privileged exec, unless fs.suid_dumpable is 1).
    std::function<bool(pid_t)> may_profile;
  };

  explicit PerfCollector(const Options& options);
  ~PerfCollector() override;
  PerfCollector(const PerfCollector&) = delete;
  PerfCollector& operator=(const PerfCollector&) = delete;

  // Opens the events on every thread of `pid`. Throws Error (exit 4 when refused).
  void add_target(pid_t pid) override;
  // Its events stay (perf events cannot be taken off another process's children), its
  // samples and its children's are dropped from now on.
  void remove_target(pid_t pid) override;
  void attach() override {}
  void poll_events(int timeout_ms, const std::function<void(const ProcEvent&)>& on_event) override;
  std::vector<CpuSample> drain() override;
  CpuStats stats() const override { return stats_; }
  std::uint64_t events_lost() const override { return 0; }  // read from its own ring buffers
  int cpu_count() const override { return static_cast<int>(cpus_.size()); }
  std::uint64_t map_bytes() const override;

 private:
  struct Buffer {
    int cpu = -1;
    int fd = -1;  // the first event on this CPU; the others write into its buffer
    void* base = nullptr;
    std::size_t bytes = 0;  // mapping size: one metadata page + data pages
    bool hung_up = false;   // its task exited: poll() would report POLLHUP forever
  };
  struct Key {
    pid_t pid, tid;
    std::vector<std::uint64_t> user, kernel;
    auto operator<=>(const Key&) const = default;
  };

  int open_event(pid_t tid, int cpu);
  Buffer& buffer_for(int cpu, int fd);
  void read_buffers();
  void handle_record(const char* record, std::size_t size);
  const std::string& comm_of(pid_t pid, pid_t tid);

  Options options_;
  std::vector<int> cpus_;
  std::vector<UniqueFd> fds_;
  std::vector<Buffer> buffers_;
  std::set<pid_t> covered_;  // threads with events of their own
  std::set<pid_t> removed_;  // processes no longer sampled
  std::map<Key, std::uint64_t> counts_;
  std::map<pid_t, std::string> comms_;  // by tid
  std::vector<pid_t> exited_;  // threads whose names go at the next drain
  std::vector<ProcEvent> pending_;
  std::vector<char> scratch_;
  CpuStats stats_;
};

}  // namespace hotline
