#pragma once
#include <string>
#include <vector>

namespace hotline {

// One source-level frame: a function at a file and line.
struct SourceFrame {
  std::string function;  // demangled; "[module+0xaddr]" when nothing better is known
  std::string file;      // "" when unknown
  int line = 0;          // 0 when unknown

  bool operator==(const SourceFrame&) const = default;
};

// What one instruction address means at source level: its inline chain, innermost first.
// frames.back() is the function the code physically belongs to; the ones before it were
// inlined into it (frames[i] inlined into frames[i+1]).
struct Symbolized {
  std::vector<SourceFrame> frames;
  bool from_debuginfo = false;  // file:line came from DWARF
};

}  // namespace hotline
