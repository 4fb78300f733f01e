#pragma once
// Unwind tables from call-frame information: for every instruction address of an executable
// file, how to find its caller's frame on x86-64 (the CFA from rsp or rbp plus an offset, or
// a PLT stub, a signal trampoline, the outermost frame), and where the caller's rbp was
// saved. Decoded with libdw's CFI API from .eh_frame (or .debug_frame when the file has no
// .eh_frame), one FDE at a time, consecutive equal rules merged.
//
// The file is the target's (untrusted): every count is bounded, a malformed entry ends the
// walk with what was decoded so far, and nothing here does I/O but read the ELF it is given.
#include <libelf.h>

#include <atomic>
#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hotline_abi.h"

namespace hotline {

struct UnwindRule {
  std::uint8_t kind = HOTLINE_RULE_INVALID;  // enum hotline_rule_kind
  std::uint8_t rbp = HOTLINE_RBP_SAME;       // enum hotline_rbp_rule
  std::int32_t cfa_offset = 0;
  std::int32_t rbp_offset = 0;
  auto operator<=>(const UnwindRule&) const = default;
};

struct UnwindRow {
  std::uint64_t address = 0;  // file (link-time virtual) address where the rule starts
  UnwindRule rule;
};

struct CfiTable {
  // Sorted by address; each rule holds until the next row. A covered range is followed by an
  // invalid row (a gap, or the end of the last FDE).
  std::vector<UnwindRow> rows;
  std::size_t fdes = 0;
  std::size_t unsupported = 0;  // rows whose rule hotline cannot follow (kept as invalid)
  bool cut = false;             // a limit stopped the decoding (the rest has no rule)
  std::string section;          // ".eh_frame" or ".debug_frame"
};

struct CfiLimits {
  std::size_t max_fdes = std::size_t{1} << 21;  // ClickHouse-sized binaries have ~10^6
  std::size_t max_rows = std::size_t{1} << 23;
  std::size_t max_rows_per_fde = 4096;  // a real function has tens
  std::uint64_t max_work = std::uint64_t{1} << 30;  // rows decoded × their FDE's bytes (libc: ~10^6)
  // Wall-clock bound and cancellation (libdw may run another FDE than the one counted, when
  // a crafted .eh_frame_hdr points elsewhere): checked at every row.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  const std::atomic<bool>* cancel = nullptr;
};

// The table of `elf`, or nullopt with `why` ("no .eh_frame or .debug_frame", ...).
std::optional<CfiTable> build_cfi_table(Elf* elf, std::string& why, const CfiLimits& limits = {});

// The rule in effect at `address` (binary search), or an invalid rule.
UnwindRule rule_at(const CfiTable& table, std::uint64_t address);

// The table as the BPF maps hold it (bpf/unwind.h): u32 rows (address & 0xffff) << 16 | rule
// index, grouped by 64 KiB page, each page starting with a row at its first byte when a rule
// covers it. `rule_index` gives each rule's index in the shared rules map.
struct PagedRows {
  std::vector<std::uint32_t> rows;
  struct Page {
    std::uint32_t page;  // address >> 16
    std::uint32_t first;
    std::uint32_t count;
  };
  std::vector<Page> pages;
};
// At most `max_pages` pages (the BPF pages map's size; 4 GiB of code): a table past them is
// cut there (the rest has no rule).
template <typename RuleIndex>
PagedRows page_rows(const CfiTable& table, RuleIndex&& rule_index, std::size_t max_pages = std::size_t{1} << 16) {
  PagedRows out;
  const auto& rows = table.rows;
  auto add = [&](std::uint64_t address, const UnwindRule& rule) {
    const auto page = static_cast<std::uint32_t>(address >> HOTLINE_UNWIND_PAGE_SHIFT);
    if (out.pages.empty() || out.pages.back().page != page) {
      if (out.pages.size() >= max_pages) return false;
      out.pages.push_back({page, static_cast<std::uint32_t>(out.rows.size()), 0});
    }
    const std::uint32_t index = rule_index(rule);
    out.rows.push_back((static_cast<std::uint32_t>(address & 0xffff) << 16) | (index & 0xffff));
    ++out.pages.back().count;
    return true;
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!add(rows[i].address, rows[i].rule)) return out;
    if (rows[i].rule.kind == HOTLINE_RULE_INVALID || i + 1 == rows.size()) continue;
    // A rule that runs into later pages starts each of them.
    const std::uint64_t end = rows[i + 1].address;
    for (std::uint64_t p = (rows[i].address >> HOTLINE_UNWIND_PAGE_SHIFT) + 1; (p << HOTLINE_UNWIND_PAGE_SHIFT) < end;
         ++p) {
      if (!add(p << HOTLINE_UNWIND_PAGE_SHIFT, rows[i].rule)) return out;
    }
  }
  return out;
}

// A rule as the readelf --debug-dump=frames-interp columns show it ("rsp+8 c-16", "plt",
// "signal", "stop", "invalid"): for tests and --verbose.
std::string describe(const UnwindRule& rule);

}  // namespace hotline
