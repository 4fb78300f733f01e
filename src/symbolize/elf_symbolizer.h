#pragma once
// Resolves addresses of one ELF file (executable, shared library, vdso image) with
// elfutils libdwfl: DWARF lines and inline chains when available (also from separate
// debug files found by build-id or .gnu_debuglink), symbol tables otherwise.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbolize/debug_search.h"
#include "symbolize/frame.h"

struct Dwfl;
struct Dwfl_Module;
struct Dwarf;

namespace hotline {

class ElfSymbolizer {
 public:
  // `fd` (then owned) is the file, already opened by the rule of target/target_file.h;
  // without one, `path` is a file the user named (opened non-blocking, regular files only).
  // `search` says where its separate debug files may be looked for (default: next to `path`
  // in hotline's own file system, and the system debug directories). `display_name` is what
  // "[name+0x...]" fallbacks show. Returns nullptr when the file is not a usable ELF.
  static std::unique_ptr<ElfSymbolizer> open(const std::string& path, int fd, std::string display_name,
                                             std::optional<DebugSearch> search = std::nullopt);
  // The system debug directories, in libdwfl's path syntax (":.debug:/usr/lib/debug"): its
  // absolute elements (the file's own directory and .debug/ are always looked in). ""
  // restores the default. Affects files opened afterwards.
  static void set_debuginfo_path(const std::string& path);
  ~ElfSymbolizer();
  ElfSymbolizer(const ElfSymbolizer&) = delete;
  ElfSymbolizer& operator=(const ElfSymbolizer&) = delete;

  // The file's executable PT_LOAD segments, in its virtual addresses (what a pprof mapping
  // of its code covers), kept so that nothing needs to open the file again.
  struct CodeSegment {
    std::uint64_t start = 0, end = 0, file_offset = 0;
  };
  const std::vector<CodeSegment>& code_segments() const { return code_segments_; }

  // Hex build id ("" when the file has none).
  const std::string& build_id() const { return build_id_; }
  bool has_dwarf() const { return has_dwarf_; }

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

  // Functions and inlined instances of one CU, indexed once on first use so that a lookup
  // is a binary search plus a short descent instead of a walk of the CU's DIE tree.
  struct Range {
    std::uint64_t lo, hi;
  };
  struct FunctionEntry {
    std::uint64_t die_offset;
    std::int32_t parent = -1;     // enclosing entry for an inlined instance, -1 for a function
    std::uint32_t call_file = 0;  // call site of an inlined instance (index in the CU's files)
    std::uint32_t call_line = 0;
    bool inlined = false;
    std::vector<Range> ranges;
  };
  struct TopRange {
    std::uint64_t lo, hi;
    std::uint32_t entry;
  };
  // Ranges of the inlined instances directly inside one entry, sorted by start: large
  // template functions have thousands, so they are binary-searched, not scanned.
  struct ChildRanges {
    std::vector<TopRange> ranges;
  };
  struct CuIndex {
    std::vector<FunctionEntry> entries;
    std::vector<ChildRanges> children;  // parallel to entries
    std::vector<TopRange> top;  // out-of-line functions' ranges, sorted
  };
  const CuIndex& cu_index(const CuRange& unit, void* cu_die);
  std::unordered_map<std::uint64_t, std::unique_ptr<CuIndex>> cu_indexes_;
  std::unordered_map<std::uint64_t, std::string> names_;  // by DIE offset
  Dwarf* dwarf_ = nullptr;
  std::uint64_t dwarf_bias_ = 0;  // dwfl address = DWARF address + dwarf_bias_
  std::vector<CuRange> units_;
  bool indexed_ = false;
  Dwfl* dwfl_ = nullptr;
  std::unique_ptr<DebugLookup> lookup_;  // the module's userdata while the Dwfl lives
  Dwfl_Module* module_ = nullptr;
  std::uint64_t bias_ = 0;  // dwfl address = ELF vaddr + bias_
  std::vector<Segment> segments_;
  std::vector<CodeSegment> code_segments_;
  std::string build_id_;
  std::string display_name_;
  bool has_dwarf_ = false;
  bool group_unnamed_ = false;
};

}  // namespace hotline
