#include "symbolize/elf_symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "symbolize/demangle.h"

namespace hotline {
namespace {

char* debuginfo_path = nullptr;  // libdwfl's default: ":.debug:/usr/lib/debug"

const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

std::string function_name(Dwarf_Die* die) {
  Dwarf_Attribute attr;
  // dwarf_attr_integrate follows DW_AT_abstract_origin and DW_AT_specification, so inlined
  // instances and out-of-class method definitions find their declaration's names.
  for (int at : {DW_AT_linkage_name, DW_AT_MIPS_linkage_name}) {
    if (dwarf_attr_integrate(die, at, &attr) != nullptr) {
      if (const char* s = dwarf_formstring(&attr)) return demangle(s);
    }
  }
  if (dwarf_attr_integrate(die, DW_AT_name, &attr) != nullptr) {
    if (const char* s = dwarf_formstring(&attr)) return s;
  }
  return "??";
}

}  // namespace

std::unique_ptr<ElfSymbolizer> ElfSymbolizer::open(const std::string& path, int fd,
                                                   std::string display_name) {
  std::unique_ptr<ElfSymbolizer> self(new ElfSymbolizer());
  self->display_name_ = std::move(display_name);
  self->dwfl_ = dwfl_begin(&kCallbacks);
  if (self->dwfl_ == nullptr) {
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  dwfl_report_begin(self->dwfl_);
  // On success libdwfl owns `fd`; on failure we still do.
  self->module_ = dwfl_report_elf(self->dwfl_, self->display_name_.c_str(), path.c_str(), fd, 0, false);
  dwfl_report_end(self->dwfl_, nullptr, nullptr);
  if (self->module_ == nullptr) {
    if (fd >= 0) ::close(fd);
    return nullptr;
  }

  GElf_Addr bias = 0;
  Elf* elf = dwfl_module_getelf(self->module_, &bias);
  if (elf == nullptr) return nullptr;
  self->bias_ = bias;

  std::size_t phnum = 0;
  if (elf_getphdrnum(elf, &phnum) == 0) {
    for (std::size_t i = 0; i < phnum && i < 4096; ++i) {
      GElf_Phdr phdr;
      if (gelf_getphdr(elf, static_cast<int>(i), &phdr) != nullptr && phdr.p_type == PT_LOAD) {
        self->segments_.push_back({phdr.p_offset, phdr.p_filesz, phdr.p_vaddr});
      }
    }
  }

  const unsigned char* bits = nullptr;
  GElf_Addr note_vaddr = 0;
  int len = dwfl_module_build_id(self->module_, &bits, &note_vaddr);
  for (int i = 0; i < len && i < 64; ++i) self->build_id_ += fmt::format("{:02x}", bits[i]);

  Dwarf_Addr dwbias = 0;
  self->dwarf_ = dwfl_module_getdwarf(self->module_, &dwbias);
  self->dwarf_bias_ = dwbias;
  self->has_dwarf_ = self->dwarf_ != nullptr;
  self->has_symbols_ = dwfl_module_getsymtab(self->module_) > 0;
  return self;
}

void ElfSymbolizer::index_units() {
  indexed_ = true;
  Dwarf_CU* cu = nullptr;
  Dwarf_CU* next = nullptr;
  Dwarf_Half version = 0;
  std::uint8_t unit_type = 0;
  Dwarf_Die cudie, subdie;
  // Bounded: a malformed file cannot make us loop or grow without limit.
  for (std::size_t count = 0; count < (1u << 22) &&
                              dwarf_get_units(dwarf_, cu, &next, &version, &unit_type, &cudie, &subdie) == 0;
       ++count) {
    cu = next;
    if (unit_type == DW_UT_skeleton || unit_type == DW_UT_type || unit_type == DW_UT_split_type) continue;
    Dwarf_Addr base = 0, start = 0, end = 0;
    ptrdiff_t offset = 0;
    int ranges = 0;
    while ((offset = dwarf_ranges(&cudie, offset, &base, &start, &end)) > 0 && ranges++ < 65536) {
      if (end > start) units_.push_back({start, end, dwarf_dieoffset(&cudie)});
    }
  }
  std::sort(units_.begin(), units_.end(),
            [](const CuRange& a, const CuRange& b) { return a.start < b.start || (a.start == b.start && a.end < b.end); });
}

const ElfSymbolizer::CuRange* ElfSymbolizer::find_unit(std::uint64_t dwarf_addr) const {
  auto it = std::upper_bound(units_.begin(), units_.end(), dwarf_addr,
                             [](std::uint64_t a, const CuRange& r) { return a < r.start; });
  // Ranges may nest or overlap (rare); look back a few for one that contains the address.
  for (int steps = 0; it != units_.begin() && steps < 16; ++steps) {
    --it;
    if (dwarf_addr >= it->start && dwarf_addr < it->end) return &*it;
  }
  return nullptr;
}

ElfSymbolizer::~ElfSymbolizer() {
  if (dwfl_ != nullptr) dwfl_end(dwfl_);
}

std::optional<std::uint64_t> ElfSymbolizer::vaddr_for_offset(std::uint64_t file_offset) const {
  for (const auto& s : segments_) {
    if (file_offset >= s.offset && file_offset - s.offset < s.filesz) {
      return file_offset - s.offset + s.vaddr;
    }
  }
  return std::nullopt;
}

Symbolized ElfSymbolizer::resolve(std::uint64_t vaddr) {
  Symbolized out;
  const Dwarf_Addr addr = vaddr + bias_;
  std::string file;
  int line = 0;

  if (has_dwarf_) {
    if (!indexed_) index_units();
    const Dwarf_Addr dwarf_addr = addr - dwarf_bias_;
    Dwarf_Die cu;
    const CuRange* unit = find_unit(dwarf_addr);
    if (unit != nullptr && dwarf_offdie(dwarf_, unit->cu_offset, &cu) != nullptr) {
      if (Dwarf_Line* l = dwarf_getsrc_die(&cu, dwarf_addr)) {
        int lineno = 0;
        const char* f = dwarf_linesrc(l, nullptr, nullptr);
        if (f != nullptr && dwarf_lineno(l, &lineno) == 0) {
          file = f;
          line = lineno;
        }
      }
      Dwarf_Files* files = nullptr;
      std::size_t nfiles = 0;
      const bool have_files = dwarf_getsrcfiles(&cu, &files, &nfiles) == 0;
      // Innermost function-like scope at the address: an inlined instance or a function.
      Dwarf_Die current;
      bool found = false;
      {
        Dwarf_Die* scopes = nullptr;
        int n = dwarf_getscopes(&cu, dwarf_addr, &scopes);
        for (int i = 0; i < n && !found; ++i) {
          const int tag = dwarf_tag(&scopes[i]);
          if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
            current = scopes[i];
            found = true;
          }
        }
        std::free(scopes);
      }
      std::string frame_file = file;
      int frame_line = line;
      // Walk out through the concrete tree: each inlined instance's call site is the
      // position in the function (or inlined instance) that contains it.
      for (int depth = 0; found && depth < 256; ++depth) {
        out.frames.push_back({function_name(&current), frame_file, frame_line});
        if (dwarf_tag(&current) != DW_TAG_inlined_subroutine) break;
        frame_file.clear();
        frame_line = 0;
        Dwarf_Attribute attr;
        Dwarf_Word value = 0;
        if (have_files && dwarf_formudata(dwarf_attr(&current, DW_AT_call_file, &attr), &value) == 0 &&
            value < nfiles) {
          if (const char* f = dwarf_filesrc(files, value, nullptr, nullptr)) frame_file = f;
        }
        if (dwarf_formudata(dwarf_attr(&current, DW_AT_call_line, &attr), &value) == 0) {
          frame_line = static_cast<int>(value);
        }
        Dwarf_Die* parents = nullptr;
        int n = dwarf_getscopes_die(&current, &parents);
        found = false;
        for (int i = 1; i < n && !found; ++i) {
          const int tag = dwarf_tag(&parents[i]);
          if (tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine) {
            current = parents[i];
            found = true;
          }
        }
        std::free(parents);
      }
    }
    if (!out.frames.empty()) {
      out.from_debuginfo = true;
      return out;
    }
  }

  GElf_Sym sym;
  GElf_Off offset = 0;
  const char* name = dwfl_module_addrinfo(module_, addr, &offset, &sym, nullptr, nullptr, nullptr);
  if (name != nullptr && *name != '\0') {
    out.frames.push_back({demangle(name), file, line});
    out.from_debuginfo = !file.empty();
  } else {
    out.frames.push_back({group_unnamed_ ? fmt::format("[{}]", display_name_)
                                         : fmt::format("[{}+{:#x}]", display_name_, vaddr),
                          file, line});
  }
  return out;
}

}  // namespace hotline
