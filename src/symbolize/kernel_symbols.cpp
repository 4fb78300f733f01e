#include "symbolize/kernel_symbols.h"

#include <algorithm>
#include <charconv>

#include "util/files.h"
#include "util/lines.h"

namespace hotline {

KernelSymbols KernelSymbols::load(const std::string& path) {
  auto text = read_text_file(path, 256 << 20);
  return parse(text ? *text : std::string_view{});
}

KernelSymbols KernelSymbols::parse(std::string_view text) {
  KernelSymbols out;
  Lines lines(text);
  while (auto next = lines.next()) {
    std::string_view line = *next;
    // "ffffffff81000000 T _stext" or "ffffffffc0a01000 t ext4_foo\t[ext4]"
    std::size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos || sp1 + 3 > line.size() || line[sp1 + 2] != ' ') continue;
    char type = line[sp1 + 1];
    if (type != 't' && type != 'T' && type != 'w' && type != 'W') continue;
    std::uint64_t address = 0;
    auto [p, ec] = std::from_chars(line.data(), line.data() + sp1, address, 16);
    if (ec != std::errc() || p != line.data() + sp1) continue;
    std::string_view rest = line.substr(sp1 + 3);
    std::string_view module;
    std::size_t tab = rest.find('\t');
    if (tab != std::string_view::npos) {
      module = rest.substr(tab + 1);
      rest = rest.substr(0, tab);
      if (module.size() >= 2 && module.front() == '[' && module.back() == ']') {
        module = module.substr(1, module.size() - 2);
      }
    }
    if (rest.empty()) continue;
    if (address != 0) out.hidden_ = false;
    out.symbols_.push_back({address, std::string(rest), std::string(module)});
  }
  if (out.hidden_) {
    out.symbols_.clear();
    return out;
  }
  std::stable_sort(out.symbols_.begin(), out.symbols_.end(),
                   [](const Symbol& a, const Symbol& b) { return a.address < b.address; });
  return out;
}

const KernelSymbols::Symbol* KernelSymbols::lookup(std::uint64_t address) const {
  auto it = std::upper_bound(symbols_.begin(), symbols_.end(), address,
                             [](std::uint64_t a, const Symbol& s) { return a < s.address; });
  if (it == symbols_.begin()) return nullptr;
  return &*(it - 1);
}

}  // namespace hotline
