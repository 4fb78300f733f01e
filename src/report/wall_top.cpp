#include "report/wall_top.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/offcpu_top.h"
#include "report/events_report.h"
#include "report/table.h"
#include "store/meta_keys.h"
#include "store/stack_table.h"
#include "util/duration.h"
#include "util/text.h"

namespace hotline {
namespace {

double ms(std::uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::vector<std::pair<std::string, std::uint64_t>> most_first(const std::map<std::string, std::uint64_t>& m) {
  std::vector<std::pair<std::string, std::uint64_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

}  // namespace

WallReport wall_top(const RecordingReader& reader, const WallTopOptions& options) {
  require_offcpu_data(reader);
  WallReport r;
  r.file = reader.path();
  r.abnormal_exits = abnormal_exits(reader.events());
  r.process = reader.meta_or(meta_key::process_name);
  r.pids = reader.meta_or(meta_key::pids);
  r.frequency_hz = static_cast<int>(reader.meta_int(meta_key::cpu_frequency_hz));
  r.min_ns = static_cast<std::uint64_t>(reader.meta_int(meta_key::offcpu_min_ns));
  r.dropped_blocks = static_cast<std::uint64_t>(reader.meta_int(meta_key::offcpu_dropped_blocks));
  r.by_thread = options.by_thread;
  const TopOptions& o = options.common;
  const auto ids = select_checkpoints(reader.checkpoints(), o.window, &r.window_start_ms, &r.window_end_ms);
  r.duration_ms = r.window_end_ms - r.window_start_ms;
  const std::uint64_t period_ns = 1000000000ULL / static_cast<std::uint64_t>(std::max(r.frequency_hz, 1));

  const StackTable stacks(reader);
  const std::set<std::int64_t> kernel_modules = kernel_module_ids(reader);

  struct Acc {
    std::uint64_t cpu = 0, offcpu = 0, total = 0;
    const FrameInfo* frame = nullptr;
  };
  struct ThreadAcc {
    std::int64_t pid = 0;
    std::uint64_t cpu = 0, offcpu = 0;
    std::map<std::string, std::uint64_t> reasons;
  };
  std::unordered_map<std::string, Acc> acc;
  std::map<std::int64_t, ThreadAcc> threads;
  std::unordered_map<std::int64_t, std::string> reason_of;  // off-CPU leaf -> kernel reason
  std::set<Acc*> seen;
  std::vector<const std::string*> kernel;

  // One stack's time: self to its innermost user frame (the leaf when it has none), total to
  // every line on it once.
  auto add = [&](std::int64_t leaf, std::uint64_t ns, bool on_cpu) {
    seen.clear();
    Acc* self = nullptr;
    Acc* leaf_acc = nullptr;
    stacks.walk(leaf, [&](std::int64_t, const FrameInfo* f) {
      if (f == nullptr) return true;
      const bool in_kernel = kernel_modules.contains(f->module_id);
      if (in_kernel && leaf_acc != nullptr) return true;  // only a kernel leaf can stand for a stack
      Acc& a = acc[group_key(*f, o.by)];
      a.frame = f;
      if (in_kernel) {
        leaf_acc = &a;
        return true;
      }
      if (leaf_acc == nullptr) leaf_acc = &a;
      if (self == nullptr) self = &a;
      if (seen.insert(&a).second) a.total += ns;
      return true;
    });
    if (self == nullptr) self = leaf_acc;  // a stack of kernel frames only
    if (self == nullptr) return;
    if (seen.empty()) self->total += ns;
    (on_cpu ? self->cpu : self->offcpu) += ns;
  };

  for (const CpuSampleRow& row : reader.cpu_samples(ids)) {
    if ((options.tid && row.tid != *options.tid) || row.count == 0) continue;
    const std::uint64_t ns = row.count * period_ns;
    r.cpu_ns += ns;
    ThreadAcc& t = threads[row.tid];
    t.pid = row.pid;
    t.cpu += ns;
    add(row.stack, ns, true);
  }
  for (const CpuSampleRow& row : reader.samples_of(sample_types::offcpu, ids)) {
    if ((options.tid && row.tid != *options.tid) || row.count == 0) continue;
    r.offcpu_ns += row.count;
    ThreadAcc& t = threads[row.tid];
    t.pid = row.pid;
    t.offcpu += row.count;
    auto [it, inserted] = reason_of.try_emplace(row.stack);
    if (inserted) {
      kernel.clear();
      stacks.walk(row.stack, [&](std::int64_t, const FrameInfo* f) {
        if (f == nullptr || !kernel_modules.contains(f->module_id)) return false;
        kernel.push_back(&f->function);
        return true;
      });
      it->second = offcpu_reason(kernel);
      if (it->second.empty()) it->second = "(unknown)";
    }
    t.reasons[it->second] += row.count;
    add(row.stack, row.count, false);
  }

  const double total = static_cast<double>(std::max<std::uint64_t>(r.cpu_ns + r.offcpu_ns, 1));
  if (options.by_thread) {
    const auto names = reader.thread_names();
    for (const auto& [tid, t] : threads) {
      WallThread w;
      w.tid = tid;
      w.pid = t.pid;
      if (auto it = names.find(tid); it != names.end()) w.comm = it->second;
      w.cpu_ns = t.cpu;
      w.offcpu_ns = t.offcpu;
      w.reasons = most_first(t.reasons);
      const std::string needle = lower_ascii(o.filter);
      if (!needle.empty() && lower_ascii(w.comm).find(needle) == std::string::npos) continue;
      if (100.0 * static_cast<double>(w.wall_ns()) / total < o.threshold_pct) continue;
      r.threads.push_back(std::move(w));
    }
    std::sort(r.threads.begin(), r.threads.end(), [](const WallThread& a, const WallThread& b) {
      if (a.wall_ns() != b.wall_ns()) return a.wall_ns() > b.wall_ns();
      return a.tid < b.tid;
    });
    if (r.threads.size() > o.top) r.threads.resize(o.top);
    return r;
  }

  const std::string needle = lower_ascii(o.filter);
  for (const auto& [key, a] : acc) {
    const FrameInfo& f = *a.frame;
    if (a.total == 0 && a.cpu == 0 && a.offcpu == 0) continue;  // a kernel frame that stood for nothing
    if (!needle.empty() && lower_ascii(f.function).find(needle) == std::string::npos &&
        lower_ascii(f.file).find(needle) == std::string::npos) {
      continue;
    }
    WallEntry e;
    e.cpu_ns = a.cpu;
    e.offcpu_ns = a.offcpu;
    e.total_ns = a.total;
    e.self_pct = 100.0 * static_cast<double>(e.wall_ns()) / total;
    e.total_pct = 100.0 * static_cast<double>(a.total) / total;
    if (e.self_pct < o.threshold_pct && e.total_pct < o.threshold_pct) continue;
    e.function = o.by == GroupBy::file ? "" : f.function;
    e.file = o.by == GroupBy::function ? "" : f.file;
    e.line = o.by == GroupBy::line ? f.line : 0;
    r.entries.push_back(std::move(e));
  }
  std::sort(r.entries.begin(), r.entries.end(), [](const WallEntry& a, const WallEntry& b) {
    if (a.wall_ns() != b.wall_ns()) return a.wall_ns() > b.wall_ns();
    if (a.total_ns != b.total_ns) return a.total_ns > b.total_ns;
    if (a.function != b.function) return a.function < b.function;
    if (a.file != b.file) return a.file < b.file;
    return a.line < b.line;
  });
  if (r.entries.size() > o.top) r.entries.resize(o.top);
  return r;
}

std::string render_wall_text(const WallReport& r, GroupBy by) {
  std::string out = fmt::format("{} (pid {}) · {} · {} wall: {} on CPU ({} Hz samples), {} off CPU · {}\n",
                                printable(r.process), printable(r.pids),
                                format_duration(std::chrono::milliseconds(r.duration_ms)),
                                format_ns_short(r.cpu_ns + r.offcpu_ns), format_ns_short(r.cpu_ns), r.frequency_hz,
                                format_ns_short(r.offcpu_ns), printable(r.file));
  out += abnormal_exits_note(r.abnormal_exits, r.file);
  if (r.dropped_blocks > 0) out += fmt::format("note: {} off-CPU blocks were not counted (maps full)\n", r.dropped_blocks);
  if (r.cpu_ns + r.offcpu_ns == 0) return out + "no time in this window\n";
  TextTable t;
  if (r.by_thread) {
    t.headers = {"WALL", "RUNNING", "BLOCKED", "TID", "THREAD", "BLOCKED IN"};
    t.right_align = {true, true, true, true, false, false};
    for (const WallThread& w : r.threads) {
      std::string reasons;
      for (std::size_t i = 0; i < w.reasons.size() && i < 3; ++i) {
        reasons += fmt::format("{}{} {}", i == 0 ? "" : ", ", w.reasons[i].first, format_ns_short(w.reasons[i].second));
      }
      if (w.reasons.size() > 3) reasons += fmt::format(" (+{} more)", w.reasons.size() - 3);
      t.rows.push_back({format_ns_short(w.wall_ns()), format_ns_short(w.cpu_ns), format_ns_short(w.offcpu_ns),
                        std::to_string(w.tid), shorten_right(w.comm, 16), reasons});
    }
    return out + t.render();
  }
  t.headers = {"WALL", "CPU", "OFF-CPU", "WALL%", "TOTAL%"};
  t.right_align = {true, true, true, true, true, false, false};
  add_site_headers(t.headers, by);
  for (const WallEntry& e : r.entries) {
    std::vector<std::string> row = {format_ns_short(e.wall_ns()), format_ns_short(e.cpu_ns),
                                    format_ns_short(e.offcpu_ns), fmt::format("{:.1f}%", e.self_pct),
                                    fmt::format("{:.1f}%", e.total_pct)};
    add_site_cells(row, by, e.function, e.file, e.line);
    t.rows.push_back(std::move(row));
  }
  return out + t.render();
}

std::string render_wall_json(const WallReport& r) {
  nlohmann::ordered_json j;
  put_report_head(j, r.file, r.process, r.pids, r.duration_ms, r.window_start_ms, r.window_end_ms);
  j["abnormal_exits"] = abnormal_exits_json(r.abnormal_exits);
  j["wall_ms"] = ms(r.cpu_ns + r.offcpu_ns);
  j["cpu_ms"] = ms(r.cpu_ns);
  j["offcpu_ms"] = ms(r.offcpu_ns);
  j["frequency_hz"] = r.frequency_hz;
  j["offcpu_min_ns"] = r.min_ns;
  j["dropped_blocks"] = r.dropped_blocks;
  if (r.by_thread) {
    j["threads"] = nlohmann::ordered_json::array();
    for (const WallThread& w : r.threads) {
      nlohmann::ordered_json x;
      x["tid"] = w.tid;
      x["pid"] = w.pid;
      x["comm"] = w.comm;
      x["wall_ms"] = ms(w.wall_ns());
      x["cpu_ms"] = ms(w.cpu_ns);
      x["offcpu_ms"] = ms(w.offcpu_ns);
      x["reasons"] = nlohmann::ordered_json::object();
      for (const auto& [reason, ns] : w.reasons) x["reasons"][reason] = ms(ns);
      j["threads"].push_back(std::move(x));
    }
    return dump_json(j) + "\n";
  }
  j["entries"] = nlohmann::ordered_json::array();
  for (const WallEntry& e : r.entries) {
    nlohmann::ordered_json x;
    x["wall_ms"] = ms(e.wall_ns());
    x["cpu_ms"] = ms(e.cpu_ns);
    x["offcpu_ms"] = ms(e.offcpu_ns);
    x["total_wall_ms"] = ms(e.total_ns);
    x["self_pct"] = e.self_pct;
    x["total_pct"] = e.total_pct;
    put_site(x, e.function, e.file, e.line);
    j["entries"].push_back(std::move(x));
  }
  return dump_json(j) + "\n";
}

std::string render_wall_csv(const WallReport& r) {
  if (r.by_thread) {
    std::string out = "wall_ms,cpu_ms,offcpu_ms,tid,pid,comm,top_reason\n";
    for (const WallThread& w : r.threads) {
      out += fmt::format("{:.3f},{:.3f},{:.3f},{},{},{},{}\n", ms(w.wall_ns()), ms(w.cpu_ns), ms(w.offcpu_ns), w.tid,
                         w.pid, csv_escape(w.comm), csv_escape(w.reasons.empty() ? "" : w.reasons.front().first));
    }
    return out;
  }
  std::string out = "wall_ms,cpu_ms,offcpu_ms,total_wall_ms,self_pct,total_pct,function,file,line\n";
  for (const WallEntry& e : r.entries) {
    out += fmt::format("{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{}\n", ms(e.wall_ns()), ms(e.cpu_ns),
                       ms(e.offcpu_ns), ms(e.total_ns), e.self_pct, e.total_pct, site_csv(e.function, e.file, e.line));
  }
  return out;
}

}  // namespace hotline
