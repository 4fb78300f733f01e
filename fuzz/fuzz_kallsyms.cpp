// /proc/kallsyms text (module names come from loaded modules).
#include <cstdint>
#include <string_view>

#include "symbolize/kernel_symbols.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto syms = hotline::KernelSymbols::parse(std::string_view(reinterpret_cast<const char*>(data), size));
  for (std::uint64_t a : {0ull, 0xffffffff81000000ull, ~0ull}) (void)syms.lookup(a);
  return 0;
}
