#include "record/recorder.h"

#include <array>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "collect/cpu_collector.h"
#include "collect/perf_collector.h"
#include "collect/heap_collector.h"
#include "collect/heap_sampler.h"
#include "collect/map_memory.h"
#include "hotline_abi.h"
#include "preflight/access.h"
#include "preflight/preflight.h"
#include "preflight/sensitive.h"
#include "store/writer.h"
#include "symbolize/elf_functions.h"
#include "symbolize/symbolizer.h"
#include "target/launch.h"
#include "target/proc.h"
#include "tui/tui.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/files.h"
#include "util/log.h"

#ifndef HOTLINE_VERSION
#define HOTLINE_VERSION "0.0.0"
#endif

namespace hotline {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

std::atomic<int> g_stop_signal{0};
constexpr int kStopFromView = -1;  // q in the live view
std::atomic<pid_t> g_launched_pid{0};

void on_stop_signal(int sig) { g_stop_signal.store(sig); }
// SIGQUIT aborts at once (committed checkpoints stay). A command hotline launched goes too:
// an aborted experiment must not leave it running.
void on_quit_signal(int) {
  if (pid_t pid = g_launched_pid.load(); pid > 0) ::kill(pid, SIGKILL);
  ::_exit(128 + SIGQUIT);
}

class SignalGuard {
 public:
  SignalGuard() {
    g_stop_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: waits return early with EINTR
    ::sigaction(SIGINT, &sa, &old_int_);
    ::sigaction(SIGTERM, &sa, &old_term_);
    sa.sa_handler = on_quit_signal;
    ::sigaction(SIGQUIT, &sa, &old_quit_);
  }
  ~SignalGuard() {
    g_launched_pid.store(0);
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGQUIT, &old_quit_, nullptr);
  }

 private:
  struct sigaction old_int_ {}, old_term_ {}, old_quit_ {};
};

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm {};
  gmtime_r(&secs, &tm);
  char buf[32] = "1970-01-01T00:00:00";
  if (std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm) == 0) buf[0] = '\0';
  return fmt::format("{}.{:03}Z", buf, ms % 1000);
}

// Creates the output file: the explicit path, or a default name in the output directory
// (adding -1, -2, ... if two recordings start in the same second).
std::string create_output(const RecordOptions& options, const std::string& comm,
                          std::chrono::system_clock::time_point wall) {
  if (!options.output.empty()) {
    create_private_file(options.output, options.force);
    return options.output;
  }
  std::string dir = options.output_dir.empty() ? "." : options.output_dir;
  std::string base = default_output_name(comm, wall);
  base.resize(base.size() - 3);  // drop ".db"
  for (int n = 0; n < 100; ++n) {
    std::string path = dir + "/" + base + (n == 0 ? "" : fmt::format("-{}", n)) + ".db";
    try {
      create_private_file(path, false);
      return path;
    } catch (const Error& e) {
      if (::access(path.c_str(), F_OK) != 0) throw;  // failed for another reason than "exists"
    }
  }
  throw Error(ExitCode::general, fmt::format("too many recordings named {}*.db in {}", base, dir),
              "choose a name with -o");
}

// A target in another PID namespace (a container) is profiled by its host pid; say how the
// two relate, since the container's own tools show the other number.
void warn_if_other_pid_namespace(pid_t pid) {
  struct stat mine {}, theirs {};
  if (::stat("/proc/self/ns/pid", &mine) != 0 || ::stat(fmt::format("/proc/{}/ns/pid", pid).c_str(), &theirs) != 0 ||
      mine.st_ino == theirs.st_ino) {
    return;
  }
  const pid_t inner = read_namespace_pid(pid).value_or(pid);
  warn(fmt::format("process {} runs in another PID namespace (a container?) where it is pid {}: the recording names "
                   "it and its children by host pid; files are read through /proc/{}/root",
                   pid, inner, pid));
}

// A static executable, or one defining malloc (a statically linked jemalloc, tcmalloc,
// mimalloc...), allocates without going through a preloaded library.
bool links_own_allocator(const std::string& exe) {
  return !find_functions(exe, {"malloc", "je_malloc", "_rjem_malloc", "mi_malloc", "tc_malloc"}).empty();
}

struct PendingProcess {
  pid_t pid;
  std::optional<pid_t> parent;
  std::string comm;
  std::string exe;
  std::int64_t ms;
};

class Session {
 public:
  Session(const RecordOptions& options) : options_(options) {}
  // run(), and a recording that failed before its first checkpoint was committed is
  // removed: it would hold nothing but its settings.
  int run_keeping_what_counts();
  int run();

 private:
  std::int64_t now_ms() const { return duration_cast<milliseconds>(Clock::now() - start_).count(); }
  void track(pid_t pid, std::optional<pid_t> parent, const std::string& comm);
  void on_event(const ProcEvent& event);
  void checkpoint();
  std::int64_t stack_for(const CpuSample& sample);
  std::int64_t push_address(std::int64_t parent, const ResolvedAddress& resolved);
  std::int64_t push_synthetic(std::int64_t parent, const std::string& name);
  void write_stats();
  // The BPF side and the probe-cost calibration, before any target runs; false (heap off,
  // announced) when its maps do not fit the memory left.
  bool load_heap(const CpuCollector& cpu);
  void start_heap(pid_t pid, const std::vector<std::string>& files = {});
  void follow_heap(pid_t pid);
  void forget(pid_t pid);
  void stop_profiling(pid_t pid, const std::string& why);
  void check_heap_overhead();
  bool may_profile(pid_t pid);
  std::int64_t heap_stack_for(const HeapDelta& delta);
  void final_report(const CpuStats& stats, const std::string& status_note);
  // The disk filled up: what was committed stays, the rest is dropped (once).
  void on_disk_full();
  [[noreturn]] void fail_disk_full();
  void warn_refusals();

