#pragma once
// `hotline top heap`: the source lines that hold heap memory (live), churn it (alloc, count)
// or held the most at any checkpoint (peak), from the heap rows of a recording.
#include <chrono>
#include <cstdint>
#include <optional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/top.h"
#include "report/events_report.h"
#include "store/reader.h"

namespace hotline {

enum class HeapMetric { live, alloc, count, peak };

struct HeapTopOptions {
  TopOptions common;  // top, threshold (% of the metric's total), window, filter, by
  HeapMetric metric = HeapMetric::live;
  std::optional<std::chrono::milliseconds> at;  // live/peak as of this time (default: the end)
  bool show_allocator = false;  // keep allocator and standard-library frames as the site
  bool leaks = false;  // live at the end of a launched command that exited: its leaks
};

struct HeapTopEntry {
  std::int64_t live_bytes = 0;
  std::int64_t live_count = 0;  // blocks still allocated
  std::int64_t alloc_bytes = 0;
  std::int64_t alloc_count = 0;
  std::int64_t free_bytes = 0;
  std::int64_t peak_bytes = 0;
  double pct = 0;  // of the metric's total
  std::string function, file;
  int line = 0;
};

struct HeapTopReport {
  std::string file, process, pids, heap_mode, heap_decision;
  std::uint64_t sample_bytes = 0;  // sampled mode: the mean bytes between samples
  bool leaks = false;
  std::int64_t live_count = 0;
  std::int64_t window_start_ms = 0, window_end_ms = 0;
  std::int64_t live_bytes = 0;  // all sites, at the end of the window (or --at)
  std::int64_t peak_bytes = 0;  // highest total live at any checkpoint up to then
  std::int64_t alloc_bytes = 0, alloc_count = 0;
  std::uint64_t untracked_frees = 0, dropped = 0;
  HeapMetric metric = HeapMetric::live;
  std::vector<HeapTopEntry> entries;
  std::vector<AbnormalExit> abnormal_exits;  // whole recording: how targets died (hotline events)
};

class StackTable;

// The aggregation part of heap_top, fed checkpoint by checkpoint in time order: live and
// peak are cumulative from the start, allocations only those of checkpoints in the window.
// The live view keeps one and feeds it each new checkpoint once.
class HeapLines {
 public:
  HeapLines(const StackTable& stacks, GroupBy by, bool show_allocator)
      : stacks_(&stacks), by_(by), show_allocator_(show_allocator) {}
  void add(const std::unordered_map<std::int64_t, RecordingReader::HeapCounts>& counts, bool in_window);
  // The totals and the entries (ranked, filtered, cut to --top) into `report`.
  void finish(HeapTopReport& report, const HeapTopOptions& options) const;

 private:
  struct Acc {
    HeapTopEntry entry;
    const FrameInfo* frame = nullptr;
  };
  const FrameInfo* site(std::int64_t leaf);
  const StackTable* stacks_;
  GroupBy by_;
  bool show_allocator_;
  std::unordered_map<std::int64_t, const FrameInfo*> site_of_;
  std::map<std::string, Acc> acc_;
  std::int64_t live_ = 0, peak_ = 0, live_count_ = 0, alloc_bytes_ = 0, alloc_count_ = 0;
};

// "64.0 MiB", "1.50 GiB", "512 B" (negative values keep their sign).
std::string human_bytes(std::int64_t bytes);

HeapTopReport heap_top(const RecordingReader& reader, const HeapTopOptions& options);
HeapMetric parse_heap_metric(const std::string& name);

std::string render_heap_text(const HeapTopReport& report, GroupBy by);
std::string render_heap_json(const HeapTopReport& report);
std::string render_heap_csv(const HeapTopReport& report);

}  // namespace hotline
