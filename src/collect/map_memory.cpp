#include "collect/map_memory.h"

#include <bpf/libbpf.h>
#include <unistd.h>

#include <string>

#include <fmt/format.h>

#include "util/files.h"

namespace hotline::map_memory {
namespace {

// Sizes of the kernel's map structures (BTF of 6.18 x86_64; stable across 6.x).
constexpr std::uint64_t kHtab = 832, kHtabElem = 48, kBucket = 16;
constexpr std::uint64_t kStackMap = 320, kStackBucket = 16;
constexpr std::uint64_t kRingbufMap = 304, kPage = 4096;
constexpr std::uint64_t kArray = 312;

std::uint64_t round8(std::uint64_t n) { return (n + 7) & ~std::uint64_t{7}; }
std::uint64_t pow2(std::uint64_t n) {
  std::uint64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}
std::uint64_t cpus() {
  const int n = libbpf_num_possible_cpus();
  return n > 0 ? static_cast<std::uint64_t>(n) : 1;
}

}  // namespace

std::uint64_t hash(std::uint32_t key_size, std::uint32_t value_size, std::uint32_t entries) {
  const std::uint64_t p = cpus(), n = entries;
  const std::uint64_t element = kHtabElem + round8(key_size) + round8(value_size);
  return kHtab + kBucket * pow2(n) + 32 * p + element * (n + p) + 8 * p;
}

std::uint64_t stack_trace(std::uint32_t value_size, std::uint32_t entries) {
  return kStackMap + 8 * pow2(entries) + std::uint64_t{entries} * (kStackBucket + value_size);
}

std::uint64_t ringbuf(std::uint32_t data_bytes) {
  const std::uint64_t pages = data_bytes / kPage;
  return kRingbufMap + (3 + pages) * kPage + (3 + 2 * pages) * 8;
}

std::uint64_t percpu_array(std::uint32_t value_size, std::uint32_t entries) {
  return kArray + 8 * std::uint64_t{entries} + std::uint64_t{entries} * round8(value_size) * cpus();
}

std::uint64_t array(std::uint32_t value_size, std::uint32_t entries) {
  return kArray + std::uint64_t{entries} * round8(value_size);
}

std::uint64_t mmapable_array(std::uint32_t value_size, std::uint32_t entries) {
  const auto align = [](std::uint64_t n) { return (n + kPage - 1) / kPage * kPage; };
  return align(kArray) + align(std::uint64_t{entries} * round8(value_size));
}

std::uint64_t locked(int map_fd) {
  auto text = read_text_file(fmt::format("/proc/self/fdinfo/{}", map_fd), 4096);
  if (!text) return 0;
  const auto at = text->find("memlock:");
  if (at == std::string::npos) return 0;
  try {
    return std::stoull(text->substr(at + 8));
  } catch (...) {
    return 0;
  }
}

std::uint64_t budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return ~0ull;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 8;
}

}  // namespace hotline::map_memory
