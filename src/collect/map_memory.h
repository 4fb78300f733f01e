#pragma once
// What the kernel charges for a BPF map, computed before creating it, and read back after.
//
// The formulas are the kernel's own map_mem_usage (kernel/bpf/hashtab.c htab_map_mem_usage,
// stackmap.c stack_map_mem_usage, ringbuf.c, arraymap.c; Linux 6.4 and later, the same
// through 6.18): what /proc/PID/fdinfo/FD shows as `memlock` and bpftool as
// bytes_memlock, and what a memory cgroup is charged. The struct sizes are those of this
// kernel class (6.x x86_64); a test compares the estimates with fdinfo on the running kernel.
#include <cstdint>
#include <optional>
#include <stdexcept>

namespace hotline {
// The kernel refused BPF maps for lack of memory (a memory cgroup, RLIMIT_MEMLOCK before
// 5.11): smaller ones may fit.
class MapsTooLarge : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
}  // namespace hotline

namespace hotline::map_memory {

// A preallocated BPF_MAP_TYPE_HASH (with the kernel's extra element per possible CPU).
std::uint64_t hash(std::uint32_t key_size, std::uint32_t value_size, std::uint32_t entries);
// A BPF_F_NO_PREALLOC hash map, empty (its elements are charged as they are added).
std::uint64_t hash_on_demand(std::uint32_t entries);
std::uint64_t stack_trace(std::uint32_t value_size, std::uint32_t entries);
std::uint64_t ringbuf(std::uint32_t data_bytes);
std::uint64_t percpu_array(std::uint32_t value_size, std::uint32_t entries);
std::uint64_t array(std::uint32_t value_size, std::uint32_t entries);
// A skeleton's .bss / .rodata: mmapable arrays, each part page-aligned.
std::uint64_t mmapable_array(std::uint32_t value_size, std::uint32_t entries);

// The `memlock` the kernel reports for an open map (0 when it cannot be read).
std::uint64_t locked(int map_fd);

// Every map hotline creates together stays within this: 1/8 of physical memory, and within
// a memory cgroup's limit half of what is left under it (hotline itself and the recording's
// page cache are charged there too).
std::uint64_t budget();
// What the memory cgroup hotline runs in (or one of its parents) still allows, v1 or v2;
// nullopt when there is no limit.
std::optional<std::uint64_t> cgroup_memory_left();

}  // namespace hotline::map_memory
