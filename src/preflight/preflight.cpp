#include "preflight/preflight.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "preflight/access.h"
#include "target/proc.h"
#include "util/error.h"
#include "util/fd.h"
#include "util/files.h"

namespace hotline {
namespace {

constexpr const char* kSetcap = "setcap cap_perfmon,cap_bpf,cap_sys_ptrace+ep $(command -v hotline)";
constexpr std::uint64_t kInitialPidNamespaceInode = 0xEFFFFFFCu;  // PROC_PID_INIT_INO

std::optional<int> read_int(const std::string& path) {
  auto text = read_text_file(path, 256);
  if (!text) return std::nullopt;
  try {
    return std::stoi(*text);
  } catch (...) {
    return std::nullopt;
  }
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

bool perf_cpu_clock_available() {
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  attr.disabled = 1;
  attr.exclude_kernel = 1;  // what an unprivileged caller may open on itself
  UniqueFd fd(static_cast<int>(::syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC)));
  return static_cast<bool>(fd);
}

std::string yes_no(bool v) { return v ? "yes" : "no"; }

bool kernel_has_uprobe_multi() {
  // Test hook (can only make hotline stricter): behave as on a kernel before 6.6.
  if (const char* hook = std::getenv("HOTLINE_TEST_NO_UPROBE_MULTI"); hook != nullptr && *hook == '1') return false;
  btf* vmlinux = btf__load_vmlinux_btf();
  if (vmlinux == nullptr) return false;
  const bool found = btf__find_by_name_kind(vmlinux, "bpf_uprobe_multi_link_attach", BTF_KIND_FUNC) >= 0;
  btf__free(vmlinux);
  return found;
}

// Asks the kernel without placing any probe: a uprobe perf event on "/" is refused for the
// capability first (EACCES, EPERM) and only then for not being a regular file (EINVAL).
bool perf_uprobes_allowed() {
  auto type = read_int("/sys/bus/event_source/devices/uprobe/type");
  if (!type) return false;
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = static_cast<std::uint32_t>(*type);
  static const char root[] = "/";
  attr.config1 = reinterpret_cast<std::uintptr_t>(root);  // uprobe_path
  attr.config2 = 0;                                       // probe_offset
  UniqueFd fd(static_cast<int>(::syscall(SYS_perf_event_open, &attr, ::getpid(), -1, -1, PERF_FLAG_FD_CLOEXEC)));
  if (fd) return true;
  return errno != EACCES && errno != EPERM;
}

}  // namespace

const char* to_string(CheckStatus status) {
  switch (status) {
    case CheckStatus::ok: return "ok";
    case CheckStatus::degraded: return "degraded";
    case CheckStatus::missing: return "missing";
  }
  return "?";
}

std::string btf_path() {
  const char* override_path = std::getenv("HOTLINE_TEST_BTF_PATH");
  return override_path != nullptr && *override_path != '\0' ? override_path : "/sys/kernel/btf/vmlinux";
}

HostFacts gather_host_facts() {
  HostFacts f;
  utsname u{};
  if (::uname(&u) == 0) {
    f.kernel_release = u.release;
    f.machine = u.machine;
  }
  f.root = ::geteuid() == 0;
  if (auto caps = read_status_field(0, "CapEff")) f.effective_caps = std::strtoull(caps->c_str(), nullptr, 16);
  f.perf_event_paranoid = read_int("/proc/sys/kernel/perf_event_paranoid");
  f.unprivileged_bpf_disabled = read_int("/proc/sys/kernel/unprivileged_bpf_disabled");
  f.kptr_restrict = read_int("/proc/sys/kernel/kptr_restrict");
  f.yama_ptrace_scope = read_int("/proc/sys/kernel/yama/ptrace_scope");
  if (auto text = read_text_file("/sys/kernel/security/lockdown", 256)) {
    auto open = text->find('['), close = text->find(']');
    if (open != std::string::npos && close > open) f.lockdown = text->substr(open + 1, close - open - 1);
  }
  rlimit lim{};
  if (::getrlimit(RLIMIT_MEMLOCK, &lim) == 0) f.memlock_bytes = lim.rlim_cur;
  f.btf_path = btf_path();
  f.btf = exists(f.btf_path);
  f.perf_software_events = perf_cpu_clock_available();
  f.uprobes = exists("/sys/bus/event_source/devices/uprobe");
  f.uprobe_multi = kernel_has_uprobe_multi();
  // The in-kernel unwinder iterates with bpf_loop (Linux 5.17+); probing needs CAP_BPF.
  if (f.can_load_bpf()) f.bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_loop, nullptr) == 1;
  f.perf_uprobes_allowed = f.uprobes && perf_uprobes_allowed();
  f.kprobes = exists("/sys/bus/event_source/devices/kprobe");
  f.in_container = exists("/.dockerenv") || exists("/run/.containerenv");
  if (auto cgroup = read_text_file("/proc/1/cgroup", 1 << 16)) {
    for (const char* marker : {"docker", "kubepods", "containerd", "lxc", "libpod"}) {
      f.in_container |= cgroup->find(marker) != std::string::npos;
    }
  }
  struct stat ns {};
  if (::stat("/proc/self/ns/pid", &ns) == 0) f.in_initial_pid_namespace = ns.st_ino == kInitialPidNamespaceInode;
  return f;
}

