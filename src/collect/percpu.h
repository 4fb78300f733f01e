#pragma once
// Reading the per-CPU counter arrays the BPF programs keep (cpu_stats, heap_stats).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cstdint>
#include <vector>

namespace hotline {

// Sum over every possible CPU of entry `index` of a BPF_MAP_TYPE_PERCPU_ARRAY of u64
// (0 when it cannot be read).
inline std::uint64_t sum_percpu(int map_fd, std::uint32_t index) {
  const int ncpus = libbpf_num_possible_cpus();
  std::vector<std::uint64_t> values(static_cast<std::size_t>(ncpus > 0 ? ncpus : 1));
  std::uint64_t total = 0;
  if (bpf_map_lookup_elem(map_fd, &index, values.data()) == 0) {
    for (std::uint64_t v : values) total += v;
  }
  return total;
}

}  // namespace hotline
