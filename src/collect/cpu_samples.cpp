#include "collect/cpu_samples.h"
#include "store/meta_keys.h"

#include <fmt/format.h>

#include "hotline_abi.h"
#include "util/log.h"

namespace hotline {

std::vector<StackSample> CpuSamples::drain() {
  std::vector<StackSample> out;
  for (CpuSample& s : source_.drain()) {
    // The kernel drops what the BPF sampler may not keep; the perf_event sampler's samples
    // of a process that made itself non-dumpable since are dropped here.
    if (keep_ && !keep_(s.pid)) {
      denied_ += s.count;
      continue;
    }
    StackSample t;
    t.pid = s.pid;
    t.tid = s.tid;
    t.comm = std::move(s.comm);
    // The interrupted instruction is exact, unless the tick hit the kernel, where the user
    // leaf is a return address too.
    t.user_leaf_exact = s.kernel_ips.empty();
    t.user_ips = std::move(s.user_ips);
    t.kernel_ips = std::move(s.kernel_ips);
    t.truncated = s.truncated;
    t.user_stop = s.user_stop;
    if (!t.user_ips.empty()) stops_[static_cast<std::size_t>(s.user_stop)] += s.count;
    t.values = {s.count};
    out.push_back(std::move(t));
  }
  return out;
}

MetaEntries CpuSamples::meta() const {
  const CpuStats st = source_.stats();
  MetaEntries m = {
      {meta_key::lost_user_stacks, std::to_string(st.user_stacks_lost)},
      {meta_key::lost_kernel_stacks, std::to_string(st.kernel_stacks_lost)},
      {meta_key::dropped_samples, std::to_string(st.counts_full)},
      {meta_key::truncated_stacks, std::to_string(st.truncated)},
  };
  if (restricted_) m.emplace_back(meta_key::denied_samples, std::to_string(st.denied + denied_));
  for (int i = 0; i < kUnwindStopCount; ++i) {
    m.emplace_back(std::string(meta_key::unwind_stop_prefix) + to_string(static_cast<UnwindStop>(i)),
                   std::to_string(stops_[static_cast<std::size_t>(i)]));
  }
  return m;
}

void CpuSamples::stop() {
  const CpuStats st = source_.stats();
  // A kept sample may lose both its user and its kernel stack, so the larger of the two
  // counts is the number of samples with a lost stack (at least); a dropped sample was not
  // kept and lost no stack.
  const std::uint64_t lost = std::max(st.user_stacks_lost, st.kernel_stacks_lost) + st.counts_full;
  const std::uint64_t seen = std::max<std::uint64_t>(st.samples, 1);
  if (lost * 100 > seen) {
    warn(fmt::format("{:.1f}% of samples lost their stack or were dropped ({} of {}: {} kept without a stack, {} "
                     "dropped): lower --cpu-freq, or raise the map sizes with --map-scale",
                     100.0 * static_cast<double>(std::min(lost, seen)) / static_cast<double>(seen), lost, st.samples,
                     lost - st.counts_full, st.counts_full));
  }
  if (const std::uint64_t denied = st.denied + denied_; denied > 0) {
    warn(fmt::format("{} samples of processes that stopped being profilable (they became non-dumpable or gained "
                     "privileges) were dropped: without CAP_SYS_PTRACE hotline profiles only processes you could debug",
                     denied));
  }
  const std::uint64_t no_table = stops_[static_cast<std::size_t>(UnwindStop::no_table)];
  if (no_table * 100 > seen) {
    warn(fmt::format("{:.1f}% of samples ({}) have stacks that end in code with neither unwind tables (.eh_frame) nor "
                     "frame pointers: their callers are missing (an \"[unwind: no table: FILE]\" frame names the file "
                     "in the reports)",
                     100.0 * static_cast<double>(no_table) / static_cast<double>(seen), no_table));
  }
  if (st.truncated * 100 > seen) {
    warn(fmt::format("{} samples had stacks deeper than {} frames; their outermost callers are cut", st.truncated,
                     HOTLINE_MAX_STACK_DEPTH));
  }
}

}  // namespace hotline
