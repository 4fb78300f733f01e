#pragma once
// A recording session: picks the targets, loads the collectors, and at every checkpoint
// drains them, symbolizes new addresses and commits one transaction to the recording.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "record/plan.h"
#include "unwind/unwind_maps.h"

namespace hotline {

struct RecordOptions {
  std::vector<pid_t> pids;           // --pid / --process
  std::vector<std::string> command;  // -- CMD ARGS...
  int cpu_freq_hz = 99;
  std::chrono::milliseconds interval{1000};
  std::optional<std::chrono::milliseconds> duration;
  std::string output;      // -o FILE; "" = default name
  std::string output_dir;  // HOTLINE_OUTPUT_DIR; "" = current directory
  double map_scale = 1.0;
  std::string cpu_backend = "auto";  // auto | bpf | perf
  HeapRequest heap = HeapRequest::automatic;
  std::uint64_t heap_sample_bytes = std::uint64_t{512} * 1024;  // sampled mode: mean bytes between samples
  double max_overhead_pct = 5.0;     // heap exact mode: detach above this projected slowdown
  HeapProbeScope heap_probes = HeapProbeScope::per_process;  // heap exact mode
  bool force = false;
  bool quiet = false;
  bool live_view = false;  // the terminal UI while recording (stdout and stdin are a terminal)
  bool verbose = false;
  bool require_debuginfo = false;
  UnwindMode unwind = UnwindMode::automatic;  // --unwind (the perf_event fallback: frame pointers)
  bool offcpu = false;                     // --offcpu: where threads wait (the BPF backend)
  std::uint64_t offcpu_min_ns = 1000;      // --offcpu-min
};

// Runs the recording to its end; returns the process exit code (the command's status for
// a launched command that ended by itself). Throws Error.
int run_record(const RecordOptions& options);

// hotline.{comm}.{YYMMDDhhmmss}.db
std::string default_output_name(const std::string& comm, std::chrono::system_clock::time_point when);

}  // namespace hotline
