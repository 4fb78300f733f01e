// Resolves every address read from a file (one hex address per line) in one ELF with
// hotline's symbolizer and prints the answers in `addr2line -a -i -f -C` form, so that the
// benchmark can time it against addr2line and eu-addr2line and compare answers.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "symbolize/elf_symbolizer.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: symbolize_bench ELF ADDRESSES_FILE\n");
    return 2;
  }
  std::vector<std::uint64_t> addrs;
  std::ifstream in(argv[2]);
  std::string line;
  while (std::getline(in, line)) addrs.push_back(std::stoull(line, nullptr, 16));

  auto start = std::chrono::steady_clock::now();
  auto elf = hotline::ElfSymbolizer::open(argv[1], -1, argv[1]);
  if (!elf) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  // Streamed through stdio's buffer, as addr2line does.
  static char buffer[1 << 20];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  for (auto a : addrs) {
    auto r = elf->resolve(a);
    std::fprintf(stdout, "0x%016llx\n", static_cast<unsigned long long>(a));
    for (const auto& f : r.frames) {
      std::fwrite(f.function.data(), 1, f.function.size(), stdout);
      std::fputc('\n', stdout);
      if (f.file.empty()) std::fputs("??", stdout);
      else std::fwrite(f.file.data(), 1, f.file.size(), stdout);
      if (f.line > 0) std::fprintf(stdout, ":%d\n", f.line);
      else std::fputs(":?\n", stdout);
    }
  }
  std::fflush(stdout);
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "resolved %zu addresses in %.3f s\n", addrs.size(), elapsed);
  return 0;
}
