// Malformed binaries: the ELF and DWARF of profiled programs are untrusted input (anything
// running on the host may have produced them). Truncated, corrupted and lying files must
// neither crash the symbolizer nor make it hold unbounded memory.
#include <elf.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "harness.h"
#include "symbolize/elf_symbolizer.h"

namespace hotline {
namespace {

using test::fixture;
using test::run;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Peak resident memory of this process since the last reset (VmHWM), in KiB.
long peak_rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) return std::stol(line.substr(6));
  }
  return -1;
}
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

struct SectionInfo {
  std::uint64_t offset, size;
};
// File ranges of the named sections (section headers read from the intact original).
std::map<std::string, SectionInfo> sections_of(const std::string& bytes) {
  std::map<std::string, SectionInfo> out;
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  auto shdr = [&](std::size_t i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    return sh;
  };
  const Elf64_Shdr strtab = shdr(eh.e_shstrndx);
  for (std::size_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh = shdr(i);
    out[bytes.data() + strtab.sh_offset + sh.sh_name] = {sh.sh_offset, sh.sh_size};
  }
  return out;
}

// Opens a damaged copy and resolves addresses across the text: must neither crash nor
// hold more than `budget_mib` of memory beyond what was resident before.
// Returns the peak growth in KiB.
long symbolize_damaged(const std::string& path, const std::vector<std::uint64_t>& addrs, long budget_mib,
                       const std::string& what) {
  SCOPED_TRACE(what);
  reset_peak_rss();
  const long before = peak_rss_kib();
  {
    auto elf = ElfSymbolizer::open(path, -1, "damaged");
    if (elf) {
      for (std::uint64_t a : addrs) {
        auto got = elf->resolve(a);
        EXPECT_FALSE(got.frames.empty());
      }
    }
  }
  const long peak = peak_rss_kib();
  EXPECT_LT(peak - before, budget_mib * 1024) << "peak RSS grew by " << (peak - before) / 1024 << " MiB";
  return peak - before;
}

// Every address of .text in steps, so all CUs get indexed.
std::vector<std::uint64_t> text_addresses(const std::string& bytes, std::size_t count) {
  auto sections = sections_of(bytes);
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  Elf64_Shdr text{};
  for (std::size_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    if (sh.sh_offset == sections[".text"].offset && sh.sh_size == sections[".text"].size) text = sh;
  }
  std::vector<std::uint64_t> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(text.sh_addr + text.sh_size * i / count);
  return out;
}

