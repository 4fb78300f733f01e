#pragma once
// What this host and this caller allow, checked before anything touches a target or the
// kernel: capabilities, kernel settings, BTF, kernel features. `hotline doctor` prints all
// of it; `record` refuses early, with the remedy, when something it needs is missing.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hotline {

enum class CheckStatus { ok, degraded, missing };

struct Check {
  std::string name;      // "CAP_BPF", "perf_event_paranoid", ...
  CheckStatus status = CheckStatus::ok;
  std::string value;     // what was found
  std::string enables;   // what hotline does with it
  std::string remedy;    // how to get it, when not ok
};

// Linux capability numbers (linux/capability.h).
enum class Capability : int { sys_ptrace = 19, sys_admin = 21, syslog = 34, perfmon = 38, bpf = 39 };

struct HostFacts {
  std::string kernel_release;
  std::string machine;
  bool root = false;  // effective uid 0
  std::uint64_t effective_caps = 0;
  std::optional<int> perf_event_paranoid;
  std::optional<int> unprivileged_bpf_disabled;
  std::optional<int> kptr_restrict;
  std::optional<int> yama_ptrace_scope;  // absent without Yama
  std::optional<std::string> lockdown;   // "none", "integrity", "confidentiality"
  std::uint64_t memlock_bytes = 0;       // RLIMIT_MEMLOCK soft limit (~0 = unlimited)
  bool btf = false;
  std::string btf_path;
  bool perf_software_events = false;  // a cpu-clock perf event could be opened
  bool uprobes = false;
  bool uprobe_multi = false;         // BPF uprobe_multi links (Linux 6.6+): CAP_BPF and CAP_PERFMON suffice
  bool perf_uprobes_allowed = false;  // this caller may open uprobe perf events (CAP_SYS_ADMIN on 6.16+)
  bool kprobes = false;
  bool bpf_loop = false;  // the in-kernel unwinder's loop helper (probed when BPF can be loaded)
  bool in_container = false;
  bool in_initial_pid_namespace = true;

  bool has(Capability c) const { return (effective_caps >> static_cast<int>(c)) & 1; }
  // Loading BPF tracing programs: CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN.
  bool can_load_bpf() const { return (has(Capability::bpf) && has(Capability::perfmon)) || has(Capability::sys_admin); }
};

// Where the BTF check looks: /sys/kernel/btf/vmlinux, or HOTLINE_TEST_BTF_PATH (a test hook
// that can only make hotline stricter: libbpf still relocates against the real BTF).
std::string btf_path();

HostFacts gather_host_facts();
std::vector<Check> evaluate(const HostFacts& facts);
// CPU recording is possible (doctor's exit status).
bool can_record_cpu(const HostFacts& facts);

// How CPU samples are taken.
enum class CpuBackend {
  bpf,   // the BPF sampler: every CPU, in-kernel filtering and counting, kernel frames
  perf,  // perf_event callchains per target thread, counted in user space (no BPF)
};

struct BackendChoice {
  CpuBackend backend = CpuBackend::bpf;
  bool kernel_frames = true;  // perf: kernel mode is sampled and unwound
  std::string fallback_note;  // why the fallback, what is lost, how to get it back ("" for bpf)
};

// The BPF sampler is usable: BTF, CAP_BPF+CAP_PERFMON (or CAP_SYS_ADMIN), no lockdown
// forbidding it, and hotline sees host pids (initial PID namespace), as BPF reports them.
bool can_use_bpf_sampler(const HostFacts& facts);
// Perf events on the caller's own processes: perf_event_paranoid <= 2 or CAP_PERFMON.
bool can_use_perf_sampler(const HostFacts& facts);

// `requested` is "auto", "bpf" or "perf". Throws Error(permission) with the remedy when
// that way of recording is impossible here; "auto" takes the BPF sampler when it can, else
// the perf fallback, except without BTF (refused: the remedy names --cpu-backend=perf).
BackendChoice choose_cpu_backend(const HostFacts& facts, const std::string& requested);

// Why heap exact mode (uprobes on the allocator) cannot work here with `backend`, naming
// what is missing; nullopt when it can.
std::optional<std::string> heap_exact_unavailable(const HostFacts& facts, CpuBackend backend);

// Throws Error(permission) with the remedy when `record` cannot work at all here.
void require_recording_possible(const HostFacts& facts);

// Throws Error(permission) when the caller may not profile `pid`: without CAP_SYS_PTRACE
// only processes it could ptrace (preflight/access.h), and none at Yama ptrace_scope >= 2.
void require_may_profile(const HostFacts& facts, pid_t pid);
// The same for a command about to be launched: refused when executing it would give it
// privileges the caller lacks (setuid, setgid, file capabilities).
void require_may_launch(const HostFacts& facts, const std::string& path);

const char* to_string(CheckStatus status);

}  // namespace hotline
