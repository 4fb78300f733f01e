// Durations from the command line and environment (HOTLINE_INTERVAL).
#include <cstdint>
#include <string_view>

#include "report/top.h"
#include "util/duration.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    auto d = hotline::parse_duration(text);
    (void)hotline::format_duration(d);
  } catch (const hotline::Error&) {
  }
  try {
    (void)hotline::parse_window(std::string(text));
  } catch (const hotline::Error&) {
  }
  return 0;
}
