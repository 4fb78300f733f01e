#include "collect/offcpu.h"
#include "store/meta_keys.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "offcpu.skel.h"
#include "skeletons.h"
#include "collect/libbpf_log.h"
#include "collect/map_memory.h"
#include "collect/percpu.h"
#include "util/error.h"
#include "util/log.h"

namespace hotline {
namespace {

constexpr std::uint32_t kMinEntries = 1024;
// Blocks in progress user space follows at once (a target blocking more threads than this
// has the rest counted when they wake).
constexpr std::size_t kMaxOpen = 65536;

struct KeyLess {
  bool operator()(const hotline_offcpu_key& a, const hotline_offcpu_key& b) const {
    return std::memcmp(&a, &b, sizeof a) < 0;
  }
};

std::uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);  // bpf_ktime_get_ns's clock
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

void wait_for_programs() {
  if (::syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

std::vector<SampleType> offcpu_sample_types() { return {sample_types::offcpu, sample_types::offcpu_count}; }

std::unique_ptr<OffCpu> OffCpu::load(const Options& options, std::string& why_not) {
  std::unique_ptr<OffCpu> c(new OffCpu(options));
  while (c->estimated_map_bytes() > options.map_bytes_left && c->halve()) {
  }
  if (c->estimated_map_bytes() > options.map_bytes_left) {
    why_not = fmt::format("its BPF maps need {:.1f} MiB even at their smallest, and {:.1f} MiB of the budget are left",
                          static_cast<double>(c->estimated_map_bytes()) / (1 << 20),
                          static_cast<double>(options.map_bytes_left) / (1 << 20));
    return nullptr;
  }
  use_hotline_libbpf_log();
  while (true) {
    c->skel_ = skeleton::open_offcpu();
    if (c->skel_ == nullptr) {
      why_not = errno_text("cannot open its BPF object", errno);
      return nullptr;
    }
    auto& m = c->skel_->maps;
    int err = bpf_map__reuse_fd(m.targets, options.targets_fd);
    if (err == 0 && options.unwind_maps != nullptr) err = reuse_unwind_maps(m, *options.unwind_maps);
    if (err != 0) {
      skeleton::destroy_offcpu(c->skel_);
      c->skel_ = nullptr;
      why_not = bpf_error("cannot share the process tracker's maps", err).what();
      return nullptr;
    }
    bpf_map__set_max_entries(m.offcpu_stacks, c->stack_entries_);
    bpf_map__set_max_entries(m.offcpu_blocks, c->block_entries_);
    bpf_map__set_max_entries(m.offcpu0, c->total_entries_);
    bpf_map__set_max_entries(m.offcpu1, c->total_entries_);
    c->skel_->rodata->hotline_offcpu_min_ns = options.min_ns;
    c->skel_->rodata->hotline_unwind_mode = static_cast<std::uint32_t>(options.unwind);
    c->skel_->rodata->hotline_restricted = options.access.restricted ? 1 : 0;
    c->skel_->rodata->hotline_uid = options.access.uid;
    c->skel_->rodata->hotline_gid = options.access.gid;
    c->skel_->rodata->hotline_caps = options.access.permitted_caps;
    err = skeleton::load_offcpu(c->skel_);
    if (err == 0) break;
    skeleton::destroy_offcpu(c->skel_);
    c->skel_ = nullptr;
    const bool memory = err == -ENOMEM || err == -EPERM || err == -E2BIG;
    if (memory && c->halve()) continue;
    why_not = bpf_error("cannot load its BPF program (tp_btf/sched_switch needs BTF, Linux 5.5+)", err).what();
    return nullptr;
  }
  c->stacks_ = std::make_unique<StackReader>(bpf_map__fd(c->skel_->maps.offcpu_stacks));
  // Attached at once: the tracked processes are in the tracker's map already, and the
  // other collectors may take a while to load.
  c->link_ = bpf_program__attach(c->skel_->progs.on_sched_switch);
  if (c->link_ == nullptr) {
    why_not = bpf_error("cannot attach its program to sched_switch", errno).what();
    return nullptr;
  }
  if (c->halvings_ > 0) {
    warn(fmt::format("off-CPU BPF maps reduced to 1/{} of the requested size to fit the memory available: more "
                     "blocks may go uncounted",
                     1 << c->halvings_));
  }
  return c;
}

OffCpu::OffCpu(const Options& options) : options_(options) {
  auto scale = [&](std::uint32_t n) {
    return static_cast<std::uint32_t>(std::clamp(n * options.map_scale, double{kMinEntries}, 1024.0 * 1024));
  };
  stack_entries_ = scale(stack_entries_);
  block_entries_ = scale(block_entries_);
  total_entries_ = scale(total_entries_);
}

OffCpu::~OffCpu() {
  if (link_ != nullptr) bpf_link__destroy(link_);
  if (skel_ != nullptr) skeleton::destroy_offcpu(skel_);
}

bool OffCpu::halve() {
  if (stack_entries_ / 2 < kMinEntries || block_entries_ / 2 < kMinEntries || total_entries_ / 2 < kMinEntries) {
    return false;
  }
  stack_entries_ /= 2;
  block_entries_ /= 2;
  total_entries_ /= 2;
  ++halvings_;
  return true;
}

std::uint64_t OffCpu::estimated_map_bytes() const {
  using namespace map_memory;
  return hash(sizeof(std::uint32_t), sizeof(hotline_stack), stack_entries_) +
         hash(sizeof(std::uint32_t), sizeof(hotline_offcpu_block), block_entries_) +
         2 * hash(sizeof(hotline_offcpu_key), sizeof(hotline_offcpu_value), total_entries_) +
         percpu_array(8, HOTLINE_OFFCPU_STAT_COUNT) + percpu_array(sizeof(hotline_stack), 1) + mmapable_array(8, 1) +
         mmapable_array(48, 1);
}

std::uint64_t OffCpu::map_bytes() const {
  std::uint64_t total = 0;
  for (const bpf_map* m : {skel_->maps.offcpu_stacks, skel_->maps.offcpu_blocks, skel_->maps.offcpu0,
                           skel_->maps.offcpu1, skel_->maps.offcpu_stats, skel_->maps.unwind_scratch, skel_->maps.bss,
                           skel_->maps.rodata}) {
    total += map_memory::locked(bpf_map__fd(m));
  }
  return total;
}

StackSample OffCpu::sample_of(const hotline_offcpu_key& k, std::uint64_t ns, std::uint64_t count) {
  StackSample s;
  s.pid = static_cast<pid_t>(k.pid);
  s.tid = static_cast<pid_t>(k.tid);
  s.comm.assign(k.comm, strnlen(k.comm, sizeof k.comm));
  const ReadStack& user = stacks_->read(k.user_stack);
  const ReadStack& kernel = stacks_->read(k.kernel_stack);
  s.user_ips = user.ips;
  s.kernel_ips = kernel.ips;
  s.user_stop = user.stop;
  // The user leaf is the return address of the system call the thread blocked in.
  s.user_leaf_exact = false;
  s.truncated = StackReader::truncated(user) || StackReader::truncated(kernel);
  s.kernel_leaf_is_tracing = true;
  s.values = {ns, count};
  return s;
}

std::vector<StackSample> OffCpu::drain() {
  // 1. The blocks that ended since the last drain, from the slot not written any more.
  const std::uint32_t old_slot = skel_->bss->slot;
  __atomic_store_n(&skel_->bss->slot, old_slot ^ 1u, __ATOMIC_SEQ_CST);
  wait_for_programs();
  const int totals_fd = bpf_map__fd(old_slot ? skel_->maps.offcpu1 : skel_->maps.offcpu0);
  std::map<hotline_offcpu_key, hotline_offcpu_value, KeyLess> ended;
  {
    std::vector<hotline_offcpu_key> keys;
    hotline_offcpu_key key{}, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(totals_fd, prev, &next) == 0) {
      hotline_offcpu_value v{};
      if (bpf_map_lookup_elem(totals_fd, &next, &v) == 0) {
        ended[next] = v;
        keys.push_back(next);
      }
      key = next;
      prev = &key;
    }
    for (const auto& k : keys) bpf_map_delete_elem(totals_fd, &k);
  }

  // 2. The blocks in progress now.
  const int blocks_fd = bpf_map__fd(skel_->maps.offcpu_blocks);
  std::unordered_map<std::uint32_t, hotline_offcpu_block> now_open;
  {
    std::uint32_t key = 0, next = 0;
    const void* prev = nullptr;
    while (bpf_map_get_next_key(blocks_fd, prev, &next) == 0) {
      hotline_offcpu_block b{};
      if (bpf_map_lookup_elem(blocks_fd, &next, &b) == 0) now_open[next] = b;
      key = next;
      prev = &key;
    }
  }
  const std::uint64_t now = monotonic_ns();

  // 3. What was counted of a block while it was in progress is taken back from its total:
  // the total is in this drain when the block ended before the flip, else in the next one.
  auto take_back = [&](const Open& o) {
    auto it = ended.find(o.key);
    if (it == ended.end()) return false;
    it->second.ns -= std::min<std::uint64_t>(it->second.ns, o.counted_ns);
    return true;
  };
  for (const Open& o : ended_) take_back(o);  // ended after the last flip: here, or lost (totals map full)
  ended_.clear();
  for (auto it = open_.begin(); it != open_.end();) {
    auto b = now_open.find(it->first);
    if (b != now_open.end() && b->second.start_ns == it->second.start_ns) {
      ++it;
      continue;
    }
    if (!take_back(it->second)) ended_.push_back(it->second);
    it = open_.erase(it);
  }

  std::vector<StackSample> out;
  out.reserve(ended.size() + now_open.size());
  for (const auto& [k, v] : ended) {
    if (v.ns == 0 && v.count == 0) continue;
    out.push_back(sample_of(k, v.ns, v.count));
    if (out.back().truncated) truncated_ += v.count;
  }
  // 4. Blocks in progress: their time so far (not their count: that comes when they end).
  for (const auto& [tid, b] : now_open) {
    if (now <= b.start_ns || now - b.start_ns < options_.min_ns) continue;
    auto it = open_.find(tid);
    if (it == open_.end()) {
      if (open_.size() >= kMaxOpen) {
        ++open_full_;
        continue;
      }
      Open o;
      o.key.pid = b.pid;
      o.key.tid = b.tid;
      o.key.user_stack = b.user_stack >= 0 ? b.user_stack : -1;
      o.key.kernel_stack = b.kernel_stack >= 0 ? b.kernel_stack : -1;
      std::memcpy(o.key.comm, b.comm, sizeof o.key.comm);
      o.start_ns = b.start_ns;
      it = open_.emplace(tid, o).first;
    }
    const std::uint64_t so_far = now - b.start_ns;
    if (so_far > it->second.counted_ns) {
      out.push_back(sample_of(it->second.key, so_far - it->second.counted_ns, 0));
      it->second.counted_ns = so_far;
    }
  }
  return out;
}

OffCpu::Stats OffCpu::stats() const {
  Stats s;
  const int fd = bpf_map__fd(skel_->maps.offcpu_stats);
  auto sum = [fd](std::uint32_t index) { return sum_percpu(fd, index); };
  s.blocks = sum(HOTLINE_OFFCPU_STAT_BLOCKS);
  s.short_blocks = sum(HOTLINE_OFFCPU_STAT_SHORT);
  s.blocks_full = sum(HOTLINE_OFFCPU_STAT_BLOCKS_FULL);
  s.counts_full = sum(HOTLINE_OFFCPU_STAT_COUNTS_FULL);
  s.user_stacks_lost = sum(HOTLINE_OFFCPU_STAT_USER_STACK_LOST);
  s.kernel_stacks_lost = sum(HOTLINE_OFFCPU_STAT_KERNEL_STACK_LOST);
  s.denied = sum(HOTLINE_OFFCPU_STAT_DENIED);
  return s;
}

MetaEntries OffCpu::meta() const {
  const Stats s = stats();
  return {
      {meta_key::offcpu_min_ns, std::to_string(options_.min_ns)},
      {meta_key::offcpu_blocks, std::to_string(s.blocks)},
      {meta_key::offcpu_short_blocks, std::to_string(s.short_blocks)},
      {meta_key::offcpu_dropped_blocks, std::to_string(s.blocks_full + s.counts_full + open_full_)},
      {meta_key::offcpu_lost_stacks, std::to_string(std::max(s.user_stacks_lost, s.kernel_stacks_lost))},
      {meta_key::offcpu_truncated_stacks, std::to_string(truncated_)},
      {meta_key::offcpu_map_halvings, std::to_string(halvings_)},
  };
}

void OffCpu::stop() {
  if (link_ != nullptr) {
    bpf_link__destroy(link_);
    link_ = nullptr;
  }
  const Stats s = stats();
  const std::uint64_t seen = std::max<std::uint64_t>(s.blocks, 1);
  if (const std::uint64_t dropped = s.blocks_full + s.counts_full + open_full_; dropped > 0) {
    warn(fmt::format("{} off-CPU blocks were not counted ({} while {} were in progress at once, {} with the totals map "
                     "full): raise the map sizes with --map-scale",
                     dropped, s.blocks_full + open_full_, block_entries_, s.counts_full));
  }
  if (const std::uint64_t lost = std::max(s.user_stacks_lost, s.kernel_stacks_lost); lost * 100 > seen) {
    warn(fmt::format("{} of {} off-CPU blocks lost their stack (the stack map holds {} distinct stacks): raise the "
                     "map sizes with --map-scale",
                     lost, s.blocks, stack_entries_));
  }
  if (s.denied > 0) {
    warn(fmt::format("{} off-CPU blocks of processes that stopped being profilable were dropped", s.denied));
  }
}

}  // namespace hotline
