#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotline {

// Kernel text symbols from /proc/kallsyms. When kptr_restrict hides addresses (all zero),
// `addresses_hidden()` is true and every lookup fails: callers show "[kernel]".
class KernelSymbols {
 public:
  struct Symbol {
    std::uint64_t address = 0;
    std::string name;
    std::string module;  // "" for the core kernel, else the module name
  };

  static KernelSymbols load(const std::string& path = "/proc/kallsyms");
  static KernelSymbols parse(std::string_view text);

  bool addresses_hidden() const { return hidden_; }
  std::size_t size() const { return symbols_.size(); }
  const Symbol* lookup(std::uint64_t address) const;

 private:
  std::vector<Symbol> symbols_;  // sorted by address
  bool hidden_ = true;
};

}  // namespace hotline
