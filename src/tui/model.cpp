#include "tui/model.h"
#include "report/events_report.h"
#include "store/meta_keys.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
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

bool ViewModel::update(const RecordingReader& reader) {
  bool changed = false;
  if (checkpoints_.empty()) {
    process_ = reader.meta_or(meta_key::process_name, "?");
    pids_ = reader.meta_or(meta_key::pids, "?");
    output_ = reader.path();
    frequency_hz_ = static_cast<int>(reader.meta_int(meta_key::cpu_frequency_hz));
    changed = true;
  }
  // These may change while recording (the guard detaches the probes, the end is written).
  const std::string heap_mode = reader.meta_or(meta_key::heap_mode, "off");
  const bool finished = !reader.meta_or(meta_key::end_time).empty();
  if (heap_mode != heap_mode_ || finished != finished_) changed = true;
  heap_mode_ = heap_mode;
  finished_ = finished;
  has_heap_ = reader.has_heap_table() && heap_mode_ != "off";
  lost_ = static_cast<std::uint64_t>(reader.meta_int(meta_key::lost_user_stacks) + reader.meta_int(meta_key::lost_kernel_stacks) +
                                     reader.meta_int(meta_key::dropped_samples));
  for (LifecycleEvent& e : reader.events(events_read_, &events_read_)) {
    if (e.kind == EventKind::fork || e.kind == EventKind::exec) continue;
    ends_.push_back(std::move(e));
    changed = true;
  }
  const auto added = reader.checkpoints_after(checkpoints_.empty() ? 0 : checkpoints_.back().id);
  if (added.empty()) return changed;
  // Nodes and frames first: the new checkpoints' samples name them.
  stacks_.update(reader);
  has_offcpu_ = reader.has_type(sample_types::offcpu);
  if (has_offcpu_) kernel_modules_ = kernel_module_ids(reader);
  for (const CheckpointRow& c : added) {
    index_[c.id] = checkpoints_.size();
    checkpoints_.push_back(c);
    cpu_.push_back(reader.cpu_counts({c.id}));
    cpu_all_.add(cpu_.back());
    heap_.push_back(reader.heap_counts({c.id}));
    heap_all_.add(heap_.back(), true);
    offcpu_.push_back(has_offcpu_ ? reader.samples_of(sample_types::offcpu, {c.id}) : std::vector<CpuSampleRow>{});
    offcpu_all_.add(offcpu_.back());
  }
  return true;
}

