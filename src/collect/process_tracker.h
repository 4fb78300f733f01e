#pragma once
// The process tracker: which processes are profiled, followed as they fork, exec and exit.
// One for the session; collectors subscribe through it (the session hands its events on)
// and their BPF programs share its map of tracked processes (targets_fd). The BPF tracker
// (bpf/proc.bpf.c) follows processes in the kernel; the perf_event fallback tracks through
// its own perf events (PerfCollector implements this interface too).
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "collect/bpf_access.h"
#include "unwind/unwind_maps.h"

struct proc_bpf;
struct bpf_link;
struct ring_buffer;

namespace hotline {

struct ProcEvent {
  // denied: a tracked process executed a program the caller may not profile (no longer
  // tracked); oom_victim: the kernel's OOM killer chose it (its exit follows).
  enum Kind { fork = 1, exec = 2, exit = 3, denied = 4, oom_victim = 5 } kind;
  pid_t pid = 0;
  pid_t parent = 0;
  std::string comm;
  // exit: the wait status (as waitpid() gives it), when the tracker knows it.
  std::optional<int> status;
  // When it happened (CLOCK_MONOTONIC, ns), when the tracker knows; else when it is heard of.
  std::uint64_t time_ns = 0;
};

class ProcessTracker {
 public:
  virtual ~ProcessTracker() = default;
  // Starts tracking a process (and, from then on, the processes it forks).
  virtual void add_target(pid_t pid) = 0;
  // Stops tracking a process (and what it forks from now on): it may no longer be profiled.
  virtual void remove_target(pid_t pid) = 0;
  // Starts following the tracked processes' forks, execs and exits.
  virtual void attach() = 0;
  // Waits up to `timeout_ms` for process events and hands each to `on_event`.
  virtual void poll_events(int timeout_ms, const std::function<void(const ProcEvent&)>& on_event) = 0;
  // The BPF map of tracked processes (tgid -> 1) other BPF objects share; -1 when none.
  virtual int targets_fd() const { return -1; }
  // Whether exits carry their status and OOM kills are told (the BPF tracker; the
  // perf_event fallback sees neither).
  virtual bool knows_exit_status() const { return false; }
  virtual bool knows_oom_kills() const { return false; }
  // Events lost (ring buffer full) and children that could not be tracked (map full).
  virtual std::uint64_t events_lost() const = 0;
  // Kernel memory its own maps lock (0 when it has none of its own).
  virtual std::uint64_t tracker_map_bytes() const { return 0; }
  // The unwind tables' maps it owns (bpf/unwind_maps.h); nullptr when it has none.
  virtual const UnwindMapFds* unwind_maps() const { return nullptr; }
};

class BpfProcessTracker final : public ProcessTracker {
 public:
  struct Options {
    std::uint32_t max_processes = 4096;
    BpfAccessRule access;  // an exec into a program the caller may not profile is dropped
    bool unwind_tables = false;  // size the unwind tables' maps for use (else minimal)
  };
  explicit BpfProcessTracker(const Options& options);
  ~BpfProcessTracker() override;
  BpfProcessTracker(const BpfProcessTracker&) = delete;
  BpfProcessTracker& operator=(const BpfProcessTracker&) = delete;

  // What the maps of `options` lock, before creating them (collect/map_memory.h).
  static std::uint64_t estimated_map_bytes(const Options& options);
  // Attaches the fork/exec/exit programs.
  void attach() override;

  void add_target(pid_t pid) override;
  void remove_target(pid_t pid) override;
  void poll_events(int timeout_ms, const std::function<void(const ProcEvent&)>& on_event) override;
  int targets_fd() const override;
  bool knows_exit_status() const override { return true; }
  bool knows_oom_kills() const override { return oom_attached_; }
  std::uint64_t events_lost() const override;
  std::uint64_t tracker_map_bytes() const override;
  const UnwindMapFds* unwind_maps() const override { return &unwind_; }

 private:
  Options options_;
  proc_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
  ring_buffer* events_ = nullptr;
  const std::function<void(const ProcEvent&)>* on_event_ = nullptr;  // set during poll_events
  UnwindMapFds unwind_;
  bool oom_tracepoint_ = false;  // the kernel has oom:mark_victim
  bool oom_attached_ = false;
};

}  // namespace hotline
