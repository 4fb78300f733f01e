#include "collect/map_memory.h"

#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
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

std::uint64_t hash_on_demand(std::uint32_t entries) {
  const std::uint64_t p = cpus();
  return kHtab + kBucket * pow2(entries) + 32 * p;  // elements are charged as they are added
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

namespace {

std::optional<std::uint64_t> number_in(const std::string& path) {
  auto text = read_text_file(path, 64);
  if (!text || text->starts_with("max")) return std::nullopt;
  try {
    return std::stoull(*text);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::uint64_t> cgroup_memory_left() {
  // Mount points of the v2 hierarchy and of the v1 memory controller.
  std::string v2, v1;
  if (auto mounts = read_text_file("/proc/self/mountinfo", 1 << 20)) {
    std::istringstream in(*mounts);
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string id, parent, dev, root, point, options, word;
      fields >> id >> parent >> dev >> root >> point >> options;
      while (fields >> word && word != "-") {
      }
      std::string type, source, super;
      fields >> type >> source >> super;
      if (type == "cgroup2" && v2.empty()) v2 = point;
      if (type == "cgroup" && (super.find(",memory") != std::string::npos || super.starts_with("memory")) &&
          v1.empty()) {
        v1 = point;
      }
    }
  }
  std::optional<std::uint64_t> left;
  auto consider = [&](const std::string& dir, const char* limit_file, const char* usage_file) {
    // The cgroup and its parents: the tightest limit counts.
    for (std::string d = dir;;) {
      auto limit = number_in(d + "/" + limit_file);
      auto usage = number_in(d + "/" + usage_file);
      if (limit && usage && *limit < (std::uint64_t{1} << 60)) {
        const std::uint64_t here = *limit > *usage ? *limit - *usage : 0;
        left = left ? std::min(*left, here) : here;
      }
      const auto slash = d.rfind('/');
      if (d.size() <= 1 || slash == std::string::npos) break;
      d.resize(slash);
    }
  };
  if (auto groups = read_text_file("/proc/self/cgroup", 1 << 16)) {
    std::istringstream in(*groups);
    for (std::string line; std::getline(in, line);) {
      const auto first = line.find(':'), second = line.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos) continue;
      const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
      if (controllers.empty() && !v2.empty()) {
        consider(v2 + (path == "/" ? "" : path), "memory.max", "memory.current");
      }
      if (!v1.empty() && (controllers == "memory" || controllers.find("memory,") != std::string::npos ||
                          controllers.ends_with(",memory"))) {
        consider(v1 + (path == "/" ? "" : path), "memory.limit_in_bytes", "memory.usage_in_bytes");
      }
    }
  }
  return left;
}

std::uint64_t budget() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  std::uint64_t out = pages <= 0 || page <= 0 ? ~0ull : static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 8;
  if (auto left = cgroup_memory_left()) out = std::min(out, *left / 2);
  return out;
}

}  // namespace hotline::map_memory
