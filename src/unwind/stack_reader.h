#pragma once
// User-space side of the unwinder seam (bpf/unwind.h): reads back the user (and kernel)
// stacks a BPF program stored as ids in a stack map, once per id per drain. Every collector
// reads its stacks through this, so an unwinder that stores stacks differently changes this
// file and bpf/unwind.h, not the collectors.
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace hotline {

class StackReader {
 public:
  // `stack_map_fd`: a BPF_MAP_TYPE_STACK_TRACE of HOTLINE_MAX_STACK_DEPTH entries.
  explicit StackReader(int stack_map_fd) : fd_(stack_map_fd) {}

  // The instruction pointers of stack `id`, innermost first; empty for a negative id (no
  // stack) or an id no longer in the map. The reference stays valid until the reader dies.
  const std::vector<std::uint64_t>& read(std::int32_t id);
  // Whether a stack read back fills the whole depth (its outermost callers are cut).
  static bool truncated(const std::vector<std::uint64_t>& ips);
  // Ids read so far (to clear them from the map after a drain).
  std::vector<std::uint32_t> ids() const;

 private:
  int fd_;
  std::unordered_map<std::int32_t, std::vector<std::uint64_t>> cache_;
  std::vector<std::uint64_t> none_;
};

}  // namespace hotline
