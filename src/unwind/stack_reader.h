#pragma once
// User-space side of the unwinder seam (bpf/unwind.h): reads back the user (and kernel)
// stacks a BPF program stored as ids in a stack map (struct hotline_stack values), once per
// id per drain. Every collector reads its stacks through this, so an unwinder that stores
// stacks differently changes this file and bpf/unwind.h, not the collectors.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "hotline_abi.h"

namespace hotline {

// Why a user stack ends where it does (enum hotline_unwind_stop).
enum class UnwindStop : std::uint8_t {
  frame_pointers = HOTLINE_UNWIND_FP,
  root = HOTLINE_UNWIND_ROOT,
  depth = HOTLINE_UNWIND_DEPTH,
  no_table = HOTLINE_UNWIND_NO_TABLE,
  invalid_rule = HOTLINE_UNWIND_INVALID,
  read_fault = HOTLINE_UNWIND_READ_FAULT,
  unknown_mapping = HOTLINE_UNWIND_UNKNOWN_MAPPING,
};
constexpr int kUnwindStopCount = HOTLINE_UNWIND_STOP_COUNT;
// "root", "depth", "no_table", ...: the meta key suffix and the JSON name.
const char* to_string(UnwindStop);

struct ReadStack {
  std::vector<std::uint64_t> ips;  // innermost first
  UnwindStop stop = UnwindStop::frame_pointers;
};

class StackReader {
 public:
  // `stack_map_fd`: a stack map of struct hotline_stack values (bpf/unwind.h).
  explicit StackReader(int stack_map_fd) : fd_(stack_map_fd) {}

  // The stack `id`; no frames for a negative id (no stack) or an id no longer in the map. The
  // reference stays valid until the reader dies.
  const ReadStack& read(std::int32_t id);
  // Whether a stack read back was cut by the depth limit (its outermost callers are missing).
  static bool truncated(const ReadStack& stack);
  // Ids read so far (to clear them from the map after a drain).
  std::vector<std::uint32_t> ids() const;

 private:
  int fd_;
  std::unordered_map<std::int32_t, ReadStack> cache_;
  ReadStack none_;
};

}  // namespace hotline
