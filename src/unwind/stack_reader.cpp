#include "unwind/stack_reader.h"

#include <bpf/bpf.h>

#include "hotline_abi.h"

namespace hotline {

const std::vector<std::uint64_t>& StackReader::read(std::int32_t id) {
  if (id < 0) return none_;
  auto [it, inserted] = cache_.try_emplace(id);
  if (inserted) {
    std::uint64_t ips[HOTLINE_MAX_STACK_DEPTH] = {};
    std::uint32_t key = static_cast<std::uint32_t>(id);
    if (bpf_map_lookup_elem(fd_, &key, ips) == 0) {
      for (std::uint64_t ip : ips) {
        if (ip == 0) break;
        it->second.push_back(ip);
      }
    }
  }
  return it->second;
}

bool StackReader::truncated(const std::vector<std::uint64_t>& ips) { return ips.size() >= HOTLINE_MAX_STACK_DEPTH; }

std::vector<std::uint32_t> StackReader::ids() const {
  std::vector<std::uint32_t> out;
  out.reserve(cache_.size());
  for (const auto& [id, ips] : cache_) out.push_back(static_cast<std::uint32_t>(id));
  return out;
}

}  // namespace hotline
