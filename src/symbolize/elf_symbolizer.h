#pragma once
// Resolves addresses of one ELF file (executable, shared library, vdso image) with
// elfutils libdwfl: DWARF lines and inline chains when available (also from separate
// debug files found by build-id or .gnu_debuglink), symbol tables otherwise.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "symbolize/frame.h"

struct Dwfl;
struct Dwfl_Module;
struct Dwarf;

namespace hotline {

class ElfSymbolizer {
 public:
  // `path` is opened (or `fd`, which is then owned) and parsed; `display_name` is what
  // "[name+0x...]" fallbacks show. Returns nullptr when the file is not a usable ELF.
  static std::unique_ptr<ElfSymbolizer> open(const std::string& path, int fd,
                                             std::string display_name);
  ~ElfSymbolizer();
  ElfSymbolizer(const ElfSymbolizer&) = delete;
  ElfSymbolizer& operator=(const ElfSymbolizer&) = delete;

  // Hex build id ("" when the file has none).
  const std::string& build_id() const { return build_id_; }
  bool has_dwarf() const { return has_dwarf_; }
  bool has_symbols() const { return has_symbols_; }

  // Virtual address (as in the ELF file, what addr2line takes) of a file offset, through
  // the PT_LOAD segment that maps it.
  std::optional<std::uint64_t> vaddr_for_offset(std::uint64_t file_offset) const;

  // Inline chain of a virtual address; never empty.
  Symbolized resolve(std::uint64_t vaddr);
  // Addresses no symbol covers become "[name]" instead of "[name+0xaddr]": for images
  // whose internal helpers are never symbolized (the vdso), offsets only fragment reports.
  void group_unnamed(bool on) { group_unnamed_ = on; }

 private:
  ElfSymbolizer() = default;
  struct Segment {
    std::uint64_t offset, filesz, vaddr;
  };
  // Address ranges of every compilation unit, sorted: libdw's own lookup needs
  // .debug_aranges, which clang and others do not emit by default.
  struct CuRange {
    std::uint64_t start, end;  // DWARF addresses
    std::uint64_t cu_offset;   // offset of the CU DIE
  };
  void index_units();
  const CuRange* find_unit(std::uint64_t dwarf_addr) const;
  Dwarf* dwarf_ = nullptr;
  std::uint64_t dwarf_bias_ = 0;  // dwfl address = DWARF address + dwarf_bias_
  std::vector<CuRange> units_;
  bool indexed_ = false;
  Dwfl* dwfl_ = nullptr;
  Dwfl_Module* module_ = nullptr;
  std::uint64_t bias_ = 0;  // dwfl address = ELF vaddr + bias_
  std::vector<Segment> segments_;
  std::string build_id_;
  std::string display_name_;
  bool has_dwarf_ = false;
  bool has_symbols_ = false;
  bool group_unnamed_ = false;
};

}  // namespace hotline
