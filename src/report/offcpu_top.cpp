#include "report/offcpu_top.h"
#include "store/meta_keys.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
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

// Functions every blocked thread passes through on its way into the scheduler, and
// hotline's own program and the tracepoint that ran it.
bool plumbing(std::string_view f) {
  static constexpr std::string_view kPrefixes[] = {
      "bpf_",          "__bpf_",       "___bpf_",        "__traceiter_",   "trace_",           "__schedule",
      "schedule",      "preempt_schedule", "__cond_resched", "_cond_resched", "finish_task_switch", "__switch_to",
      "context_switch", "rt_mutex_schedule", "freezable_schedule"};
  for (std::string_view p : kPrefixes) {
    if (f.starts_with(p)) return true;
  }
  return false;
}

}  // namespace

bool kernel_module_path(const std::string& path) {
  static const std::set<std::string> kUserPseudo = {"[vdso]", "[vsyscall]", "[jit]",    "[unknown]",
                                                    "[heap]", "[stack]",    "[uprobes]"};
  return path.starts_with("[") && !kUserPseudo.contains(path) && !path.starts_with("[anon");
}

std::string offcpu_reason(const std::vector<const std::string*>& kernel_functions) {
  for (const std::string* f : kernel_functions) {
    if (f != nullptr && !plumbing(*f)) return *f;
  }
  return "";
}

void require_offcpu_data(const RecordingReader& reader) {
  const std::string state = reader.meta_or(meta_key::offcpu);
  if (state.empty() && !reader.has_type(sample_types::offcpu)) {
    throw Error(ExitCode::invalid_args, fmt::format("{} has no off-CPU data: it was recorded without --offcpu",
                                                    reader.path()),
                "record with 'hotline record --offcpu ...'");
  }
  if (state.starts_with("off")) {
    throw Error(ExitCode::invalid_args, fmt::format("{} has no off-CPU data: {}", reader.path(), state),
                "see 'hotline doctor' for what this host allows");
  }
}

OffCpuReport offcpu_top(const RecordingReader& reader, const OffCpuTopOptions& options) {
  require_offcpu_data(reader);
  OffCpuReport r;
  r.file = reader.path();
  r.abnormal_exits = abnormal_exits(reader.events());
  r.process = reader.meta_or(meta_key::process_name);
  r.pids = reader.meta_or(meta_key::pids);
  r.blocks = static_cast<std::uint64_t>(reader.meta_int(meta_key::offcpu_blocks));
  r.min_ns = static_cast<std::uint64_t>(reader.meta_int(meta_key::offcpu_min_ns));
  r.dropped_blocks = static_cast<std::uint64_t>(reader.meta_int(meta_key::offcpu_dropped_blocks));
  r.lost_stacks = static_cast<std::uint64_t>(reader.meta_int(meta_key::offcpu_lost_stacks));
  const TopOptions& o = options.common;
  auto ids = select_checkpoints(reader.checkpoints(), o.window, &r.window_start_ms, &r.window_end_ms);
  r.duration_ms = r.window_end_ms - r.window_start_ms;

  const StackTable stacks(reader);
  const std::set<std::int64_t> kernel = kernel_module_ids(reader);
  OffCpuLines lines(stacks, kernel, o.by);
  lines.add(reader.samples_of(sample_types::offcpu, ids), options.tid);
  lines.finish(r, o);
  return r;
}

std::set<std::int64_t> kernel_module_ids(const RecordingReader& reader) {
  // The kernel and its modules ("[kernel]", "[bpf]", "[ext4]"...), not user space's
  // pseudo-files.
  std::set<std::int64_t> ids;
  for (const auto& [id, m] : reader.modules()) {
    if (kernel_module_path(m.path)) ids.insert(id);
  }
  return ids;
}

void OffCpuLines::add(const std::vector<CpuSampleRow>& rows, std::optional<std::int64_t> tid) {
  std::set<Acc*> seen;
  std::vector<const std::string*> kernel;
  std::vector<Acc*> on_stack;
  for (const CpuSampleRow& row : rows) {
    if (tid && row.tid != *tid) continue;
    if (row.count == 0) continue;
    total_ += row.count;
    kernel.clear();
    seen.clear();
    on_stack.clear();
    bool innermost_user = true;
    stacks_->walk(row.stack, [&](std::int64_t, const FrameInfo* f) {
      if (f == nullptr) return true;
      if (kernel_->contains(f->module_id)) {
        if (innermost_user) kernel.push_back(&f->function);
        return true;
      }
      Acc& a = acc_[group_key(*f, by_)];
      a.frame = f;
      if (innermost_user) a.self += row.count;
      innermost_user = false;
      if (seen.insert(&a).second) {
        a.total += row.count;
        on_stack.push_back(&a);
      }
      return true;
    });
    const std::string reason = offcpu_reason(kernel);
    for (Acc* a : on_stack) a->reasons[reason.empty() ? "(unknown)" : reason] += row.count;
  }
}