  const RecordOptions& options_;
  Clock::time_point start_;
  std::unique_ptr<RecordingWriter> writer_;
  std::unique_ptr<CpuSource> collector_;
  CpuCollector* bpf_ = nullptr;  // collector_, when it is the BPF sampler
  std::unique_ptr<HeapCollector> heap_;
  std::unique_ptr<HeapSampler> sampler_;
  HeapMode heap_mode_ = HeapMode::off;  // as recorded
  std::int64_t cpu_type_ = 0;                 // sample type ids in the recording
  std::array<std::int64_t, 4> heap_types_{};  // alloc bytes, alloc count, free bytes, free count
  std::pair<double, double> probe_cost_ns_{0, 0};
  std::optional<Clock::time_point> heap_guard_at_;
  Clock::time_point heap_checked_at_;
  std::map<pid_t, double> heap_cpu_;  // CPU seconds of each tracked process at the last guard look
  HeapStats heap_stats_start_;
  Caller caller_;
  BpfAccessRule access_;
  std::map<pid_t, bool> allowed_;  // restricted callers: the rule per process, this checkpoint
  std::set<pid_t> denied_at_exec_;
  std::uint64_t denied_samples_ = 0;
  std::uint64_t map_budget_ = 0;
  std::string heap_probe_list_;
  std::set<std::string> heap_probe_names_;
  std::unique_ptr<LaunchedCommand> command_;
  Symbolizer symbolizer_;
  std::set<pid_t> alive_;
  std::vector<PendingProcess> pending_processes_;
  std::vector<std::pair<pid_t, std::int64_t>> pending_exits_;
  std::multimap<Clock::time_point, pid_t> rereads_;  // address space re-reads after exec
  std::set<std::string> main_executables_;
  std::string output_;
  std::string command_log_;  // live view: where the launched command's output goes
  UniqueFd command_log_fd_;
  std::string comm_;
  std::uint64_t samples_written_ = 0;
  std::int64_t checkpoints_ = 0;
  std::int64_t committed_ms_ = 0;  // the end of the last committed checkpoint
  // Small members last (no padding between the larger ones).
  int stopped_profiling_ = 0;
  int heap_checks_ = 0;
  bool heap_attached_ = false;
  bool heap_unprobed_warned_ = false;
  bool uprobe_multi_ = false;
  bool disk_full_ = false;
};

void Session::track(pid_t pid, std::optional<pid_t> parent, const std::string& comm) {
  alive_.insert(pid);
  symbolizer_.snapshot(pid);
  std::string exe = read_exe(pid).value_or("");
  if (!exe.empty()) main_executables_.insert(exe);
  pending_processes_.push_back({pid, parent, comm, exe, now_ms()});
}

void Session::forget(pid_t pid) {
  alive_.erase(pid);
  pending_exits_.emplace_back(pid, now_ms());
  if (heap_) heap_->forget(pid);
}

// A process that still runs but may no longer be profiled: no exit time, said once.
void Session::stop_profiling(pid_t pid, const std::string& why) {
  warn(fmt::format("process {} {}: it is no longer sampled", pid, why));
  alive_.erase(pid);
  collector_->remove_target(pid);
  if (heap_) heap_->forget(pid);
  ++stopped_profiling_;
}

void Session::on_event(const ProcEvent& event) {
  switch (event.kind) {
    case ProcEvent::fork:
      symbolizer_.reset_process(event.pid);  // a recycled pid's old mappings are not its own
      symbolizer_.inherit(event.pid, event.parent);  // until its own snapshot (it may exit first)
      track(event.pid, event.parent, event.comm);
      // The kernel tracks the child already; its files count as in use (shared probes), or
      // it gets probes of its own (per-process probes).
      if (heap_attached_ && heap_mode_ == HeapMode::exact) follow_heap(event.pid);
      break;
    case ProcEvent::exec: {
      // The perf_event sampler's events are removed by the kernel when the new program is
      // privileged; the BPF sampler reports `denied` itself. Either way it is said here.
      if (!caller_.unrestricted) {
        if (auto why = profiling_refusal(caller_, event.pid)) {
          on_event({ProcEvent::denied, event.pid, 0, event.comm});
          break;
        }
      }
      // The loader maps shared libraries after exec: look again shortly after.
      track(event.pid, read_ppid(event.pid), event.comm);
      auto now = Clock::now();
      rereads_.emplace(now + milliseconds(20), event.pid);
      rereads_.emplace(now + milliseconds(200), event.pid);
      break;
    }
    case ProcEvent::exit:
      forget(event.pid);
      break;
    case ProcEvent::denied:
      if (!alive_.contains(event.pid)) break;
      denied_at_exec_.insert(event.pid);
      stop_profiling(event.pid,
                     fmt::format("executed {}, a program you may not profile without CAP_SYS_PTRACE ({})",
                                 read_exe(event.pid).value_or(event.comm),
                                 profiling_refusal(caller_, event.pid)
                                     .value_or("setuid, setgid, file capabilities or not dumpable")));
      break;
  }
}

// Restricted callers with the perf_event sampler: whether `pid`'s samples of this
// checkpoint may be kept (it may have made itself non-dumpable since it was checked), once
// per process and checkpoint. The BPF sampler checks every sample in the kernel; and the
// kernel itself ends perf events at an exec that makes a process privileged, so samples of a
// process denied at exec are from before it.
bool Session::may_profile(pid_t pid) {
  if (caller_.unrestricted || bpf_ != nullptr || denied_at_exec_.contains(pid)) return true;
  auto [it, inserted] = allowed_.try_emplace(pid, true);
  if (inserted) it->second = !profiling_refusal(caller_, pid).has_value();
  return it->second;
}

std::int64_t Session::push_address(std::int64_t parent, const ResolvedAddress& resolved) {
  const ModuleInfo& module = symbolizer_.module(resolved.module);
  std::vector<SegmentRow> segments;
  for (const auto& seg : module.code_segments) segments.push_back({seg.start, seg.end, seg.file_offset});
  std::int64_t module_row = writer_->module_id(module.path, module.build_id, segments);
  std::int64_t location = writer_->location_id(module_row, resolved.address);
  const auto& frames = resolved.symbolized->frames;
  for (std::size_t j = frames.size(); j-- > 0;) {
    const SourceFrame& f = frames[j];
    FrameRow row{f.function, f.file, f.line, static_cast<int>(frames.size() - 1 - j), module_row};
    parent = writer_->stack_node(parent, writer_->frame_id(row), location);
  }
  return parent;
}