std::vector<Check> evaluate(const HostFacts& f) {
  std::vector<Check> out;
  auto add = [&](std::string name, CheckStatus s, std::string value, std::string enables, std::string remedy) {
    out.push_back({std::move(name), s, std::move(value), std::move(enables), s == CheckStatus::ok ? "" : std::move(remedy)});
  };
  const bool admin = f.has(Capability::sys_admin);
  add("BTF", f.btf ? CheckStatus::ok : CheckStatus::missing, f.btf ? f.btf_path : "absent: " + f.btf_path,
      "loading hotline's BPF programs (CO-RE relocation)",
      "use a kernel built with CONFIG_DEBUG_INFO_BTF=y; hotline never loads BPF it cannot relocate");
  add("CAP_BPF", f.has(Capability::bpf) || admin ? CheckStatus::ok : CheckStatus::missing,
      f.root ? "yes (root)" : yes_no(f.has(Capability::bpf)), "loading BPF programs and maps",
      fmt::format("run as root or grant it: {}", kSetcap));
  add("CAP_PERFMON", f.has(Capability::perfmon) || admin ? CheckStatus::ok : CheckStatus::missing,
      f.root ? "yes (root)" : yes_no(f.has(Capability::perfmon)),
      "system-wide perf events, BPF tracing programs, stack walks",
      fmt::format("run as root or grant it: {}", kSetcap));
  add("CAP_SYS_PTRACE", f.has(Capability::sys_ptrace) ? CheckStatus::ok : CheckStatus::degraded,
      f.root ? "yes (root)" : yes_no(f.has(Capability::sys_ptrace)), "profiling other users' processes",
      fmt::format("without it only your own processes can be profiled; grant it: {}", kSetcap));
  add("CAP_SYS_ADMIN", admin ? CheckStatus::ok : CheckStatus::degraded, yes_no(admin),
      "reading /proc/PID/map_files (exact mapped files of other processes)",
      "not needed: files are then read by path");
  if (f.perf_event_paranoid) {
    int p = *f.perf_event_paranoid;
    bool ok = p <= 2 || f.has(Capability::perfmon) || admin;
    add("perf_event_paranoid", ok ? CheckStatus::ok : CheckStatus::missing, std::to_string(p),
        "perf events for callers without CAP_PERFMON (own processes, at 2 or below)",
        "sudo sysctl kernel.perf_event_paranoid=2 (or grant CAP_PERFMON)");
  }
  if (f.unprivileged_bpf_disabled) {
    add("unprivileged_bpf_disabled", CheckStatus::ok, std::to_string(*f.unprivileged_bpf_disabled),
        "nothing: hotline's programs need CAP_BPF anyway", "");
  }
  if (f.kptr_restrict) {
    // The kernel shows kallsyms addresses to CAP_SYSLOG at kptr_restrict <= 1, and to anyone
    // at 0 when perf_event_paranoid <= 1.
    const int k = *f.kptr_restrict;
    bool visible = (k <= 1 && f.has(Capability::syslog)) ||
                   (k == 0 && f.perf_event_paranoid && *f.perf_event_paranoid <= 1);
    add("kptr_restrict", visible ? CheckStatus::ok : CheckStatus::degraded,
        fmt::format("{}{}", k, visible ? "" : " (kernel addresses hidden from this user)"),
        "naming kernel frames from /proc/kallsyms",
        "kernel frames show as [kernel]: run as root, or grant cap_syslog with the others");
  }
  add("yama_ptrace_scope",
      !f.yama_ptrace_scope || *f.yama_ptrace_scope <= 1 || f.has(Capability::sys_ptrace) ? CheckStatus::ok
                                                                                          : CheckStatus::degraded,
      f.yama_ptrace_scope ? std::to_string(*f.yama_ptrace_scope) : "absent (no Yama)",
      "attaching to processes hotline did not start",
      "at 2 only CAP_SYS_PTRACE may attach (grant it), at 3 no one may");
  add("lockdown", !f.lockdown || *f.lockdown != "confidentiality" ? CheckStatus::ok : CheckStatus::missing,
      f.lockdown.value_or("absent"), "BPF programs that read kernel memory (stack walks)",
      "lockdown=confidentiality forbids them: boot without it");
  add("memlock", CheckStatus::ok,
      f.memlock_bytes == static_cast<std::uint64_t>(RLIM_INFINITY) ? "unlimited" : fmt::format("{} KiB", f.memlock_bytes / 1024),
      "BPF map memory (kernels before 5.11 charge it to RLIMIT_MEMLOCK)", "");
  add("perf software events", f.perf_software_events ? CheckStatus::ok : CheckStatus::missing,
      yes_no(f.perf_software_events), "CPU sampling (cpu-clock)", "check perf_event_paranoid and CAP_PERFMON");
  const auto heap = heap_exact_unavailable(f, can_use_bpf_sampler(f) ? CpuBackend::bpf : CpuBackend::perf);
  add("uprobes (heap exact mode)", heap ? CheckStatus::degraded : CheckStatus::ok,
      heap ? "unavailable: " + *heap
           : f.uprobe_multi ? "uprobe_multi links" : "perf_event uprobes",
      "heap profiles of running processes (--heap=exact, the default for --pid)",
      !f.uprobes ? "use a kernel with CONFIG_UPROBE_EVENTS=y"
                 : !can_use_bpf_sampler(f) ? fmt::format("grant CAP_BPF and CAP_PERFMON: {}", kSetcap)
                                           : "grant CAP_SYS_ADMIN for uprobes (setcap cap_perfmon,cap_bpf,cap_sys_admin+ep "
                                             "$(command -v hotline)), or use a kernel with uprobe_multi links (6.6+); "
                                             "launched commands keep heap sampled mode either way");
  add("kprobes", CheckStatus::ok, yes_no(f.kprobes), "nothing: hotline does not use kprobes", "");
  add("container", f.in_initial_pid_namespace ? CheckStatus::ok : CheckStatus::degraded,
      fmt::format("{}{}", f.in_container ? "inside a container" : "host",
                  f.in_initial_pid_namespace ? ", host PID namespace" : ", own PID namespace"),
      "seeing and naming every process by its host pid",
      "run hotline on the host (or with the host PID namespace) to profile processes of other containers");
  // The outcome of all the above for CPU recording.
  std::string sampler_value, sampler_remedy;
  CheckStatus sampler_status = CheckStatus::ok;
  try {
    BackendChoice choice = choose_cpu_backend(f, "auto");
    if (choice.backend == CpuBackend::bpf) {
      sampler_value = "BPF sampler";
    } else {
      sampler_status = CheckStatus::degraded;
      sampler_value = choice.kernel_frames ? "perf_event callchains (fallback)"
                                           : "perf_event callchains (fallback), user mode only";
      sampler_remedy = choice.fallback_note;
    }
  } catch (const Error& e) {
    sampler_status = CheckStatus::missing;
    sampler_value = "none";
    sampler_remedy = fmt::format("{}: {}", e.what(), e.remedy());
  }
  add("CPU sampler", sampler_status, sampler_value, "CPU profiles (hotline record)", sampler_remedy);
  return out;
}

