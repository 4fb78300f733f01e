#pragma once
// `hotline top offcpu`: the lines where threads waited, by blocked time. A line's self time
// is that of blocks whose innermost user frame is that line (the call that blocked); its
// total, that of blocks with the line anywhere on the user stack. Each entry names the
// kernel reason: the innermost kernel function under the scheduler that is not scheduler
// plumbing (futex_wait_queue, pipe_read, do_nanosleep, ...).
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/top.h"
#include "report/events_report.h"
#include "store/reader.h"

namespace hotline {

struct OffCpuTopOptions {
  TopOptions common;
  std::optional<std::int64_t> tid;  // --tid: one thread only
};

struct OffCpuEntry {
  std::uint64_t self_ns = 0, total_ns = 0;
  double self_pct = 0, total_pct = 0;
  std::string function, file;
  int line = 0;
  std::string reason;  // the kernel reason with the most of this entry's time
  std::vector<std::pair<std::string, std::uint64_t>> reasons;  // every reason's ns, most first
};

struct OffCpuReport {
  std::string file, process, pids;
  std::int64_t duration_ms = 0, window_start_ms = 0, window_end_ms = 0;
  std::uint64_t total_ns = 0;  // in the window (and thread)
  std::uint64_t blocks = 0;    // whole recording: blocks counted
  std::uint64_t min_ns = 0;
  std::uint64_t dropped_blocks = 0, lost_stacks = 0;
  std::vector<OffCpuEntry> entries;
  std::vector<AbnormalExit> abnormal_exits;  // whole recording: how targets died (hotline events)
};

// Whether a module path is the kernel's or a kernel module's ("[kernel]", "[bpf]", "[ext4]"),
// not user space's pseudo-files ("[vdso]", "[jit]", "[unknown]"...).
bool kernel_module_path(const std::string& path);

// The innermost frame of a kernel stack that is not scheduler or tracing plumbing, given
// the kernel functions from the innermost outwards ("" when all are plumbing).
std::string offcpu_reason(const std::vector<const std::string*>& kernel_functions);

// Throws Error(invalid_args), with the remedy, for a recording without off-CPU data
// (recorded without --offcpu, or where the collector could not run).
void require_offcpu_data(const RecordingReader& reader);

// The ids of the modules that are the kernel's (kernel_module_path).
std::set<std::int64_t> kernel_module_ids(const RecordingReader& reader);

class StackTable;

// The aggregation part of offcpu_top, fed off-CPU rows (a window's, or checkpoint by
// checkpoint: the live view keeps one for the whole recording). `kernel_modules` is read at
// each add (the live view adds to it as modules appear).
class OffCpuLines {
 public:
  OffCpuLines(const StackTable& stacks, const std::set<std::int64_t>& kernel_modules, GroupBy by)
      : stacks_(&stacks), kernel_(&kernel_modules), by_(by) {}
  void add(const std::vector<CpuSampleRow>& rows, std::optional<std::int64_t> tid = std::nullopt);
  // total_ns and the entries (filtered, ranked, cut to --top) into `report`.
  void finish(OffCpuReport& report, const TopOptions& options) const;

 private:
  struct Acc {
    std::uint64_t self = 0, total = 0;
    const FrameInfo* frame = nullptr;
    std::map<std::string, std::uint64_t> reasons;
  };
  const StackTable* stacks_;
  const std::set<std::int64_t>* kernel_;
  GroupBy by_;
  std::uint64_t total_ = 0;
  std::unordered_map<std::string, Acc> acc_;
};

// Throws Error(invalid_args) for a recording made without --offcpu.
OffCpuReport offcpu_top(const RecordingReader& reader, const OffCpuTopOptions& options);

std::string render_offcpu_text(const OffCpuReport& report, GroupBy by);
std::string render_offcpu_json(const OffCpuReport& report);
std::string render_offcpu_csv(const OffCpuReport& report);

}  // namespace hotline
