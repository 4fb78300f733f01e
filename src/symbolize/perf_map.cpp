#include "symbolize/perf_map.h"

#include <algorithm>
#include <charconv>

#include "util/lines.h"

namespace hotline {
namespace {

bool hex_field(std::string_view& rest, std::uint64_t& out) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.starts_with("0x") || rest.starts_with("0X")) rest.remove_prefix(2);
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out, 16);
  if (ec != std::errc() || p == rest.data()) return false;
  rest.remove_prefix(static_cast<std::size_t>(p - rest.data()));
  return !rest.empty() && rest.front() == ' ';
}

}  // namespace

PerfMap PerfMap::parse(std::string_view text) {
  PerfMap out;
  Lines lines(text);
  while (auto next = lines.next()) {
    std::string_view line = *next;
    std::uint64_t start = 0, size = 0;
    if (!hex_field(line, start) || !hex_field(line, size)) continue;
    line.remove_prefix(1);
    if (line.empty() || size == 0 || start + size < start) continue;
    if (line.size() > 4096) line = line.substr(0, 4096);
    out.entries_.push_back({start, size, std::string(line)});
  }
  // Later lines win for the same start (JITs rewrite code in place).
  std::stable_sort(out.entries_.begin(), out.entries_.end(),
                   [](const Entry& a, const Entry& b) { return a.start < b.start; });
  return out;
}

std::optional<std::string> PerfMap::lookup(std::uint64_t address) const {
  auto it = std::upper_bound(entries_.begin(), entries_.end(), address,
                             [](std::uint64_t a, const Entry& e) { return a < e.start; });
  // Walk back over entries starting at or before the address; a few at most in practice.
  for (int steps = 0; it != entries_.begin() && steps < 64; ++steps) {
    --it;
    if (address - it->start < it->size) return it->name;
  }
  return std::nullopt;
}

}  // namespace hotline
