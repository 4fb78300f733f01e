#pragma once
// The plan of a recording: which CPU backend and which heap mode, decided once from what
// was asked and what this host allows, before anything is created. A pure function of its
// inputs (no /proc, no kernel): unit-tested without root.
#include <functional>
#include <string>
#include <vector>

#include "preflight/preflight.h"

namespace hotline {

enum class HeapRequest { automatic, exact, sampled, off };
// `detached` is never planned: the exact collector's overhead guard gets there at run time.
enum class HeapMode { off, exact, sampled, detached };
enum class HeapProbeScope { per_process, shared };

// The spelling of the CLI and of meta `heap_mode` / `heap_probe_scope`.
const char* to_string(HeapMode mode);
const char* to_string(HeapProbeScope scope);
const char* to_string(CpuBackend backend);
// Parses the CLI's spelling ("auto", "exact", ...); throws Error(invalid_args) otherwise.
HeapRequest parse_heap_request(const std::string& text);
HeapProbeScope parse_heap_probe_scope(const std::string& text);

struct PlanRequest {
  std::string cpu_backend = "auto";  // auto | bpf | perf
  HeapRequest heap = HeapRequest::automatic;
  HeapProbeScope heap_probes = HeapProbeScope::per_process;
  bool launch = false;       // a command hotline starts (else running processes)
  std::string executable;    // its executable (for the messages)
  bool restricted = false;   // the caller lacks CAP_SYS_PTRACE (preflight/access.h)
  // The launched command's executable links its own allocator (or is static): a preloaded
  // sampler would see nothing. Asked only when it matters (it reads the file).
  std::function<bool()> links_own_allocator;
};

struct RecordingPlan {
  BackendChoice cpu;
  HeapMode heap = HeapMode::off;
  HeapProbeScope heap_probes = HeapProbeScope::per_process;
  std::vector<std::string> notes;     // what was decided and why (said unless --quiet)
  // Heap data that will be missing (said even with --quiet; the CPU backend's own is
  // cpu.fallback_note).
  std::vector<std::string> warnings;
};

// Throws Error (with the remedy) for a request this host cannot carry out: no way to record
// CPU, `--heap=sampled` without a command, `--heap=exact` without uprobes, shared probes
// without CAP_SYS_PTRACE. Otherwise falls back down the ladder and says so in `warnings`.
RecordingPlan plan_recording(const HostFacts& facts, const PlanRequest& request);

}  // namespace hotline
