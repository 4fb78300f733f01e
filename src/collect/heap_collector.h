#pragma once
// Heap, exact mode: uprobes on the allocator functions of the files tracked processes map
// (the malloc family in libc or in a statically linked jemalloc / tcmalloc / mimalloc, and
// C++ operator new), live blocks and per-site totals kept in the kernel (bpf/heap.bpf.c).
//
// Probes are per file, not per process: one set of probes for each file (by inode), shared
// by every tracked process that maps it, the BPF programs keeping to the tracked processes
// through the CPU sampler's `targets` map (shared by fd, followed across fork and exit in
// the kernel). A caller without CAP_SYS_PTRACE gets one set per tracked process and file
// instead, so that no other user's process is touched. On kernels with uprobe_multi links
// (6.6+) a set is two links (entries, returns) whatever the number of functions; before,
// one perf-event uprobe per function. Sets are released (in the background) when no
// tracked process maps their file any more; their number is bounded.
//
// Owns the BPF skeleton and every link (RAII, fd-based: nothing outlives hotline).
#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "collect/bpf_access.h"
#include "collect/map_memory.h"
#include "target/target_file.h"
#include "unwind/stack_reader.h"
#include "unwind/unwind_maps.h"
#include "util/fd.h"

struct heap_bpf;
struct bpf_link;

namespace hotline {

struct HeapDelta {
  pid_t pid = 0;
  std::vector<std::uint64_t> user_ips;  // innermost first: the allocator's caller, then its callers
  UnwindStop user_stop = UnwindStop::frame_pointers;
  std::uint64_t alloc_bytes = 0, alloc_count = 0, free_bytes = 0, free_count = 0;
};

struct HeapStats {
  std::uint64_t allocs = 0, frees = 0, untracked_frees = 0, dropped = 0, stacks_lost = 0, sites_full = 0,
                failed = 0;
  std::uint64_t bystander_allocs = 0, bystander_frees = 0;  // untracked processes' calls through shared probes
  std::uint64_t denied = 0;                                 // calls of processes the caller may not profile
  std::uint64_t self_calls = 0;                             // hotline's own calls through shared probes
};

struct HeapProbe {
  std::string module;    // as mapped by the target
  std::string function;  // malloc, _Znwm, je_malloc, ...
};

class HeapCollector {
 public:
  // Probe links open or still closing, at most: a bound on descriptors whatever the target
  // does (perf-event uprobes close one at a time, each waiting for grace periods).
  static constexpr std::size_t kMaxLinks = 512;

  struct Options {
    std::uint32_t live_entries = 1u << 20;
    std::uint32_t site_entries = 1u << 16;
    std::uint32_t stack_entries = 1u << 15;
    int targets_fd = -1;  // the CPU sampler's tracked processes (required)
    BpfAccessRule access;
    UnwindMode unwind = UnwindMode::fp;
    const UnwindMapFds* unwind_maps = nullptr;  // the process tracker's (required unless fp)
    bool per_process = false;  // one probe set per process and file (callers without CAP_SYS_PTRACE)
    bool uprobe_multi = false;  // the kernel has uprobe_multi links (HostFacts::uprobe_multi)
    std::size_t max_probe_sets = 64;
  };
  // What the maps of `options` lock, before creating them (collect/map_memory.h).
  static std::uint64_t estimated_map_bytes(const Options& options);

  // Loads the programs and creates the maps. Throws MapsTooLarge when the kernel refuses the
  // maps for lack of memory, Error otherwise.
  explicit HeapCollector(const Options& options);
  ~HeapCollector();
  HeapCollector(const HeapCollector&) = delete;
  HeapCollector& operator=(const HeapCollector&) = delete;

  struct Probed {
    std::vector<HeapProbe> added;  // functions probed by this call
    bool covered = false;          // some file the process maps has probes (new or shared)
  };
  // Probes the allocator functions of the files `pid` maps, or of `files` (paths in its
  // root) when given: a launched command is probed in its executable and libc before it
  // execs, so its first allocation is seen. Files already probed are only counted as used
  // by `pid`. Throws Error when a probe cannot be attached.
  Probed probe(pid_t pid, const std::vector<std::string>& files = {});
  // `pid` exited (or may no longer be profiled): probe sets no tracked process uses any
  // more are released, its live blocks and sites are dropped at the next drain.
  void forget(pid_t pid);
  // Removes every probe (the overhead guard); what was collected stays readable. The links
  // close in the background (each close waits for kernel grace periods).
  void detach();

  // What one probed allocator call costs a process on this host, measured by probing a
  // function of hotline's own and calling it: {entry probe, return probe} in nanoseconds.
  std::pair<double, double> calibrate();

  // Changes per allocation site since the last drain.
  std::vector<HeapDelta> drain();
  HeapStats stats() const;
  // What the maps lock, as the kernel reports it.
  std::uint64_t map_bytes() const;
  std::size_t links() const;
  // Files that were not probed because the bound on probe sets was reached.
  std::uint64_t unprobed_files() const { return unprobed_files_; }
  bool uses_multi_links() const { return multi_; }
  bool shared_probes() const { return !options_.per_process; }

 private:
  // One kernel attachment: a uprobe_multi link fd, or a libbpf perf-event link.
  class Link {
   public:
    explicit Link(UniqueFd fd) : fd_(std::move(fd)) {}
    explicit Link(bpf_link* link) : link_(link) {}
    Link(Link&& other) noexcept;
    Link& operator=(Link&& other) noexcept;
    Link(const Link&) = delete;
    Link& operator=(const Link&) = delete;
    ~Link();

   private:
    UniqueFd fd_;
    bpf_link* link_ = nullptr;
  };
  struct ProbeSet {
    std::string path;  // as first seen
    std::vector<Link> links;
    std::set<pid_t> users;
    std::vector<HeapProbe> probes;
  };
  using SetKey = std::tuple<dev_t, ino_t, pid_t>;  // file, and the process for per-process sets (0: shared)

  std::vector<Link> attach_file(int fd, const std::string& path, pid_t scope, std::vector<HeapProbe>& probes);
  // Hands links to the closers: a few threads (each close waits for kernel grace periods;
  // uprobe_multi links do not serialize, so several closing at once take the time of one).
  void release(std::vector<Link> links);
  void closer();  // a closer thread's loop
  std::size_t closing() const;
  void purge_dead();

  Options options_;
  heap_bpf* skel_ = nullptr;
  std::vector<Link> thread_exit_;  // the tp_btf program that cleans pending_calls
  bool multi_ = false;
  std::map<SetKey, ProbeSet> sets_;
  std::set<std::pair<dev_t, ino_t>> no_allocator_;  // looked at: defines none
  std::set<pid_t> dead_;                            // forgotten since the last drain
  mutable std::mutex closing_lock_;
  std::condition_variable closing_wake_;
  std::deque<Link> to_close_;
  std::size_t in_close_ = 0;  // taken by a closer, not closed yet
  bool stopping_ = false;
  std::vector<std::thread> closers_;
  std::uint64_t unprobed_files_ = 0;
  HeapStats calibration_;  // what the calibration itself counted, subtracted from stats()
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
};

}  // namespace hotline
