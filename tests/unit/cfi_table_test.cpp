// The unwind tables (src/unwind/cfi_table) row by row against readelf's own decoding of the
// same .eh_frame (--debug-dump=frames-interp), for Debian's libc and libstdc++ and a fixture
// built -O2 without frame pointers.
#include <fcntl.h>
#include <libelf.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <sstream>

#include "harness.h"
#include "unwind/cfi_table.h"

namespace hotline::test {
namespace {

struct ReadelfRow {
  std::uint64_t address;
  std::string cfa, rbp, ra;
};
struct ReadelfFde {
  std::uint64_t start, end;
  std::string augmentation;  // of its CIE
  std::vector<ReadelfRow> rows;
};

// readelf's tables: every FDE with its rows (the CIE's initial row when it has none).
std::vector<ReadelfFde> readelf_fdes(const std::string& path) {
  // (readelf exits 1 after warnings about sections it does not need here)
  RunResult r = run({"/usr/bin/readelf", "--debug-dump=frames-interp", path});
  EXPECT_NE(r.out.find("Contents of the .eh_frame section"), std::string::npos) << r.err;
  std::vector<ReadelfFde> out;
  std::map<std::string, ReadelfRow> cie_rows;
  std::map<std::string, std::string> cie_aug;
  const std::regex cie(R"re(^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ CIE "([^"]*)")re");
  const std::regex fde(R"(^([0-9a-f]{8}) [0-9a-f]+ [0-9a-f]+ FDE cie=([0-9a-f]+) pc=([0-9a-f]+)\.\.([0-9a-f]+))");
  std::istringstream in(r.out);
  std::vector<std::string> columns;
  std::string current_cie;
  ReadelfFde* current = nullptr;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, cie)) {
      current_cie = m[1];
      cie_aug[current_cie] = m[2];
      current = nullptr;
      continue;
    }
    if (std::regex_search(line, m, fde)) {
      out.push_back({std::stoull(m[3], nullptr, 16), std::stoull(m[4], nullptr, 16), cie_aug[m[2]], {}});
      if (auto it = cie_rows.find(m[2]); it != cie_rows.end()) {
        ReadelfRow initial = it->second;
        initial.address = out.back().start;
        out.back().rows.push_back(initial);
      }
      current = &out.back();
      current_cie.clear();
      continue;
    }
    // "r10 (r10)": a register saved in another register, one column.
    static const std::regex in_register(R"(r\d+ \([a-z0-9]+\))");
    std::istringstream fields(std::regex_replace(line, in_register, "reg"));
    std::vector<std::string> words;
    for (std::string w; fields >> w;) words.push_back(w);
    if (words.empty()) continue;
    if (words[0] == "LOC") {
      columns = words;
      continue;
    }
    if (words.size() < 2 || words[0].size() != 16 || columns.empty()) continue;
    ReadelfRow row{std::stoull(words[0], nullptr, 16), words[1], "", ""};
    if (words.size() == columns.size()) {
      for (std::size_t i = 2; i < words.size(); ++i) {
        if (columns[i] == "rbp") row.rbp = words[i];
        if (columns[i] == "ra") row.ra = words[i];
      }
    } else {
      row.ra = "?";  // a register rule ("r9 (r9)"): registers saved in other registers
    }
    if (!current_cie.empty()) {
      cie_rows[current_cie] = row;
    } else if (current != nullptr) {
      if (!current->rows.empty() && current->rows.back().address == row.address) current->rows.back() = row;
      else current->rows.push_back(row);
    }
  }
  std::sort(out.begin(), out.end(), [](const ReadelfFde& a, const ReadelfFde& b) { return a.start < b.start; });
  return out;
}

// What readelf's row says our rule must be; false for CFA expressions (checked separately).
bool expected_rule(const ReadelfRow& row, UnwindRule& rule) {
  rule = UnwindRule{};
  if (row.ra == "u") {
    rule.kind = HOTLINE_RULE_STOP;
    return true;
  }
  if (row.cfa == "exp" || row.ra != "c-8") return false;
  if (row.cfa.starts_with("rsp+")) rule.kind = HOTLINE_RULE_CFA_RSP;
  else if (row.cfa.starts_with("rbp+")) rule.kind = HOTLINE_RULE_CFA_RBP;
  else return false;
  rule.cfa_offset = std::stoi(row.cfa.substr(4));
  if (row.rbp.starts_with("c")) {
    rule.rbp = HOTLINE_RBP_AT_CFA;
    rule.rbp_offset = std::stoi(row.rbp.substr(1));
  }
  return true;
}

struct Checked {
  std::size_t rows = 0, expressions = 0, plt = 0, signal = 0, gaps = 0;
};

// The table of the file at `path`; `why` says why there is none.
std::optional<CfiTable> table_of(const std::string& path, std::string& why, const CfiLimits& limits = {}) {
  elf_version(EV_CURRENT);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = "cannot open " + path;
    return std::nullopt;
  }
  Elf* elf = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  auto table = build_cfi_table(elf, why, limits);
  elf_end(elf);
  ::close(fd);
  return table;
}

