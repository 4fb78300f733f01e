// /proc/PID/maps text: the profiled process controls its mappings' names.
#include <cstdint>
#include <string_view>

#include "target/proc.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto maps = hotline::parse_maps(std::string_view(reinterpret_cast<const char*>(data), size));
  for (const auto& m : maps) {
    if (m.end <= m.start) __builtin_trap();  // parse_maps promises non-empty ranges
  }
  return 0;
}
