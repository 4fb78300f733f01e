// /tmp/perf-PID.map: written by the profiled process (JITs).
#include <cstdint>
#include <string_view>

#include "symbolize/perf_map.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto map = hotline::PerfMap::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  for (std::uint64_t a : {0ull, 1ull, 0x1000ull, 0x7fffffffffffull, ~0ull}) (void)map.lookup(a);
  return 0;
}
