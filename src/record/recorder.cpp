#include "record/recorder.h"
#include "store/meta_keys.h"

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

#include "collect/collector.h"
#include "collect/collectors.h"
#include "collect/process_tracker.h"
#include "collect/sampling_backend.h"
#include "collect/map_memory.h"
#include "hotline_abi.h"
#include "preflight/access.h"
#include "record/pipeline.h"
#include "preflight/preflight.h"
#include "preflight/sensitive.h"
#include "store/events.h"
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
  // The process lifecycle (the `events` table), written with the next checkpoint.
  void note_event(const ProcEvent& event, EventKind kind, std::string detail = {});
  std::int64_t event_ms(const ProcEvent& event) const;
  void checkpoint();
  void write_stats();
  // Registers a collector's sample types in the recording; it is drained from then on.
  void add_collector(std::unique_ptr<Collector> collector);
  void forget(pid_t pid);
  void stop_profiling(pid_t pid, const std::string& why);
  bool may_profile(pid_t pid);
  void final_report(const std::string& status_note);
  // The disk filled up: what was committed stays, the rest is dropped (once).
  void on_disk_full();
  [[noreturn]] void fail_disk_full();
  void warn_refusals();

  const RecordOptions& options_;
  Clock::time_point start_;
  std::unique_ptr<RecordingWriter> writer_;
  // The process tracker (fork, exec, exit), whose events every collector hears of: the BPF
  // tracker, or the perf_event sampler, which tracks through its own events.
  // The CPU sampler with it (collect/sampling_backend).
  SamplingBackend backend_;
  ProcessTracker* tracker_ = nullptr;  // backend_.tracker
  // Every collector, drained at each checkpoint, with its sample types' ids in the recording.
  std::vector<std::unique_ptr<Collector>> collectors_;
  std::unique_ptr<SamplePipeline> pipeline_;  // samples into the recording
  Caller caller_;
  BpfAccessRule access_;
  std::map<pid_t, bool> allowed_;  // restricted callers: the rule per process, this checkpoint
  std::set<pid_t> denied_at_exec_;
  std::uint64_t map_budget_ = 0;
  std::unique_ptr<LaunchedCommand> command_;
  Symbolizer symbolizer_;
  std::set<pid_t> alive_;
  std::vector<PendingProcess> pending_processes_;
  std::vector<std::pair<pid_t, std::int64_t>> pending_exits_;
  std::vector<LifecycleEvent> pending_events_;
  struct Known {
    std::optional<pid_t> parent;
    std::string comm;
  };
  std::map<pid_t, Known> known_;  // every process tracked: its parent and name, for its events
  std::set<pid_t> oom_victims_;   // chosen by the kernel's OOM killer (their exit follows)
  std::set<pid_t> stopped_by_us_; // launched processes hotline stopped when the recording ended
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
  bool uprobe_multi_ = false;
  bool disk_full_ = false;
};

void Session::track(pid_t pid, std::optional<pid_t> parent, const std::string& comm) {
  alive_.insert(pid);
  symbolizer_.snapshot(pid);
  std::string exe = read_exe(pid).value_or("");
  if (!exe.empty()) main_executables_.insert(exe);
  pending_processes_.push_back({pid, parent, comm, exe, now_ms()});
  Known& k = known_[pid];
  if (parent) k.parent = parent;
  if (!comm.empty()) k.comm = comm;
}

std::int64_t Session::event_ms(const ProcEvent& event) const {
  if (event.time_ns == 0) return now_ms();
  // The kernel's time is CLOCK_MONOTONIC, as steady_clock's.
  const auto start_ns = duration_cast<std::chrono::nanoseconds>(start_.time_since_epoch()).count();
  return std::max<std::int64_t>(0, (static_cast<std::int64_t>(event.time_ns) - start_ns) / 1000000);
}

