#include "collect/heap_collector.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "heap.skel.h"
#include "collect/map_memory.h"
#include "collect/percpu.h"
#include "hotline_abi.h"
#include "unwind/stack_reader.h"
#include "skeletons.h"
#include "symbolize/elf_functions.h"
#include "target/proc.h"
#include "util/error.h"

namespace hotline {
namespace {

struct Entry {
  const char* name;
  hotline_alloc_fn kind;
};

// The malloc family under its plain names (libc, or an allocator that replaces it).
constexpr Entry kFamily[] = {
    {"malloc", HOTLINE_ALLOC_MALLOC},          {"calloc", HOTLINE_ALLOC_CALLOC},
    {"realloc", HOTLINE_ALLOC_REALLOC},        {"reallocarray", HOTLINE_ALLOC_REALLOCARRAY},
    {"free", HOTLINE_ALLOC_FREE},              {"cfree", HOTLINE_ALLOC_FREE},
    {"posix_memalign", HOTLINE_ALLOC_POSIX_MEMALIGN},
    {"aligned_alloc", HOTLINE_ALLOC_MEMALIGN}, {"memalign", HOTLINE_ALLOC_MEMALIGN},
    {"valloc", HOTLINE_ALLOC_MALLOC},          {"pvalloc", HOTLINE_ALLOC_MALLOC},
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

// Kernel ABI of BPF_LINK_CREATE for uprobe_multi (include/uapi/linux/bpf.h, Linux 6.6+;
// newer than the uapi headers hotline builds against).
constexpr std::uint32_t kBpfTraceUprobeMulti = 48;
constexpr std::uint32_t kBpfFUprobeMultiReturn = 1;
struct UprobeMultiAttr {
  std::uint32_t prog_fd = 0, target_fd = 0, attach_type = 0, flags = 0;
  std::uint64_t path = 0, offsets = 0, ref_ctr_offsets = 0, cookies = 0;
  std::uint32_t cnt = 0, multi_flags = 0, pid = 0, pad = 0;
};

Error attach_error(const std::string& what, int err) {
  err = err < 0 ? -err : err;
  if (err == EPERM || err == EACCES) {
    return Error(ExitCode::permission, errno_text(what, err),
                 "heap exact mode needs CAP_BPF and CAP_PERFMON, and on kernels without uprobe_multi links (before "
                 "6.6) CAP_SYS_ADMIN for uprobes: run as root or grant them, or record CPU only with --heap=off");
  }
  return Error(ExitCode::general, errno_text(what, err));
}

}  // namespace

}  // namespace hotline

// Probed by the calibration: an empty call that the compiler must keep.
extern "C" __attribute__((noinline, used)) void hotline_probe_calibration_target(volatile int* sink) { *sink = *sink + 1; }

namespace hotline {

HeapCollector::Link::Link(Link&& other) noexcept
    : fd_(std::move(other.fd_)), link_(std::exchange(other.link_, nullptr)) {}

HeapCollector::Link& HeapCollector::Link::operator=(Link&& other) noexcept {
  if (this != &other) {
    if (link_ != nullptr) bpf_link__destroy(link_);
    fd_ = std::move(other.fd_);
    link_ = std::exchange(other.link_, nullptr);
  }
  return *this;
}

HeapCollector::Link::~Link() {
  if (link_ != nullptr) bpf_link__destroy(link_);
}

std::uint64_t HeapCollector::estimated_map_bytes(const Options& o) {
  using namespace map_memory;
  return hash(sizeof(std::uint32_t), 24 + sizeof(hotline_heap_key) + 8, 16384) +   // pending_calls (struct pending)
         hash(16, 8 + sizeof(hotline_heap_key), o.live_entries) +                  // live
         hash(sizeof(hotline_heap_key), sizeof(hotline_heap_totals), o.site_entries) +  // sites
         hash(sizeof(std::uint32_t), sizeof(hotline_stack), o.stack_entries) +     // heap_stacks
         percpu_array(sizeof(hotline_stack), 1) +                                   // unwind_scratch
         percpu_array(8, HOTLINE_HEAP_STAT_COUNT) + mmapable_array(32, 1);           // heap_stats, .rodata
}

HeapCollector::HeapCollector(const Options& options) : options_(options) {
  if (options_.targets_fd < 0) throw Error(ExitCode::general, "heap exact mode needs the BPF CPU sampler's process map");
  multi_ = options_.uprobe_multi;
  skel_ = skeleton::open_heap();
  if (skel_ == nullptr) throw attach_error("cannot open the heap BPF object", errno);
  bpf_map__set_max_entries(skel_->maps.live, options_.live_entries);
  bpf_map__set_max_entries(skel_->maps.sites, options_.site_entries);
  bpf_map__set_max_entries(skel_->maps.heap_stacks, options_.stack_entries);
  skel_->rodata->hotline_restricted = options_.access.restricted ? 1 : 0;
  skel_->rodata->hotline_uid = options_.access.uid;
  skel_->rodata->hotline_gid = options_.access.gid;
  skel_->rodata->hotline_caps = options_.access.permitted_caps;
  skel_->rodata->hotline_self = static_cast<std::uint32_t>(::getpid());
  skel_->rodata->hotline_unwind_mode = static_cast<std::uint32_t>(options_.unwind);
  int err = bpf_map__reuse_fd(skel_->maps.targets, options_.targets_fd);
  if (err == 0 && options_.unwind_maps != nullptr) err = reuse_unwind_maps(skel_->maps, *options_.unwind_maps);
  if (err == 0 && multi_) {
    err = bpf_program__set_expected_attach_type(skel_->progs.heap_enter, static_cast<bpf_attach_type>(kBpfTraceUprobeMulti));
    if (err == 0) {
      err = bpf_program__set_expected_attach_type(skel_->progs.heap_exit,
                                                  static_cast<bpf_attach_type>(kBpfTraceUprobeMulti));
    }
  }
  if (err == 0) err = skeleton::load_heap(skel_);
  if (err != 0) {
    skeleton::destroy_heap(skel_);
    skel_ = nullptr;
    if (err == -ENOMEM || err == -E2BIG || err == -EPERM) {
      throw MapsTooLarge(errno_text("cannot create the heap BPF maps", -err));
    }
    throw attach_error("cannot load the heap BPF programs", err);
  }
  bpf_link* exit_link = bpf_program__attach(skel_->progs.heap_thread_exit);
  if (exit_link == nullptr) {
    const int e = errno;
    skeleton::destroy_heap(skel_);
    skel_ = nullptr;
    throw attach_error("cannot attach the heap thread-exit program (tp_btf)", e);
  }
  thread_exit_.emplace_back(exit_link);
}

HeapCollector::~HeapCollector() {
  // Every remaining link closes at once, in parallel: each close waits for kernel grace
  // periods, and uprobe_multi links do not serialize on a global lock.
  std::vector<Link> all = std::move(thread_exit_);
  for (auto& [key, set] : sets_) {
    for (Link& l : set.links) all.push_back(std::move(l));
  }
  sets_.clear();
  release(std::move(all));
  {
    const std::lock_guard hold(closing_lock_);
    stopping_ = true;
  }
  closing_wake_.notify_all();
  for (std::thread& t : closers_) t.join();  // each drains the queue before it returns
  to_close_.clear();
  if (skel_ != nullptr) skeleton::destroy_heap(skel_);
}

namespace {
constexpr std::size_t kClosers = 8;
}  // namespace

void HeapCollector::release(std::vector<Link> links) {
  if (links.empty()) return;
  {
    const std::lock_guard hold(closing_lock_);
    for (Link& link : links) to_close_.push_back(std::move(link));
    if (closers_.size() < std::min(kClosers, to_close_.size())) {
      try {
        closers_.emplace_back([this] { closer(); });
      } catch (const std::system_error&) {
        // No thread to be had (a pids limit, say): the links close below, one at a time.
      }
    }
    if (!closers_.empty()) {
      closing_wake_.notify_all();
      return;
    }
  }
  std::deque<Link> now;
  {
    const std::lock_guard hold(closing_lock_);
    now.swap(to_close_);
  }
  now.clear();  // closes them here
}

void HeapCollector::closer() {
  std::unique_lock hold(closing_lock_);
  while (true) {
    closing_wake_.wait(hold, [this] { return stopping_ || !to_close_.empty(); });
    if (to_close_.empty()) return;  // stopping, nothing left
    Link link = std::move(to_close_.front());
    to_close_.pop_front();
    ++in_close_;
    hold.unlock();
    { Link gone = std::move(link); }
    hold.lock();
    --in_close_;
  }
}

std::size_t HeapCollector::closing() const {
  const std::lock_guard hold(closing_lock_);
  return to_close_.size() + in_close_;
}

void HeapCollector::detach() {
  std::vector<Link> all;
  for (auto& [key, set] : sets_) {
    for (Link& l : set.links) all.push_back(std::move(l));
  }
  sets_.clear();
  release(std::move(all));
}

std::vector<HeapCollector::Link> HeapCollector::attach_file(int fd, const std::string& path, pid_t scope,
                                                           std::vector<HeapProbe>& probes) {
  std::set<std::string> wanted;
  for (const Entry& e : kFamily) {
    wanted.insert(e.name);
    for (const char* prefix : kPrefixes) wanted.insert(std::string(prefix) + e.name);
  }
  for (const char* name : kOperatorNew) wanted.insert(name);
  std::vector<ElfFunction> functions = find_functions(fd, wanted);
  std::vector<Link> links;
  if (functions.empty()) return links;
  std::map<std::string, const ElfFunction*> by_name;
  for (const auto& f : functions) by_name[f.name] = &f;
  // One family per file: the plain names if it defines malloc, else the first prefix that
  // has one (a prefixed family's plain aliases would be probed twice otherwise).
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
  std::vector<std::uint64_t> offsets, cookies, return_offsets;
  std::vector<std::string> names;
  std::set<std::uint64_t> seen;  // aliases (cfree = free) share an entry point
  auto add = [&](const ElfFunction& f, hotline_alloc_fn kind) {
    if (!seen.insert(f.file_offset).second) return;
    offsets.push_back(f.file_offset);
    cookies.push_back(kind);
    names.push_back(f.name);
    if (kind != HOTLINE_ALLOC_FREE) return_offsets.push_back(f.file_offset);
    probes.push_back({path, f.name});
  };
  if (prefix != "-") {
    for (const Entry& e : kFamily) {
      if (auto it = by_name.find(prefix + e.name); it != by_name.end()) add(*it->second, e.kind);
    }
  }
  for (const char* name : kOperatorNew) {
    if (auto it = by_name.find(name); it != by_name.end()) add(*it->second, HOTLINE_ALLOC_MALLOC);
  }
  if (offsets.empty()) return links;
  // The kernel resolves the path itself: give it the descriptor already checked (target
  // files rule), never a path the target could swap for another file.
  const std::string kernel_path = fd_path(fd);
  if (multi_) {
    auto link = [&](bpf_program* prog, const std::vector<std::uint64_t>& at, const std::uint64_t* cookie,
                    std::uint32_t flags) {
      UprobeMultiAttr attr;
      attr.prog_fd = static_cast<std::uint32_t>(bpf_program__fd(prog));
      attr.attach_type = kBpfTraceUprobeMulti;
      attr.path = reinterpret_cast<std::uintptr_t>(kernel_path.c_str());
      attr.offsets = reinterpret_cast<std::uintptr_t>(at.data());
      attr.cookies = reinterpret_cast<std::uintptr_t>(cookie);
      attr.cnt = static_cast<std::uint32_t>(at.size());
      attr.multi_flags = flags;
      attr.pid = static_cast<std::uint32_t>(scope);
      UniqueFd fd_link(static_cast<int>(::syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof attr)));
      if (!fd_link) throw attach_error(fmt::format("cannot probe the allocator in {}", path), errno);
      links.emplace_back(std::move(fd_link));
    };
    link(skel_->progs.heap_enter, offsets, cookies.data(), 0);
    if (!return_offsets.empty()) link(skel_->progs.heap_exit, return_offsets, nullptr, kBpfFUprobeMultiReturn);
    return links;
  }
  const pid_t perf_pid = scope == 0 ? -1 : scope;
  for (std::size_t i = 0; i < offsets.size(); ++i) {
    bpf_uprobe_opts opts{};
    opts.sz = sizeof opts;
    opts.bpf_cookie = cookies[i];
    bpf_link* l = bpf_program__attach_uprobe_opts(skel_->progs.heap_enter, perf_pid, kernel_path.c_str(), offsets[i],
                                                 &opts);
    if (l == nullptr) throw attach_error(fmt::format("cannot probe {} in {}", names[i], path), errno);
    links.emplace_back(l);
  }
  for (std::uint64_t at : return_offsets) {
    bpf_link* l = bpf_program__attach_uprobe(skel_->progs.heap_exit, true, perf_pid, kernel_path.c_str(), at);
    if (l == nullptr) throw attach_error(fmt::format("cannot probe the returns of the allocator in {}", path), errno);
    links.emplace_back(l);
  }
  return links;
}

HeapCollector::Probed HeapCollector::probe(pid_t pid, const std::vector<std::string>& given) {
  Probed out;
  auto origin = target_origin(pid);
  if (!origin) throw Error(ExitCode::not_found, fmt::format("process {} is gone", pid));
  struct File {
    std::string path;
    std::optional<Inode> mapped;
  };
  std::vector<File> files;
  if (given.empty()) {
    auto maps = read_maps(pid);
    if (!maps) throw Error(ExitCode::not_found, fmt::format("cannot read the mappings of process {}", pid));
    std::set<std::string> seen;
    for (const Mapping& m : *maps) {
      if (!m.executable || !m.is_file() || m.deleted || !seen.insert(m.path).second) continue;
      files.push_back({m.path, Inode{makedev(m.dev_major, m.dev_minor), m.inode}});
    }
  } else {
    for (const auto& f : given) files.push_back({f, std::nullopt});
  }
  const pid_t scope = options_.per_process ? pid : 0;
  for (const File& file : files) {
    OpenedFile opened = open_in_root(*origin, file.path, {kMaxElfBytes, file.mapped});
    if (!opened) continue;
    const SetKey key{opened.inode.dev, opened.inode.ino, scope};
    if (auto it = sets_.find(key); it != sets_.end()) {
      it->second.users.insert(pid);
      out.covered = true;
      continue;
    }
    if (no_allocator_.contains({opened.inode.dev, opened.inode.ino})) continue;
    // Bounded: probe sets, and links still closing (perf-event uprobes close one at a time,
    // each waiting for grace periods, under a lock the kernel holds for all of them).
    if (sets_.size() >= options_.max_probe_sets || links() + closing() >= kMaxLinks) {
      ++unprobed_files_;
      continue;
    }
    std::vector<HeapProbe> probes;
    std::vector<Link> links = attach_file(opened.fd.get(), file.path, scope, probes);
    if (links.empty()) {
      no_allocator_.insert({opened.inode.dev, opened.inode.ino});
      continue;
    }
    ProbeSet& set = sets_[key];
    set.path = file.path;
    set.links = std::move(links);
    set.users.insert(pid);
    set.probes = probes;
    out.added.insert(out.added.end(), probes.begin(), probes.end());
    out.covered = true;
  }
  dead_.erase(pid);
  return out;
}

void HeapCollector::forget(pid_t pid) {
  std::vector<Link> unused;
  for (auto it = sets_.begin(); it != sets_.end();) {
    ProbeSet& set = it->second;
    if (set.users.erase(pid) > 0 && set.users.empty()) {
      for (Link& l : set.links) unused.push_back(std::move(l));
      it = sets_.erase(it);
    } else {
      ++it;
    }
  }
  release(std::move(unused));
  dead_.insert(pid);
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
  OpenedFile exe = open_proc_link(own_origin(), "/proc/self/exe", {kMaxElfBytes, {}, true});
  if (!exe) return kFallback;
  // hotline is not a tracked process: the programs return at once, as for a call of an
  // untracked process; what is measured is the trap, the same for every call of the target.
  const std::string path = fd_path(exe.fd.get());
  const std::uint64_t offset = functions[0].file_offset;
  auto attach = [&](bpf_program* prog, bool ret) -> std::optional<Link> {
    if (multi_) {
      UprobeMultiAttr attr;
      const std::uint64_t cookie = HOTLINE_ALLOC_FREE;
      attr.prog_fd = static_cast<std::uint32_t>(bpf_program__fd(prog));
      attr.attach_type = kBpfTraceUprobeMulti;
      attr.path = reinterpret_cast<std::uintptr_t>(path.c_str());
      attr.offsets = reinterpret_cast<std::uintptr_t>(&offset);
      attr.cookies = ret ? 0 : reinterpret_cast<std::uintptr_t>(&cookie);
      attr.cnt = 1;
      attr.multi_flags = ret ? kBpfFUprobeMultiReturn : 0;
      attr.pid = static_cast<std::uint32_t>(self);
      UniqueFd fd(static_cast<int>(::syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof attr)));
      if (!fd) return std::nullopt;
      return Link(std::move(fd));
    }
    bpf_uprobe_opts opts{};
    opts.sz = sizeof opts;
    opts.bpf_cookie = HOTLINE_ALLOC_FREE;
    opts.retprobe = ret;
    bpf_link* l = bpf_program__attach_uprobe_opts(prog, self, path.c_str(), offset, &opts);
    if (l == nullptr) return std::nullopt;
    return Link(l);
  };
  std::pair<double, double> cost = kFallback;
  {
    std::optional<Link> entry = attach(skel_->progs.heap_enter, false);
    if (!entry) return kFallback;
    const double with_entry = time_calls(kCalls);
    double with_both = with_entry;
    std::optional<Link> ret = attach(skel_->progs.heap_exit, true);
    if (ret) with_both = time_calls(kCalls);
    cost = {std::max(0.0, with_entry - bare), std::max(0.0, with_both - with_entry)};
    std::vector<Link> done;
    done.push_back(std::move(*entry));
    if (ret) done.push_back(std::move(*ret));
    release(std::move(done));
  }
  calibration_ = {};
  calibration_ = stats();  // what the calibration's own calls counted, left out from now on
  return cost;
}

