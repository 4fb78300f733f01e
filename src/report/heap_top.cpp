#include "report/heap_top.h"
#include "store/meta_keys.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/events_report.h"
#include "report/table.h"
#include "store/stack_table.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/text.h"

namespace hotline {
namespace {


const char* metric_name(HeapMetric m) {
  switch (m) {
    case HeapMetric::live: return "live";
    case HeapMetric::alloc: return "alloc";
    case HeapMetric::count: return "count";
    case HeapMetric::peak: return "peak";
  }
  return "live";
}

std::int64_t metric_value(const HeapTopEntry& e, HeapMetric m) {
  switch (m) {
    case HeapMetric::live: return e.live_bytes;
    case HeapMetric::alloc: return e.alloc_bytes;
    case HeapMetric::count: return e.alloc_count;
    case HeapMetric::peak: return e.peak_bytes;
  }
  return e.live_bytes;
}

}  // namespace

std::string human_bytes(std::int64_t b) {
  const double v = static_cast<double>(b < 0 ? -b : b);
  const char* sign = b < 0 ? "-" : "";
  if (v >= 1024.0 * 1024 * 1024) return fmt::format("{}{:.2f} GiB", sign, v / (1024.0 * 1024 * 1024));
  if (v >= 1024.0 * 1024) return fmt::format("{}{:.1f} MiB", sign, v / (1024.0 * 1024));
  if (v >= 1024.0) return fmt::format("{}{:.1f} KiB", sign, v / 1024.0);
  return fmt::format("{}{} B", sign, b);
}

HeapMetric parse_heap_metric(const std::string& name) {
  if (name == "alloc") return HeapMetric::alloc;
  if (name == "count") return HeapMetric::count;
  if (name == "peak") return HeapMetric::peak;
  return HeapMetric::live;
}

HeapTopReport heap_top(const RecordingReader& reader, const HeapTopOptions& options) {
  HeapTopReport report;
  report.file = reader.path();
  report.abnormal_exits = abnormal_exits(reader.events());
  report.process = reader.meta_or(meta_key::process_name);
  report.pids = reader.meta_or(meta_key::pids);
  report.heap_mode = reader.meta_or(meta_key::heap_mode, "off");
  report.heap_decision = reader.meta_or(meta_key::heap_decision);
  report.untracked_frees = static_cast<std::uint64_t>(reader.meta_int(meta_key::heap_untracked_frees));
  report.dropped = static_cast<std::uint64_t>(reader.meta_int(meta_key::heap_dropped));
  report.metric = options.metric;
  report.sample_bytes = static_cast<std::uint64_t>(reader.meta_int(meta_key::heap_sample_bytes));
  if (options.leaks) {
    if (reader.meta_or(meta_key::heap_at_exit) != "1") {
      throw Error(ExitCode::invalid_args,
                  fmt::format("{} has no leak report: leaks are the blocks still allocated when a launched command "
                              "exits by itself, with its heap recorded to the end (this recording {})",
                              reader.path(),
                              report.heap_mode == "off"        ? "has no heap data"
                              : report.heap_mode == "detached" ? "lost its heap probes on the way"
                              : reader.meta_or(meta_key::mode) == "attach"
                                  ? "is of a running process"
                                  : "ended before the command did"),
                  "record with: hotline record -- CMD ARGS (no --duration shorter than the run); or see what is "
                  "live at the end with: hotline top heap FILE --metric live");
    }
    if (options.metric != HeapMetric::live || options.at || options.common.window.since || options.common.window.until ||
        options.common.window.range) {
      throw Error(ExitCode::invalid_args, "--leaks reports what is live at exit: it takes no --metric, --at or window",
                  "drop those options, or use --metric/--at without --leaks");
    }
    report.leaks = true;
  }

  const auto checkpoints = reader.checkpoints();
  TimeWindow window = options.common.window;
  if (options.at) window.until = *options.at;
  auto ids = select_checkpoints(checkpoints, window, &report.window_start_ms, &report.window_end_ms);
  // Live bytes need everything allocated before the window too: live and peak are
  // cumulative from the start; alloc and count are the window's own activity.
  std::vector<std::int64_t> upto;
  for (const auto& c : checkpoints) {
    if (!ids.empty() && c.id > ids.back()) break;
    if (ids.empty() && c.ms > report.window_end_ms) break;
    upto.push_back(c.id);
  }
  const std::set<std::int64_t> in_window(ids.begin(), ids.end());
  const StackTable stacks(reader);
  HeapLines lines(stacks, options.common.by, options.show_allocator);
  for (std::int64_t id : upto) lines.add(reader.heap_counts({id}), in_window.contains(id));
  lines.finish(report, options);
  return report;
}

const FrameInfo* HeapLines::site(std::int64_t leaf) {
  auto [it, inserted] = site_of_.try_emplace(leaf, nullptr);
  if (inserted) it->second = stacks_->allocating_frame(leaf, show_allocator_);
  return it->second;
}

void HeapLines::add(const std::unordered_map<std::int64_t, RecordingReader::HeapCounts>& counts, bool in_window) {
  std::vector<Acc*> touched;
  for (const auto& [leaf, h] : counts) {
    const FrameInfo* f = site(leaf);
    if (f == nullptr) continue;
    std::string key;
    switch (by_) {
      case GroupBy::function: key = f->function; break;
      case GroupBy::file: key = f->file.empty() ? "(unknown)" : f->file; break;
      case GroupBy::line: key = fmt::format("{}\x1f{}\x1f{}", f->function, f->file, f->line); break;
    }
    Acc& a = acc_[key];
    a.frame = f;
    a.entry.live_bytes += h.alloc_bytes - h.free_bytes;
    a.entry.live_count += h.alloc_count - h.free_count;
    live_count_ += h.alloc_count - h.free_count;
    live_ += h.alloc_bytes - h.free_bytes;
    if (in_window) {
      a.entry.alloc_bytes += h.alloc_bytes;
      a.entry.alloc_count += h.alloc_count;
      a.entry.free_bytes += h.free_bytes;
      alloc_bytes_ += h.alloc_bytes;
      alloc_count_ += h.alloc_count;
    }
    touched.push_back(&a);
  }
  // Only lines whose live bytes moved can reach a new peak.
  for (Acc* a : touched) a->entry.peak_bytes = std::max(a->entry.peak_bytes, a->entry.live_bytes);
  peak_ = std::max(peak_, live_);
}

void HeapLines::finish(HeapTopReport& report, const HeapTopOptions& options) const {
  report.live_bytes = live_;
  report.peak_bytes = peak_;
  report.live_count = live_count_;
  report.alloc_bytes = alloc_bytes_;
  report.alloc_count = alloc_count_;
  std::int64_t metric_total = 0;
  for (const auto& [key, a] : acc_) metric_total += std::max<std::int64_t>(metric_value(a.entry, options.metric), 0);
  const std::string needle = lower_ascii(options.common.filter);
  report.entries.clear();
  for (const auto& [key, a] : acc_) {
    HeapTopEntry e = a.entry;
    const FrameInfo& f = *a.frame;
    if (metric_value(e, options.metric) <= 0) continue;
    if (!needle.empty() && lower_ascii(f.function).find(needle) == std::string::npos &&
        lower_ascii(f.file).find(needle) == std::string::npos) {
      continue;
    }
    e.pct = metric_total > 0 ? 100.0 * static_cast<double>(metric_value(e, options.metric)) /
                                   static_cast<double>(metric_total)
                             : 0;
    if (e.pct < options.common.threshold_pct) continue;
    e.function = options.common.by == GroupBy::file ? "" : f.function;
    e.file = options.common.by == GroupBy::function ? "" : f.file;
    e.line = options.common.by == GroupBy::line ? f.line : 0;
    report.entries.push_back(std::move(e));
  }
  std::sort(report.entries.begin(), report.entries.end(), [&](const HeapTopEntry& a, const HeapTopEntry& b) {
    const auto va = metric_value(a, options.metric), vb = metric_value(b, options.metric);
    if (va != vb) return va > vb;
    if (a.function != b.function) return a.function < b.function;
    if (a.file != b.file) return a.file < b.file;
    return a.line < b.line;
  });
  if (report.entries.size() > options.common.top) report.entries.resize(options.common.top);
}

std::string render_heap_text(const HeapTopReport& r, GroupBy by) {
  std::string out = fmt::format("{} (pid {}) · heap {} · live {} · peak {} · {} allocated in {} allocations · {}\n",
                                printable(r.process), printable(r.pids), printable(r.heap_mode),
                                human_bytes(r.live_bytes), human_bytes(r.peak_bytes), human_bytes(r.alloc_bytes),
                                r.alloc_count, printable(r.file));
  out += abnormal_exits_note(r.abnormal_exits, r.file);
  if (r.heap_mode == "off") return out + "no heap data in this recording (recorded with --heap=off, or CPU only)\n";
  if (r.heap_mode == "detached") out += fmt::format("note: heap probes were {}\n", printable(r.heap_decision));
  if (r.heap_mode == "sampled" && r.sample_bytes > 0) {
    out += fmt::format("note: sampled about every {} allocated: sizes and counts are estimates\n",
                       human_bytes(static_cast<std::int64_t>(r.sample_bytes)));
  }
  if (r.leaks) {
    out += fmt::format("leaked at exit: {} in {} blocks, by allocating line\n", human_bytes(r.live_bytes), r.live_count);
  }
  if (r.untracked_frees > 0) {
    out += fmt::format("note: {} frees of blocks allocated before recording started were ignored\n", r.untracked_frees);
  }
  if (r.dropped > 0) out += fmt::format("note: {} allocations were not tracked (maps full)\n", r.dropped);
  if (r.entries.empty()) return out + (r.leaks ? "no leaks: every block was freed before exit\n" : "no heap activity in this window\n");
  TextTable t;
  t.headers = {"LIVE", "ALLOCATED", "COUNT", std::string(metric_name(r.metric)) + "%"};
  t.right_align = {true, true, true, true, false, false};
  if (by != GroupBy::file) t.headers.push_back("FUNCTION");
  if (by != GroupBy::function) t.headers.push_back(by == GroupBy::file ? "FILE" : "LOCATION");
  for (const auto& e : r.entries) {
    std::vector<std::string> row = {human_bytes(e.live_bytes), human_bytes(e.alloc_bytes),
                                    std::to_string(e.alloc_count), fmt::format("{:.1f}%", e.pct)};
    if (by != GroupBy::file) row.push_back(e.function);
    if (by != GroupBy::function) {
      std::string loc = e.file;
      if (by == GroupBy::line && e.line > 0) loc += fmt::format(":{}", e.line);
      row.push_back(loc);
    }
    t.rows.push_back(std::move(row));
  }
  return out + t.render();
}

std::string render_heap_json(const HeapTopReport& r) {
  nlohmann::ordered_json j;
  j["file"] = r.file;
  j["process"] = r.process;
  j["pids"] = r.pids;
  j["abnormal_exits"] = abnormal_exits_json(r.abnormal_exits);
  j["heap_mode"] = r.heap_mode;
  j["heap_decision"] = r.heap_decision;
  if (r.sample_bytes > 0) j["sample_bytes"] = r.sample_bytes;
  j["leaks"] = r.leaks;
  j["live_count"] = r.live_count;
  j["metric"] = metric_name(r.metric);
  j["window"] = {{"start_ms", r.window_start_ms}, {"end_ms", r.window_end_ms}};
  j["live_bytes"] = r.live_bytes;
  j["peak_bytes"] = r.peak_bytes;
  j["alloc_bytes"] = r.alloc_bytes;
  j["alloc_count"] = r.alloc_count;
  j["untracked_frees"] = r.untracked_frees;
  j["dropped_allocations"] = r.dropped;
  j["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : r.entries) {
    nlohmann::ordered_json x;
    x["live_bytes"] = e.live_bytes;
    x["live_count"] = e.live_count;
    x["alloc_bytes"] = e.alloc_bytes;
    x["alloc_count"] = e.alloc_count;
    x["free_bytes"] = e.free_bytes;
    x["peak_bytes"] = e.peak_bytes;
    x["pct"] = e.pct;
    put_site(x, e.function, e.file, e.line);
    j["entries"].push_back(std::move(x));
  }
  return dump_json(j) + "\n";
}

std::string render_heap_csv(const HeapTopReport& r) {
  std::string out = "live_bytes,alloc_bytes,alloc_count,free_bytes,peak_bytes,pct,function,file,line\n";
  for (const auto& e : r.entries) {
    out += fmt::format("{},{},{},{},{},{:.3f},{}\n", e.live_bytes, e.alloc_bytes, e.alloc_count, e.free_bytes,
                       e.peak_bytes, e.pct, site_csv(e.function, e.file, e.line));
  }
  return out;
}

}  // namespace hotline
