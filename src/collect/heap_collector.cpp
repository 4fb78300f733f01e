#include "collect/heap_collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <set>

#include <fmt/format.h>

#include "heap.skel.h"
#include "collect/percpu.h"
#include "hotline_abi.h"
#include "skeletons.h"
#include "symbolize/elf_functions.h"
#include "target/proc.h"
#include "util/error.h"

namespace hotline {
namespace {

enum class Probe { malloc, calloc, memalign, realloc, reallocarray, posix_memalign, free };

struct Entry {
  const char* name;
  Probe probe;
};

// The malloc family under its plain names (libc, or an allocator that replaces it).
constexpr Entry kFamily[] = {
    {"malloc", Probe::malloc},         {"calloc", Probe::calloc},
    {"realloc", Probe::realloc},       {"reallocarray", Probe::reallocarray},
    {"free", Probe::free},             {"cfree", Probe::free},
    {"posix_memalign", Probe::posix_memalign},
    {"aligned_alloc", Probe::memalign}, {"memalign", Probe::memalign},
    {"valloc", Probe::malloc},         {"pvalloc", Probe::malloc},
};

// Prefixes of allocators linked statically under their own names, used when a file does
// not define the plain names: jemalloc (je_, and Rust's tikv-jemallocator _rjem_), mimalloc,
// tcmalloc.
constexpr const char* kPrefixes[] = {"je_", "_rjem_", "mi_", "tc_"};

// C++ operator new: probed so that the caller is the user's code, not libstdc++. Their
// inner malloc call is then nested and not counted twice. operator delete reaches free.
constexpr const char* kOperatorNew[] = {
    "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t", "_ZnwmSt11align_val_t",
    "_ZnamSt11align_val_t", "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
};

Error attach_error(const std::string& what, int err) {
  err = err < 0 ? -err : err;
  if (err == EPERM || err == EACCES) {
    return Error(ExitCode::permission, errno_text(what, err),
                 "heap profiling needs CAP_BPF and CAP_PERFMON (uprobes): run as root or grant them");
  }
  return Error(ExitCode::general, errno_text(what, err));
}

}  // namespace

}  // namespace hotline

// Probed by the calibration: an empty call that the compiler must keep.
extern "C" __attribute__((noinline, used)) void hotline_probe_calibration_target(volatile int* sink) { *sink = *sink + 1; }

namespace hotline {

HeapCollector::HeapCollector(const Options& options) {
  skel_ = skeleton::open_heap();
  if (skel_ == nullptr) throw attach_error("cannot open the heap BPF object", errno);
  bpf_map__set_max_entries(skel_->maps.live, options.live_entries);
  bpf_map__set_max_entries(skel_->maps.sites, options.site_entries);
  bpf_map__set_max_entries(skel_->maps.heap_stacks, options.stack_entries);
  if (int err = skeleton::load_heap(skel_); err != 0) {
    skeleton::destroy_heap(skel_);
    skel_ = nullptr;
    throw attach_error("cannot load the heap BPF programs", err);
  }
}

HeapCollector::~HeapCollector() {
  detach();
  if (skel_ != nullptr) skeleton::destroy_heap(skel_);
}

void HeapCollector::detach() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  links_.clear();
}