bool can_use_bpf_sampler(const HostFacts& f) {
  return f.btf && f.can_load_bpf() && f.perf_software_events && f.in_initial_pid_namespace &&
         (!f.lockdown || *f.lockdown != "confidentiality");
}

bool can_use_perf_sampler(const HostFacts& f) {
  const bool perfmon = f.has(Capability::perfmon) || f.has(Capability::sys_admin);
  // Debian and Android kernels read 3 as "no perf events without CAP_PERFMON".
  const bool paranoid_allows = !f.perf_event_paranoid || *f.perf_event_paranoid <= 2;
  return f.perf_software_events && (perfmon || paranoid_allows);
}

bool can_record_cpu(const HostFacts& f) {
  try {
    choose_cpu_backend(f, "auto");
    return true;
  } catch (const Error&) {
    return false;
  }
}

namespace {

std::string missing_bpf_caps(const HostFacts& f) {
  std::string missing;
  if (!f.has(Capability::bpf)) missing += "CAP_BPF";
  if (!f.has(Capability::perfmon)) missing += std::string(missing.empty() ? "" : " and ") + "CAP_PERFMON";
  return missing;
}

[[noreturn]] void refuse_bpf(const HostFacts& f) {
  if (!f.btf) {
    throw Error(ExitCode::permission,
                fmt::format("no kernel BTF at {}: hotline will not load BPF programs it cannot relocate to this kernel",
                            f.btf_path),
                "use a kernel built with CONFIG_DEBUG_INFO_BTF=y, or record without BPF: --cpu-backend=perf; "
                "run 'hotline doctor' for every check");
  }
  if (f.lockdown && *f.lockdown == "confidentiality") {
    throw Error(ExitCode::permission, "kernel lockdown (confidentiality) forbids BPF tracing programs",
                "boot without lockdown=confidentiality, or record without BPF: --cpu-backend=perf");
  }
  if (!f.in_initial_pid_namespace) {
    throw Error(ExitCode::permission,
                "hotline runs in its own PID namespace: the BPF sampler reports host pids, which are not visible here",
                "run hotline in the host PID namespace (docker run --pid=host), or use --cpu-backend=perf");
  }
  if (!f.perf_software_events) {
    throw Error(ExitCode::permission, "cpu-clock perf events cannot be opened here",
                "check kernel.perf_event_paranoid and CAP_PERFMON: run 'hotline doctor'");
  }
  throw Error(ExitCode::permission, fmt::format("the BPF sampler needs {} (or root)", missing_bpf_caps(f)),
              fmt::format("run as root, or grant the capabilities: {}", kSetcap));
}

[[noreturn]] void refuse_perf(const HostFacts& f) {
  const std::string paranoid = f.perf_event_paranoid ? std::to_string(*f.perf_event_paranoid) : "unknown";
  if (f.can_load_bpf() || f.root) {
    throw Error(ExitCode::permission, "cpu-clock perf events cannot be opened here",
                "run 'hotline doctor' for every check");
  }
  throw Error(ExitCode::permission,
              fmt::format("recording needs {} (or root) for the BPF sampler, or perf events for the fallback, which "
                          "kernel.perf_event_paranoid={} forbids without CAP_PERFMON",
                          missing_bpf_caps(f), paranoid),
              fmt::format("grant the capabilities: {}; or allow perf events on your own processes: "
                          "sudo sysctl kernel.perf_event_paranoid=2",
                          kSetcap));
}

}  // namespace

