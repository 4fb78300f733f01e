#include "unwind/cfi_table.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>

#include <fmt/format.h>

namespace hotline {
namespace {

constexpr int kRbp = 6;
constexpr std::uint64_t kMaxFdeBytes = std::uint64_t{64} << 20;
constexpr int kRsp = 7;

struct CfiDeleter {
  void operator()(Dwarf_CFI* cfi) const { dwarf_cfi_end(cfi); }
};
struct DwarfDeleter {
  void operator()(Dwarf* dwarf) const { dwarf_end(dwarf); }
};

Elf_Scn* section_named(Elf* elf, std::string_view name, GElf_Shdr& header) {
  std::size_t names = 0;
  if (elf_getshdrstrndx(elf, &names) != 0) return nullptr;
  for (Elf_Scn* scn = elf_nextscn(elf, nullptr); scn != nullptr; scn = elf_nextscn(elf, scn)) {
    if (gelf_getshdr(scn, &header) == nullptr) continue;
    const char* n = elf_strptr(elf, names, header.sh_name);
    if (n != nullptr && name == n) return scn;
  }
  return nullptr;
}

// A pointer-encoded value (DW_EH_PE_*) at `p`, advanced past it. `field` is the address of
// the field itself (for pc-relative values).
bool read_encoded(const std::uint8_t*& p, const std::uint8_t* end, std::uint8_t encoding, std::uint64_t field,
                  bool apply, std::uint64_t& out) {
  auto take = [&](std::size_t n, bool is_signed) {
    if (static_cast<std::size_t>(end - p) < n) return false;
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);  // little endian (x86-64)
    if (is_signed && n < 8 && (v >> (n * 8 - 1)) != 0) v |= ~std::uint64_t{0} << (n * 8);
    p += n;
    out = v;
    return true;
  };
  auto leb = [&](bool is_signed) {
    std::uint64_t v = 0;
    unsigned shift = 0;
    std::uint8_t byte = 0;
    do {
      if (p >= end || shift > 63) return false;
      byte = *p++;
      v |= std::uint64_t{byte & 0x7fu} << shift;
      shift += 7;
    } while ((byte & 0x80) != 0);
    if (is_signed && shift < 64 && (byte & 0x40) != 0) v |= ~std::uint64_t{0} << shift;
    out = v;
    return true;
  };
  bool ok = false;
  switch (encoding & 0x0f) {
    case DW_EH_PE_absptr: ok = take(8, false); break;
    case DW_EH_PE_uleb128: ok = leb(false); break;
    case DW_EH_PE_udata2: ok = take(2, false); break;
    case DW_EH_PE_udata4: ok = take(4, false); break;
    case DW_EH_PE_udata8: ok = take(8, false); break;
    case DW_EH_PE_sleb128: ok = leb(true); break;
    case DW_EH_PE_sdata2: ok = take(2, true); break;
    case DW_EH_PE_sdata4: ok = take(4, true); break;
    case DW_EH_PE_sdata8: ok = take(8, true); break;
    default: return false;
  }
  if (!ok) return false;
  if (!apply) return true;
  switch (encoding & 0x70) {
    case DW_EH_PE_absptr: return true;
    case DW_EH_PE_pcrel: out += field; return true;
    default: return false;  // datarel, textrel, funcrel: not used for FDE addresses on x86-64
  }
}

// The FDE address encoding of a CIE (its 'R' augmentation), DW_EH_PE_absptr without one.
std::optional<std::uint8_t> fde_encoding(const Dwarf_CIE& cie) {
  const char* aug = cie.augmentation;
  if (aug == nullptr || aug[0] != 'z') return std::uint8_t{DW_EH_PE_absptr};
  const std::uint8_t* p = cie.augmentation_data;
  const std::uint8_t* end = p + cie.augmentation_data_size;
  for (const char* c = aug + 1; *c != '\0'; ++c) {
    switch (*c) {
      case 'R':
        if (p >= end) return std::nullopt;
        return *p;
      case 'L':
        if (p >= end) return std::nullopt;
        ++p;
        break;
      case 'P': {
        if (p >= end) return std::nullopt;
        const std::uint8_t enc = *p++;
        std::uint64_t ignored = 0;
        if (!read_encoded(p, end, enc, 0, false, ignored)) return std::nullopt;
        break;
      }
      case 'S':
      case 'B':
        break;
      default:
        return std::nullopt;
    }
  }
  return std::uint8_t{DW_EH_PE_absptr};
}

struct FdeRange {
  std::uint64_t start;
  std::uint64_t end;
  std::uint64_t bytes;  // of its entry: what libdw runs again for every row looked up in it
};

// The address ranges of every FDE of a CFI section.
std::vector<FdeRange> fde_ranges(Elf* elf, Elf_Data* data, std::uint64_t section_address, bool eh_frame,
                                 const CfiLimits& limits) {
  std::vector<FdeRange> out;
  const char* ident = elf_getident(elf, nullptr);
  if (ident == nullptr) return out;
  std::map<Dwarf_Off, std::optional<std::uint8_t>> cies;
  std::vector<std::pair<Dwarf_Off, Dwarf_FDE>> fdes;
  Dwarf_Off offset = 0;
  while (fdes.size() < limits.max_fdes) {
    Dwarf_Off next = 0;
    Dwarf_CFI_Entry entry;
    if (dwarf_next_cfi(reinterpret_cast<const unsigned char*>(ident), data, eh_frame, offset, &next, &entry) != 0) break;
    if (dwarf_cfi_cie_p(&entry)) {
      cies.emplace(offset, eh_frame ? fde_encoding(entry.cie) : std::optional<std::uint8_t>(DW_EH_PE_absptr));
    } else {
      fdes.emplace_back(offset, entry.fde);
    }
    if (next <= offset) break;
    offset = next;
  }
  const auto* base = static_cast<const std::uint8_t*>(data->d_buf);
  for (const auto& [fde_offset, fde] : fdes) {
    auto cie = cies.find(fde.CIE_pointer);
    if (cie == cies.end() || !cie->second) continue;
    const std::uint8_t encoding = *cie->second;
    const std::uint8_t* p = fde.start;
    if (p < base || fde.end > base + data->d_size) continue;
    std::uint64_t start = 0, length = 0;
    const std::uint64_t field = section_address + static_cast<std::uint64_t>(p - base);
    if (!read_encoded(p, fde.end, encoding, field, true, start)) continue;
    if (!read_encoded(p, fde.end, static_cast<std::uint8_t>(encoding & 0x0f), 0, false, length)) continue;
    // No function is 64 MiB long: such an FDE is crafted (it would span a million pages).
    if (length == 0 || length > kMaxFdeBytes || start + length < start) continue;
    out.push_back({start, start + length, static_cast<std::uint64_t>(fde.end - fde.start)});
  }
  return out;
}

// An operation's signed operand (libdw stores them unsigned).
std::int64_t signed_number(Dwarf_Word n) { return static_cast<std::int64_t>(n); }

bool fits32(std::int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

// The rule of one row of a frame.
UnwindRule rule_of(Dwarf_Frame* frame, bool signal, std::size_t& unsupported) {
  UnwindRule rule;
  if (signal) {
    rule.kind = HOTLINE_RULE_SIGNAL;
    return rule;
  }
  Dwarf_Addr start = 0, end = 0;
  const int ra_register = dwarf_frame_info(frame, &start, &end, nullptr);
  Dwarf_Op mem[3];
  Dwarf_Op* ops = nullptr;
  std::size_t nops = 0;
  if (ra_register < 0 || dwarf_frame_register(frame, ra_register, mem, &ops, &nops) != 0) {
    ++unsupported;
    return rule;
  }
  if (nops == 0) {
    if (ops == mem) {  // undefined: the outermost frame (_start, clone's child, thread starts)
      rule.kind = HOTLINE_RULE_STOP;
      return rule;
    }
    ++unsupported;  // "same value" return address: not a frame hotline can leave
    return rule;
  }
  // The return address must be saved at CFA - 8.
  if (!(nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst &&
        signed_number(ops[1].number) == -8)) {
    ++unsupported;
    return rule;
  }
  Dwarf_Op* cfa = nullptr;
  std::size_t ncfa = 0;
  if (dwarf_frame_cfa(frame, &cfa, &ncfa) != 0 || ncfa == 0) {
    ++unsupported;
    return rule;
  }
  if (ncfa == 1 && cfa[0].atom == DW_OP_bregx && (cfa[0].number == kRsp || cfa[0].number == kRbp) &&
      fits32(signed_number(cfa[0].number2))) {
    rule.kind = cfa[0].number == kRsp ? HOTLINE_RULE_CFA_RSP : HOTLINE_RULE_CFA_RBP;
    rule.cfa_offset = static_cast<std::int32_t>(signed_number(cfa[0].number2));
  } else if (ncfa == 2 && cfa[0].atom == DW_OP_breg6 && cfa[1].atom == DW_OP_deref &&
             fits32(signed_number(cfa[0].number))) {
    rule.kind = HOTLINE_RULE_CFA_RBP_DEREF;  // stack realignment: the CFA saved below rbp
    rule.cfa_offset = static_cast<std::int32_t>(signed_number(cfa[0].number));
  } else if (ncfa == 9 && cfa[0].atom == DW_OP_breg7 && cfa[1].atom == DW_OP_breg16 && cfa[1].number == 0 &&
             cfa[2].atom == DW_OP_lit15 && cfa[3].atom == DW_OP_and && cfa[4].atom >= DW_OP_lit0 &&
             cfa[4].atom <= DW_OP_lit31 && cfa[5].atom == DW_OP_ge && cfa[6].atom == DW_OP_lit3 &&
             cfa[7].atom == DW_OP_shl && cfa[8].atom == DW_OP_plus && fits32(signed_number(cfa[0].number))) {
    // The PLT's expression: rsp + 8, + 8 more once the stub has pushed its index.
    rule.kind = HOTLINE_RULE_PLT;
    rule.cfa_offset = static_cast<std::int32_t>(signed_number(cfa[0].number));
    rule.rbp_offset = cfa[4].atom - DW_OP_lit0;
    return rule;
  } else {
    ++unsupported;
    return rule;
  }
  if (dwarf_frame_register(frame, kRbp, mem, &ops, &nops) != 0) {
    ++unsupported;
    return UnwindRule{};
  }
  if (nops == 0) return rule;  // same value (or undefined: nothing to restore either way)
  if (nops == 1 && ops[0].atom == DW_OP_call_frame_cfa) {
    rule.rbp = HOTLINE_RBP_AT_CFA;
    return rule;
  }
  if (nops == 2 && ops[0].atom == DW_OP_call_frame_cfa && ops[1].atom == DW_OP_plus_uconst &&
      fits32(signed_number(ops[1].number))) {
    rule.rbp = HOTLINE_RBP_AT_CFA;
    rule.rbp_offset = static_cast<std::int32_t>(signed_number(ops[1].number));
    return rule;
  }
  ++unsupported;  // rbp in another register or computed: not followed
  return UnwindRule{};
}

void add_row(std::vector<UnwindRow>& rows, std::uint64_t address, const UnwindRule& rule) {
  if (!rows.empty() && rows.back().address == address) {
    rows.back().rule = rule;  // an empty range before it: replaced
    if (rows.size() >= 2 && rows[rows.size() - 2].rule == rule) rows.pop_back();
    return;
  }
  if (!rows.empty() && rows.back().rule == rule) return;
  rows.push_back({address, rule});
}

}  // namespace

std::optional<CfiTable> build_cfi_table(Elf* elf, std::string& why, const CfiLimits& limits) {
  CfiTable table;
  GElf_Shdr header{};
  Elf_Scn* scn = section_named(elf, ".eh_frame", header);
  bool eh_frame = scn != nullptr && header.sh_type != SHT_NOBITS && header.sh_size > 0;
  std::unique_ptr<Dwarf, DwarfDeleter> dwarf;
  Dwarf_CFI* cfi = nullptr;
  std::unique_ptr<Dwarf_CFI, CfiDeleter> owned_cfi;
  if (eh_frame) {
    owned_cfi.reset(dwarf_getcfi_elf(elf));
    cfi = owned_cfi.get();
    table.section = ".eh_frame";
  } else {
    scn = section_named(elf, ".debug_frame", header);
    if (scn == nullptr || header.sh_type == SHT_NOBITS || header.sh_size == 0) {
      why = "no .eh_frame or .debug_frame";
      return std::nullopt;
    }
    dwarf.reset(dwarf_begin_elf(elf, DWARF_C_READ, nullptr));
    if (dwarf) cfi = dwarf_getcfi(dwarf.get());  // owned by the Dwarf handle
    table.section = ".debug_frame";
  }
  Elf_Data* data = elf_getdata(scn, nullptr);
  if (cfi == nullptr || data == nullptr || data->d_buf == nullptr) {
    why = fmt::format("cannot read {}: {}", table.section, dwarf_errmsg(-1));
    return std::nullopt;
  }
  std::vector<FdeRange> ranges = fde_ranges(elf, data, header.sh_addr, eh_frame, limits);
  table.fdes = ranges.size();
  std::sort(ranges.begin(), ranges.end(), [](const FdeRange& a, const FdeRange& b) { return a.start < b.start; });
  std::vector<UnwindRow>& rows = table.rows;
  std::uint64_t covered = 0;  // everything below is decoded (overlapping FDEs keep the first)
  // libdw runs an FDE's program from its start for every address looked up in it: the work
  // is rows × program bytes, bounded (a crafted FDE of a million one-byte advances would
  // otherwise take hours); what is left undecoded has no rule.
  std::uint64_t work = 0;
  for (std::size_t i = 0; i < ranges.size() && rows.size() < limits.max_rows && work < limits.max_work; ++i) {
    const FdeRange& r = ranges[i];
    std::uint64_t address = std::max(r.start, covered);
    if (address >= r.end) continue;
    if (!rows.empty() && covered < address) add_row(rows, covered, UnwindRule{});  // a gap
    std::size_t steps = 0;
    while (address < r.end && rows.size() < limits.max_rows && steps < limits.max_rows_per_fde &&
           work < limits.max_work) {
      if ((steps & 63) == 0 && (std::chrono::steady_clock::now() > limits.deadline ||
                                (limits.cancel != nullptr && limits.cancel->load(std::memory_order_relaxed)))) {
        work = limits.max_work;  // out of time: what is decoded stays, the rest has no rule
        break;
      }
      ++steps;
      work += r.bytes + 1;
      Dwarf_Frame* frame = nullptr;
      if (dwarf_cfi_addrframe(cfi, address, &frame) != 0) break;
      std::unique_ptr<Dwarf_Frame, decltype(&std::free)> owned(frame, &std::free);
      Dwarf_Addr start = 0, end = 0;
      bool signal = false;
      if (dwarf_frame_info(frame, &start, &end, &signal) < 0 || end <= address) break;
      add_row(rows, address, rule_of(frame, signal, table.unsupported));
      address = std::min<std::uint64_t>(end, r.end);
    }
    if (address < r.end) {  // undecodable rest (or a limit): invalid from where it stopped
      add_row(rows, address, UnwindRule{});
      address = r.end;
    }
    covered = address;
    const bool next_adjacent = i + 1 < ranges.size() && ranges[i + 1].start <= covered;
    if (!next_adjacent) add_row(rows, covered, UnwindRule{});
  }
  table.cut = rows.size() >= limits.max_rows || work >= limits.max_work;
  if (rows.empty()) {
    why = fmt::format("{} has no usable entries", table.section);
    return std::nullopt;
  }
  return table;
}

UnwindRule rule_at(const CfiTable& table, std::uint64_t address) {
  auto it = std::upper_bound(table.rows.begin(), table.rows.end(), address,
                             [](std::uint64_t a, const UnwindRow& row) { return a < row.address; });
  if (it == table.rows.begin()) return {};
  return std::prev(it)->rule;
}

std::string describe(const UnwindRule& rule) {
  switch (rule.kind) {
    case HOTLINE_RULE_CFA_RSP:
    case HOTLINE_RULE_CFA_RBP:
    case HOTLINE_RULE_CFA_RBP_DEREF: {
      std::string out = fmt::format("{}{}{:+d}{}", rule.kind == HOTLINE_RULE_CFA_RBP_DEREF ? "*(" : "",
                                    rule.kind == HOTLINE_RULE_CFA_RSP ? "rsp" : "rbp", rule.cfa_offset,
                                    rule.kind == HOTLINE_RULE_CFA_RBP_DEREF ? ")" : "");
      if (rule.rbp == HOTLINE_RBP_AT_CFA) out += fmt::format(" c{:+d}", rule.rbp_offset);
      return out;
    }
    case HOTLINE_RULE_PLT: return "plt";
    case HOTLINE_RULE_SIGNAL: return "signal";
    case HOTLINE_RULE_STOP: return "stop";
    default: return "invalid";
  }
}

}  // namespace hotline