std::vector<HeapProbe> HeapCollector::attach(pid_t pid, const std::vector<std::string>& given) {
  std::vector<HeapProbe> probed;
  std::set<std::string> files(given.begin(), given.end());
  if (given.empty()) {
    auto maps = read_maps(pid);
    if (!maps) throw Error(ExitCode::not_found, fmt::format("cannot read the mappings of process {}", pid));
    for (const Mapping& m : *maps) {
      if (m.executable && m.is_file() && !m.deleted) files.insert(m.path);
    }
  }
  std::uint32_t key = static_cast<std::uint32_t>(pid);
  std::uint8_t one = 1;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.heap_targets), &key, &one, BPF_ANY) != 0) {
    throw attach_error(fmt::format("cannot track process {}", pid), errno);
  }
  std::set<std::string> wanted;
  for (const Entry& e : kFamily) {
    wanted.insert(e.name);
    for (const char* prefix : kPrefixes) wanted.insert(std::string(prefix) + e.name);
  }
  for (const char* name : kOperatorNew) wanted.insert(name);

  for (const std::string& file : files) {
    // Through the target's root: the same file even when it lives in a container.
    const std::string path = fmt::format("/proc/{}/root{}", pid, file);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !probed_files_.emplace(pid, st.st_dev, st.st_ino).second) continue;
    std::vector<ElfFunction> functions = find_functions(path, wanted);
    if (functions.empty()) continue;
    std::map<std::string, const ElfFunction*> by_name;
    for (const auto& f : functions) by_name[f.name] = &f;
    // One family per file: the plain names if it defines malloc, else the first prefix
    // that has one (a prefixed family's plain aliases would be probed twice otherwise).
    std::string prefix;
    if (!by_name.contains("malloc")) {
      prefix = "-";
      for (const char* p : kPrefixes) {
        if (by_name.contains(std::string(p) + "malloc")) {
          prefix = p;
          break;
        }
      }
    }
    std::set<std::uint64_t> offsets;  // aliases (cfree = free) share an entry point
    auto attach_one = [&](const ElfFunction& f, Probe probe) {
      if (!offsets.insert(f.file_offset).second) return;
      bpf_program* enter = nullptr;
      switch (probe) {
        case Probe::malloc: enter = skel_->progs.malloc_enter; break;
        case Probe::calloc: enter = skel_->progs.calloc_enter; break;
        case Probe::memalign: enter = skel_->progs.memalign_enter; break;
        case Probe::realloc: enter = skel_->progs.realloc_enter; break;
        case Probe::reallocarray: enter = skel_->progs.reallocarray_enter; break;
        case Probe::posix_memalign: enter = skel_->progs.posix_memalign_enter; break;
        case Probe::free: enter = skel_->progs.free_enter; break;
      }
      bpf_link* link = bpf_program__attach_uprobe(enter, false, pid, path.c_str(), f.file_offset);
      if (link == nullptr) throw attach_error(fmt::format("cannot probe {} in {}", f.name, file), errno);
      links_.push_back(link);
      if (probe != Probe::free) {
        link = bpf_program__attach_uprobe(skel_->progs.alloc_exit, true, pid, path.c_str(), f.file_offset);
        if (link == nullptr) throw attach_error(fmt::format("cannot probe the return of {} in {}", f.name, file), errno);
        links_.push_back(link);
      }
      probed.push_back({file, f.name});
    };
    if (prefix != "-") {
      for (const Entry& e : kFamily) {
        if (auto it = by_name.find(prefix + e.name); it != by_name.end()) attach_one(*it->second, e.probe);
      }
    }
    for (const char* name : kOperatorNew) {
      if (auto it = by_name.find(name); it != by_name.end()) attach_one(*it->second, Probe::malloc);
    }
  }
  return probed;
}

std::pair<double, double> HeapCollector::calibrate() {
  auto functions = find_functions("/proc/self/exe", {"hotline_probe_calibration_target"});
  constexpr std::pair<double, double> kFallback{5200.0, 1400.0};  // measured on a 6.18 VM
  if (functions.empty()) return kFallback;
  volatile int sink = 0;
  auto time_calls = [&](int n) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) hotline_probe_calibration_target(&sink);
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / n;
  };
  constexpr int kCalls = 2000;
  const double bare = time_calls(kCalls);
  const pid_t self = ::getpid();
  // hotline is not in heap_targets: the programs return at once, as for a call of an
  // untracked process; what is measured is the trap, the same for every call of the target.
  bpf_link* entry = bpf_program__attach_uprobe(skel_->progs.free_enter, false, self, "/proc/self/exe",
                                               functions[0].file_offset);
  if (entry == nullptr) return kFallback;
  const double with_entry = time_calls(kCalls);
  bpf_link* ret = bpf_program__attach_uprobe(skel_->progs.alloc_exit, true, self, "/proc/self/exe",
                                             functions[0].file_offset);
  double with_both = with_entry;
  if (ret != nullptr) {
    with_both = time_calls(kCalls);
    bpf_link__destroy(ret);
  }
  bpf_link__destroy(entry);
  return {std::max(0.0, with_entry - bare), std::max(0.0, with_both - with_entry)};
}

