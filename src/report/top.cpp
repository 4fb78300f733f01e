#include "report/top.h"
#include "store/meta_keys.h"

#include <algorithm>
#include <cctype>
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
using std::chrono::milliseconds;

std::string shorten_left(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  return "…" + s.substr(s.size() - (max - 1));
}

std::string shorten_right(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  return s.substr(0, max - 1) + "…";
}

std::string group_key(const FrameInfo& f, GroupBy by) {
  switch (by) {
    case GroupBy::function: return f.function;
    case GroupBy::file: return f.file.empty() ? "(unknown)" : f.file;
    case GroupBy::line: break;
  }
  return fmt::format("{}\x1f{}\x1f{}", f.function, f.file, f.line);
}

void add_site_headers(std::vector<std::string>& headers, GroupBy by) {
  if (by != GroupBy::file) headers.emplace_back("FUNCTION");
  if (by != GroupBy::function) headers.emplace_back(by == GroupBy::file ? "FILE" : "LOCATION");
}

void add_site_cells(std::vector<std::string>& row, GroupBy by, const std::string& function, const std::string& file,
                    int line) {
  if (by != GroupBy::file) row.push_back(shorten_right(function, 60));
  if (by != GroupBy::function) {
    std::string loc = file.empty() ? "" : shorten_left(file, 60);
    if (by == GroupBy::line && line > 0) loc += fmt::format(":{}", line);
    row.push_back(std::move(loc));
  }
}

void put_report_head(nlohmann::ordered_json& j, const std::string& file, const std::string& process,
                     const std::string& pids, std::int64_t duration_ms, std::int64_t start_ms, std::int64_t end_ms) {
  j["file"] = file;
  j["process"] = process;
  j["pids"] = pids;
  j["duration_ms"] = duration_ms;
  j["window"] = {{"start_ms", start_ms}, {"end_ms", end_ms}};
}

std::pair<milliseconds, milliseconds> parse_window(const std::string& text) {
  auto dots = text.find("..");
  if (dots == std::string::npos) {
    throw Error(ExitCode::invalid_args, fmt::format("invalid window '{}'", text),
                "use A..B with durations, e.g. 10s..30s, ..5s or 1m..");
  }
  std::string a = text.substr(0, dots), b = text.substr(dots + 2);
  milliseconds from = a.empty() ? milliseconds(0) : parse_duration(a);
  milliseconds to = b.empty() ? milliseconds::max() : parse_duration(b);
  if (to <= from) {
    throw Error(ExitCode::invalid_args, fmt::format("invalid window '{}': its end is not after its start", text),
                "use A..B with A < B");
  }
  return {from, to};
}

std::vector<std::int64_t> select_checkpoints(const std::vector<CheckpointRow>& checkpoints, const TimeWindow& window,
                                             std::int64_t* start_ms, std::int64_t* end_ms) {
  const std::int64_t end = checkpoints.empty() ? 0 : checkpoints.back().ms;
  std::int64_t lo = 0, hi = end;
  if (window.since) lo = std::max<std::int64_t>(lo, end - window.since->count());
  if (window.until) hi = std::min<std::int64_t>(hi, window.until->count());
  if (window.range) {
    lo = std::max<std::int64_t>(lo, window.range->first.count());
    if (window.range->second != milliseconds::max()) hi = std::min<std::int64_t>(hi, window.range->second.count());
  }
  if (!checkpoints.empty() && lo >= end && (window.range || window.since || window.until)) {
    throw Error(ExitCode::invalid_args,
                fmt::format("the window starts at {} but the recording is only {} long",
                            format_duration(milliseconds(lo)), format_duration(milliseconds(end))),
                "choose a window inside the recording");
  }
  std::vector<std::int64_t> ids;
  std::int64_t prev = 0;
  for (const auto& c : checkpoints) {
    std::int64_t mid = (prev + c.ms) / 2;
    if (mid >= lo && mid <= hi) ids.push_back(c.id);
    prev = c.ms;
  }
  if (start_ms) *start_ms = lo;
  if (end_ms) *end_ms = std::max(lo, hi);
  return ids;
}

