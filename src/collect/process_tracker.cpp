#include "collect/process_tracker.h"

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <string_view>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "collect/libbpf_log.h"
#include "collect/map_memory.h"
#include "collect/percpu.h"
#include "hotline_abi.h"
#include "proc.skel.h"
#include "skeletons.h"

namespace hotline {
namespace {

int handle_event(void* ctx, void* data, std::size_t size) {
  if (size < sizeof(hotline_proc_event)) return 0;
  const auto* raw = static_cast<const hotline_proc_event*>(data);
  // ctx is &BpfProcessTracker::on_event_, set only while poll_events runs.
  const auto* callback = *static_cast<const std::function<void(const ProcEvent&)>**>(ctx);
  ProcEvent event;
  event.kind = static_cast<ProcEvent::Kind>(raw->kind);
  event.pid = static_cast<pid_t>(raw->pid);
  event.parent = static_cast<pid_t>(raw->parent_pid);
  event.comm.assign(raw->comm, strnlen(raw->comm, sizeof raw->comm));
  if (event.kind == ProcEvent::exit) event.status = static_cast<int>(raw->status);
  event.time_ns = raw->time_ns;
  if (callback && *callback) (*callback)(event);
  return 0;
}

constexpr std::uint32_t kEventBytes = 256 * 1024;

// Before Linux 6.1 the verifier refuses hash maps allocated per entry (BPF_F_NO_PREALLOC) in
// perf_event programs, which read the unwind maps.
bool kernel_before_6_1() {
  utsname u{};
  if (::uname(&u) != 0) return false;
  const std::string_view release(u.release);
  int major = 0, minor = 0;
  const auto [dot, ec] = std::from_chars(release.data(), release.data() + release.size(), major);
  if (ec != std::errc() || dot == release.data() + release.size() || *dot != '.') return false;
  if (std::from_chars(dot + 1, release.data() + release.size(), minor).ec != std::errc()) return false;
  return major < 6 || (major == 6 && minor < 1);
}

}  // namespace

BpfProcessTracker::BpfProcessTracker(const Options& options) : options_(options) {
  use_hotline_libbpf_log();
  skel_ = skeleton::open_proc();
  if (skel_ == nullptr) throw bpf_error("cannot open the process tracker BPF object", errno);
  bpf_map__set_max_entries(skel_->maps.targets, options_.max_processes);
  bpf_map__set_max_entries(skel_->maps.unwind_procs, options_.max_processes);
  bpf_map__set_max_entries(skel_->maps.unwind_request_times, options_.unwind_tables ? options_.max_processes : 1);
  if (kernel_before_6_1()) {  // preallocated instead, and smaller
    for (bpf_map* m : {skel_->maps.unwind_procs, skel_->maps.unwind_pages}) bpf_map__set_map_flags(m, 0);
    bpf_map__set_max_entries(skel_->maps.unwind_procs, std::min<std::uint32_t>(options_.max_processes, 512));
    bpf_map__set_max_entries(skel_->maps.unwind_pages, 16384);
  }
  if (!options_.unwind_tables) {
    // Unused with frame pointers: the smallest maps the programs load with.
    bpf_map__set_max_entries(skel_->maps.unwind_rules, 1);
    bpf_map__set_max_entries(skel_->maps.unwind_tables, 1);
    bpf_map__set_max_entries(skel_->maps.unwind_pages, 1);
  }
  // The OOM killer's tracepoint is there since 4.x, but a kernel may be built without it
  // (or rename it): then OOM kills read as SIGKILL.
  oom_tracepoint_ = libbpf_find_vmlinux_btf_id("mark_victim", BPF_TRACE_RAW_TP) > 0;
  bpf_program__set_autoload(skel_->progs.on_oom_victim, oom_tracepoint_);
  skel_->rodata->hotline_restricted = options_.access.restricted ? 1 : 0;
  skel_->rodata->hotline_uid = options_.access.uid;
  skel_->rodata->hotline_gid = options_.access.gid;
  skel_->rodata->hotline_caps = options_.access.permitted_caps;
  if (const int err = skeleton::load_proc(skel_); err != 0) {
    skeleton::destroy_proc(skel_);
    skel_ = nullptr;
    throw bpf_error("cannot load the process tracker BPF programs", err);
  }
  unwind_ = {bpf_map__fd(skel_->maps.unwind_procs),    bpf_map__fd(skel_->maps.unwind_pages),
             bpf_map__fd(skel_->maps.unwind_rules),    bpf_map__fd(skel_->maps.unwind_tables),
             bpf_map__fd(skel_->maps.unwind_requests), bpf_map__fd(skel_->maps.unwind_request_times)};
  events_ = ring_buffer__new(bpf_map__fd(skel_->maps.proc_events), handle_event, &on_event_, nullptr);
  if (events_ == nullptr) {
    const int err = errno;
    skeleton::destroy_proc(skel_);
    skel_ = nullptr;
    throw bpf_error("cannot open the process event ring buffer", err);
  }
}

BpfProcessTracker::~BpfProcessTracker() {
  for (bpf_link* link : links_) bpf_link__destroy(link);
  if (events_) ring_buffer__free(events_);
  if (skel_) skeleton::destroy_proc(skel_);
}

std::uint64_t BpfProcessTracker::estimated_map_bytes(const Options& o) {
  using namespace map_memory;
  // The unwind maps' hash maps allocate per entry (BPF_F_NO_PREALLOC): empty at creation.
  const std::uint32_t requesters = o.unwind_tables ? o.max_processes : 1;
  const std::uint32_t tables = o.unwind_tables ? 1024 : 1;
  return hash(sizeof(std::uint32_t), 1, o.max_processes) + percpu_array(8, HOTLINE_PROC_STAT_COUNT) +
         ringbuf(kEventBytes) + mmapable_array(32, 1) +  // .rodata (access rule)
         hash_on_demand(o.max_processes) + hash_on_demand(o.unwind_tables ? 65536 : 1) +  // procs, pages
         array(sizeof(hotline_unwind_rule), o.unwind_tables ? 16384 : 1) + array(8, tables) +  // rules, tables
         ringbuf(16 * 1024) + hash(sizeof(std::uint32_t), sizeof(std::uint64_t), requesters);
}

void BpfProcessTracker::attach() {
  for (bpf_program* prog : {skel_->progs.on_fork, skel_->progs.on_exec, skel_->progs.on_exit}) {
    bpf_link* link = bpf_program__attach(prog);
    if (link == nullptr) throw bpf_error(fmt::format("cannot attach {} (tp_btf)", bpf_program__name(prog)), errno);
    links_.push_back(link);
  }
  if (oom_tracepoint_) {
    if (bpf_link* link = bpf_program__attach(skel_->progs.on_oom_victim)) {
      links_.push_back(link);
      oom_attached_ = true;
    }
  }
}

void BpfProcessTracker::add_target(pid_t pid) {
  std::uint32_t key = static_cast<std::uint32_t>(pid);
  std::uint8_t one = 1;
  if (bpf_map_update_elem(bpf_map__fd(skel_->maps.targets), &key, &one, BPF_ANY) != 0) {
    throw bpf_error(fmt::format("cannot track process {}", pid), errno);
  }
}

void BpfProcessTracker::remove_target(pid_t pid) {
  std::uint32_t key = static_cast<std::uint32_t>(pid);
  bpf_map_delete_elem(bpf_map__fd(skel_->maps.targets), &key);
}

void BpfProcessTracker::poll_events(int timeout_ms, const std::function<void(const ProcEvent&)>& on_event) {
  on_event_ = &on_event;  // the ring buffer's ctx points at on_event_
  const int rc = ring_buffer__poll(events_, timeout_ms);
  on_event_ = nullptr;
  if (rc < 0 && rc != -EINTR) throw bpf_error("cannot read process events", rc);
}

int BpfProcessTracker::targets_fd() const { return bpf_map__fd(skel_->maps.targets); }

std::uint64_t BpfProcessTracker::events_lost() const {
  const int fd = bpf_map__fd(skel_->maps.proc_stats);
  return sum_percpu(fd, HOTLINE_PROC_STAT_EVENTS_LOST) + sum_percpu(fd, HOTLINE_PROC_STAT_TARGETS_FULL);
}

std::uint64_t BpfProcessTracker::tracker_map_bytes() const {
  std::uint64_t total = 0;
  for (const bpf_map* m : {skel_->maps.targets, skel_->maps.proc_events, skel_->maps.proc_stats, skel_->maps.rodata,
                           skel_->maps.unwind_procs, skel_->maps.unwind_pages, skel_->maps.unwind_rules,
                           skel_->maps.unwind_tables, skel_->maps.unwind_requests, skel_->maps.unwind_request_times}) {
    total += map_memory::locked(bpf_map__fd(m));
  }
  return total;
}

}  // namespace hotline