void HeapCollector::purge_dead() {
  if (dead_.empty()) return;
  // Blocks still live in processes that are gone: freed with their address space. Read in
  // batches (one system call per few thousand entries), deleted in one batch.
  const int fd = bpf_map__fd(skel_->maps.live);
  struct LiveKey {
    std::uint32_t pid, pad;
    std::uint64_t ptr;
  };
  static_assert(sizeof(LiveKey) == 16);
  constexpr std::uint32_t kBatch = 4096;
  std::vector<LiveKey> keys(kBatch), doomed;
  std::vector<std::uint8_t> values(std::size_t{kBatch} * bpf_map__value_size(skel_->maps.live));
  std::uint32_t in = 0, out = 0;
  bool first = true;
  while (true) {
    std::uint32_t count = kBatch;
    const int err = bpf_map_lookup_batch(fd, first ? nullptr : &in, &out, keys.data(), values.data(), &count, nullptr);
    first = false;
    for (std::uint32_t i = 0; i < count; ++i) {
      if (dead_.contains(static_cast<pid_t>(keys[i].pid))) doomed.push_back(keys[i]);
    }
    if (err != 0) break;  // ENOENT: the whole map was read
    in = out;
  }
  for (std::size_t done = 0; done < doomed.size();) {
    std::uint32_t count = static_cast<std::uint32_t>(std::min<std::size_t>(doomed.size() - done, kBatch));
    if (bpf_map_delete_batch(fd, doomed.data() + done, &count, nullptr) != 0 && count == 0) break;
    done += count;
  }
}

