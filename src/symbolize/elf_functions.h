#pragma once
// Finds named functions defined in an ELF file (its .symtab and .dynsym) and the file
// offsets of their entry points, for placing uprobes. The file is untrusted: every count
// and offset is checked against the file's size.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace hotline {

struct ElfFunction {
  std::string name;
  std::uint64_t vaddr = 0;        // st_value
  std::uint64_t file_offset = 0;  // through the PT_LOAD segment containing it
};

// Defined STT_FUNC / STT_GNU_IFUNC symbols among `names`, one per name (the first found);
// empty when the file is not a readable ELF. IFUNC resolvers are skipped: probing them would
// not probe the function.
std::vector<ElfFunction> find_functions(const std::string& path, const std::set<std::string>& names);
// The same on an open file (opened by the target-file rule); the descriptor stays the caller's.
std::vector<ElfFunction> find_functions(int fd, const std::set<std::string>& names);


}  // namespace hotline
