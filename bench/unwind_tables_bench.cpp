// Unwind table build time and size per file (src/unwind/cfi_table): the median of five
// builds, rows, and bytes as the BPF maps hold them (4 per row, plus the page index).
// Usage: unwind_tables_bench FILE...
#include <fcntl.h>
#include <libelf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "unwind/cfi_table.h"

int main(int argc, char** argv) {
  elf_version(EV_CURRENT);
  std::printf("| file | FDEs | rows | distinct rules | build ms (median of 5) | bytes in BPF maps | bytes per row |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int i = 1; i < argc; ++i) {
    std::vector<double> ms;
    std::optional<hotline::CfiTable> table;
    for (int round = 0; round < 5; ++round) {
      const int fd = ::open(argv[i], O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      const auto t0 = std::chrono::steady_clock::now();
      Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
      std::string why;
      table = hotline::build_cfi_table(elf, why);
      elf_end(elf);
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      ::close(fd);
    }
    if (!table) {
      std::printf("| %s | - | - | - | - | - | - |\n", argv[i]);
      continue;
    }
    std::map<hotline::UnwindRule, std::uint32_t> index;
    const auto paged = hotline::page_rows(*table, [&](const hotline::UnwindRule& r) {
      return index.try_emplace(r, static_cast<std::uint32_t>(index.size())).first->second;
    });
    std::sort(ms.begin(), ms.end());
    const double bytes = static_cast<double>(paged.rows.size() * 4 + paged.pages.size() * 64);
    std::printf("| %s | %zu | %zu | %zu | %.1f | %.0f | %.2f |\n", argv[i], table->fdes, paged.rows.size(), index.size(),
                ms[ms.size() / 2], bytes, bytes / static_cast<double>(paged.rows.size()));
  }
  return 0;
}