std::vector<HeapDelta> HeapCollector::drain() {
  const int sites_fd = bpf_map__fd(skel_->maps.sites);
  const int stacks_fd = bpf_map__fd(skel_->maps.heap_stacks);
  std::vector<HeapDelta> out;
  hotline_heap_key key{}, next{};
  const void* prev = nullptr;
  StackReader stacks(stacks_fd);
  std::vector<hotline_heap_key> finished;  // sites of processes that are gone, read a last time
  while (bpf_map_get_next_key(sites_fd, prev, &next) == 0) {
    key = next;
    prev = &key;
    hotline_heap_totals now{};
    if (bpf_map_lookup_elem(sites_fd, &key, &now) != 0) continue;
    const Site site{key.pid, key.stack, key.caller};
    if (dead_.contains(static_cast<pid_t>(key.pid))) finished.push_back(key);
    Totals& before = previous_[site];
    if (now.alloc_count == before.alloc_count && now.free_count == before.free_count) continue;
    HeapDelta d;
    d.pid = static_cast<pid_t>(key.pid);
    d.alloc_bytes = now.alloc_bytes - before.alloc_bytes;
    d.alloc_count = now.alloc_count - before.alloc_count;
    d.free_bytes = now.free_bytes - before.free_bytes;
    d.free_count = now.free_count - before.free_count;
    before = {now.alloc_bytes, now.alloc_count, now.free_bytes, now.free_count};
    // Without its first entry (inside the allocator). The kernel's frame-pointer walk skips
    // the immediate caller (the allocator has not pushed a frame yet at its entry): it comes
    // from the stack pointer. An unwinder from tables has it as its second frame.
    const ReadStack& chain = stacks.read(key.stack);
    // Whichever way it was unwound (a frame-pointer step at the allocator's entry skips the
    // caller too, in tables mode where a file has no table), the caller read at the stack
    // pointer is the true one: it comes first unless the chain has it already.
    if (key.caller != 0 && (chain.ips.size() < 2 || chain.ips[1] != key.caller)) d.user_ips.push_back(key.caller);
    for (std::size_t i = 1; i < chain.ips.size(); ++i) d.user_ips.push_back(chain.ips[i]);
    d.user_stop = chain.stop;
    out.push_back(std::move(d));
  }
  for (const auto& k : finished) {
    bpf_map_delete_elem(sites_fd, &k);
    previous_.erase({k.pid, k.stack, k.caller});
  }
  purge_dead();
  dead_.clear();
  return out;
}