BackendChoice choose_cpu_backend(const HostFacts& f, const std::string& requested) {
  const bool perfmon = f.has(Capability::perfmon) || f.has(Capability::sys_admin);
  BackendChoice perf;
  perf.backend = CpuBackend::perf;
  perf.kernel_frames = perfmon || (f.perf_event_paranoid && *f.perf_event_paranoid <= 1);
  const std::string kernel_loss = perf.kernel_frames ? "" : ", time spent in the kernel is not sampled";
  if (requested == "bpf") {
    if (!can_use_bpf_sampler(f)) refuse_bpf(f);
    return {};
  }
  if (requested == "perf") {
    if (!can_use_perf_sampler(f)) refuse_perf(f);
    perf.fallback_note = fmt::format("CPU sampling through perf_event callchains, without BPF (--cpu-backend=perf){}",
                                     kernel_loss);
    return perf;
  }
  if (can_use_bpf_sampler(f)) return {};
  // Refusals that a fallback must not paper over: a missing BTF is a broken or unusual
  // kernel the user should know about (they may still choose --cpu-backend=perf).
  if (!f.btf) refuse_bpf(f);
  if (!can_use_perf_sampler(f)) {
    if (f.can_load_bpf()) refuse_bpf(f);
    refuse_perf(f);
  }
  std::string why;
  if (!f.in_initial_pid_namespace) {
    why = "hotline runs in its own PID namespace, where the BPF sampler's host pids are not visible";
  } else if (f.lockdown && *f.lockdown == "confidentiality") {
    why = "kernel lockdown (confidentiality) forbids BPF tracing programs";
  } else {
    why = fmt::format("without {}", missing_bpf_caps(f));
  }
  const bool any_process = f.root || f.has(Capability::sys_ptrace);
  perf.fallback_note = fmt::format(
      "{}: CPU sampling falls back to perf_event callchains{}, without BPF{}; heap profiling of running processes "
      "is unavailable. For the BPF sampler: {}",
      why, any_process ? "" : " of your own processes", kernel_loss,
      f.in_initial_pid_namespace ? "run as root, or " + std::string(kSetcap)
                                 : std::string("run hotline in the host PID namespace"));
  return perf;
}

