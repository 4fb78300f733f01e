#pragma once
// What the terminal UI shows, read from a recording (live, while it is written, through the
// UI's own read-only connection, or finished): the header facts, the hottest CPU lines and
// the heap lines, each with its trend over the last checkpoints, and the footer totals.
// Kept apart from the drawing so it can be tested and reused.
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/heap_top.h"
#include "report/offcpu_top.h"
#include "report/top.h"
#include "store/events.h"
#include "store/reader.h"
#include "store/stack_table.h"

namespace hotline {

enum class CpuSort { self, total, name };
enum class HeapSort { live, alloc, name };

struct ViewQuery {
  std::string filter;                                   // case-insensitive, function or file
  std::optional<std::chrono::milliseconds> last;        // only the last D (of the range's end)
  std::optional<std::chrono::milliseconds> end;         // `hotline view`: the slider; none = the end
  CpuSort cpu_sort = CpuSort::self;
  HeapSort heap_sort = HeapSort::live;
  std::size_t trend_points = 8;                         // checkpoints per sparkline
};

struct ViewLine {
  std::string function, file;
  int line = 0;
  double self_pct = 0, total_pct = 0;       // CPU
  std::uint64_t self_samples = 0;
  std::int64_t live_bytes = 0, alloc_bytes = 0;  // heap
  std::uint64_t offcpu_ns = 0, offcpu_total_ns = 0;  // off-CPU: self (the call that blocked) and total
  std::string reason;                       // off-CPU: the kernel reason with the most of its time
  std::vector<double> trend;                // oldest first: self samples, allocated bytes or blocked ns per checkpoint
};

struct ViewData {
  std::string process, pids, output, heap_mode;
  int frequency_hz = 0;
  std::int64_t recorded_ms = 0;       // the last checkpoint's end
  std::int64_t window_start_ms = 0, window_end_ms = 0;
  std::size_t checkpoints = 0;
  std::uint64_t samples = 0, lost = 0;  // in the window / whole recording
  std::int64_t live_bytes = 0, peak_bytes = 0;
  bool has_heap = false, heap_sampled = false;
  bool has_offcpu = false;            // recorded with --offcpu
  std::uint64_t offcpu_ns = 0;        // blocked time in the window
  bool finished = false;              // the recording has its end_time
  std::string exits_note;             // "2 processes killed by SIGSEGV" ("" when none died so)
  std::vector<ViewLine> cpu, heap, offcpu;
};

// Follows a recording as it grows. Each update reads only what was added since the last
// (the new checkpoints' samples, new stack nodes and frames); views are computed in memory,
// the whole recording's from running totals, so a refresh costs what is new and what is
// shown, not the recording's length.
class ViewModel {
 public:
  ViewModel()
      : cpu_all_(stacks_, GroupBy::line),
        heap_all_(stacks_, GroupBy::line, false),
        offcpu_all_(stacks_, kernel_modules_, GroupBy::line) {}
  ViewModel(const ViewModel&) = delete;
  ViewModel& operator=(const ViewModel&) = delete;

  // Reads what is new; true when anything changed (a checkpoint, the heap mode, the end).
  // Throws Error for an unreadable recording.
  bool update(const RecordingReader& reader);
  // An empty recording (no checkpoint yet) gives empty lists.
  ViewData view(const ViewQuery& query) const;
  std::size_t checkpoints() const { return checkpoints_.size(); }

 private:
  void add_offcpu(ViewData& v, const TopOptions& top, const std::vector<std::int64_t>& ids,
                  const std::vector<std::size_t>& trend, bool whole) const;
  StackTable stacks_;
  std::vector<CheckpointRow> checkpoints_;
  std::map<std::int64_t, std::size_t> index_;  // checkpoint id -> position
  std::vector<std::unordered_map<std::int64_t, std::uint64_t>> cpu_;  // per checkpoint: leaf -> samples
  std::vector<std::unordered_map<std::int64_t, RecordingReader::HeapCounts>> heap_;
  CpuLines cpu_all_;                                        // fed every checkpoint
  HeapLines heap_all_;                                      // fed every checkpoint
  std::set<std::int64_t> kernel_modules_;                   // off-CPU stacks' kernel frames
  std::vector<std::vector<CpuSampleRow>> offcpu_;           // per checkpoint: off-CPU rows
  OffCpuLines offcpu_all_;                                  // fed every checkpoint
  std::string process_, pids_, output_, heap_mode_ = "off";
  int frequency_hz_ = 0;
  std::uint64_t lost_ = 0;
  std::vector<LifecycleEvent> ends_;  // the processes' lifecycle events that are ends
  std::int64_t events_read_ = 0;      // the last events row read
  bool finished_ = false, has_heap_ = false, has_offcpu_ = false;
};

// The view of a recording at once (a ViewModel read once).
ViewData load_view(const RecordingReader& reader, const ViewQuery& query);

// The call stacks (root first, function names) whose leaf is FILE:LINE, heaviest first.
struct StackThrough {
  std::vector<std::string> frames;
  std::uint64_t samples = 0;
};
std::vector<StackThrough> stacks_through(const RecordingReader& reader, const std::string& file, int line,
                                         std::size_t limit);

}  // namespace hotline
