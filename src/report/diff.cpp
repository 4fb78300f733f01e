#include "report/diff.h"
#include "store/meta_keys.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/heap_top.h"
#include "report/offcpu_top.h"
#include "report/wall_top.h"
#include "report/table.h"
#include "util/text.h"
#include "util/error.h"

namespace hotline {
namespace {

struct Share {
  double pct = 0, total_pct = 0;
  std::string function, file;
  int line = 0;
};

std::string key(const std::string& function, const std::string& file, int line) {
  return fmt::format("{}\x1f{}\x1f{}", function, file, line);
}

// Every entry's share of one recording, keyed by what it is grouped by.
std::map<std::string, Share> shares(const RecordingReader& r, const DiffOptions& o, std::int64_t* total) {
  std::map<std::string, Share> out;
  TopOptions common;
  common.top = std::numeric_limits<std::size_t>::max();
  common.by = o.by;
  common.filter = o.filter;
  if (o.type == ExportType::cpu) {
    const TopReport rep = cpu_top(r, common);
    *total = static_cast<std::int64_t>(rep.total_samples);
    for (const auto& e : rep.entries) out[key(e.function, e.file, e.line)] = {e.self_pct, e.total_pct, e.function, e.file, e.line};
    return out;
  }
  if (o.type == ExportType::offcpu) {
    OffCpuTopOptions oo;
    oo.common = common;
    const OffCpuReport rep = offcpu_top(r, oo);
    *total = static_cast<std::int64_t>(rep.total_ns);
    for (const auto& e : rep.entries) out[key(e.function, e.file, e.line)] = {e.self_pct, e.total_pct, e.function, e.file, e.line};
    return out;
  }
  if (o.type == ExportType::wall) {
    WallTopOptions wo;
    wo.common = common;
    const WallReport rep = wall_top(r, wo);
    *total = static_cast<std::int64_t>(rep.cpu_ns + rep.offcpu_ns);
    for (const auto& e : rep.entries) out[key(e.function, e.file, e.line)] = {e.self_pct, e.total_pct, e.function, e.file, e.line};
    return out;
  }
  if (r.meta_or(meta_key::heap_mode, "off") == "off") {
    throw Error(ExitCode::invalid_args, fmt::format("{} has no heap data (recorded with --heap=off)", r.path()),
                "diff --type cpu, or record both with the heap on");
  }
  HeapTopOptions h;
  h.common = common;
  h.metric = o.type == ExportType::heap_live ? HeapMetric::live : HeapMetric::alloc;
  const HeapTopReport rep = heap_top(r, h);
  *total = o.type == ExportType::heap_live ? rep.live_bytes : rep.alloc_bytes;
  for (const auto& e : rep.entries) out[key(e.function, e.file, e.line)] = {e.pct, 0, e.function, e.file, e.line};
  return out;
}

std::string type_name(ExportType t) {
  return t == ExportType::cpu         ? "cpu"
         : t == ExportType::heap_live  ? "heap-live"
         : t == ExportType::heap_alloc ? "heap-alloc"
         : t == ExportType::wall       ? "wall"
                                       : "offcpu";
}

std::string signed_pct(double v) { return fmt::format("{:+.1f}%", v); }

}  // namespace

DiffReport diff_recordings(const RecordingReader& base, const RecordingReader& next, const DiffOptions& options) {
  DiffReport report;
  report.base_file = base.path();
  report.new_file = next.path();
  report.type = type_name(options.type);
  const auto a = shares(base, options, &report.base_total);
  const auto b = shares(next, options, &report.new_total);
  std::map<std::string, DiffEntry> merged;
  auto merge = [&](const std::map<std::string, Share>& from, bool is_new) {
    for (const auto& [k, s] : from) {
      DiffEntry& e = merged[k];
      (is_new ? e.new_pct : e.base_pct) = s.pct;
      (is_new ? e.new_total_pct : e.base_total_pct) = s.total_pct;
      e.function = s.function;
      e.file = s.file;
      e.line = s.line;
    }
  };
  merge(a, false);
  merge(b, true);
  for (auto& [k, e] : merged) {
    // Entries whose shares did not move (to 0.05 points) say nothing about the change.
    if (std::fabs(e.delta()) >= 0.05 || std::fabs(e.new_total_pct - e.base_total_pct) >= 0.05) report.entries.push_back(e);
  }
  std::sort(report.entries.begin(), report.entries.end(), [](const DiffEntry& x, const DiffEntry& y) {
    const double dx = std::fabs(x.delta()), dy = std::fabs(y.delta());
    if (dx != dy) return dx > dy;
    const double tx = std::fabs(x.new_total_pct - x.base_total_pct), ty = std::fabs(y.new_total_pct - y.base_total_pct);
    if (tx != ty) return tx > ty;
    return std::tie(x.function, x.file, x.line) < std::tie(y.function, y.file, y.line);
  });
  if (report.entries.size() > options.top) report.entries.resize(options.top);
  return report;
}

std::string render_diff_text(const DiffReport& r, GroupBy by) {
  // Off-CPU has self and total shares, as CPU does; its totals are nanoseconds.
  const bool cpu = r.type == "cpu" || r.type == "offcpu" || r.type == "wall";
  const std::string unit = r.type == "cpu"      ? "samples"
                           : r.type == "offcpu" ? "ns blocked"
                           : r.type == "wall"   ? "ns wall"
                                                : "bytes";
  std::string out = fmt::format("{} diff · base {} ({} {}) → new {} ({} {})\n", r.type, printable(r.base_file),
                                r.base_total, unit, printable(r.new_file), r.new_total, unit);
  if (r.entries.empty()) return out + "nothing to compare in these recordings\n";
  TextTable t;
  const std::string what = cpu ? "SELF" : "SHARE";
  t.headers = {"Δ " + what, "BASE", "NEW"};
  t.right_align = {true, true, true};
  if (cpu) {
    t.headers.push_back("Δ TOTAL");
    t.right_align.push_back(true);
  }
  if (by != GroupBy::file) t.headers.push_back("FUNCTION");
  if (by != GroupBy::function) t.headers.push_back(by == GroupBy::file ? "FILE" : "LOCATION");
  t.right_align.resize(t.headers.size(), false);
  for (const auto& e : r.entries) {
    std::vector<std::string> row = {signed_pct(e.delta()), fmt::format("{:.1f}%", e.base_pct),
                                    fmt::format("{:.1f}%", e.new_pct)};
    if (cpu) row.push_back(signed_pct(e.new_total_pct - e.base_total_pct));
    if (by != GroupBy::file) row.push_back(e.function);
    if (by != GroupBy::function) row.push_back(by == GroupBy::line && e.line > 0 ? fmt::format("{}:{}", e.file, e.line) : e.file);
    t.rows.push_back(std::move(row));
  }
  return out + t.render();
}

std::string render_diff_json(const DiffReport& r) {
  nlohmann::ordered_json j;
  j["type"] = r.type;
  j["base"] = {{"file", r.base_file}, {"total", r.base_total}};
  j["new"] = {{"file", r.new_file}, {"total", r.new_total}};
  j["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : r.entries) {
    nlohmann::ordered_json x;
    x["delta_pct"] = e.delta();
    x["base_pct"] = e.base_pct;
    x["new_pct"] = e.new_pct;
    if (r.type == "cpu") {
      x["base_total_pct"] = e.base_total_pct;
      x["new_total_pct"] = e.new_total_pct;
    }
    put_site(x, e.function, e.file, e.line);
    j["entries"].push_back(std::move(x));
  }
  return dump_json(j) + "\n";
}

std::string render_diff_csv(const DiffReport& r) {
  std::string out = "delta_pct,base_pct,new_pct,base_total_pct,new_total_pct,function,file,line\n";
  for (const auto& e : r.entries) {
    out += fmt::format("{:.3f},{:.3f},{:.3f},{:.3f},{:.3f},{}\n", e.delta(), e.base_pct, e.new_pct, e.base_total_pct,
                       e.new_total_pct, site_csv(e.function, e.file, e.line));
  }
  return out;
}

}  // namespace hotline