TopReport cpu_top(const RecordingReader& reader, const TopOptions& options) {
  TopReport report;
  report.file = reader.path();
  report.abnormal_exits = abnormal_exits(reader.events());
  report.process = reader.meta_or(meta_key::process_name);
  report.pids = reader.meta_or(meta_key::pids);
  report.frequency_hz = static_cast<int>(reader.meta_int(meta_key::cpu_frequency_hz));
  report.lost = static_cast<std::uint64_t>(reader.meta_int(meta_key::lost_user_stacks) + reader.meta_int(meta_key::lost_kernel_stacks) +
                                           reader.meta_int(meta_key::dropped_samples));
  report.truncated = static_cast<std::uint64_t>(reader.meta_int(meta_key::truncated_stacks));
  report.lost_events = static_cast<std::uint64_t>(reader.meta_int(meta_key::lost_events));
  report.unwind_mode = reader.meta_or(meta_key::unwind_mode);
  for (const char* reason : {"no_table", "invalid_rule", "read_fault", "unknown_mapping"}) {
    const auto n = reader.meta_int(std::string(meta_key::unwind_stop_prefix) + reason);
    if (n > 0) report.unwind_stops.emplace_back(reason, static_cast<std::uint64_t>(n));
  }

  auto ids = select_checkpoints(reader.checkpoints(), options.window, &report.window_start_ms, &report.window_end_ms);
  report.duration_ms = report.window_end_ms - report.window_start_ms;
  auto counts = reader.cpu_counts(ids);
  const StackTable stacks(reader);
  cpu_lines(report, counts, stacks, options);
  return report;
}

void cpu_lines(TopReport& report, const std::unordered_map<std::int64_t, std::uint64_t>& counts,
               const StackTable& stacks, const TopOptions& options) {
  CpuLines lines(stacks, options.by);
  lines.add(counts);
  lines.finish(report, options);
}

void CpuLines::add(const std::unordered_map<std::int64_t, std::uint64_t>& counts) {
  std::set<const Acc*> seen;
  for (const auto& entry : counts) {
    const std::int64_t leaf = entry.first;
    const std::uint64_t count = entry.second;
    total_ += count;
    seen.clear();
    bool is_leaf = true;
    stacks_->walk(leaf, [&](std::int64_t node, const FrameInfo* f) {
      if (f != nullptr) {
        Acc& a = line_of(node, *f);
        if (is_leaf) a.self += count;
        if (seen.insert(&a).second) a.total += count;  // recursion counts once per sample
      }
      is_leaf = false;
      return true;
    });
  }
}

CpuLines::Acc& CpuLines::line_of(std::int64_t node, const FrameInfo& f) {
  // A node's line never changes: looked up by string once per node.
  if (auto it = by_node_.find(node); it != by_node_.end()) return *it->second;
  Acc& a = acc_[group_key(f, by_)];
  a.frame = &f;
  by_node_[node] = &a;
  return a;
}

void CpuLines::finish(TopReport& report, const TopOptions& options) const {
  report.total_samples = total_;
  report.entries.clear();
  const std::string needle = lower_ascii(options.filter);
  const double total = static_cast<double>(std::max<std::uint64_t>(report.total_samples, 1));
  for (const auto& [key, a] : acc_) {
    const FrameInfo& f = *a.frame;
    TopEntry e;
    e.self_samples = a.self;
    e.total_samples = a.total;
    e.self_pct = 100.0 * static_cast<double>(a.self) / total;
    e.total_pct = 100.0 * static_cast<double>(a.total) / total;
    e.function = by_ == GroupBy::file ? "" : f.function;
    e.file = by_ == GroupBy::function ? "" : f.file;
    e.line = by_ == GroupBy::line ? f.line : 0;
    if (!needle.empty() && lower_ascii(f.function).find(needle) == std::string::npos &&
        lower_ascii(f.file).find(needle) == std::string::npos) {
      continue;
    }
    if (e.self_pct < options.threshold_pct && e.total_pct < options.threshold_pct) continue;
    report.entries.push_back(std::move(e));
  }
  std::sort(report.entries.begin(), report.entries.end(), [](const TopEntry& a, const TopEntry& b) {
    if (a.self_samples != b.self_samples) return a.self_samples > b.self_samples;
    if (a.total_samples != b.total_samples) return a.total_samples > b.total_samples;
    if (a.function != b.function) return a.function < b.function;
    if (a.file != b.file) return a.file < b.file;
    return a.line < b.line;
  });
  if (report.entries.size() > options.top) report.entries.resize(options.top);
}

