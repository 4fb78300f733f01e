#pragma once
// Heap, sampled mode: hotline's own LD_PRELOAD library (preload/hotline_heap.c), embedded in
// the hotline binary and handed to a launched command as a sealed memfd, samples the
// command's allocations by bytes and sends them over a private socket pair. This class owns
// both descriptors, reads the socket on its own thread (the command never waits on a
// checkpoint), keeps the live sampled blocks and per-site totals, and hands out per-site
// deltas weighted so that totals are unbiased.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collect/heap_collector.h"
#include "util/fd.h"

namespace hotline {

struct SampledHeapStats {
  std::uint64_t samples = 0;          // sampled allocations received
  std::uint64_t frees = 0;            // frees of sampled blocks
  std::uint64_t untracked_frees = 0;  // frees of blocks hotline never saw allocated
  std::uint64_t dropped = 0;          // sampled allocations a process could not track
  std::uint64_t processes = 0;        // processes that loaded the sampler
  std::uint64_t bad_messages = 0;     // datagrams that were not the sampler's
};

class HeapSampler {
 public:
  // `restricted`: hotline lacks CAP_SYS_PTRACE, so a process that is not dumpable is not
  // sampled (the library checks before each sample).
  HeapSampler(std::uint64_t mean_bytes, bool restricted);
  ~HeapSampler();
  HeapSampler(const HeapSampler&) = delete;
  HeapSampler& operator=(const HeapSampler&) = delete;

  // Descriptors the command must inherit across exec (the library, the socket's other end).
  std::vector<int> inherited_fds() const;
  // The command's environment: `base` (NAME=value strings) with the preload added in front
  // of any LD_PRELOAD already there, and the channel's variables.
  std::vector<std::string> environment(const std::vector<std::string>& base) const;
  // After the fork: drops hotline's copies of the command's descriptors, starts reading.
  void started();
  // Reads what is still queued (the command has exited), then stops reading.
  void finish();

  std::vector<HeapDelta> drain();
  SampledHeapStats stats() const;
  std::uint64_t mean_bytes() const { return mean_; }

 private:
  void read_loop();
  void handle(const void* data, std::size_t len);

  std::uint64_t mean_;
  bool restricted_ = false;
  UniqueFd library_;   // sealed memfd holding libhotline_heap.so
  UniqueFd ours_;      // hotline's end of the socket pair
  UniqueFd theirs_;    // the command's end, until it is started
  UniqueFd stop_read_, stop_write_;
  std::thread reader_;

  struct Site {
    double alloc_bytes = 0, alloc_count = 0, free_bytes = 0, free_count = 0;
    std::uint64_t sent_alloc_bytes = 0, sent_alloc_count = 0, sent_free_bytes = 0, sent_free_count = 0;
  };
  struct Live {
    std::uint32_t site;
    double bytes, count;
  };
  struct SiteKey {
    pid_t pid;
    std::vector<std::uint64_t> frames;
    auto operator<=>(const SiteKey&) const = default;
  };
  mutable std::mutex mutex_;
  std::map<SiteKey, std::uint32_t> site_ids_;
  std::vector<std::pair<const SiteKey*, Site>> sites_;
  struct LiveKey {
    pid_t pid;
    std::uint64_t ptr;
    bool operator==(const LiveKey&) const = default;
  };
  struct LiveHash {
    std::size_t operator()(const LiveKey& k) const {
      return std::hash<std::uint64_t>()(k.ptr * 0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(k.pid));
    }
  };
  std::unordered_map<LiveKey, Live, LiveHash> live_;
  std::unordered_map<pid_t, std::uint64_t> mean_by_pid_;  // from each process's hello
  SampledHeapStats stats_;
};

}  // namespace hotline