void require_recording_possible(const HostFacts& f) { choose_cpu_backend(f, "auto"); }

std::optional<std::string> heap_exact_unavailable(const HostFacts& f, CpuBackend backend) {
  if (!f.uprobes) return "this kernel has no uprobes (CONFIG_UPROBE_EVENTS)";
  if (backend != CpuBackend::bpf) return "it needs the BPF sampler (CAP_BPF and CAP_PERFMON)";
  if (!f.uprobe_multi && !f.perf_uprobes_allowed) {
    return "uprobes need CAP_SYS_ADMIN on this kernel, which has no uprobe_multi links (Linux 6.6+, enough with "
           "CAP_BPF and CAP_PERFMON)";
  }
  return std::nullopt;
}

void require_may_profile(const HostFacts& f, pid_t pid) {
  const Caller caller = current_caller(f);
  if (auto why = profiling_refusal(caller, pid)) {
    throw Error(ExitCode::permission,
                fmt::format("process {} {}; without CAP_SYS_PTRACE hotline profiles only processes you could debug "
                            "(your own, dumpable, not elevated)",
                            pid, *why),
                fmt::format("run as root, or grant the capability: {}", kSetcap));
  }
  if (!caller.unrestricted && f.yama_ptrace_scope && *f.yama_ptrace_scope >= 2) {
    throw Error(ExitCode::permission,
                fmt::format("Yama ptrace_scope is {}: attaching to processes needs CAP_SYS_PTRACE", *f.yama_ptrace_scope),
                fmt::format("grant the capability: {}", kSetcap));
  }
}

void require_may_launch(const HostFacts& f, const std::string& path) {
  if (auto why = launch_refusal(current_caller(f), path)) {
    throw Error(ExitCode::permission,
                fmt::format("{} {}; without CAP_SYS_PTRACE hotline profiles only processes you could debug, and the "
                            "kernel gives no one else the running program",
                            path, *why),
                fmt::format("run as root, or grant the capability: {}", kSetcap));
  }
}

}  // namespace hotline
