#pragma once
// JIT symbol maps (/tmp/perf-PID.map), written by JITs (V8, LuaJIT, the JVM with agents):
// one "START SIZE NAME" line per function, START and SIZE in hex. Untrusted input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotline {

class PerfMap {
 public:
  static PerfMap parse(std::string_view text);
  std::optional<std::string> lookup(std::uint64_t address) const;
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t start, size;
    std::string name;
  };
  std::vector<Entry> entries_;  // sorted by start
};

}  // namespace hotline