Checked check_file(const std::string& path) {
  Checked c;
  std::string why;
  auto table = table_of(path, why);
  EXPECT_TRUE(table.has_value()) << path << ": " << why;
  if (!table) return c;
  const auto fdes = readelf_fdes(path);
  EXPECT_EQ(table->fdes, fdes.size()) << path;
  for (std::size_t f = 0; f < fdes.size(); ++f) {
    const ReadelfFde& fde = fdes[f];
    for (std::size_t i = 0; i < fde.rows.size(); ++i) {
      const ReadelfRow& row = fde.rows[i];
      const std::uint64_t last = (i + 1 < fde.rows.size() ? fde.rows[i + 1].address : fde.end) - 1;
      if (last < row.address) continue;
      for (const std::uint64_t at : {row.address, last}) {
        const UnwindRule ours = rule_at(*table, at);
        UnwindRule want;
        if (fde.augmentation.find('S') != std::string::npos) {
          EXPECT_EQ(ours.kind, HOTLINE_RULE_SIGNAL) << path << " at 0x" << std::hex << at;
          ++c.signal;
        } else if (expected_rule(row, want)) {
          EXPECT_EQ(describe(ours), describe(want)) << path << " at 0x" << std::hex << at << " (readelf: " << row.cfa
                                                    << " rbp=" << row.rbp << " ra=" << row.ra << ")";
          ++c.rows;
        } else {
          // An expression (the PLT's, a realignment's), or registers saved in registers (the
          // CFA in rdi, the return address in rdx: __vfork, setcontext): followed, or not at all.
          EXPECT_TRUE(ours.kind == HOTLINE_RULE_PLT || ours.kind == HOTLINE_RULE_CFA_RBP_DEREF ||
                      ours.kind == HOTLINE_RULE_INVALID)
              << path << " at 0x" << std::hex << at << ": " << describe(ours);
          ++c.expressions;
          c.plt += ours.kind == HOTLINE_RULE_PLT;
        }
      }
    }
    // No rule between FDEs.
    if (f + 1 < fdes.size() && fdes[f + 1].start > fde.end) {
      EXPECT_EQ(rule_at(*table, fde.end).kind, HOTLINE_RULE_INVALID) << path << " at 0x" << std::hex << fde.end;
      ++c.gaps;
    }
  }
  return c;
}

TEST(CfiTable, LibcMatchesReadelfRowByRow) {
  const Checked c = check_file("/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_GT(c.rows, 20000u);
  EXPECT_GT(c.plt, 0u) << "libc's PLT rows are PLT rules";
  EXPECT_GT(c.signal, 0u) << "__restore_rt is a signal frame";
  EXPECT_GT(c.gaps, 0u);
}

TEST(CfiTable, LibstdcxxMatchesReadelfRowByRow) {
  const Checked c = check_file("/usr/lib/x86_64-linux-gnu/libstdc++.so.6");
  EXPECT_GT(c.rows, 20000u);
  EXPECT_GT(c.plt, 0u);
}

TEST(CfiTable, NoFramePointerFixtureMatchesReadelfRowByRow) {
  const Checked c = check_file(fixture("nofp_gcc"));
  EXPECT_GT(c.rows, 20u);
  EXPECT_GT(c.plt, 0u);
  // _start's return address is undefined: the outermost frame.
  RunResult nm = run({"/usr/bin/nm", fixture("nofp_gcc")});
  std::istringstream in(nm.out);
  std::uint64_t start = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.ends_with(" T _start")) start = std::stoull(line.substr(0, 16), nullptr, 16);
  }
  ASSERT_NE(start, 0u);
  std::string why;
  auto table = table_of(fixture("nofp_gcc"), why);
  ASSERT_TRUE(table) << why;
  EXPECT_EQ(rule_at(*table, start + 1).kind, HOTLINE_RULE_STOP);
}

// The rows as the BPF maps hold them: every page's rows sorted, starting at the page's first
// byte when a rule covers it, and the rule found at every row address the same.
TEST(CfiTable, PagedRowsKeepEveryRule) {
  std::string why;
  auto table = table_of("/usr/lib/x86_64-linux-gnu/libc.so.6", why);
  ASSERT_TRUE(table) << why;
  std::map<UnwindRule, std::uint32_t> index;
  std::vector<UnwindRule> rules;
  const PagedRows paged = page_rows(*table, [&](const UnwindRule& r) {
    auto [it, inserted] = index.try_emplace(r, static_cast<std::uint32_t>(rules.size()));
    if (inserted) rules.push_back(r);
    return it->second;
  });
  EXPECT_LE(paged.rows.size() * 4 / table->rows.size(), 5u) << "about 4 bytes per row";
  auto lookup = [&](std::uint64_t address) -> std::optional<UnwindRule> {
    const auto page = static_cast<std::uint32_t>(address >> 16);
    for (const auto& p : paged.pages) {
      if (p.page != page) continue;
      const std::uint32_t target = (static_cast<std::uint32_t>(address & 0xffff) << 16) | 0xffff;
      auto begin = paged.rows.begin() + p.first, end = begin + p.count;
      EXPECT_TRUE(std::is_sorted(begin, end));
      auto it = std::upper_bound(begin, end, target);
      if (it == begin) return std::nullopt;
      return rules[*std::prev(it) & 0xffff];
    }
    return std::nullopt;
  };
  for (std::size_t i = 0; i + 1 < table->rows.size(); ++i) {
    const UnwindRow& row = table->rows[i];
    for (const std::uint64_t at : {row.address, table->rows[i + 1].address - 1}) {
      auto got = lookup(at);
      if (row.rule.kind == HOTLINE_RULE_INVALID && !got) continue;
      ASSERT_TRUE(got.has_value()) << std::hex << at;
      EXPECT_EQ(describe(*got), describe(row.rule)) << std::hex << at;
    }
  }
}

// A crafted .eh_frame cannot make the builder run away: the counts are bounded.
TEST(CfiTable, LimitsBoundTheWork) {
  std::string why;
  CfiLimits limits;
  limits.max_fdes = 100;
  limits.max_rows = 500;
  auto table = table_of("/usr/lib/x86_64-linux-gnu/libc.so.6", why, limits);
  ASSERT_TRUE(table) << why;
  EXPECT_LE(table->fdes, 100u);
  EXPECT_LE(table->rows.size(), 502u);
}

}  // namespace
}  // namespace hotline::test