void Session::note_event(const ProcEvent& event, EventKind kind, std::string detail) {
  LifecycleEvent e;
  e.ms = event_ms(event);
  e.pid = event.pid;
  e.kind = kind;
  e.detail = std::move(detail);
  const auto known = known_.find(event.pid);
  if (kind == EventKind::fork) {
    e.ppid = event.parent;
  } else if (known != known_.end() && known->second.parent) {
    e.ppid = *known->second.parent;
  }
  e.comm = !event.comm.empty() ? event.comm : known != known_.end() ? known->second.comm : std::string();
  if (kind == EventKind::exec) {
    e.argv0 = read_argv0(event.pid).value_or("");
  } else if (kind == EventKind::exit) {
    if (event.status) {
      decode_wait_status(*event.status, oom_victims_.contains(event.pid), e);
      e.by_hotline = e.signal.has_value() && stopped_by_us_.contains(event.pid);
    } else if (command_ && event.pid == command_->pid() && command_->wait_status()) {
      decode_wait_status(*command_->wait_status(), false, e);
      e.by_hotline = e.signal.has_value() && stopped_by_us_.contains(event.pid);
    } else {
      e.detail = "exit status not seen (the perf_event backend sees exits, not their status)";
    }
  }
  pending_events_.push_back(std::move(e));
}

void Session::forget(pid_t pid) {
  alive_.erase(pid);
  pending_exits_.emplace_back(pid, now_ms());
  for (auto& c : collectors_) c->process_ended(pid);
}

// A process that still runs but may no longer be profiled: no exit time, said once.
void Session::stop_profiling(pid_t pid, const std::string& why) {
  warn(fmt::format("process {} {}: it is no longer sampled", pid, why));
  alive_.erase(pid);
  tracker_->remove_target(pid);
  for (auto& c : collectors_) c->process_ended(pid);
  ++stopped_profiling_;
}