std::int64_t Session::push_synthetic(std::int64_t parent, const std::string& name) {
  std::int64_t module_row = writer_->module_id("[unknown]", "");
  std::int64_t location = writer_->location_id(module_row, 0);
  return writer_->stack_node(parent, writer_->frame_id({name, "", 0, 0, module_row}), location);
}

std::int64_t Session::stack_for(const CpuSample& s) {
  std::int64_t node = 0;
  if (s.truncated) node = push_synthetic(node, "[truncated stack]");
  if (s.user_ips.empty() && s.kernel_ips.empty()) return push_synthetic(node, "[stack lost]");
  // Root first: the outermost user frame. Return addresses point after the call: step back
  // one byte so the call's own line is reported. The interrupted instruction (the leaf)
  // is exact, unless the tick hit the kernel, where the user leaf is a return address too.
  for (std::size_t i = s.user_ips.size(); i-- > 0;) {
    std::uint64_t ip = s.user_ips[i];
    bool exact = i == 0 && s.kernel_ips.empty();
    node = push_address(node, symbolizer_.resolve_user(s.pid, exact ? ip : ip - 1));
  }
  for (std::size_t i = s.kernel_ips.size(); i-- > 0;) {
    std::uint64_t ip = s.kernel_ips[i];
    node = push_address(node, symbolizer_.resolve_kernel(i == 0 ? ip : ip - 1));
  }
  return node;
}

std::int64_t Session::heap_stack_for(const HeapDelta& d) {
  std::int64_t node = 0;
  if (d.user_ips.empty()) return push_synthetic(node, "[stack lost]");
  // All return addresses: step back one byte into the call instruction.
  for (std::size_t i = d.user_ips.size(); i-- > 0;) {
    node = push_address(node, symbolizer_.resolve_user(d.pid, d.user_ips[i] - 1));
  }
  return node;
}

bool Session::load_heap(const CpuCollector& cpu) {
  HeapCollector::Options hopts;
  auto scale = [&](std::uint32_t n) {
    return static_cast<std::uint32_t>(std::clamp(n * options_.map_scale, 1024.0, 64.0 * 1024 * 1024));
  };
  hopts.live_entries = scale(hopts.live_entries);
  hopts.site_entries = scale(hopts.site_entries);
  hopts.stack_entries = scale(hopts.stack_entries);
  hopts.targets_fd = cpu.targets_fd();
  hopts.access = access_;
  hopts.per_process = options_.heap_probes == HeapProbeScope::per_process;
  hopts.uprobe_multi = uprobe_multi_;
  // One budget for every map: what the CPU sampler's maps left. Halved to fit it, and again
  // when the kernel refuses them for lack of memory; below the floor, no heap profile.
  const std::uint64_t used = cpu.map_bytes();
  const std::uint64_t left = map_budget_ > used ? map_budget_ - used : 0;
  int halvings = 0;
  auto halve = [&] {
    if (hopts.live_entries / 2 < 1024 || hopts.site_entries / 2 < 1024 || hopts.stack_entries / 2 < 1024) return false;
    hopts.live_entries /= 2;
    hopts.site_entries /= 2;
    hopts.stack_entries /= 2;
    ++halvings;
    return true;
  };
  while (HeapCollector::estimated_map_bytes(hopts) > left && halve()) {
  }
  auto give_up = [&](const std::string& why) {
    const std::string what = fmt::format("no heap profile: {}", why);
    if (options_.heap == HeapRequest::exact) {
      throw Error(ExitCode::general, what,
                  "raise the memory cgroup limit (memory.max) or RLIMIT_MEMLOCK, lower --map-scale, or record CPU "
                  "only with --heap=off");
    }
    warn(what + "; CPU only (raise the memory limit, or pass --heap=off to say so)");
    writer_->set_meta("heap_decision", "off: " + why);
    return false;
  };
  if (HeapCollector::estimated_map_bytes(hopts) > left) {
    return give_up(fmt::format("its BPF maps need {:.1f} MiB even at their smallest, and {:.1f} MiB of the budget "
                               "(1/8 of memory) are left",
                               static_cast<double>(HeapCollector::estimated_map_bytes(hopts)) / (1 << 20),
                               static_cast<double>(left) / (1 << 20)));
  }
  while (true) {
    try {
      heap_ = std::make_unique<HeapCollector>(hopts);
      break;
    } catch (const MapsTooLarge& e) {
      if (!halve()) return give_up(fmt::format("the kernel refuses its BPF maps for lack of memory even at {} live "
                                               "blocks ({}; a memory cgroup limit?)",
                                               hopts.live_entries, e.what()));
    }
  }
  writer_->set_meta("heap_map_halvings", std::to_string(halvings));
  if (halvings > 0) {
    warn(fmt::format("heap BPF maps reduced to 1/{} of the requested size ({} live blocks, {:.1f} MiB) to fit the "
                     "memory available: more allocations may go untracked",
                     1 << halvings, hopts.live_entries, static_cast<double>(heap_->map_bytes()) / (1 << 20)));
  }
  probe_cost_ns_ = heap_->calibrate();
  writer_->set_meta("heap_probe_cost_ns", fmt::format("{:.0f}/{:.0f}", probe_cost_ns_.first, probe_cost_ns_.second));
  writer_->set_meta("heap_probe_links", heap_->uses_multi_links() ? "uprobe_multi" : "perf_event");
  writer_->set_meta("heap_probe_scope",
                    to_string(heap_->shared_probes() ? HeapProbeScope::shared : HeapProbeScope::per_process));
  return true;
}

// Heap probes for a process that appeared (fork) or changed (exec) while recording; it may
// already be gone.
void Session::follow_heap(pid_t pid) {
  try {
    start_heap(pid);
  } catch (const Error& e) {
    if (options_.verbose) info(fmt::format("heap: process {} not followed: {}", pid, e.what()));
  }
}

