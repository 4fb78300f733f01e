// ELF/DWARF of profiled binaries: their owners control every byte. Opening and resolving
// must never crash, whatever the file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "symbolize/elf_symbolizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  int fd = static_cast<int>(memfd_create("fuzz-elf", MFD_CLOEXEC));
  if (fd < 0) return 0;
  if (write(fd, data, size) != static_cast<ssize_t>(size)) {
    close(fd);
    return 0;
  }
  auto elf = hotline::ElfSymbolizer::open("fuzz.elf", fd, "fuzz");  // owns fd
  if (!elf) return 0;
  for (std::uint64_t offset : {0ull, 0x40ull, 0x1000ull, 0x1130ull, 0x1140ull, 0x2000ull}) {
    auto vaddr = elf->vaddr_for_offset(offset);
    auto r = elf->resolve(vaddr.value_or(offset));
    if (r.frames.empty()) __builtin_trap();  // resolve promises at least one frame
  }
  return 0;
}
