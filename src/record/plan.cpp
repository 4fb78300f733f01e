#include "record/plan.h"

#include <fmt/format.h>

#include "preflight/access.h"
#include "util/error.h"

namespace hotline {

const char* to_string(HeapMode mode) {
  switch (mode) {
    case HeapMode::exact: return "exact";
    case HeapMode::sampled: return "sampled";
    case HeapMode::detached: return "detached";
    case HeapMode::off: break;
  }
  return "off";
}

const char* to_string(HeapProbeScope scope) { return scope == HeapProbeScope::shared ? "shared" : "per-process"; }

const char* to_string(CpuBackend backend) { return backend == CpuBackend::bpf ? "bpf" : "perf"; }

HeapRequest parse_heap_request(const std::string& text) {
  if (text == "auto") return HeapRequest::automatic;
  if (text == "exact") return HeapRequest::exact;
  if (text == "sampled") return HeapRequest::sampled;
  if (text == "off") return HeapRequest::off;
  throw Error(ExitCode::invalid_args, fmt::format("unknown heap mode '{}'", text), "use auto, exact, sampled or off");
}

HeapProbeScope parse_heap_probe_scope(const std::string& text) {
  if (text == "per-process") return HeapProbeScope::per_process;
  if (text == "shared") return HeapProbeScope::shared;
  throw Error(ExitCode::invalid_args, fmt::format("unknown heap probe scope '{}'", text), "use per-process or shared");
}

RecordingPlan plan_recording(const HostFacts& facts, const PlanRequest& request) {
  RecordingPlan plan;
  plan.cpu = choose_cpu_backend(facts, request.cpu_backend);
  plan.heap_probes = request.heap_probes;

  // Sampled needs a command to preload into; exact needs BPF and uprobes.
  HeapMode heap = HeapMode::off;
  switch (request.heap) {
    case HeapRequest::automatic: heap = request.launch ? HeapMode::sampled : HeapMode::exact; break;
    case HeapRequest::exact: heap = HeapMode::exact; break;
    case HeapRequest::sampled: heap = HeapMode::sampled; break;
    case HeapRequest::off: heap = HeapMode::off; break;
  }
  if (heap == HeapMode::sampled && !request.launch) {
    throw Error(ExitCode::invalid_args,
                "--heap=sampled works on a command hotline launches (it preloads a sampling library into it)",
                "for a running process use --heap=exact, or launch it with: hotline record -- CMD ARGS");
  }
  if (heap == HeapMode::sampled && request.heap == HeapRequest::automatic && request.links_own_allocator &&
      request.links_own_allocator()) {
    // Its calls to malloc never reach a preloaded library: only uprobes can see them.
    plan.notes.push_back(fmt::format("heap: {} has its own allocator linked in (or is static), which a preloaded "
                                     "sampler cannot see: heap in exact mode (uprobes)",
                                     request.executable));
    heap = HeapMode::exact;
  }
  if (heap == HeapMode::exact) {
    if (auto why = heap_exact_unavailable(facts, plan.cpu.backend)) {
      if (request.heap == HeapRequest::exact) {
        throw Error(ExitCode::permission, fmt::format("heap exact mode is unavailable: {}", *why),
                    "run as root or grant the capabilities (hotline doctor names them), or record CPU only with "
                    "--heap=off");
      }
      // The ladder covers the heap too: CPU profiling goes on, the loss is said.
      plan.warnings.push_back(
          fmt::format("no heap profile: heap exact mode is unavailable: {}; recording CPU only", *why));
      heap = HeapMode::off;
    }
  }
  // Shared probes make every other process trap: only when asked for, and only for a caller
  // that may touch other users' processes at all.
  if (heap == HeapMode::exact && request.heap_probes == HeapProbeScope::shared && request.restricted) {
    throw Error(ExitCode::permission, "--heap-probes shared places probes in every process mapping a probed file",
                fmt::format("that needs CAP_SYS_PTRACE ({}); without it use the default, --heap-probes per-process",
                            setcap_remedy()));
  }
  plan.heap = heap;
  return plan;
}

}  // namespace hotline