void Session::start_heap(pid_t pid, const std::vector<std::string>& files) {
  const HeapCollector::Probed probed = heap_->probe(pid, files);
  if (heap_->unprobed_files() > 0 && !heap_unprobed_warned_) {
    heap_unprobed_warned_ = true;
    warn(fmt::format("heap: the limit on heap probes was reached ({} probe sets, {} links open or closing): "
                     "allocators in further files or processes are not tracked (counted in meta heap_unprobed_files)",
                     HeapCollector::Options{}.max_probe_sets, HeapCollector::kMaxLinks));
  }
  if (!probed.covered && (!files.empty() || heap_attached_)) return;  // nothing new
  if (!probed.covered) {
    warn(fmt::format("heap: process {} {}: no heap data", pid,
                     process_alive(pid) ? "maps no allocator hotline knows (malloc family, operator new)"
                                        : "exited before its allocator could be probed"));
    return;
  }
  std::string list;
  for (const auto& p : probed.added) {
    auto slash = p.module.rfind('/');
    std::string name = fmt::format("{}@{}", p.function, p.module.substr(slash + 1));
    list += (list.empty() ? "" : ",") + name;
    // The same function in another copy of the same file is listed once.
    if (heap_probe_names_.insert(name).second) heap_probe_list_ += (heap_probe_list_.empty() ? "" : ",") + name;
  }
  if (!probed.added.empty()) writer_->set_meta("heap_probes", heap_probe_list_);
  if (heap_attached_) return;
  heap_attached_ = true;
  writer_->set_meta("heap_mode", to_string(HeapMode::exact));
  if (options_.verbose) info(fmt::format("heap: probing {}", list));
  heap_cpu_.clear();
  for (pid_t p : alive_) heap_cpu_[p] = read_cpu_seconds(p).value_or(0);
  heap_cpu_[pid] = read_cpu_seconds(pid).value_or(0);
  heap_stats_start_ = heap_->stats();
  // The first look comes early: shared probes make other processes pay too, and the first
  // quarter second tells.
  heap_checked_at_ = Clock::now();
  heap_guard_at_ = heap_checked_at_ + milliseconds(250);
}

// A uprobe costs microseconds per call: every quarter second under the probes, project the
// targets' slowdown from their allocation rate and the probe cost
// measured on this host, and the CPU time other processes lose to the shared probes (their
// calls trap too), and give up the heap (not the CPU profile) when either is above
// --max-overhead.
void Session::check_heap_overhead() {
  const auto checked = Clock::now();
  const double elapsed = std::max(std::chrono::duration<double>(checked - heap_checked_at_).count(), 0.05);
  heap_checked_at_ = checked;
  // What each tracked process ran since the last look (a new one from 0): a child that
  // exits takes its time with it, and must not make the others' look like less.
  double cpu = 0;
  std::map<pid_t, double> now_cpu;
  for (pid_t pid : alive_) {
    const double seconds = read_cpu_seconds(pid).value_or(0);
    now_cpu[pid] = seconds;
    const auto before = heap_cpu_.find(pid);
    cpu += std::max(0.0, seconds - (before == heap_cpu_.end() ? 0.0 : before->second));
  }
  heap_cpu_ = std::move(now_cpu);
  const HeapStats now = heap_->stats();
  const double calls_alloc = static_cast<double>(now.allocs + now.dropped + now.failed - heap_stats_start_.allocs -
                                                 heap_stats_start_.dropped - heap_stats_start_.failed);
  const double calls_free = static_cast<double>(now.frees + now.untracked_frees - heap_stats_start_.frees -
                                                heap_stats_start_.untracked_frees);
  const double other_alloc = static_cast<double>(now.bystander_allocs - heap_stats_start_.bystander_allocs);
  const double other_free = static_cast<double>(now.bystander_frees - heap_stats_start_.bystander_frees);
  const double own_calls = static_cast<double>(now.self_calls - heap_stats_start_.self_calls);
  const double per_alloc = (probe_cost_ns_.first + probe_cost_ns_.second) / 1e9, per_free = probe_cost_ns_.first / 1e9;
  const double probe_seconds = calls_alloc * per_alloc + calls_free * per_free;
  const double own_cpu = std::max(cpu - probe_seconds, 0.01);
  const double slowdown_pct = 100.0 * probe_seconds / own_cpu;
  // Of one CPU: the time other processes lost per second of wall clock.
  const double others_pct = 100.0 * (other_alloc * per_alloc + other_free * per_free) / elapsed;
  // hotline's own calls (symbolizing, writing): counted at the cost of an allocation each.
  const double self_pct = 100.0 * own_calls * per_alloc / elapsed;
  heap_stats_start_ = now;
  ++heap_checks_;
  std::string facts = fmt::format("{:.0f} allocations and {:.0f} frees in {:.2f} s under the probes "
                                  "(check {}), at {:.1f} µs per probed call: about {:.0f}% slower",
                                  calls_alloc, calls_free, elapsed, heap_checks_,
                                  (probe_cost_ns_.first + probe_cost_ns_.second) / 1000, slowdown_pct);
  if (other_alloc + other_free > 0) {
    facts += fmt::format("; other processes made {:.0f} calls through the shared probes, {:.1f}% of a CPU",
                         other_alloc + other_free, others_pct);
  }
  if (own_calls > 0) {
    // Said, not acted on: hotline's own cost is the price of shared probes the user asked for
    // (docs/benchmarks.md), and counting it would detach them on every busy checkpoint.
    facts += fmt::format("; hotline's own allocator calls through them cost about {:.1f}% of a CPU", self_pct);
  }
  const double worst = std::max(slowdown_pct, others_pct);
  // 100% or more: the user accepts any slowdown (the guard is off).
  if (options_.max_overhead_pct < 100.0 && worst > options_.max_overhead_pct) {
    heap_->detach();
    heap_guard_at_.reset();
    heap_mode_ = HeapMode::detached;
    writer_->set_meta("heap_mode", to_string(heap_mode_));
    writer_->set_meta("heap_decision", fmt::format("detached: {} (limit {}%)", facts, options_.max_overhead_pct));
    warn(fmt::format("heap probes detached: the target made {} (above --max-overhead {}%). CPU profiling continues; "
                     "heap data stops here. To keep them: --heap=exact --max-overhead=100",
                     facts, options_.max_overhead_pct));
    return;
  }
  // Every quarter second: with shared probes, another process may start allocating at any
  // time, and pays until the next look.
  heap_guard_at_ = Clock::now() + milliseconds(250);
  if (heap_checks_ == 1) {
    writer_->set_meta("heap_decision", fmt::format("kept: {} (limit {}%)", facts, options_.max_overhead_pct));
    if (options_.verbose) info("heap: " + facts);
  }
}

