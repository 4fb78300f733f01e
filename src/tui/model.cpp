#include "tui/model.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>

#include <fmt/format.h>

#include "store/stack_table.h"

namespace hotline {
namespace {

std::string line_key(const std::string& function, const std::string& file, int line) {
  return fmt::format("{}\x1f{}\x1f{}", function, file, line);
}

using LineIndex = std::unordered_map<std::string, std::size_t>;

// A view line for a report entry (top cpu or top heap), indexed by its line for the trend.
template <typename Entry>
ViewLine& add_line(std::vector<ViewLine>& lines, LineIndex& index, const Entry& e, std::size_t points) {
  index[line_key(e.function, e.file, e.line)] = lines.size();
  ViewLine& l = lines.emplace_back();
  l.function = e.function;
  l.file = e.file;
  l.line = e.line;
  l.trend.assign(points, 0);
  return l;
}

void add_to_trend(std::vector<ViewLine>& lines, const LineIndex& index, const FrameInfo* f, std::size_t point,
                  double value) {
  if (f == nullptr) return;
  auto it = index.find(line_key(f->function, f->file, f->line));
  if (it != index.end()) lines[it->second].trend[point] += value;
}

}  // namespace

ViewData load_view(const RecordingReader& reader, const ViewQuery& query) {
  ViewData v;
  v.process = reader.meta_or("process_name", "?");
  v.pids = reader.meta_or("pids", "?");
  v.output = reader.path();
  v.heap_mode = reader.meta_or("heap_mode", "off");
  v.frequency_hz = static_cast<int>(reader.meta_int("cpu_frequency_hz"));
  v.finished = !reader.meta_or("end_time").empty();
  v.has_heap = reader.has_heap_table() && v.heap_mode != "off";
  v.heap_sampled = v.heap_mode == "sampled";
  v.lost = static_cast<std::uint64_t>(reader.meta_int("lost_user_stacks") + reader.meta_int("lost_kernel_stacks") +
                                      reader.meta_int("dropped_samples"));
  const auto checkpoints = reader.checkpoints();
  v.checkpoints = checkpoints.size();
  if (checkpoints.empty()) return v;
  v.recorded_ms = checkpoints.back().ms;

  TimeWindow window;
  const std::int64_t end_ms = query.end ? std::min<std::int64_t>(query.end->count(), v.recorded_ms) : v.recorded_ms;
  std::int64_t start_ms = 0;
  if (query.last) start_ms = std::max<std::int64_t>(0, end_ms - query.last->count());
  if (query.end || query.last) {
    window.range = {std::chrono::milliseconds(start_ms), std::chrono::milliseconds(std::max(end_ms, start_ms + 1))};
  }
  // The checkpoints of the trend: the last ones up to the window's end.
  std::vector<std::int64_t> trend_ids;
  for (const auto& c : checkpoints) {
    if (c.ms <= end_ms || trend_ids.empty()) trend_ids.push_back(c.id);
  }
  if (trend_ids.size() > query.trend_points) trend_ids.erase(trend_ids.begin(), trend_ids.end() - static_cast<std::ptrdiff_t>(query.trend_points));

  TopOptions top;
  top.top = std::numeric_limits<std::size_t>::max();
  top.window = window;
  top.filter = query.filter;
  const TopReport cpu = cpu_top(reader, top);
  v.window_start_ms = cpu.window_start_ms;
  v.window_end_ms = cpu.window_end_ms;
  v.samples = cpu.total_samples;

  const StackTable stacks(reader);
  LineIndex cpu_index;
  for (const TopEntry& e : cpu.entries) {
    ViewLine& l = add_line(v.cpu, cpu_index, e, trend_ids.size());
    l.self_pct = e.self_pct;
    l.total_pct = e.total_pct;
    l.self_samples = e.self_samples;
  }
  for (std::size_t i = 0; i < trend_ids.size(); ++i) {
    for (const auto& [leaf, count] : reader.cpu_counts({trend_ids[i]})) {
      add_to_trend(v.cpu, cpu_index, stacks.frame_of(leaf), i, static_cast<double>(count));
    }
  }
  auto by_name = [](const ViewLine& a, const ViewLine& b) {
    if (a.function != b.function) return a.function < b.function;
    return a.line < b.line;
  };
  switch (query.cpu_sort) {
    case CpuSort::self: break;  // cpu_top's order
    case CpuSort::total:
      std::stable_sort(v.cpu.begin(), v.cpu.end(), [](const ViewLine& a, const ViewLine& b) { return a.total_pct > b.total_pct; });
      break;
    case CpuSort::name: std::stable_sort(v.cpu.begin(), v.cpu.end(), by_name); break;
  }

  if (!v.has_heap) return v;
  HeapTopOptions h;
  h.common = top;
  h.metric = HeapMetric::live;
  const HeapTopReport heap = heap_top(reader, h);
  v.live_bytes = heap.live_bytes;
  v.peak_bytes = heap.peak_bytes;
  LineIndex heap_index;
  for (const HeapTopEntry& e : heap.entries) {
    ViewLine& l = add_line(v.heap, heap_index, e, trend_ids.size());
    l.live_bytes = e.live_bytes;
    l.alloc_bytes = e.alloc_bytes;
  }
  for (std::size_t i = 0; i < trend_ids.size(); ++i) {
    for (const auto& [leaf, counts] : reader.heap_counts({trend_ids[i]})) {
      add_to_trend(v.heap, heap_index, stacks.allocating_frame(leaf), i, static_cast<double>(counts.alloc_bytes));
    }
  }
  switch (query.heap_sort) {
    case HeapSort::live: break;  // heap_top's order
    case HeapSort::alloc:
      std::stable_sort(v.heap.begin(), v.heap.end(), [](const ViewLine& a, const ViewLine& b) { return a.alloc_bytes > b.alloc_bytes; });
      break;
    case HeapSort::name: std::stable_sort(v.heap.begin(), v.heap.end(), by_name); break;
  }
  return v;
}

std::vector<StackThrough> stacks_through(const RecordingReader& reader, const std::string& file, int line,
                                         std::size_t limit) {
  const StackTable stacks(reader);
  const auto checkpoints = reader.checkpoints();
  std::vector<std::int64_t> ids;
  for (const auto& c : checkpoints) ids.push_back(c.id);
  std::map<std::vector<std::string>, std::uint64_t> merged;
  for (const auto& [leaf, count] : reader.cpu_counts(ids)) {
    // Stacks with a frame on FILE:LINE, from the root to that frame.
    std::vector<std::string> path;
    bool through = false;
    stacks.walk(leaf, [&](std::int64_t, const FrameInfo* f) {
      if (f != nullptr) {
        if (!through && f->file == file && f->line == line) through = true;
        if (through) path.push_back(f->function.empty() ? "[unknown]" : f->function);
      }
      return true;
    });
    if (!through) continue;
    std::reverse(path.begin(), path.end());
    merged[path] += count;
  }
  std::vector<StackThrough> out;
  for (auto& [frames, samples] : merged) out.push_back({frames, samples});
  std::sort(out.begin(), out.end(), [](const StackThrough& a, const StackThrough& b) { return a.samples > b.samples; });
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace hotline