void OffCpuLines::finish(OffCpuReport& r, const TopOptions& o) const {
  r.total_ns = total_;
  r.entries.clear();
  const std::string needle = lower_ascii(o.filter);
  const double total = static_cast<double>(std::max<std::uint64_t>(r.total_ns, 1));
  for (const auto& [key, a] : acc_) {
    const FrameInfo& f = *a.frame;
    if (!needle.empty() && lower_ascii(f.function).find(needle) == std::string::npos &&
        lower_ascii(f.file).find(needle) == std::string::npos) {
      continue;
    }
    OffCpuEntry e;
    e.self_ns = a.self;
    e.total_ns = a.total;
    e.self_pct = 100.0 * static_cast<double>(a.self) / total;
    e.total_pct = 100.0 * static_cast<double>(a.total) / total;
    if (e.self_pct < o.threshold_pct && e.total_pct < o.threshold_pct) continue;
    e.function = by_ == GroupBy::file ? "" : f.function;
    e.file = by_ == GroupBy::function ? "" : f.file;
    e.line = by_ == GroupBy::line ? f.line : 0;
    e.reasons.assign(a.reasons.begin(), a.reasons.end());
    std::stable_sort(e.reasons.begin(), e.reasons.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
    if (!e.reasons.empty()) e.reason = e.reasons.front().first;
    r.entries.push_back(std::move(e));
  }
  std::sort(r.entries.begin(), r.entries.end(), [](const OffCpuEntry& a, const OffCpuEntry& b) {
    if (a.self_ns != b.self_ns) return a.self_ns > b.self_ns;
    if (a.total_ns != b.total_ns) return a.total_ns > b.total_ns;
    if (a.function != b.function) return a.function < b.function;
    if (a.file != b.file) return a.file < b.file;
    return a.line < b.line;
  });
  if (r.entries.size() > o.top) r.entries.resize(o.top);
}

std::string render_offcpu_text(const OffCpuReport& r, GroupBy by) {
  std::string out = fmt::format("{} (pid {}) · {} · {} off-CPU in {} blocks (each at least {}) · {}\n",
                                printable(r.process), printable(r.pids),
                                format_duration(std::chrono::milliseconds(r.duration_ms)), format_ns_short(r.total_ns),
                                r.blocks, format_ns_short(r.min_ns), printable(r.file));
  out += abnormal_exits_note(r.abnormal_exits, r.file);
  if (r.dropped_blocks > 0) out += fmt::format("note: {} blocks were not counted (maps full)\n", r.dropped_blocks);
  if (r.lost_stacks > 0) out += fmt::format("note: {} blocks lost their stack\n", r.lost_stacks);
  if (r.total_ns == 0) return out + "no off-CPU time in this window\n";
  TextTable t;
  t.headers = {"SELF", "TOTAL", "SELF%", "TOTAL%", "REASON"};
  t.right_align = {true, true, true, true, false, false, false};
  add_site_headers(t.headers, by);
  for (const auto& e : r.entries) {
    std::vector<std::string> row = {format_ns_short(e.self_ns), format_ns_short(e.total_ns), fmt::format("{:.1f}%", e.self_pct),
                                    fmt::format("{:.1f}%", e.total_pct), e.reason};
    add_site_cells(row, by, e.function, e.file, e.line);
    t.rows.push_back(std::move(row));
  }
  return out + t.render();
}

std::string render_offcpu_json(const OffCpuReport& r) {
  nlohmann::ordered_json j;
  put_report_head(j, r.file, r.process, r.pids, r.duration_ms, r.window_start_ms, r.window_end_ms);
  j["abnormal_exits"] = abnormal_exits_json(r.abnormal_exits);
  j["total_offcpu_ms"] = static_cast<double>(r.total_ns) / 1e6;
  j["blocks"] = r.blocks;
  j["min_ns"] = r.min_ns;
  j["dropped_blocks"] = r.dropped_blocks;
  j["lost_stacks"] = r.lost_stacks;
  j["entries"] = nlohmann::ordered_json::array();
  for (const auto& e : r.entries) {
    nlohmann::ordered_json x;
    x["offcpu_ms"] = static_cast<double>(e.self_ns) / 1e6;
    x["total_offcpu_ms"] = static_cast<double>(e.total_ns) / 1e6;
    x["self_pct"] = e.self_pct;
    x["total_pct"] = e.total_pct;
    x["reason"] = e.reason;
    x["reasons"] = nlohmann::ordered_json::object();
    for (const auto& [reason, ns] : e.reasons) x["reasons"][reason] = static_cast<double>(ns) / 1e6;
    put_site(x, e.function, e.file, e.line);
    j["entries"].push_back(std::move(x));
  }
  return dump_json(j) + "\n";
}

std::string render_offcpu_csv(const OffCpuReport& r) {
  std::string out = "offcpu_ms,total_offcpu_ms,self_pct,total_pct,reason,function,file,line\n";
  for (const auto& e : r.entries) {
    out += fmt::format("{:.3f},{:.3f},{:.3f},{:.3f},{},{}\n", static_cast<double>(e.self_ns) / 1e6,
                       static_cast<double>(e.total_ns) / 1e6, e.self_pct, e.total_pct, csv_escape(e.reason),
                       site_csv(e.function, e.file, e.line));
  }
  return out;
}

}  // namespace hotline
