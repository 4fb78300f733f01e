#include "symbolize/elf_symbolizer.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <elfutils/libdwelf.h>
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "symbolize/demangle.h"
#include "util/fd.h"

namespace hotline {
namespace {

char* no_debuginfo_path = nullptr;

// Every module is reported with its ELF already open (find_elf is not called); separate
// debug files come from hotline's own search, which opens nothing a target could plant.
const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &no_debuginfo_path,
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

void ElfSymbolizer::set_debuginfo_path(const std::string& path) {
  std::vector<std::string> dirs;
  std::size_t pos = 0;
  while (!path.empty() && pos <= path.size()) {
    std::size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    std::string element = path.substr(pos, end - pos);
    if (!element.empty() && (element.front() == '+' || element.front() == '-')) element.erase(0, 1);
    if (element.starts_with("/")) dirs.push_back(element);
    pos = end + 1;
  }
  set_debug_directories(dirs.empty() && path.empty() ? std::vector<std::string>{"/usr/lib/debug"} : dirs);
}

std::unique_ptr<ElfSymbolizer> ElfSymbolizer::open(const std::string& path, int fd, std::string display_name,
                                                   std::optional<DebugSearch> search) {
  UniqueFd file(fd);
  if (!file) {
    OpenedFile named = open_host_file(own_origin(), path, {kMaxElfBytes, {}, true});
    if (!named) return nullptr;
    file = std::move(named.fd);
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) return nullptr;
  std::unique_ptr<ElfSymbolizer> self(new ElfSymbolizer());
  self->display_name_ = std::move(display_name);
  self->dwfl_ = dwfl_begin(&kCallbacks);
  if (self->dwfl_ == nullptr) return nullptr;
  self->lookup_ = std::make_unique<DebugLookup>();
  self->lookup_->search = search ? std::move(*search) : DebugSearch{own_origin(), path};
  self->lookup_->main = {st.st_dev, st.st_ino};
  self->lookup_->dwfl = self->dwfl_;
  dwfl_report_begin(self->dwfl_);
  // On success libdwfl owns the descriptor.
  self->module_ = dwfl_report_elf(self->dwfl_, self->display_name_.c_str(), path.c_str(), file.get(), 0, false);
  dwfl_report_end(self->dwfl_, nullptr, nullptr);
  if (self->module_ == nullptr) return nullptr;
  (void)file.release();
  void** userdata = nullptr;
  dwfl_module_info(self->module_, &userdata, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr);
  if (userdata != nullptr) *userdata = self->lookup_.get();

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
        // Empty or wrapping segments are not trusted.
        if ((phdr.p_flags & PF_X) && phdr.p_memsz > 0 && phdr.p_vaddr + phdr.p_memsz > phdr.p_vaddr) {
          self->code_segments_.push_back({phdr.p_vaddr, phdr.p_vaddr + phdr.p_memsz, phdr.p_offset});
        }
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
  const char* alt_name = nullptr;
  const void* alt_id = nullptr;
  if (self->dwarf_ != nullptr && !self->lookup_->alt_found &&
      dwelf_dwarf_gnu_debugaltlink(self->dwarf_, &alt_name, &alt_id) > 0) {
    // No dwz file found by the rule: libdw must not go looking for one by itself (it would
    // open the named path, and paths next to the file, with a plain open). (Dwarf*)-1 is
    // libdw's own "looked, none" mark (libdw/dwarf_getalt.c, elfutils 0.188, pinned).
    dwarf_setalt(self->dwarf_, reinterpret_cast<Dwarf*>(-1));  // NOLINT(performance-no-int-to-ptr)
  }
  return self;
}

void ElfSymbolizer::index_units() {
  indexed_ = true;
  Dwarf_CU* cu = nullptr;
  Dwarf_CU* next = nullptr;
  Dwarf_Half version = 0;
  std::uint8_t unit_type = 0;
  Dwarf_Die cudie;
  // Bounded: a malformed file cannot make us loop or grow without limit. No split-unit DIE
  // is asked for: libdw would open the skeleton's .dwo file by the path its DWARF names.
  for (std::size_t count = 0; count < (1u << 22) &&
                              dwarf_get_units(dwarf_, cu, &next, &version, &unit_type, &cudie, nullptr) == 0;
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

const ElfSymbolizer::CuIndex& ElfSymbolizer::cu_index(const CuRange& unit, void* cu_die) {
  auto [slot, inserted] = cu_indexes_.try_emplace(unit.cu_offset);
  if (!inserted) return *slot->second;
  slot->second = std::make_unique<CuIndex>();
  CuIndex& index = *slot->second;

  struct Walker {
    CuIndex& index;
    std::size_t budget = std::size_t{1} << 24;  // DIEs visited at most: bounded on malformed input
    Dwarf_Off last_offset = 0;  // a pre-order walk meets DIEs at growing offsets in sound DWARF
    bool stop = false;          // malformed (a DIE at or before the last one) or out of budget

    void walk(Dwarf_Die* parent_die, std::int32_t parent_entry, int depth) {
      Dwarf_Die child;
      if (stop || depth > 256 || dwarf_child(parent_die, &child) != 0) return;
      do {
        // Corrupted sibling links or abbreviations can loop over the same bytes forever:
        // every DIE must lie after the previous one, and the walk ends for good (all
        // levels) at the first that does not, or when the budget is spent.
        const Dwarf_Off offset = dwarf_dieoffset(&child);
        if (stop || budget == 0 || offset <= last_offset) {
          stop = true;
          return;
        }
        --budget;
        last_offset = offset;
        const int tag = dwarf_tag(&child);
        switch (tag) {
          case DW_TAG_subprogram:
          case DW_TAG_inlined_subroutine: {
            std::vector<Range> ranges;
            Dwarf_Addr base = 0, lo = 0, hi = 0;
            ptrdiff_t offset = 0;
            while ((offset = dwarf_ranges(&child, offset, &base, &lo, &hi)) > 0 && ranges.size() < 65536) {
              if (hi > lo) ranges.push_back({lo, hi});
            }
            if (ranges.empty()) break;  // a declaration or an abstract instance: no code here
            const bool inlined = tag == DW_TAG_inlined_subroutine && parent_entry >= 0;
            auto id = static_cast<std::uint32_t>(index.entries.size());
            FunctionEntry e;
            e.die_offset = dwarf_dieoffset(&child);
            e.inlined = inlined;
            if (inlined) {
              e.parent = parent_entry;
              Dwarf_Attribute attr;
              Dwarf_Word value = 0;
              if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_file, &attr), &value) == 0) {
                e.call_file = static_cast<std::uint32_t>(value);
              }
              if (dwarf_formudata(dwarf_attr(&child, DW_AT_call_line, &attr), &value) == 0) {
                e.call_line = static_cast<std::uint32_t>(value);
              }
              auto& siblings = index.children[static_cast<std::size_t>(parent_entry)].ranges;
              for (const auto& r : ranges) siblings.push_back({r.lo, r.hi, id});
            } else {
              for (const auto& r : ranges) index.top.push_back({r.lo, r.hi, id});
            }
            e.ranges = std::move(ranges);
            index.entries.push_back(std::move(e));
            index.children.emplace_back();
            walk(&child, static_cast<std::int32_t>(id), depth + 1);
            break;
          }
          case DW_TAG_lexical_block:
          case DW_TAG_try_block:
          case DW_TAG_catch_block:
            walk(&child, parent_entry, depth + 1);
            break;
          case DW_TAG_namespace:
          case DW_TAG_module:
          case DW_TAG_class_type:
          case DW_TAG_structure_type:
          case DW_TAG_union_type:
            // Out-of-line functions can be nested in these; they are top-level functions.
            walk(&child, -1, depth + 1);
            break;
          default:
            break;
        }
      } while (dwarf_siblingof(&child, &child) == 0);
    }
  };
  Walker{index}.walk(static_cast<Dwarf_Die*>(cu_die), -1, 0);
  auto by_start = [](const TopRange& a, const TopRange& b) { return a.lo < b.lo || (a.lo == b.lo && a.hi > b.hi); };
  std::sort(index.top.begin(), index.top.end(), by_start);
  for (auto& c : index.children) std::sort(c.ranges.begin(), c.ranges.end(), by_start);
  return index;
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
      const CuIndex& index = cu_index(*unit, &cu);
      // The out-of-line function containing the address, then down through the inlined
      // instances that contain it, to the innermost.
      // Ranges of siblings do not overlap (in valid DWARF), so the containing one is the
      // last starting at or before the address; a few more are checked for odd producers.
      auto find = [&](const std::vector<TopRange>& ranges) -> std::int64_t {
        auto it = std::upper_bound(ranges.begin(), ranges.end(), dwarf_addr,
                                   [](std::uint64_t a, const TopRange& r) { return a < r.lo; });
        for (int steps = 0; it != ranges.begin() && steps < 16; ++steps) {
          --it;
          if (dwarf_addr >= it->lo && dwarf_addr < it->hi) return it->entry;
        }
        return -1;
      };
      std::int64_t current = find(index.top);
      for (int depth = 0; current >= 0 && depth < 256; ++depth) {
        std::int64_t inner = find(index.children[static_cast<std::size_t>(current)].ranges);
        if (inner < 0) break;
        current = inner;
      }
      std::string frame_file = file;
      int frame_line = line;
      // Walk out: each inlined instance's call site is the position in its parent.
      for (int depth = 0; current >= 0 && depth < 256; ++depth) {
        const FunctionEntry& e = index.entries[static_cast<std::size_t>(current)];
        auto [name, inserted] = names_.try_emplace(e.die_offset);
        if (inserted) {
          Dwarf_Die die;
          name->second = dwarf_offdie(dwarf_, e.die_offset, &die) ? function_name(&die) : "??";
        }
        out.frames.push_back({name->second, frame_file, frame_line});
        if (!e.inlined) break;
        frame_file.clear();
        if (have_files && e.call_file < nfiles) {
          if (const char* f = dwarf_filesrc(files, e.call_file, nullptr, nullptr)) frame_file = f;
        }
        frame_line = static_cast<int>(e.call_line);
        current = e.parent;
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