void Session::write_stats() {
  CpuStats st = collector_->stats();
  writer_->set_meta("samples", std::to_string(samples_written_));
  writer_->set_meta("lost_user_stacks", std::to_string(st.user_stacks_lost));
  writer_->set_meta("lost_kernel_stacks", std::to_string(st.kernel_stacks_lost));
  writer_->set_meta("dropped_samples", std::to_string(st.counts_full));
  writer_->set_meta("lost_events", std::to_string(st.events_lost + st.targets_full));
  writer_->set_meta("truncated_stacks", std::to_string(st.truncated));
  if (!caller_.unrestricted) writer_->set_meta("denied_samples", std::to_string(st.denied + denied_samples_));
  if (heap_) {
    const HeapStats h = heap_->stats();
    writer_->set_meta("heap_bystander_calls", std::to_string(h.bystander_allocs + h.bystander_frees));
    writer_->set_meta("heap_self_calls", std::to_string(h.self_calls));
    writer_->set_meta("heap_unprobed_files", std::to_string(heap_->unprobed_files()));
    if (!caller_.unrestricted) writer_->set_meta("heap_denied_calls", std::to_string(h.denied));
    writer_->set_meta("heap_allocations", std::to_string(h.allocs));
    writer_->set_meta("heap_frees", std::to_string(h.frees));
    writer_->set_meta("heap_untracked_frees", std::to_string(h.untracked_frees));
    writer_->set_meta("heap_dropped", std::to_string(h.dropped + h.sites_full));
    writer_->set_meta("heap_lost_stacks", std::to_string(h.stacks_lost));
  }
  if (sampler_) {
    const SampledHeapStats h = sampler_->stats();
    writer_->set_meta("heap_allocations", std::to_string(h.samples));  // sampled ones
    writer_->set_meta("heap_frees", std::to_string(h.frees));
    writer_->set_meta("heap_untracked_frees", std::to_string(h.untracked_frees));
    writer_->set_meta("heap_dropped", std::to_string(h.dropped));
    writer_->set_meta("heap_processes", std::to_string(h.processes));
  }
}

void Session::checkpoint() {
  // The checkpoint ends when the sampler switches buffers.
  const std::int64_t ms = now_ms();
  std::vector<CpuSample> samples = collector_->drain();
  // Refresh address spaces first: libraries loaded since the last look resolve now.
  for (const pid_t pid : std::vector<pid_t>(alive_.begin(), alive_.end())) {
    // Restricted callers: the rule again (a process may have made itself non-dumpable).
    if (!caller_.unrestricted && process_alive(pid)) {
      if (auto why = profiling_refusal(caller_, pid)) {
        stop_profiling(pid, fmt::format("{} now, which you may not profile without CAP_SYS_PTRACE", *why));
        continue;
      }
    }
    if (!symbolizer_.snapshot(pid) || !process_alive(pid)) forget(pid);
  }
  std::int64_t id = writer_->begin_checkpoint(ms);
  for (const auto& p : pending_processes_) writer_->upsert_process(p.pid, p.parent, p.comm, p.exe, p.ms);
  pending_processes_.clear();
  for (const auto& [pid, exit_ms] : pending_exits_) writer_->process_exited(pid, exit_ms);
  pending_exits_.clear();
  allowed_.clear();
  for (const CpuSample& s : samples) {
    // The kernel drops what the BPF sampler may not keep; the perf_event sampler's samples
    // of a process that made itself non-dumpable since are dropped here.
    if (!may_profile(s.pid)) {
      denied_samples_ += s.count;
      continue;
    }
    const SampleValue value{cpu_type_, s.count};
    writer_->add_sample(id, stack_for(s), s.pid, s.tid, {&value, 1});
    writer_->add_thread(s.tid, s.pid, s.comm);
    samples_written_ += s.count;
  }
  std::vector<HeapDelta> heap_deltas;
  if (heap_) heap_deltas = heap_->drain();
  if (sampler_) heap_deltas = sampler_->drain();
  for (const HeapDelta& d : heap_deltas) {
    const SampleValue values[] = {{heap_types_[0], d.alloc_bytes},
                                  {heap_types_[1], d.alloc_count},
                                  {heap_types_[2], d.free_bytes},
                                  {heap_types_[3], d.free_count}};
    writer_->add_sample(id, heap_stack_for(d), d.pid, 0, values);
  }
  write_stats();
  writer_->set_meta("duration_ms", std::to_string(ms));
  writer_->commit_checkpoint();
  ++checkpoints_;
  committed_ms_ = ms;
  warn_refusals();
  // A long checkpoint is when hotline's own allocations through shared probes add up.
  if (heap_guard_at_ && Clock::now() >= *heap_guard_at_) check_heap_overhead();
}

int Session::run_keeping_what_counts() {
  auto remove_empty = [&] {
    if (output_.empty() || checkpoints_ > 0) return false;
    writer_.reset();
    for (const char* side : {"", "-wal", "-shm", "-journal"}) ::unlink((output_ + side).c_str());
    return true;
  };
  try {
    return run();
  } catch (const DiskFull& e) {  // before the recording loop: not even its settings fit
    remove_empty();
    throw Error(ExitCode::database,
                fmt::format("the file system holding {} is full: nothing could be recorded ({})", output_, e.what()),
                "free space there, or record to another file system with -o");
  } catch (...) {
    remove_empty();
    throw;
  }
}

void Session::on_disk_full() { disk_full_ = true; }

void Session::fail_disk_full() {
  const bool folded = writer_->abandon();
  writer_.reset();
  const std::string kept =
      checkpoints_ == 0 ? fmt::format("nothing was committed before, {} is removed", output_)
                        : fmt::format("the {} checkpoints committed before ({} of samples) are kept in {}{}", checkpoints_,
                                      format_duration(milliseconds(committed_ms_)), output_,
                                      folded ? ""
                                             : fmt::format(" and {}-wal: keep the two together, SQLite folds the "
                                                           "second into the first when it next opens the file with "
                                                           "space free",
                                                           output_));
  throw Error(ExitCode::database,
              fmt::format("the file system holding {} is full: recording stopped after {}; {}", output_,
                          format_duration(milliseconds(now_ms())), kept),
              fmt::format("free space there, or record to another file system with -o{}",
                          checkpoints_ == 0 ? "" : fmt::format("; hotline top cpu {} reads what was kept", output_)));
}