TEST(MalformedElf, TruncatedAndCorruptedBinariesNeverCrashAndStayBounded) {
  // hotline itself: 19 MB with full DWARF, the largest real binary at hand; and a fixture.
  for (const std::string& original : {test::hotline_bin(), fixture("inline")}) {
    SCOPED_TRACE(original);
    const std::string bytes = read_bytes(original);
    ASSERT_GT(bytes.size(), sizeof(Elf64_Ehdr));
    const auto addrs = text_addresses(bytes, 3000);
    const auto sections = sections_of(bytes);
    test::TempDir dir;
    const std::string path = dir.file("damaged");
    // Generous against the intact file's own footprint (~70 MB for hotline's DWARF).
    const long budget = 256;
    // The measurement sees the intact file's own index (so it would see a blow-up).
    if (original == test::hotline_bin()) {
      EXPECT_GT(symbolize_damaged(original, addrs, budget, "intact"), 4 * 1024) << "VmHWM reset works";
    }

    for (double fraction : {0.01, 0.1, 0.3, 0.5, 0.75, 0.9, 0.999}) {
      write_bytes(path, bytes.substr(0, static_cast<std::size_t>(static_cast<double>(bytes.size()) * fraction)));
      symbolize_damaged(path, addrs, budget, "truncated to " + std::to_string(fraction));
    }

    std::mt19937_64 rng(42);
    for (const char* section : {".debug_info", ".debug_abbrev", ".debug_line", ".debug_str", ".debug_rnglists",
                                ".symtab", ".strtab", ".debug_str_offsets", ".debug_addr"}) {
      auto it = sections.find(section);
      if (it == sections.end() || it->second.size == 0) continue;
      for (int round = 0; round < 3; ++round) {
        std::string damaged = bytes;
        const auto [offset, size] = it->second;
        for (int k = 0; k < 200; ++k) damaged[offset + rng() % size] = static_cast<char>(rng());
        write_bytes(path, damaged);
        symbolize_damaged(path, addrs, budget, std::string("random bytes in ") + section);
      }
      // The section's first bytes (unit headers: lengths, versions, offsets) set to 0xff.
      std::string damaged = bytes;
      std::memset(damaged.data() + it->second.offset, 0xff, std::min<std::uint64_t>(it->second.size, 64));
      write_bytes(path, damaged);
      symbolize_damaged(path, addrs, budget, std::string("0xff header in ") + section);
    }

    // Headers that lie: sizes and offsets far beyond the file.
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    auto patch_ehdr = [&](auto mutate, const std::string& what) {
      std::string damaged = bytes;
      Elf64_Ehdr h = eh;
      mutate(h);
      std::memcpy(damaged.data(), &h, sizeof h);
      write_bytes(path, damaged);
      symbolize_damaged(path, addrs, budget, what);
    };
    patch_ehdr([](Elf64_Ehdr& h) { h.e_shoff = ~0ull - 64; }, "e_shoff past the end");
    patch_ehdr([](Elf64_Ehdr& h) { h.e_shnum = 0xffff; }, "e_shnum 65535");
    patch_ehdr([](Elf64_Ehdr& h) { h.e_shstrndx = 0xfffe; }, "e_shstrndx out of range");
    patch_ehdr([&](Elf64_Ehdr& h) { h.e_phoff = bytes.size() - 8; }, "e_phoff at the end");
    patch_ehdr([](Elf64_Ehdr& h) { h.e_phnum = 0xffff; }, "e_phnum 65535");
    for (std::size_t i = 1; i < eh.e_shnum; ++i) {
      std::string damaged = bytes;
      Elf64_Shdr sh;
      const std::size_t at = eh.e_shoff + i * sizeof sh;
      std::memcpy(&sh, damaged.data() + at, sizeof sh);
      sh.sh_size = (i % 2) ? (1ull << 40) : ~0ull / 2;  // claims a terabyte and more
      if (i % 3 == 0) sh.sh_offset = ~0ull - 4096;
      if (i % 5 == 0) sh.sh_flags |= SHF_COMPRESSED;  // a compression header that is not there
      std::memcpy(damaged.data() + at, &sh, sizeof sh);
      write_bytes(path, damaged);
      symbolize_damaged(path, addrs, budget, "section " + std::to_string(i) + " size/offset/flags lie");
    }
  }
}

// A compressed debug section whose header claims 64 GiB when decompressed.
TEST(MalformedElf, CompressedSectionClaimingHugeSizeIsBounded) {
  test::TempDir dir;
  const std::string compressed = dir.file("compressed");
  auto r = run({"/usr/bin/objcopy", "--compress-debug-sections=zlib", fixture("inline"), compressed});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string bytes = read_bytes(compressed);
  const auto sections = sections_of(bytes);
  ASSERT_TRUE(sections.contains(".debug_info"));
  std::string damaged = bytes;
  int patched = 0;
  for (const auto& [name, range] : sections) {
    if (!name.starts_with(".debug_") || range.size < sizeof(Elf64_Chdr)) continue;
    Elf64_Chdr ch;
    std::memcpy(&ch, damaged.data() + range.offset, sizeof ch);
    if (ch.ch_type != ELFCOMPRESS_ZLIB) continue;
    ch.ch_size = 64ull << 30;
    std::memcpy(damaged.data() + range.offset, &ch, sizeof ch);
    ++patched;
  }
  ASSERT_GT(patched, 0) << "objcopy compressed the debug sections";
  const std::string path = dir.file("damaged");
  write_bytes(path, damaged);
  symbolize_damaged(path, text_addresses(bytes, 500), 256, "ch_size 64 GiB");
  // The intact compressed file still symbolizes with lines.
  auto elf = ElfSymbolizer::open(compressed, -1, "compressed");
  ASSERT_NE(elf, nullptr);
  EXPECT_TRUE(elf->has_dwarf());
}

}  // namespace
}  // namespace hotline