ViewData ViewModel::view(const ViewQuery& query) const {
  ViewData v;
  v.process = process_;
  v.pids = pids_;
  v.output = output_;
  v.heap_mode = heap_mode_;
  v.frequency_hz = frequency_hz_;
  v.finished = finished_;
  v.has_heap = has_heap_;
  v.heap_sampled = heap_mode_ == "sampled";
  v.lost = lost_;
  v.checkpoints = checkpoints_.size();
  v.exits_note = abnormal_exits_text(abnormal_exits(ends_));
  if (checkpoints_.empty()) return v;
  v.recorded_ms = checkpoints_.back().ms;

  TimeWindow window;
  const std::int64_t end_ms = query.end ? std::min<std::int64_t>(query.end->count(), v.recorded_ms) : v.recorded_ms;
  std::int64_t start_ms = 0;
  if (query.last) start_ms = std::max<std::int64_t>(0, end_ms - query.last->count());
  const bool whole = !query.end && !query.last;
  if (!whole) {
    window.range = {std::chrono::milliseconds(start_ms), std::chrono::milliseconds(std::max(end_ms, start_ms + 1))};
  }
  // The checkpoints of the trend: the last ones up to the window's end.
  std::vector<std::size_t> trend;
  for (std::size_t i = 0; i < checkpoints_.size(); ++i) {
    if (checkpoints_[i].ms <= end_ms || trend.empty()) trend.push_back(i);
  }
  if (trend.size() > query.trend_points) trend.erase(trend.begin(), trend.end() - static_cast<std::ptrdiff_t>(query.trend_points));

  TopOptions top;
  top.top = std::numeric_limits<std::size_t>::max();
  top.window = window;
  top.filter = query.filter;
  TopReport cpu;
  const auto ids = select_checkpoints(checkpoints_, window, &cpu.window_start_ms, &cpu.window_end_ms);
  cpu.duration_ms = cpu.window_end_ms - cpu.window_start_ms;
  if (whole) {
    cpu_all_.finish(cpu, top);
  } else {
    std::unordered_map<std::int64_t, std::uint64_t> counts;
    for (std::int64_t id : ids) {
      for (const auto& [leaf, n] : cpu_[index_.at(id)]) counts[leaf] += n;
    }
    cpu_lines(cpu, counts, stacks_, top);
  }
  v.window_start_ms = cpu.window_start_ms;
  v.window_end_ms = cpu.window_end_ms;
  v.samples = cpu.total_samples;

  LineIndex cpu_index;
  for (const TopEntry& e : cpu.entries) {
    ViewLine& l = add_line(v.cpu, cpu_index, e, trend.size());
    l.self_pct = e.self_pct;
    l.total_pct = e.total_pct;
    l.self_samples = e.self_samples;
  }
  for (std::size_t i = 0; i < trend.size(); ++i) {
    for (const auto& [leaf, count] : cpu_[trend[i]]) {
      add_to_trend(v.cpu, cpu_index, stacks_.frame_of(leaf), i, static_cast<double>(count));
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

  if (has_offcpu_) add_offcpu(v, top, ids, trend, whole);
  if (!v.has_heap) return v;
  HeapTopOptions h;
  h.common = top;
  h.metric = HeapMetric::live;
  HeapTopReport heap;
  if (whole) {
    heap_all_.finish(heap, h);
  } else {
    // As heap_top: live and peak from the start up to the window's end, allocations in it.
    const std::set<std::int64_t> in_window(ids.begin(), ids.end());
    HeapLines lines(stacks_, GroupBy::line, false);
    for (const CheckpointRow& c : checkpoints_) {
      if (!ids.empty() && c.id > ids.back()) break;
      if (ids.empty() && c.ms > cpu.window_end_ms) break;
      lines.add(heap_[index_.at(c.id)], in_window.contains(c.id));
    }
    lines.finish(heap, h);
  }
  v.live_bytes = heap.live_bytes;
  v.peak_bytes = heap.peak_bytes;
  LineIndex heap_index;
  for (const HeapTopEntry& e : heap.entries) {
    ViewLine& l = add_line(v.heap, heap_index, e, trend.size());
    l.live_bytes = e.live_bytes;
    l.alloc_bytes = e.alloc_bytes;
  }
  for (std::size_t i = 0; i < trend.size(); ++i) {
    for (const auto& [leaf, counts] : heap_[trend[i]]) {
      add_to_trend(v.heap, heap_index, stacks_.allocating_frame(leaf), i, static_cast<double>(counts.alloc_bytes));
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

// The off-CPU pane: lines by blocked time (self: the call that blocked), as `top offcpu`.
void ViewModel::add_offcpu(ViewData& v, const TopOptions& top, const std::vector<std::int64_t>& ids,
                           const std::vector<std::size_t>& trend, bool whole) const {
  v.has_offcpu = true;
  OffCpuReport report;
  if (whole) {
    offcpu_all_.finish(report, top);
  } else {
    OffCpuLines lines(stacks_, kernel_modules_, GroupBy::line);
    for (std::int64_t id : ids) lines.add(offcpu_[index_.at(id)]);
    lines.finish(report, top);
  }
  v.offcpu_ns = report.total_ns;
  LineIndex index;
  for (const OffCpuEntry& e : report.entries) {
    ViewLine& l = add_line(v.offcpu, index, e, trend.size());
    l.offcpu_ns = e.self_ns;
    l.offcpu_total_ns = e.total_ns;
    l.reason = e.reason;
    l.total_pct = e.total_pct;
    l.self_pct = e.self_pct;
  }
  for (std::size_t i = 0; i < trend.size(); ++i) {
    for (const CpuSampleRow& row : offcpu_[trend[i]]) {
      const FrameInfo* user = nullptr;  // the innermost frame outside the kernel
      stacks_.walk(row.stack, [&](std::int64_t, const FrameInfo* f) {
        if (f == nullptr || kernel_modules_.contains(f->module_id)) return true;
        user = f;
        return false;
      });
      add_to_trend(v.offcpu, index, user, i, static_cast<double>(row.count));
    }
  }
}

ViewData load_view(const RecordingReader& reader, const ViewQuery& query) {
  ViewModel model;
  model.update(reader);
  return model.view(query);
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
