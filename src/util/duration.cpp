#include "util/duration.h"

#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "util/error.h"

namespace hotline {
namespace {

[[noreturn]] void reject(std::string_view text, std::string_view why) {
  throw Error(ExitCode::invalid_args,
              fmt::format("invalid duration '{}': {}", text, why),
              fmt::format("use {}", kDurationForms));
}

constexpr std::int64_t kMaxMs = std::int64_t{100} * 365 * 24 * 3600 * 1000;  // 100 years

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  if (text.empty()) reject(text, "empty");
  if (text.size() > 64) reject(text.substr(0, 64), "too long");

  // Bare number (integer or decimal): seconds.
  bool bare = true;
  int dots = 0;
  for (char c : text) {
    if (c == '.') ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c))) bare = false;
  }
  if (bare) {
    if (dots > 1 || text.front() == '.' || text.back() == '.') reject(text, "not a number");
    double seconds = 0;
    try {
      seconds = std::stod(std::string(text));
    } catch (...) {
      reject(text, "not a number");
    }
    double ms = std::round(seconds * 1000.0);
    if (!(ms <= static_cast<double>(kMaxMs))) reject(text, "too large");
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  }

  // Sequence of <integer><unit>, units strictly decreasing: h, m, s, ms.
  struct Unit {
    std::string_view name;
    std::int64_t ms;
    int rank;
  };
  // "ms" before "m" so that 500ms is not read as 500 minutes followed by "s".
  static constexpr Unit kUnits[] = {
      {"ms", 1, 0}, {"h", std::int64_t{3600} * 1000, 3}, {"m", std::int64_t{60} * 1000, 2}, {"s", 1000, 1}};
  std::int64_t total = 0;
  int last_rank = 4;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    std::int64_t value = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      value = value * 10 + (text[i] - '0');
      if (value > kMaxMs) reject(text, "too large");
      ++i;
    }
    if (i == start) reject(text, "expected a number");
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (text.substr(i, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) reject(text, i < text.size() ? "unknown unit" : "missing unit");
    if (unit->rank >= last_rank) reject(text, "units must go from largest to smallest, each once");
    last_rank = unit->rank;
    i += unit->name.size();
    if (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) reject(text, "unknown unit");
    if (value > kMaxMs / unit->ms) reject(text, "too large");
    total += value * unit->ms;
    if (total > kMaxMs) reject(text, "too large");
  }
  return std::chrono::milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  auto ms = d.count();
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < std::int64_t{60} * 1000) return fmt::format("{:.1f} s", static_cast<double>(ms) / 1000.0);
  auto s = ms / 1000;
  if (s < 3600) return fmt::format("{} m {} s", s / 60, s % 60);
  return fmt::format("{} h {} m", s / 3600, (s % 3600) / 60);
}

std::chrono::nanoseconds parse_short_duration(std::string_view text) {
  auto bad = [&](std::string_view why) {
    throw Error(ExitCode::invalid_args, fmt::format("invalid duration '{}': {}", text.substr(0, 64), why),
                "use a number with a unit: 500ns, 1us, 2ms or 1s (at most 10s)");
  };
  std::size_t i = 0;
  std::uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    value = value * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (value > 10'000'000'000ull) bad("too large");
    ++i;
  }
  if (i == 0) bad("expected a number");
  const std::string_view unit = text.substr(i);
  std::uint64_t scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us" || unit == "\xc2\xb5s") scale = 1000;
  else if (unit == "ms") scale = 1000ull * 1000;
  else if (unit == "s") scale = 1000ull * 1000 * 1000;
  else bad(unit.empty() ? "missing unit" : "unknown unit");
  if (value > 10'000'000'000ull / scale) bad("too large (at most 10s)");
  return std::chrono::nanoseconds(static_cast<std::int64_t>(value * scale));
}

std::string format_ns_short(std::uint64_t ns) {
  const double ms = static_cast<double>(ns) / 1e6;
  if (ms >= 10000) return fmt::format("{:.1f}s", ms / 1000);
  if (ms >= 100) return fmt::format("{:.0f}ms", ms);
  if (ms >= 1) return fmt::format("{:.1f}ms", ms);
  return fmt::format("{:.0f}us", ms * 1000);
}

}  // namespace hotline
