#include "collect/exact_heap.h"
#include "store/meta_keys.h"

#include <algorithm>

#include <fmt/format.h>

#include "collect/map_memory.h"
#include "collect/sampled_heap.h"
#include "target/proc.h"
#include "util/error.h"
#include "util/log.h"

namespace hotline {

using std::chrono::milliseconds;

std::unique_ptr<ExactHeap> ExactHeap::load(const Options& o, std::string& why_not) {
  HeapCollector::Options hopts;
  auto scale = [&](std::uint32_t n) {
    return static_cast<std::uint32_t>(std::clamp(n * o.map_scale, 1024.0, 64.0 * 1024 * 1024));
  };
  hopts.live_entries = scale(hopts.live_entries);
  hopts.site_entries = scale(hopts.site_entries);
  hopts.stack_entries = scale(hopts.stack_entries);
  hopts.targets_fd = o.targets_fd;
  hopts.unwind = o.unwind;
  hopts.unwind_maps = o.unwind_maps;
  hopts.access = o.access;
  hopts.per_process = o.per_process;
  hopts.uprobe_multi = o.uprobe_multi;
  // One budget for every map: what the other collectors' maps left. Halved to fit it, and
  // again when the kernel refuses them for lack of memory; below the floor, no heap profile.
  const std::uint64_t left = o.map_bytes_left;
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
  auto give_up = [&](const std::string& why) -> std::unique_ptr<ExactHeap> {
    const std::string what = fmt::format("no heap profile: {}", why);
    if (o.required) {
      throw Error(ExitCode::general, what,
                  "raise the memory cgroup limit (memory.max) or RLIMIT_MEMLOCK, lower --map-scale, or record CPU "
                  "only with --heap=off");
    }
    warn(what + "; CPU only (raise the memory limit, or pass --heap=off to say so)");
    why_not = why;
    return nullptr;
  };
  if (HeapCollector::estimated_map_bytes(hopts) > left) {
    return give_up(fmt::format("its BPF maps need {:.1f} MiB even at their smallest, and {:.1f} MiB of the budget "
                               "(1/8 of memory) are left",
                               static_cast<double>(HeapCollector::estimated_map_bytes(hopts)) / (1 << 20),
                               static_cast<double>(left) / (1 << 20)));
  }
  std::unique_ptr<HeapCollector> heap;
  while (true) {
    try {
      heap = std::make_unique<HeapCollector>(hopts);
      break;
    } catch (const MapsTooLarge& e) {
      if (!halve()) {
        return give_up(fmt::format("the kernel refuses its BPF maps for lack of memory even at {} live blocks ({}; a "
                                   "memory cgroup limit?)",
                                   hopts.live_entries, e.what()));
      }
    }
  }
  if (halvings > 0) {
    warn(fmt::format("heap BPF maps reduced to 1/{} of the requested size ({} live blocks, {:.1f} MiB) to fit the "
                     "memory available: more allocations may go untracked",
                     1 << halvings, hopts.live_entries, static_cast<double>(heap->map_bytes()) / (1 << 20)));
  }
  return std::unique_ptr<ExactHeap>(new ExactHeap(o, std::move(heap), halvings));
}

ExactHeap::ExactHeap(const Options& options, std::unique_ptr<HeapCollector> heap, int halvings)
    : options_(options), heap_(std::move(heap)), halvings_(halvings) {
  probe_cost_ns_ = heap_->calibrate();
}

std::vector<SampleType> ExactHeap::sample_types() const { return heap_sample_types(); }

void ExactHeap::start(const std::vector<pid_t>& roots, const std::string& command) {
  tracked_.insert(roots.begin(), roots.end());
  if (command.empty()) {
    for (pid_t pid : roots) probe(pid);
    return;
  }
  // Before it runs: its executable (a static allocator) and the libc and libstdc++ it will
  // most likely map (hotline's own: operator new must be probed from the start, or new's
  // callers are lost behind libstdc++'s frame-pointer-less code); the rest once its loader
  // has mapped it.
  std::vector<std::string> files;
  if (char* exe = ::realpath(command.c_str(), nullptr)) {
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
  for (pid_t pid : roots) probe(pid, files);
}

void ExactHeap::process_changed(pid_t pid, ProcessChange change) {
  tracked_.insert(pid);
  if (detached_ || !attached_) return;
  // A fork: the kernel tracks the child already; its files count as in use (shared probes),
  // or it gets probes of its own (per-process probes). After an exec: probe what the loader
  // mapped. An exec itself waits for that.
  if (change != ProcessChange::executed) follow(pid);
}

void ExactHeap::process_ended(pid_t pid) {
  tracked_.erase(pid);
  heap_->forget(pid);
}

// Heap probes for a process that appeared (fork) or changed (exec) while recording; it may
// already be gone.
void ExactHeap::follow(pid_t pid) {
  try {
    probe(pid);
  } catch (const Error& e) {
    if (options_.verbose) info(fmt::format("heap: process {} not followed: {}", pid, e.what()));
  }
}

void ExactHeap::probe(pid_t pid, const std::vector<std::string>& files) {
  const HeapCollector::Probed probed = heap_->probe(pid, files);
  if (heap_->unprobed_files() > 0 && !unprobed_warned_) {
    unprobed_warned_ = true;
    warn(fmt::format("heap: the limit on heap probes was reached ({} probe sets, {} links open or closing): "
                     "allocators in further files or processes are not tracked (counted in meta heap_unprobed_files)",
                     HeapCollector::Options{}.max_probe_sets, HeapCollector::kMaxLinks));
  }
  if (!probed.covered && (!files.empty() || attached_)) return;  // nothing new
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
    if (probe_names_.insert(name).second) probe_list_ += (probe_list_.empty() ? "" : ",") + name;
  }
  if (attached_) return;
  attached_ = true;
  if (options_.verbose) info(fmt::format("heap: probing {}", list));
  cpu_.clear();
  for (pid_t p : tracked_) cpu_[p] = read_cpu_seconds(p).value_or(0);
  cpu_[pid] = read_cpu_seconds(pid).value_or(0);
  stats_start_ = heap_->stats();
  // The first look comes early: shared probes make other processes pay too, and the first
  // quarter second tells.
  checked_at_ = Clock::now();
  guard_at_ = checked_at_ + milliseconds(250);
}

void ExactHeap::tick() {
  if (guard_at_ && Clock::now() >= *guard_at_) check_overhead();
}

// A uprobe costs microseconds per call: every quarter second under the probes, project the
// targets' slowdown from their allocation rate and the probe cost measured on this host,
// and the CPU time other processes lose to the shared probes (their calls trap too), and
// give up the heap (not the CPU profile) when either is above --max-overhead.
void ExactHeap::check_overhead() {
  const auto checked = Clock::now();
  const double elapsed = std::max(std::chrono::duration<double>(checked - checked_at_).count(), 0.05);
  checked_at_ = checked;
  // What each tracked process ran since the last look (a new one from 0): a child that
  // exits takes its time with it, and must not make the others' look like less.
  double cpu = 0;
  std::map<pid_t, double> now_cpu;
  for (pid_t pid : tracked_) {
    const double seconds = read_cpu_seconds(pid).value_or(0);
    now_cpu[pid] = seconds;
    const auto before = cpu_.find(pid);
    cpu += std::max(0.0, seconds - (before == cpu_.end() ? 0.0 : before->second));
  }
  cpu_ = std::move(now_cpu);
  const HeapStats now = heap_->stats();
  const double calls_alloc = static_cast<double>(now.allocs + now.dropped + now.failed - stats_start_.allocs -
                                                 stats_start_.dropped - stats_start_.failed);
  const double calls_free =
      static_cast<double>(now.frees + now.untracked_frees - stats_start_.frees - stats_start_.untracked_frees);
  const double other_alloc = static_cast<double>(now.bystander_allocs - stats_start_.bystander_allocs);
  const double other_free = static_cast<double>(now.bystander_frees - stats_start_.bystander_frees);
  const double own_calls = static_cast<double>(now.self_calls - stats_start_.self_calls);
  const double per_alloc = (probe_cost_ns_.first + probe_cost_ns_.second) / 1e9, per_free = probe_cost_ns_.first / 1e9;
  const double probe_seconds = calls_alloc * per_alloc + calls_free * per_free;
  const double own_cpu = std::max(cpu - probe_seconds, 0.01);
  const double slowdown_pct = 100.0 * probe_seconds / own_cpu;
  // Of one CPU: the time other processes lost per second of wall clock.
  const double others_pct = 100.0 * (other_alloc * per_alloc + other_free * per_free) / elapsed;
  // hotline's own calls (symbolizing, writing): counted at the cost of an allocation each.
  const double self_pct = 100.0 * own_calls * per_alloc / elapsed;
  stats_start_ = now;
  ++checks_;
  std::string facts = fmt::format("{:.0f} allocations and {:.0f} frees in {:.2f} s under the probes "
                                  "(check {}), at {:.1f} µs per probed call: about {:.0f}% slower",
                                  calls_alloc, calls_free, elapsed, checks_,
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
    guard_at_.reset();
    detached_ = true;
    decision_ = fmt::format("detached: {} (limit {}%)", facts, options_.max_overhead_pct);
    warn(fmt::format("heap probes detached: the target made {} (above --max-overhead {}%). CPU profiling continues; "
                     "heap data stops here. To keep them: --heap=exact --max-overhead=100",
                     facts, options_.max_overhead_pct));
    return;
  }
  // Every quarter second: with shared probes, another process may start allocating at any
  // time, and pays until the next look.
  guard_at_ = Clock::now() + milliseconds(250);
  if (checks_ == 1) {
    decision_ = fmt::format("kept: {} (limit {}%)", facts, options_.max_overhead_pct);
    if (options_.verbose) info("heap: " + facts);
  }
}

void ExactHeap::finishing(bool targets_ended) {
  // The command ended by itself with the heap watched to the end: what is live is leaked.
  if (targets_ended && attached_ && !detached_) complete_ = true;
}

std::vector<StackSample> ExactHeap::drain() {
  std::vector<StackSample> out;
  for (HeapDelta& d : heap_->drain()) out.push_back(heap_sample(std::move(d)));
  return out;
}

MetaEntries ExactHeap::meta() const {
  const HeapStats h = heap_->stats();
  MetaEntries m = {
      {meta_key::heap_map_halvings, std::to_string(halvings_)},
      {meta_key::heap_probe_cost_ns, fmt::format("{:.0f}/{:.0f}", probe_cost_ns_.first, probe_cost_ns_.second)},
      {meta_key::heap_probe_links, heap_->uses_multi_links() ? "uprobe_multi" : "perf_event"},
      {meta_key::heap_probe_scope, heap_->shared_probes() ? "shared" : "per-process"},
      {meta_key::heap_bystander_calls, std::to_string(h.bystander_allocs + h.bystander_frees)},
      {meta_key::heap_self_calls, std::to_string(h.self_calls)},
      {meta_key::heap_unprobed_files, std::to_string(heap_->unprobed_files())},
      {meta_key::heap_allocations, std::to_string(h.allocs)},
      {meta_key::heap_frees, std::to_string(h.frees)},
      {meta_key::heap_untracked_frees, std::to_string(h.untracked_frees)},
      {meta_key::heap_dropped, std::to_string(h.dropped + h.sites_full)},
      {meta_key::heap_lost_stacks, std::to_string(h.stacks_lost)},
  };
  if (options_.access.restricted) m.emplace_back(meta_key::heap_denied_calls, std::to_string(h.denied));
  if (!probe_list_.empty()) m.emplace_back(meta_key::heap_probes, probe_list_);
  if (!decision_.empty()) m.emplace_back(meta_key::heap_decision, decision_);
  if (detached_) m.emplace_back(meta_key::heap_mode, "detached");
  if (complete_) m.emplace_back(meta_key::heap_at_exit, "1");
  return m;
}

void ExactHeap::stop() {
  const HeapStats h = heap_->stats();
  heap_->detach();  // the links close in the background while the recording is finished
  if (h.dropped + h.sites_full > 0) {
    warn(fmt::format("heap: {} allocations were not tracked (maps full): raise --map-scale", h.dropped + h.sites_full));
  }
  if (h.untracked_frees > 0 && !options_.quiet) {
    info(fmt::format("heap: {} frees of blocks allocated before hotline attached were ignored", h.untracked_frees));
  }
}

}  // namespace hotline