std::string render_text(const TopReport& r, GroupBy by) {
  std::string out = fmt::format("{} (pid {}) · {} · {} samples at {} Hz · {}\n", printable(r.process),
                                printable(r.pids), format_duration(std::chrono::milliseconds(r.duration_ms)),
                                r.total_samples, r.frequency_hz, printable(r.file));
  out += abnormal_exits_note(r.abnormal_exits, r.file);
  if (r.lost > 0) {
    out += fmt::format("note: {} samples lost their stack or were dropped during recording\n", r.lost);
  }
  if (r.truncated > 0) out += fmt::format("note: {} samples had truncated (over-deep) stacks\n", r.truncated);
  if (r.lost_events > 0) out += fmt::format("note: {} process events were lost\n", r.lost_events);
  std::uint64_t stopped = 0;
  for (const auto& [reason, n] : r.unwind_stops) stopped += n;
  if (stopped * 100 >= std::max<std::uint64_t>(r.total_samples, 1)) {  // from 1% (the JSON has every count)
    std::string reasons;
    for (const auto& [reason, n] : r.unwind_stops) {
      std::string words = reason;
      std::replace(words.begin(), words.end(), '_', ' ');
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", n, words);
    }
    out += fmt::format("note: stacks that end before their root (their outermost frame says why): {}\n", reasons);
  }
  if (r.total_samples == 0) return out + "no samples in this window\n";
  TextTable t;
  t.headers = {"SELF%", "TOTAL%", "SAMPLES"};
  t.right_align = {true, true, true, false, false};
  add_site_headers(t.headers, by);
  if (by == GroupBy::file) t.right_align = {true, true, true, false};
  for (const auto& e : r.entries) {
    std::vector<std::string> row = {fmt::format("{:.1f}%", e.self_pct), fmt::format("{:.1f}%", e.total_pct),
                                    std::to_string(e.self_samples)};
    add_site_cells(row, by, e.function, e.file, e.line);
    t.rows.push_back(std::move(row));
  }
  return out + t.render();
}

std::string render_json(const TopReport& r) {
  nlohmann::ordered_json j;
  put_report_head(j, r.file, r.process, r.pids, r.duration_ms, r.window_start_ms, r.window_end_ms);
  j["abnormal_exits"] = abnormal_exits_json(r.abnormal_exits);
  j["total_samples"] = r.total_samples;
  j["frequency_hz"] = r.frequency_hz;
  j["lost_samples"] = r.lost;
  j["truncated_stacks"] = r.truncated;
  j["lost_events"] = r.lost_events;
  if (!r.unwind_mode.empty()) j["unwind_mode"] = r.unwind_mode;
  j["unwind_stops"] = nlohmann::ordered_json::object();
  for (const auto& [reason, n] : r.unwind_stops) j["unwind_stops"][reason] = n;
  j["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : r.entries) {
    nlohmann::ordered_json x;
    x["self_pct"] = e.self_pct;
    x["total_pct"] = e.total_pct;
    x["samples"] = e.self_samples;
    x["total_samples"] = e.total_samples;
    put_site(x, e.function, e.file, e.line);
    j["entries"].push_back(std::move(x));
  }
  return dump_json(j) + "\n";
}

std::string render_csv(const TopReport& r) {
  std::string out = "self_pct,total_pct,samples,total_samples,function,file,line\n";
  for (const auto& e : r.entries) {
    out += fmt::format("{:.3f},{:.3f},{},{},{}\n", e.self_pct, e.total_pct, e.self_samples, e.total_samples,
                       site_csv(e.function, e.file, e.line));
  }
  return out;
}

}  // namespace hotline
