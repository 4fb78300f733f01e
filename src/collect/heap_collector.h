#pragma once
// Heap, exact mode: uprobes on the allocator functions a target process has mapped (the
// malloc family in libc or in a statically linked jemalloc / tcmalloc / mimalloc, and C++
// operator new), live blocks and per-site totals kept in the kernel (bpf/heap.bpf.c).
// Owns the BPF skeleton and every uprobe link (RAII, fd-based: nothing outlives hotline).
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <string>
#include <vector>

struct heap_bpf;
struct bpf_link;

namespace hotline {

struct HeapDelta {
  pid_t pid = 0;
  std::vector<std::uint64_t> user_ips;  // innermost first: the allocator's caller, then its callers
  bool caller_exact = false;            // user_ips[0] is a return address (step back to the call)
  std::uint64_t alloc_bytes = 0, alloc_count = 0, free_bytes = 0, free_count = 0;
};

struct HeapStats {
  std::uint64_t allocs = 0, frees = 0, untracked_frees = 0, dropped = 0, stacks_lost = 0, sites_full = 0,
                failed = 0;
};

struct HeapProbe {
  std::string module;    // as mapped by the target
  std::string function;  // malloc, _Znwm, je_malloc, ...
};

class HeapCollector {
 public:
  struct Options {
    std::uint32_t live_entries = 1u << 20;
    std::uint32_t site_entries = 1u << 16;
    std::uint32_t stack_entries = 1u << 15;
  };
  explicit HeapCollector(const Options& options);
  ~HeapCollector();
  HeapCollector(const HeapCollector&) = delete;
  HeapCollector& operator=(const HeapCollector&) = delete;

  // Probes the allocator functions of `pid`'s mapped files, or of `files` (paths in the
  // target's root) when given: a launched command is probed in its executable and libc
  // before it execs, so its first allocation is seen. Files already probed for `pid` are
  // skipped. Returns what was probed now. Throws Error when a probe cannot be attached.
  std::vector<HeapProbe> attach(pid_t pid, const std::vector<std::string>& files = {});
  // Removes every probe (the overhead guard); what was collected stays readable.
  void detach();

  // What one probed allocator call costs the target on this host, measured by probing a
  // function of hotline's own and calling it: {entry probe, return probe} in nanoseconds.
  std::pair<double, double> calibrate();

  // Changes per allocation site since the last drain.
  std::vector<HeapDelta> drain();
  HeapStats stats() const;
  std::uint64_t map_bytes() const;

 private:
  heap_bpf* skel_ = nullptr;
  std::vector<bpf_link*> links_;
  struct Site {
    std::uint32_t pid;
    std::int32_t stack;
    std::uint64_t caller;
    auto operator<=>(const Site&) const = default;
  };
  struct Totals {
    std::uint64_t alloc_bytes = 0, alloc_count = 0, free_bytes = 0, free_count = 0;
  };
  std::map<Site, Totals> previous_;
  std::set<std::tuple<pid_t, std::uint64_t, std::uint64_t>> probed_files_;  // pid, device, inode
};

}  // namespace hotline