void Session::warn_refusals() {
  for (const auto& r : symbolizer_.take_refusals()) {
    warn(fmt::format("not reading {} of process {}: it {} (hotline reads a process's files only as regular files of "
                     "its owner or root, reached without symlinks; docs/security: target files)",
                     r.path, r.pid, r.reason));
  }
}

void Session::final_report(const CpuStats& st, const std::string& status_note) {
  std::uint64_t lost = st.user_stacks_lost + st.kernel_stacks_lost + st.counts_full;
  std::uint64_t seen = std::max<std::uint64_t>(st.samples, 1);
  if (lost * 100 > seen) {
    warn(fmt::format("{:.1f}% of samples lost their stack or were dropped ({} of {}): "
                     "lower --cpu-freq, or raise the map sizes with --map-scale",
                     100.0 * static_cast<double>(lost) / static_cast<double>(seen), lost, st.samples));
  }
  if (const std::uint64_t denied = st.denied + denied_samples_; denied > 0) {
    warn(fmt::format("{} samples of processes that stopped being profilable (they became non-dumpable or gained "
                     "privileges) were dropped: without CAP_SYS_PTRACE hotline profiles only processes you could debug",
                     denied));
  }
  if (st.events_lost + st.targets_full > 0) {
    warn(fmt::format("{} process events were lost: some child processes may be missing; raise --map-scale",
                     st.events_lost + st.targets_full));
  }
  if (st.truncated * 100 > seen) {
    warn(fmt::format("{} samples had stacks deeper than {} frames; their outermost callers are cut",
                     st.truncated, HOTLINE_MAX_STACK_DEPTH));
  }
  for (const auto& exe : main_executables_) {
    for (std::size_t id = 0; id < symbolizer_.module_count(); ++id) {
      const ModuleInfo& m = symbolizer_.module(static_cast<ModuleId>(id));
      if (m.path == exe && m.opened && !m.has_dwarf) {
        warn(fmt::format("{} has no debug info: functions are named, source lines are not; "
                         "rebuild it with -g (keep -fno-omit-frame-pointer)", exe));
      }
    }
  }
  if (!options_.quiet) {
    info(fmt::format("recorded {} samples in {} checkpoints, {}{}: {}", samples_written_, checkpoints_,
                     format_duration(milliseconds(now_ms())), status_note, output_));
    info(fmt::format("next: hotline top cpu {0}  (or: hotline view {0}; hotline export {0} -o profile.html)", output_));
  }
}

