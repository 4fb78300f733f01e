#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace hotline {

// Parses 30s, 5m, 2h, 1h30m, 500ms, 1m30s500ms, or a bare number of seconds (2, 1.5).
// Throws Error(invalid_args) naming the accepted forms.
std::chrono::milliseconds parse_duration(std::string_view text);

// A short span: <integer><unit> with unit ns, us (or µs), ms or s, e.g. 500ns, 1us, 2ms;
// up to 10 s. Throws Error(invalid_args) naming the accepted forms.
std::chrono::nanoseconds parse_short_duration(std::string_view text);

// A span of nanoseconds in a table cell: "12.3s", "250ms", "1.5ms", "40us".
std::string format_ns_short(std::uint64_t ns);

// "1.5 s", "2 m 3 s", "250 ms": for humans.
std::string format_duration(std::chrono::milliseconds d);

inline constexpr const char* kDurationForms = "30s, 5m, 2h, 1h30m, 500ms, or a bare number of seconds";

}  // namespace hotline
