#pragma once
// `hotline top cpu`: the hottest source lines (or functions, or files) of a recording.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "report/events_report.h"
#include <nlohmann/json.hpp>

#include "store/reader.h"

namespace hotline {

enum class GroupBy { line, function, file };

// A time range within the recording, in ms from its start; resolved against checkpoints.
struct TimeWindow {
  std::optional<std::chrono::milliseconds> since;  // the last D
  std::optional<std::chrono::milliseconds> until;  // the first D
  std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> range;  // A..B
};

// Parses "A..B" (durations; either side may be empty: "..5s", "10s..").
std::pair<std::chrono::milliseconds, std::chrono::milliseconds> parse_window(const std::string& text);

struct TopOptions {
  std::size_t top = 20;
  double threshold_pct = 0;
  TimeWindow window;
  std::string filter;
  GroupBy by = GroupBy::line;
};

struct TopEntry {
  std::uint64_t self_samples = 0;
  std::uint64_t total_samples = 0;
  double self_pct = 0;
  double total_pct = 0;
  std::string function;
  std::string file;
  int line = 0;
};

struct TopReport {
  std::string file;
  std::string process;
  std::string pids;
  std::int64_t duration_ms = 0;         // of the selected window
  std::int64_t window_start_ms = 0;
  std::int64_t window_end_ms = 0;
  std::uint64_t total_samples = 0;      // in the window
  int frequency_hz = 0;
  std::uint64_t lost = 0;               // stacks lost + samples dropped, whole recording
  std::uint64_t truncated = 0;
  std::uint64_t lost_events = 0;
  std::string unwind_mode;  // "auto", "tables", "fp"; "" in recordings before the unwinder
  // Samples whose user stack ended before its root, per reason (no_table, invalid_rule,
  // read_fault, unknown_mapping, depth), whole recording; only the non-zero ones.
  std::vector<std::pair<std::string, std::uint64_t>> unwind_stops;
  std::vector<TopEntry> entries;
  std::vector<AbnormalExit> abnormal_exits;  // whole recording: how targets died (hotline events)
};

// The checkpoint ids inside the window (a checkpoint belongs to it when the middle of the
// time it covers does). Throws Error(invalid_args) for a window outside the recording.
std::vector<std::int64_t> select_checkpoints(const std::vector<CheckpointRow>& checkpoints,
                                             const TimeWindow& window, std::int64_t* start_ms,
                                             std::int64_t* end_ms);

TopReport cpu_top(const RecordingReader& reader, const TopOptions& options);

class StackTable;
struct FrameInfo;

// The aggregation part of cpu_top, fed sample counts per leaf stack node (a checkpoint's,
// or a window's): self and total per line (function, file). The live view keeps one for the
// whole recording and feeds it each new checkpoint once.
class CpuLines {
 public:
  CpuLines(const StackTable& stacks, GroupBy by) : stacks_(&stacks), by_(by) {}
  void add(const std::unordered_map<std::int64_t, std::uint64_t>& counts);
  // total_samples and the entries (filtered, ranked, cut to --top) into `report`.
  void finish(TopReport& report, const TopOptions& options) const;

 private:
  struct Acc {
    std::uint64_t self = 0, total = 0;
    const FrameInfo* frame = nullptr;
  };
  Acc& line_of(std::int64_t node, const FrameInfo& frame);
  const StackTable* stacks_;
  GroupBy by_;
  std::uint64_t total_ = 0;
  std::unordered_map<std::string, Acc> acc_;
  std::unordered_map<std::int64_t, Acc*> by_node_;
};

// CpuLines over one set of counts.
void cpu_lines(TopReport& report, const std::unordered_map<std::int64_t, std::uint64_t>& counts,
               const StackTable& stacks, const TopOptions& options);

// What entries are grouped by: a frame's function, file, or function+file+line.
std::string group_key(const FrameInfo& frame, GroupBy by);
// Text cells cut to `max` characters with an ellipsis: a name at its end, a path at its start.
std::string shorten_right(const std::string& s, std::size_t max);
std::string shorten_left(const std::string& s, std::size_t max);

// The site columns every top table ends with: FUNCTION (not --by file) and LOCATION or FILE
// (not --by function), as headers and as cells (names cut at 60 characters).
void add_site_headers(std::vector<std::string>& headers, GroupBy by);
void add_site_cells(std::vector<std::string>& row, GroupBy by, const std::string& function, const std::string& file,
                    int line);
// What every top report's JSON opens with: file, process, pids, duration_ms, window.
void put_report_head(nlohmann::ordered_json& j, const std::string& file, const std::string& process,
                     const std::string& pids, std::int64_t duration_ms, std::int64_t start_ms, std::int64_t end_ms);

std::string render_text(const TopReport& report, GroupBy by);
std::string render_json(const TopReport& report);
std::string render_csv(const TopReport& report);

}  // namespace hotline
