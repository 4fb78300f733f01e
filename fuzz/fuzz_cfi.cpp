// Unwind tables from a target's ELF (src/unwind/cfi_table): its owner controls every byte of
// .eh_frame and .debug_frame. Building must never crash or run away, and what it builds must
// keep the invariants the BPF unwinder relies on: rows strictly increasing, every page's rows
// sorted and within the table.
#include <gelf.h>
#include <libelf.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "unwind/cfi_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (elf_version(EV_CURRENT) == EV_NONE) return 0;
  std::vector<char> copy(data, data + size);  // libelf may write to its image
  Elf* elf = elf_memory(copy.data(), copy.size());
  if (elf == nullptr) return 0;
  std::string why;
  hotline::CfiLimits limits;
  limits.max_fdes = 1 << 14;
  limits.max_rows = 1 << 16;
  limits.max_work = std::uint64_t{1} << 24;  // bounded time per input (the default is for real binaries)
  auto table = hotline::build_cfi_table(elf, why, limits);
  elf_end(elf);
  if (!table) return 0;
  if (table->fdes > limits.max_fdes) __builtin_trap();
  for (std::size_t i = 1; i < table->rows.size(); ++i) {
    if (table->rows[i].address <= table->rows[i - 1].address) __builtin_trap();
  }
  std::map<hotline::UnwindRule, std::uint32_t> index;
  const hotline::PagedRows paged = hotline::page_rows(*table, [&](const hotline::UnwindRule& r) {
    return index.try_emplace(r, static_cast<std::uint32_t>(index.size())).first->second;
  });
  for (const auto& p : paged.pages) {
    if (std::uint64_t{p.first} + p.count > paged.rows.size()) __builtin_trap();
    for (std::uint32_t i = p.first + 1; i < p.first + p.count; ++i) {
      if (paged.rows[i] <= paged.rows[i - 1]) __builtin_trap();
    }
  }
  return 0;
}