std::vector<HeapDelta> HeapCollector::drain() {
  const int sites_fd = bpf_map__fd(skel_->maps.sites);
  const int stacks_fd = bpf_map__fd(skel_->maps.heap_stacks);
  std::vector<HeapDelta> out;
  hotline_heap_key key{}, next{};
  const void* prev = nullptr;
  std::map<std::int32_t, std::vector<std::uint64_t>> stacks;
  while (bpf_map_get_next_key(sites_fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    hotline_heap_totals now{};
    if (bpf_map_lookup_elem(sites_fd, &key, &now) != 0) continue;
    Totals& before = previous_[{key.pid, key.stack, key.caller}];
    if (now.alloc_count == before.alloc_count && now.free_count == before.free_count) continue;
    HeapDelta d;
    d.pid = static_cast<pid_t>(key.pid);
    d.alloc_bytes = now.alloc_bytes - before.alloc_bytes;
    d.alloc_count = now.alloc_count - before.alloc_count;
    d.free_bytes = now.free_bytes - before.free_bytes;
    d.free_count = now.free_count - before.free_count;
    before = {now.alloc_bytes, now.alloc_count, now.free_bytes, now.free_count};
    // The caller from the stack pointer, then the frame-pointer chain without its first
    // entry (inside the allocator).
    if (key.caller != 0) d.user_ips.push_back(key.caller);
    if (key.stack >= 0) {
      auto [it, inserted] = stacks.try_emplace(key.stack);
      if (inserted) {
        std::uint64_t ips[HOTLINE_MAX_STACK_DEPTH] = {};
        std::uint32_t sid = static_cast<std::uint32_t>(key.stack);
        if (bpf_map_lookup_elem(stacks_fd, &sid, ips) == 0) {
          for (std::uint64_t ip : ips) {
            if (ip == 0) break;
            it->second.push_back(ip);
          }
        }
      }
      for (std::size_t i = 1; i < it->second.size(); ++i) d.user_ips.push_back(it->second[i]);
    }
    out.push_back(std::move(d));
  }
  return out;
}

HeapStats HeapCollector::stats() const {
  HeapStats s;
  const int fd = bpf_map__fd(skel_->maps.heap_stats);
  auto sum = [fd](std::uint32_t index) { return sum_percpu(fd, index); };
  s.allocs = sum(HOTLINE_HEAP_ALLOCS);
  s.frees = sum(HOTLINE_HEAP_FREES);
  s.untracked_frees = sum(HOTLINE_HEAP_UNTRACKED_FREES);
  s.dropped = sum(HOTLINE_HEAP_DROPPED);
  s.stacks_lost = sum(HOTLINE_HEAP_STACK_LOST);
  s.sites_full = sum(HOTLINE_HEAP_SITES_FULL);
  s.failed = sum(HOTLINE_HEAP_FAILED);
  return s;
}

std::uint64_t HeapCollector::map_bytes() const {
  std::uint64_t total = 0;
  for (const bpf_map* m : {skel_->maps.heap_targets, skel_->maps.pending_calls, skel_->maps.live, skel_->maps.sites,
                           skel_->maps.heap_stacks, skel_->maps.heap_stats}) {
    total += static_cast<std::uint64_t>(bpf_map__key_size(m) + bpf_map__value_size(m)) * bpf_map__max_entries(m);
  }
  return total;
}

}  // namespace hotline