int Session::run() {
  SignalGuard signals;
  // Validate targets and build the label before touching the kernel.
  for (pid_t pid : options_.pids) {
    if (!process_alive(pid)) {
      throw Error(ExitCode::not_found, fmt::format("no process with pid {}", pid),
                  "check the pid with ps, or name the process with --process");
    }
  }
  // Before touching the kernel or the targets: may we, here, at all, and on these pids?
  const HostFacts facts = gather_host_facts();
  for (pid_t pid : options_.pids) require_may_profile(facts, pid);
  if (!options_.command.empty()) require_may_launch(facts, resolve_command(options_.command[0]));
  caller_ = current_caller(facts);
  access_ = {!caller_.unrestricted, caller_.uid, caller_.gid, caller_.permitted_caps};
  map_budget_ = map_memory::budget();

  uprobe_multi_ = facts.uprobe_multi;
  std::string exe_for_check;
  if (!options_.command.empty()) {
    exe_for_check = resolve_command(options_.command[0]);
    auto slash = options_.command[0].rfind('/');
    comm_ = options_.command[0].substr(slash == std::string::npos ? 0 : slash + 1).substr(0, 15);
  } else {
    comm_ = read_comm(options_.pids.front()).value_or("process");
    exe_for_check = read_exe(options_.pids.front()).value_or("");
  }
  PlanRequest request;
  request.cpu_backend = options_.cpu_backend;
  request.heap = options_.heap;
  request.heap_probes = options_.heap_probes;
  request.launch = !options_.command.empty();
  request.restricted = access_.restricted;
  request.executable = exe_for_check;
  request.links_own_allocator = [&] { return !exe_for_check.empty() && links_own_allocator(exe_for_check); };
  const RecordingPlan plan = plan_recording(facts, request);
  const BackendChoice& backend = plan.cpu;
  HeapMode heap_mode = plan.heap;
  if (!options_.quiet) {
    for (const std::string& note : plan.notes) info(note);
  }
  for (const std::string& warning : plan.warnings) warn(warning);
  if (facts.root) {
    // Stated even with --quiet: the user must know what they are exposing.
    for (pid_t pid : options_.pids) {
      std::string comm = read_comm(pid).value_or("");
      if (auto what = sensitive_process(comm)) {
        warn(fmt::format("profiling {} (pid {}), {}, as root: its call stacks and timing can reveal "
                         "secret-dependent behaviour; keep the recording private", comm, pid, *what));
      }
    }
  }
  auto has_debuginfo = [&] {
    return options_.command.empty() ? Symbolizer::process_exe_has_debuginfo(options_.pids.front())
                                    : Symbolizer::file_has_debuginfo(exe_for_check);
  };
  if (options_.require_debuginfo && !exe_for_check.empty() && !has_debuginfo()) {
    throw Error(ExitCode::no_debuginfo, fmt::format("{} has no DWARF debug info (--require-debuginfo)", exe_for_check),
                "rebuild it with -g, or install its debug symbols package");
  }

  auto wall = std::chrono::system_clock::now();
  start_ = Clock::now();
  output_ = create_output(options_, comm_, wall);
  writer_ = std::make_unique<RecordingWriter>(output_);
  writer_->set_meta("hotline_version", HOTLINE_VERSION);
  cpu_type_ = writer_->sample_type(sample_types::cpu);
  if (heap_mode != HeapMode::off) {
    heap_types_ = {writer_->sample_type(sample_types::heap_alloc_bytes), writer_->sample_type(sample_types::heap_alloc_count),
                   writer_->sample_type(sample_types::heap_free_bytes), writer_->sample_type(sample_types::heap_free_count)};
  }
  writer_->set_meta("start_time", iso8601_utc(wall));
  writer_->set_meta("interval_ms", std::to_string(options_.interval.count()));
  writer_->set_meta("cpu_frequency_hz", std::to_string(options_.cpu_freq_hz));
  writer_->set_meta("process_name", comm_);
  writer_->set_meta("mode", options_.command.empty() ? "attach" : "launch");

  if (!options_.command.empty()) {
    LaunchExtras extras;
    if (heap_mode == HeapMode::sampled) {
      sampler_ = std::make_unique<HeapSampler>(options_.heap_sample_bytes, access_.restricted);
      extras.inherit_fds = sampler_->inherited_fds();
      std::vector<std::string> env;
      for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
      extras.environment = sampler_->environment(env);
      writer_->set_meta("heap_sample_bytes", std::to_string(options_.heap_sample_bytes));
    }
    if (options_.live_view) {
      // The terminal belongs to the view: the command writes to OUTPUT.log instead.
      command_log_ = output_.ends_with(".db") ? output_.substr(0, output_.size() - 3) + ".log" : output_ + ".log";
      command_log_fd_ = create_private_file(command_log_, options_.force);
      extras.output_fd = command_log_fd_.get();
      writer_->set_meta("command_output", command_log_);
    }
    command_ = std::make_unique<LaunchedCommand>(options_.command, extras);
    g_launched_pid.store(command_->pid());
    if (sampler_) sampler_->started();
  }

  if (!backend.fallback_note.empty()) warn(backend.fallback_note);  // even with --quiet: data is missing
  writer_->set_meta("cpu_backend", to_string(backend.backend));
  if (backend.backend == CpuBackend::bpf) {
    CpuCollector::Options copts;
    copts.frequency_hz = options_.cpu_freq_hz;
    auto scale = [&](std::uint32_t n) {
      return static_cast<std::uint32_t>(std::clamp(n * options_.map_scale, 64.0, 16.0 * 1024 * 1024));
    };
    copts.max_processes = scale(copts.max_processes);
    copts.stack_entries = scale(copts.stack_entries);
    copts.count_entries = scale(copts.count_entries);
    copts.max_map_bytes = map_budget_;  // every map together: never more than 1/8 of RAM
    copts.access = access_;
    CpuCollector::set_verbose(options_.verbose);
    auto bpf = std::make_unique<CpuCollector>(copts);
    bpf_ = bpf.get();
    writer_->set_meta("map_halvings", std::to_string(bpf->map_halvings()));
    if (int h = bpf->map_halvings(); h > 0) {
      warn(fmt::format("BPF maps reduced to 1/{} of the requested size ({} stacks, {:.1f} MiB) to fit the memory "
                       "available: more stacks may be lost per checkpoint",
                       1 << h, bpf->options().stack_entries, static_cast<double>(bpf->map_bytes()) / (1 << 20)));
    }
    collector_ = std::move(bpf);
  } else {
    PerfCollector::Options popts;
    popts.frequency_hz = options_.cpu_freq_hz;
    popts.kernel = backend.kernel_frames;
    if (access_.restricted) {
      popts.may_profile = [caller = caller_](pid_t pid) { return !profiling_refusal(caller, pid).has_value(); };
    }
    collector_ = std::make_unique<PerfCollector>(popts);
  }

  std::vector<pid_t> roots = options_.pids;
  if (command_) roots = {command_->pid()};
  collector_->attach();
  for (pid_t pid : roots) {
    warn_if_other_pid_namespace(pid);
    collector_->add_target(pid);
    // A launched command is still a copy of hotline until it execs: look at it after.
    if (!command_) track(pid, read_ppid(pid), read_comm(pid).value_or(""));
  }
  if (heap_mode == HeapMode::exact && !load_heap(*bpf_)) heap_mode = HeapMode::off;
  heap_mode_ = heap_mode;
  writer_->set_meta("heap_mode", to_string(heap_mode));
  if (heap_mode == HeapMode::exact) {
    if (command_) {
      // Before it runs: its executable (a static allocator) and the libc and libstdc++ it
      // will most likely map (hotline's own: operator new must be probed from the start, or
      // new's callers are lost behind libstdc++'s frame-pointer-less code); the rest once
      // its loader has mapped it.
      std::vector<std::string> files;
      if (char* exe = ::realpath(command_->path().c_str(), nullptr)) {
        files.emplace_back(exe);
        std::free(exe);
      }
      if (auto maps = read_maps(::getpid())) {
        for (const Mapping& m : *maps) {
          const auto slash = m.path.rfind('/');
          const std::string base = m.path.substr(slash + 1);
          if (m.executable && m.is_file() && (base.starts_with("libc.so") || base.starts_with("libstdc++.so"))) {
            files.push_back(m.path);
          }
        }
      }
      start_heap(command_->pid(), files);
    } else {
      for (pid_t pid : roots) start_heap(pid);
    }
  }
  std::string pid_list;
  for (pid_t pid : roots) pid_list += (pid_list.empty() ? "" : ",") + std::to_string(pid);
  writer_->set_meta("pids", pid_list);
  // What the kernel reports the maps lock (fdinfo memlock), every collector's together.
  const std::uint64_t map_bytes = collector_->map_bytes() + (heap_ ? heap_->map_bytes() : 0);
  writer_->set_meta("map_bytes", std::to_string(map_bytes));
  writer_->set_meta("map_budget_bytes", std::to_string(map_budget_));
  writer_->set_meta("exe", exe_for_check);
  if (command_) writer_->set_meta("command", options_.command[0]);
  if (options_.verbose) {
    info(fmt::format("sampling {} CPUs at {} Hz with the {}; kernel memory locked: {:.1f} MiB{}",
                     collector_->cpu_count(), options_.cpu_freq_hz,
                     backend.backend == CpuBackend::bpf ? "BPF sampler (maps)" : "perf_event sampler (ring buffers)",
                     static_cast<double>(map_bytes) / (1 << 20),
                     heap_ ? fmt::format(" (heap maps {:.1f} MiB)", static_cast<double>(heap_->map_bytes()) / (1 << 20))
                           : std::string()));
  }
  if (command_) {
    command_->start();
    track(command_->pid(), ::getpid(), comm_);
  }
  if (!options_.quiet) {
    info(fmt::format("recording {} (pid {}) to {}{}", comm_, pid_list, output_,
                     options_.duration ? fmt::format(" for {}", format_duration(*options_.duration))
                                       : std::string("; Ctrl-C to stop")));
  }

  std::unique_ptr<LiveView> view;
  if (options_.live_view) {
    view = std::make_unique<LiveView>(output_, [] { g_stop_signal.store(kStopFromView); });
  }

  auto next_checkpoint = start_ + options_.interval;
  std::optional<int> command_status;
  std::string note;
  auto handler = [this](const ProcEvent& e) { on_event(e); };
  try {
    while (true) {
      if (int sig = g_stop_signal.load()) {
        note = sig == kStopFromView ? ", stopped from the live view"
                                    : fmt::format(", stopped by {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
        break;
      }
      auto now = Clock::now();
      if (options_.duration && now - start_ >= *options_.duration) break;
      auto wake = next_checkpoint;
      if (options_.duration) wake = std::min(wake, start_ + *options_.duration);
      if (!rereads_.empty()) wake = std::min(wake, rereads_.begin()->first);
      auto timeout = std::clamp<std::int64_t>(duration_cast<milliseconds>(wake - now).count(), 0, 50);
      collector_->poll_events(static_cast<int>(timeout), handler);
      now = Clock::now();
      while (!rereads_.empty() && rereads_.begin()->first <= now) {
        const pid_t pid = rereads_.begin()->second;
        symbolizer_.snapshot(pid);
        rereads_.erase(rereads_.begin());
        // After an exec, probe what the loader mapped (a command probed before it started,
        // a forked child that exec'd).
        if (heap_mode_ == HeapMode::exact && heap_attached_ && alive_.contains(pid)) follow_heap(pid);
      }
      if (heap_guard_at_ && now >= *heap_guard_at_) check_heap_overhead();
      if (command_) {
        if ((command_status = command_->poll_exit())) {
          note = fmt::format(", command exited with status {}", *command_status);
          break;
        }
      } else if (alive_.empty()) {
        note = stopped_profiling_ > 0 ? ", no target process may be profiled any more" : ", all target processes exited";
        break;
      }
      if (now >= next_checkpoint) {
        try {
          checkpoint();
        } catch (const DiskFull&) {
          on_disk_full();
          note = ", the disk is full";
          break;
        }
        next_checkpoint += options_.interval;
        if (next_checkpoint < now) next_checkpoint = now + options_.interval;
      }
    }
  } catch (const DiskFull&) {  // a write outside a checkpoint (the guard's meta, say)
    on_disk_full();
    note = ", the disk is full";
  }
  if (view) {
    view->stop();  // the terminal is restored; held messages are printed
    view.reset();
    if (!command_log_.empty()) info(fmt::format("the command's output is in {}", command_log_));
  }
  // Events already queued (exits, last forks) before the final drain.
  collector_->poll_events(0, handler);
  if (command_status && sampler_) sampler_->finish();  // what it sent before exiting
  try {
    if (!disk_full_ && command_status && (sampler_ || (heap_attached_ && heap_mode_ == HeapMode::exact))) {
      // The command ended by itself with the heap watched to the end: what is live is leaked.
      writer_->set_meta("heap_at_exit", "1");
    }
    if (!disk_full_) checkpoint();
  } catch (const DiskFull&) {
    on_disk_full();
  }
  if (command_ && !command_status) {
    // hotline ended the recording (duration, signal): stop what it launched, descendants
    // included, so no orphan keeps burning CPU.
    for (pid_t pid : alive_) {
      if (pid != command_->pid()) ::kill(pid, SIGTERM);
    }
    command_->terminate(milliseconds(2000));
    for (pid_t pid : alive_) {
      if (pid != command_->pid() && process_alive(pid)) ::kill(pid, SIGKILL);
    }
  }
  try {
    if (!disk_full_ && command_status) writer_->set_meta("command_status", std::to_string(*command_status));
    if (!disk_full_) writer_->set_meta("end_time", iso8601_utc(std::chrono::system_clock::now()));
  } catch (const DiskFull&) {
    on_disk_full();
  }
  const CpuStats stats = collector_->stats();
  collector_.reset();  // detach before the final report: nothing of ours stays attached
  if (heap_) {
    const HeapStats h = heap_->stats();
    heap_->detach();  // the links close in the background while the recording is finished
    if (h.dropped + h.sites_full > 0) {
      warn(fmt::format("heap: {} allocations were not tracked (maps full): raise --map-scale", h.dropped + h.sites_full));
    }
    if (h.untracked_frees > 0 && !options_.quiet) {
      info(fmt::format("heap: {} frees of blocks allocated before hotline attached were ignored", h.untracked_frees));
    }
  }
  if (sampler_) {
    sampler_->finish();
    const SampledHeapStats h = sampler_->stats();
    if (h.processes == 0) {
      warn("heap: the command never loaded hotline's heap sampler (a statically linked or setuid program ignores "
           "LD_PRELOAD): no heap data; try --heap=exact");
    }
    if (h.dropped > 0) {
      warn(fmt::format("heap: {} sampled allocations could not be tracked (too many live samples): raise "
                       "--heap-sample-bytes", h.dropped));
    }
  }
  try {
    if (!disk_full_) writer_->finish();
  } catch (const DiskFull&) {
    on_disk_full();
  }
  if (disk_full_) fail_disk_full();
  final_report(stats, note);
  return command_status.value_or(0);
}

}  // namespace

std::string default_output_name(const std::string& comm, std::chrono::system_clock::time_point when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm {};
  localtime_r(&t, &tm);
  char stamp[16] = "000000000000";
  if (std::strftime(stamp, sizeof stamp, "%y%m%d%H%M%S", &tm) == 0) stamp[0] = '\0';
  return fmt::format("hotline.{}.{}.db", sanitize_name(comm), stamp);
}

int run_record(const RecordOptions& options) {
  Session session(options);
  return session.run_keeping_what_counts();
}

}  // namespace hotline