void Session::on_event(const ProcEvent& event) {
  switch (event.kind) {
    case ProcEvent::fork:
      symbolizer_.reset_process(event.pid);  // a recycled pid's old mappings are not its own
      symbolizer_.inherit(event.pid, event.parent);  // until its own snapshot (it may exit first)
      track(event.pid, event.parent, event.comm);
      note_event(event, EventKind::fork);
      for (auto& c : collectors_) c->process_changed(event.pid, ProcessChange::forked);
      break;
    case ProcEvent::exec: {
      // The perf_event sampler's events are removed by the kernel when the new program is
      // privileged; the BPF sampler reports `denied` itself. Either way it is said here.
      if (!caller_.unrestricted) {
        if (auto why = profiling_refusal(caller_, event.pid)) {
          on_event({ProcEvent::denied, event.pid, 0, event.comm, {}, event.time_ns});
          break;
        }
      }
      // The loader maps shared libraries after exec: look again shortly after.
      track(event.pid, read_ppid(event.pid), event.comm);
      note_event(event, EventKind::exec, read_exe(event.pid).value_or(""));
      for (auto& c : collectors_) c->process_changed(event.pid, ProcessChange::executed);
      auto now = Clock::now();
      rereads_.emplace(now + milliseconds(5), event.pid);
      rereads_.emplace(now + milliseconds(20), event.pid);
      rereads_.emplace(now + milliseconds(200), event.pid);
      break;
    }
    case ProcEvent::exit:
      note_event(event, EventKind::exit);
      oom_victims_.erase(event.pid);
      known_.erase(event.pid);  // a fork-heavy target must not grow it without bound
      forget(event.pid);
      break;
    case ProcEvent::oom_victim:
      oom_victims_.insert(event.pid);
      break;
    case ProcEvent::denied:
      if (!alive_.contains(event.pid)) break;
      denied_at_exec_.insert(event.pid);
      note_event(event, EventKind::exec,
                 fmt::format("{} (not profiled from here: a program you may not profile)",
                             read_exe(event.pid).value_or(event.comm)));
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
  if (caller_.unrestricted || backend_.checks_in_kernel || denied_at_exec_.contains(pid)) return true;
  auto [it, inserted] = allowed_.try_emplace(pid, true);
  if (inserted) it->second = !profiling_refusal(caller_, pid).has_value();
  return it->second;
}

void Session::add_collector(std::unique_ptr<Collector> collector) {
  pipeline_->add_source(collector->sample_types());  // its number is its place in collectors_
  collectors_.push_back(std::move(collector));
}

void Session::write_stats() {
  writer_->set_meta(meta_key::lost_events, std::to_string(tracker_->events_lost()));
  writer_->set_meta(meta_key::samples, std::to_string(samples_written_));  // CPU samples stored
  for (const auto& c : collectors_) {
    for (const auto& [key, value] : c->meta()) writer_->set_meta(key, value);
  }
}

void Session::checkpoint() {
  // The checkpoint ends when the collectors are drained (the CPU sampler switches buffers).
  const std::int64_t ms = now_ms();
  allowed_.clear();
  std::vector<std::vector<StackSample>> drained;
  for (auto& c : collectors_) drained.push_back(c->drain());
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
  for (const LifecycleEvent& e : pending_events_) writer_->add_event(e);
  pending_events_.clear();
  for (std::size_t i = 0; i < collectors_.size(); ++i) samples_written_ += pipeline_->write(id, i, drained[i]);
  write_stats();
  writer_->set_meta(meta_key::duration_ms, std::to_string(ms));
  writer_->commit_checkpoint();
  ++checkpoints_;
  committed_ms_ = ms;
  warn_refusals();
  // A long checkpoint is when hotline's own allocations through shared probes add up.
  for (auto& c : collectors_) c->tick();
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

void Session::final_report(const std::string& status_note) {
  for (const auto& exe : main_executables_) {
    for (std::size_t id = 0; id < symbolizer_.module_count(); ++id) {
      const ModuleInfo& m = symbolizer_.module(static_cast<ModuleId>(id));
      if (m.path == exe && m.opened && !m.has_dwarf) {
        warn(fmt::format("{} has no debug info: functions are named, source lines are not; "
                         "rebuild it with -g", exe));
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
  pipeline_ = std::make_unique<SamplePipeline>(*writer_, symbolizer_);
  writer_->set_meta(meta_key::hotline_version, HOTLINE_VERSION);
  writer_->set_meta(meta_key::start_time, iso8601_utc(wall));
  writer_->set_meta(meta_key::interval_ms, std::to_string(options_.interval.count()));
  writer_->set_meta(meta_key::cpu_frequency_hz, std::to_string(options_.cpu_freq_hz));
  writer_->set_meta(meta_key::process_name, comm_);
  writer_->set_meta(meta_key::mode, options_.command.empty() ? "attach" : "launch");

  // Collectors that must be there before the command is (they hand it what it inherits).
  CollectorSetup setup;
  setup.heap_exact = heap_mode == HeapMode::exact;
  setup.heap_sampled = heap_mode == HeapMode::sampled;
  setup.heap_required = options_.heap == HeapRequest::exact;
  setup.heap_per_process = options_.heap_probes == HeapProbeScope::per_process;
  setup.uprobe_multi = uprobe_multi_;
  setup.heap_sample_bytes = options_.heap_sample_bytes;
  setup.max_overhead_pct = options_.max_overhead_pct;
  setup.map_scale = options_.map_scale;
  setup.map_budget = map_budget_;
  setup.verbose = options_.verbose;
  setup.quiet = options_.quiet;
  setup.access = access_;
  std::vector<std::unique_ptr<Collector>> launch_collectors = collectors_before_launch(setup);
  if (!options_.command.empty()) {
    LaunchExtras extras;
    for (auto& c : launch_collectors) c->prepare_launch(extras);
    if (options_.live_view) {
      // The terminal belongs to the view: the command writes to OUTPUT.log instead.
      command_log_ = output_.ends_with(".db") ? output_.substr(0, output_.size() - 3) + ".log" : output_ + ".log";
      command_log_fd_ = create_private_file(command_log_, options_.force);
      extras.output_fd = command_log_fd_.get();
      writer_->set_meta(meta_key::command_output, command_log_);
    }
    command_ = std::make_unique<LaunchedCommand>(options_.command, extras);
    g_launched_pid.store(command_->pid());
    for (auto& c : launch_collectors) c->launched(command_->pid());
  }

  if (!backend.fallback_note.empty()) warn(backend.fallback_note);  // even with --quiet: data is missing
  writer_->set_meta(meta_key::cpu_backend, to_string(backend.backend));
  SamplingSetup sampling;
  sampling.bpf = backend.backend == CpuBackend::bpf;
  sampling.kernel_frames = backend.kernel_frames;
  sampling.frequency_hz = options_.cpu_freq_hz;
  sampling.map_scale = options_.map_scale;
  sampling.map_budget = map_budget_;
  sampling.access = access_;
  if (access_.restricted) {
    sampling.may_profile = [caller = caller_](pid_t pid) { return !profiling_refusal(caller, pid).has_value(); };
  }
  sampling.verbose = options_.verbose;
  sampling.unwind = sampling.bpf ? options_.unwind : UnwindMode::fp;
  if (sampling.unwind != UnwindMode::fp && !facts.bpf_loop) {
    warn("this kernel has no bpf_loop (Linux 5.17+): stacks are unwound by frame pointers only, and code built "
         "without them loses its callers");
    sampling.unwind = UnwindMode::fp;
  }
  if (!sampling.bpf && options_.unwind == UnwindMode::tables) {
    warn("--unwind tables needs the BPF sampler; the perf_event sampler unwinds by frame pointers only");
  }
  backend_ = make_sampling_backend(sampling);
  tracker_ = backend_.tracker;
  for (const auto& [key, value] : backend_.meta) writer_->set_meta(key, value);

  std::vector<pid_t> roots = options_.pids;
  if (command_) roots = {command_->pid()};
  // The unwind tables first, before sampling starts: until a running target's tables are in
  // the maps its samples are unwound by frame pointers only, and the other collectors may
  // take a while to load (the exact heap calibrates its probes for about a second).
  std::size_t started = 0;
  if (backend_.unwinder) {
    add_collector(std::move(backend_.unwinder));
    for (; started < collectors_.size(); ++started) {
      collectors_[started]->start(roots, command_ ? command_->path() : std::string());
    }
  }
  backend_.attach();
  // The recording's time starts with sampling: --duration is time profiled, not time since
  // hotline started (loading and verifying its programs takes half a second here).
  start_ = Clock::now();
  for (pid_t pid : roots) {
    warn_if_other_pid_namespace(pid);
    tracker_->add_target(pid);
    // A launched command is still a copy of hotline until it execs: look at it after.
    if (!command_) track(pid, read_ppid(pid), read_comm(pid).value_or(""));
  }
  writer_->set_meta(meta_key::heap_mode, to_string(heap_mode));
  setup.unwind = backend_.unwind;
  setup.offcpu = options_.offcpu;
  setup.offcpu_min_ns = options_.offcpu_min_ns;
  setup.offcpu_bpf = backend.backend == CpuBackend::bpf;
  MetaEntries decisions;
  for (auto& c : collectors_after_launch(setup, *backend_.sampler, *tracker_, tracker_->tracker_map_bytes(),
                                         [this](pid_t pid) { return may_profile(pid); }, decisions)) {
    add_collector(std::move(c));
  }
  for (auto& c : launch_collectors) add_collector(std::move(c));
  for (const auto& [key, value] : decisions) writer_->set_meta(key, value);
  for (; started < collectors_.size(); ++started) {
    collectors_[started]->start(roots, command_ ? command_->path() : std::string());
  }
  std::string pid_list;
  for (pid_t pid : roots) pid_list += (pid_list.empty() ? "" : ",") + std::to_string(pid);
  writer_->set_meta(meta_key::pids, pid_list);
  // What the kernel reports the maps lock (fdinfo memlock), every collector's together.
  std::uint64_t map_bytes = tracker_->tracker_map_bytes();
  for (const auto& c : collectors_) map_bytes += c->map_bytes();
  writer_->set_meta(meta_key::map_bytes, std::to_string(map_bytes));
  writer_->set_meta(meta_key::map_budget_bytes, std::to_string(map_budget_));
  writer_->set_meta(meta_key::exe, exe_for_check);
  if (command_) writer_->set_meta(meta_key::command, options_.command[0]);
  if (options_.verbose) {
    info(fmt::format("sampling {} CPUs at {} Hz with the {}; kernel memory locked: {:.1f} MiB", backend_.sampler->cpu_count(),
                     options_.cpu_freq_hz,
                     backend.backend == CpuBackend::bpf ? "BPF sampler (maps)" : "perf_event sampler (ring buffers)",
                     static_cast<double>(map_bytes) / (1 << 20)));
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
      tracker_->poll_events(static_cast<int>(timeout), handler);
      now = Clock::now();
      while (!rereads_.empty() && rereads_.begin()->first <= now) {
        const pid_t pid = rereads_.begin()->second;
        symbolizer_.snapshot(pid);
        rereads_.erase(rereads_.begin());
        // After an exec: what the loader mapped (a command probed before it started, a
        // forked child that exec'd).
        if (alive_.contains(pid)) {
          for (auto& c : collectors_) c->process_changed(pid, ProcessChange::remapped);
        }
      }
      for (auto& c : collectors_) c->tick();
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
  if (command_ && !command_status) {
    // hotline ended the recording (duration, signal): stop what it launched, descendants
    // included, so no orphan keeps burning CPU. Before the last checkpoint: a command that
    // keeps the CPUs busy (thousands of threads) would make that checkpoint slow.
    stopped_by_us_.insert(alive_.begin(), alive_.end());
    stopped_by_us_.insert(command_->pid());
    for (pid_t pid : alive_) {
      if (pid != command_->pid()) ::kill(pid, SIGTERM);
    }
    command_->terminate(milliseconds(2000));
    for (pid_t pid : alive_) {
      if (pid != command_->pid() && process_alive(pid)) ::kill(pid, SIGKILL);
    }
  }
  // Events already queued (exits, last forks) before the final drain.
  tracker_->poll_events(0, handler);
  // A tracker that does not see exit statuses (perf_event): the launched command's is
  // known from waiting for it.
  if (command_ && command_->wait_status()) {
    for (LifecycleEvent& e : pending_events_) {
      if (e.pid == command_->pid() && e.kind == EventKind::exit && !e.exit_code) {
        decode_wait_status(*command_->wait_status(), false, e);
        e.detail.clear();
        e.by_hotline = e.signal.has_value() && stopped_by_us_.contains(command_->pid());
      }
    }
  }
  for (auto& c : collectors_) c->finishing(command_status.has_value());
  try {
    if (!disk_full_) checkpoint();
  } catch (const DiskFull&) {
    on_disk_full();
  }
  try {
    if (!disk_full_ && command_status) writer_->set_meta(meta_key::command_status, std::to_string(*command_status));
    if (!disk_full_) writer_->set_meta(meta_key::end_time, iso8601_utc(std::chrono::system_clock::now()));
  } catch (const DiskFull&) {
    on_disk_full();
  }
  // Each collector detaches and says what was lost; then the sampler and process tracker
  // goes too: nothing of ours stays attached after the final report.
  for (auto& c : collectors_) c->stop();
  if (const std::uint64_t lost = tracker_->events_lost(); lost > 0) {
    warn(fmt::format("{} process events were lost: some child processes may be missing; raise --map-scale", lost));
  }
  tracker_ = nullptr;
  backend_.reset();
  try {
    if (!disk_full_) writer_->finish();
  } catch (const DiskFull&) {
    on_disk_full();
  }
  if (disk_full_) fail_disk_full();
  final_report(note);
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
