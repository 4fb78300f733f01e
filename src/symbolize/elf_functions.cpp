#include "symbolize/elf_functions.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "target/target_file.h"
#include "util/fd.h"

namespace hotline {

std::vector<ElfFunction> find_functions(const std::string& path, const std::set<std::string>& names) {
  OpenedFile file = open_host_file(own_origin(), path, {kMaxElfBytes, {}, true});
  if (!file) return {};
  return find_functions(file.fd.get(), names);
}

std::vector<ElfFunction> find_functions(int fd, const std::set<std::string>& names) {
  std::vector<ElfFunction> out;
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return out;
  if (elf_version(EV_CURRENT) == EV_NONE) return out;
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  if (elf == nullptr) return out;
  struct Load {
    std::uint64_t vaddr, filesz, offset;
  };
  std::vector<Load> loads;
  std::size_t phnum = 0;
  if (elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &phnum) == 0) {
    for (std::size_t i = 0; i < phnum; ++i) {
      GElf_Phdr ph;
      if (gelf_getphdr(elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD && (ph.p_flags & PF_X)) {
        loads.push_back({ph.p_vaddr, ph.p_filesz, ph.p_offset});
      }
    }
  }
  std::map<std::string, ElfFunction> found;
  Elf_Scn* scn = nullptr;
  while (!loads.empty() && (scn = elf_nextscn(elf, scn)) != nullptr) {
    GElf_Shdr sh;
    if (gelf_getshdr(scn, &sh) == nullptr || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM)) continue;
    if (sh.sh_entsize == 0 || sh.sh_size > static_cast<std::uint64_t>(st.st_size)) continue;
    Elf_Data* data = elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    const std::size_t count = std::min<std::size_t>(sh.sh_size / sh.sh_entsize, data->d_size / sh.sh_entsize);
    for (std::size_t i = 0; i < count; ++i) {
      GElf_Sym sym;
      if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr) continue;
      const int type = GELF_ST_TYPE(sym.st_info);
      if (type != STT_FUNC || sym.st_shndx == SHN_UNDEF || sym.st_value == 0) continue;
      const char* name = elf_strptr(elf, sh.sh_link, sym.st_name);
      if (name == nullptr || !names.contains(name) || found.contains(name)) continue;
      for (const Load& l : loads) {
        if (sym.st_value >= l.vaddr && sym.st_value < l.vaddr + l.filesz) {
          found[name] = {name, sym.st_value, sym.st_value - l.vaddr + l.offset};
          break;
        }
      }
    }
  }
  elf_end(elf);
  for (auto& [name, f] : found) out.push_back(std::move(f));
  return out;
}

}  // namespace hotline
