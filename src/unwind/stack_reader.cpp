#include "unwind/stack_reader.h"

#include <bpf/bpf.h>

#include <algorithm>

namespace hotline {

const char* to_string(UnwindStop stop) {
  switch (stop) {
    case UnwindStop::frame_pointers: return "frame_pointers";
    case UnwindStop::root: return "root";
    case UnwindStop::depth: return "depth";
    case UnwindStop::no_table: return "no_table";
    case UnwindStop::invalid_rule: return "invalid_rule";
    case UnwindStop::read_fault: return "read_fault";
    case UnwindStop::unknown_mapping: return "unknown_mapping";
  }
  return "unknown";
}

const ReadStack& StackReader::read(std::int32_t id) {
  if (id < 0) return none_;
  auto [it, inserted] = cache_.try_emplace(id);
  if (inserted) {
    hotline_stack value{};
    std::uint32_t key = static_cast<std::uint32_t>(id);
    if (bpf_map_lookup_elem(fd_, &key, &value) == 0) {
      const std::uint32_t len = std::min<std::uint32_t>(value.len, HOTLINE_MAX_STACK_DEPTH);
      it->second.ips.assign(value.ips, value.ips + len);
      // The kernel's walk may end in zeros; no address is 0.
      while (!it->second.ips.empty() && it->second.ips.back() == 0) it->second.ips.pop_back();
      it->second.stop = value.stop < HOTLINE_UNWIND_STOP_COUNT ? static_cast<UnwindStop>(value.stop)
                                                               : UnwindStop::invalid_rule;
    }
  }
  return it->second;
}

bool StackReader::truncated(const ReadStack& stack) {
  return stack.stop == UnwindStop::depth || stack.ips.size() >= HOTLINE_MAX_STACK_DEPTH;
}

std::vector<std::uint32_t> StackReader::ids() const {
  std::vector<std::uint32_t> out;
  out.reserve(cache_.size());
  for (const auto& [id, stack] : cache_) out.push_back(static_cast<std::uint32_t>(id));
  return out;
}

}  // namespace hotline
