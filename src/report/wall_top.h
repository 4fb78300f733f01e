#pragma once
// `hotline top wall`: where each thread's wall-clock time went, per line: its time on the
// CPU (samples x period) plus its time blocked off it (the off-CPU collector). A line's self
// time is that of stacks whose innermost user frame is that line (kernel time counts for
// the call that entered the kernel); its total, that of stacks passing through it. By
// thread (`--by thread`): each thread's running time and blocked time by kernel reason.
// Time a thread spent runnable but waiting for a CPU is in neither (docs/limitations.md).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "report/top.h"
#include "report/events_report.h"
#include "store/reader.h"

namespace hotline {

struct WallTopOptions {
  TopOptions common;
  std::optional<std::int64_t> tid;  // --tid: one thread only
  bool by_thread = false;           // --by thread
};

struct WallEntry {
  std::uint64_t cpu_ns = 0, offcpu_ns = 0;  // self
  std::uint64_t total_ns = 0;               // wall, total
  double self_pct = 0, total_pct = 0;       // of all threads' wall time
  std::string function, file;
  int line = 0;
  std::uint64_t wall_ns() const { return cpu_ns + offcpu_ns; }
};

struct WallThread {
  std::int64_t tid = 0, pid = 0;
  std::string comm;
  std::uint64_t cpu_ns = 0, offcpu_ns = 0;
  std::vector<std::pair<std::string, std::uint64_t>> reasons;  // blocked ns per kernel reason, most first
  std::uint64_t wall_ns() const { return cpu_ns + offcpu_ns; }
};

struct WallReport {
  std::string file, process, pids;
  std::int64_t duration_ms = 0, window_start_ms = 0, window_end_ms = 0;
  std::uint64_t cpu_ns = 0, offcpu_ns = 0;  // in the window (and thread)
  int frequency_hz = 0;
  std::uint64_t min_ns = 0;  // off-CPU blocks shorter than this are not counted
  std::uint64_t dropped_blocks = 0;
  bool by_thread = false;
  std::vector<WallEntry> entries;    // by line, function or file
  std::vector<WallThread> threads;   // --by thread: most wall time first
  std::vector<AbnormalExit> abnormal_exits;  // whole recording: how targets died (hotline events)
};

// Throws Error(invalid_args) for a recording made without --offcpu.
WallReport wall_top(const RecordingReader& reader, const WallTopOptions& options);

std::string render_wall_text(const WallReport& report, GroupBy by);
std::string render_wall_json(const WallReport& report);
std::string render_wall_csv(const WallReport& report);

}  // namespace hotline