HeapStats HeapCollector::stats() const {
  HeapStats s;
  const int fd = bpf_map__fd(skel_->maps.heap_stats);
  auto sum = [fd](std::uint32_t index) { return sum_percpu(fd, index); };
  s.allocs = sum(HOTLINE_HEAP_STAT_ALLOCS);
  s.frees = sum(HOTLINE_HEAP_STAT_FREES);
  s.untracked_frees = sum(HOTLINE_HEAP_STAT_UNTRACKED_FREES);
  s.dropped = sum(HOTLINE_HEAP_STAT_DROPPED);
  s.stacks_lost = sum(HOTLINE_HEAP_STAT_STACK_LOST);
  s.sites_full = sum(HOTLINE_HEAP_STAT_SITES_FULL);
  s.failed = sum(HOTLINE_HEAP_STAT_FAILED);
  s.bystander_allocs = sum(HOTLINE_HEAP_STAT_BYSTANDER_ALLOCS) - std::min(calibration_.bystander_allocs, sum(HOTLINE_HEAP_STAT_BYSTANDER_ALLOCS));
  s.bystander_frees = sum(HOTLINE_HEAP_STAT_BYSTANDER_FREES) - std::min(calibration_.bystander_frees, sum(HOTLINE_HEAP_STAT_BYSTANDER_FREES));
  s.denied = sum(HOTLINE_HEAP_STAT_DENIED);
  s.self_calls = sum(HOTLINE_HEAP_STAT_SELF_CALLS) - std::min(calibration_.self_calls, sum(HOTLINE_HEAP_STAT_SELF_CALLS));
  return s;
}

std::uint64_t HeapCollector::map_bytes() const {
  std::uint64_t total = 0;
  for (const bpf_map* m : {skel_->maps.pending_calls, skel_->maps.live, skel_->maps.sites, skel_->maps.heap_stacks,
                           skel_->maps.heap_stats, skel_->maps.unwind_scratch, skel_->maps.rodata}) {
    total += map_memory::locked(bpf_map__fd(m));
  }
  return total;  // `targets` is the CPU sampler's, counted there
}

std::size_t HeapCollector::links() const {
  std::size_t n = 0;
  for (const auto& [key, set] : sets_) n += set.links.size();
  return n;
}

}  // namespace hotline
