// The symbolizer against binutils' addr2line on the fixture binaries: same inline chains,
// functions, files and lines for every address of the fixtures' own functions.
#include <sstream>

#include <gtest/gtest.h>

#include "harness.h"
#include "symbolize/demangle.h"
#include "symbolize/elf_symbolizer.h"

namespace hotline {
namespace {

using test::fixture;
using test::run;

struct Expected {
  std::string function, file;
  int line;
};

std::string base(const std::string& path) {
  auto s = path.rfind('/');
  return s == std::string::npos ? path : path.substr(s + 1);
}

std::string strip_params(const std::string& f) { return f.substr(0, f.find('(')); }

// Every address inside the fixture's own functions (from nm -S).
std::vector<std::uint64_t> addresses_of(const std::string& binary, std::size_t limit = 400) {
  auto r = run({"/usr/bin/nm", "-S", "--defined-only", binary});
  std::vector<std::uint64_t> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string addr, size, type, name;
    if (!(fields >> addr >> size >> type >> name)) continue;
    if (type != "t" && type != "T") continue;
    if (name.starts_with("_") || name == "frame_dummy" || name.find("register_tm") != std::string::npos ||
        name.find("do_global") != std::string::npos) {
      continue;
    }
    std::uint64_t a = std::stoull(addr, nullptr, 16), n = std::stoull(size, nullptr, 16);
    for (std::uint64_t x = a; x < a + n && out.size() < limit; ++x) out.push_back(x);
  }
  return out;
}

std::vector<std::vector<Expected>> addr2line(const std::string& binary, const std::vector<std::uint64_t>& addrs) {
  std::vector<std::string> argv = {"/usr/bin/addr2line", "-a", "-i", "-f", "-C", "-e", binary};
  for (auto a : addrs) {
    std::ostringstream s;
    s << std::hex << "0x" << a;
    argv.push_back(s.str());
  }
  auto r = run(argv);
  std::vector<std::vector<Expected>> out;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("0x")) {
      out.emplace_back();
      continue;
    }
    std::string location;
    std::getline(in, location);
    location = location.substr(0, location.find(" (discriminator"));
    auto colon = location.rfind(':');
    std::string file = location.substr(0, colon);
    std::string l = location.substr(colon + 1);
    out.back().push_back({line, file == "??" ? "" : file, (l == "?" || l.empty()) ? 0 : std::stoi(l)});
  }
  return out;
}

class SymbolizerVsAddr2line : public ::testing::TestWithParam<std::string> {};

TEST_P(SymbolizerVsAddr2line, SameInlineChainsFunctionsFilesAndLines) {
  const std::string binary = fixture(GetParam());
  auto elf = ElfSymbolizer::open(binary, -1, GetParam());
  ASSERT_NE(elf, nullptr);
  EXPECT_TRUE(elf->has_dwarf());
  auto addrs = addresses_of(binary);
  ASSERT_GT(addrs.size(), 20u);
  auto expected = addr2line(binary, addrs);
  ASSERT_EQ(expected.size(), addrs.size());
  int compared = 0, inlined = 0;
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    const auto got = elf->resolve(addrs[i]);
    const auto& want = expected[i];
    if (want.empty() || want[0].line == 0) continue;  // addr2line knows no line either
    ASSERT_EQ(got.frames.size(), want.size()) << GetParam() << " 0x" << std::hex << addrs[i];
    for (std::size_t k = 0; k < want.size(); ++k) {
      EXPECT_EQ(strip_params(got.frames[k].function), strip_params(want[k].function))
          << "0x" << std::hex << addrs[i] << " frame " << k;
      EXPECT_EQ(base(got.frames[k].file), base(want[k].file)) << "0x" << std::hex << addrs[i] << " frame " << k;
      EXPECT_EQ(got.frames[k].line, want[k].line) << "0x" << std::hex << addrs[i] << " frame " << k;
    }
    ++compared;
    inlined += want.size() > 1;
  }
  EXPECT_GT(compared, 20);
  if (GetParam() == "inline") {
    EXPECT_GT(inlined, 5) << "the inline fixture has inlined code";
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, SymbolizerVsAddr2line,
                         ::testing::Values("inline", "demo", "threads", "libhot.so", "pie_main", "forker"));

TEST(Symbolizer, FileOffsetsMapThroughLoadSegments) {
  auto elf = ElfSymbolizer::open(fixture("pie_main"), -1, "pie_main");
  ASSERT_NE(elf, nullptr);
  EXPECT_EQ(elf->build_id().size(), 40u);  // hex SHA-1 build id
  // Text of a small PIE: file offsets and addresses coincide within the text segment.
  auto v = elf->vaddr_for_offset(0x1100);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, 0x1100u);
  EXPECT_FALSE(elf->vaddr_for_offset(1ull << 40).has_value());
}

TEST(Symbolizer, NoDebugInfoFallsBackToSymbols) {
  auto elf = ElfSymbolizer::open(fixture("nodebug"), -1, "nodebug");
  ASSERT_NE(elf, nullptr);
  EXPECT_FALSE(elf->has_dwarf());
  auto addrs = addresses_of(fixture("nodebug"), 5);
  ASSERT_FALSE(addrs.empty());
  auto got = elf->resolve(addrs[0]);
  ASSERT_EQ(got.frames.size(), 1u);
  EXPECT_FALSE(got.frames[0].function.empty());
  EXPECT_EQ(got.frames[0].line, 0);
  EXPECT_FALSE(got.from_debuginfo);
  // Outside every symbol: [module+0xaddr].
  auto none = elf->resolve(0x10);
  EXPECT_EQ(none.frames[0].function, "[nodebug+0x10]");
}

TEST(Symbolizer, NotAnElfIsRefusedWithoutCrashing) {
  EXPECT_EQ(ElfSymbolizer::open(test::fixture_source("demo.c"), -1, "demo.c"), nullptr);
  EXPECT_EQ(ElfSymbolizer::open("/nonexistent", -1, "x"), nullptr);
}

TEST(Demangle, CppAndRust) {
  EXPECT_EQ(demangle("_ZN3foo3barEi"), "foo::bar(int)");
  EXPECT_EQ(demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"), "std::vector<int, std::allocator<int> >::push_back(int const&)");
  EXPECT_EQ(demangle("_ZN4core3fmt5write17h0123456789abcdefE"), "core::fmt::write");
  EXPECT_EQ(demangle("_RNvCs1234_7mycrate3foo"), "mycrate::foo");
  EXPECT_EQ(demangle("main"), "main");
  EXPECT_EQ(demangle("_Z"), "_Z");
  EXPECT_EQ(demangle("_ZZZZ"), "_ZZZZ");
}

}  // namespace
}  // namespace hotline

namespace hotline {
namespace {

TEST(Symbolizer, SeparateDebugInfoThroughDebuglink) {
  test::TempDir dir;
  std::string debug = dir.file("inline.debug"), stripped = dir.file("inline");
  ASSERT_EQ(test::run({"/usr/bin/objcopy", "--only-keep-debug", fixture("inline"), debug}).code, 0);
  ASSERT_EQ(test::run({"/usr/bin/objcopy", "--strip-debug", "--add-gnu-debuglink=" + debug, fixture("inline"),
                       stripped}).code,
            0);
  auto elf = ElfSymbolizer::open(stripped, -1, "inline");
  ASSERT_NE(elf, nullptr);
  EXPECT_TRUE(elf->has_dwarf()) << "debug info found next to the binary via .gnu_debuglink";
  auto addrs = addresses_of(fixture("inline"), 200);
  auto want = addr2line(fixture("inline"), addrs);
  int matched = 0;
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    if (want[i].empty() || want[i][0].line == 0) continue;
    auto got = elf->resolve(addrs[i]);
    EXPECT_EQ(got.frames[0].line, want[i][0].line);
    ++matched;
  }
  EXPECT_GT(matched, 20);
}

}  // namespace
}  // namespace hotline

#include <sys/stat.h>
#include <unistd.h>

#include "symbolize/symbolizer.h"

namespace hotline {
namespace {

TEST(Symbolizer, SeparateDebugInfoByBuildId) {
  test::TempDir dir;
  auto with_debug = ElfSymbolizer::open(fixture("inline"), -1, "inline");
  ASSERT_NE(with_debug, nullptr);
  const std::string id = with_debug->build_id();
  ASSERT_EQ(id.size(), 40u);
  // DIR/.build-id/ab/cdef....debug, and a stripped binary without a debuglink.
  std::string build_id_dir = dir.file(".build-id/" + id.substr(0, 2));
  ASSERT_EQ(test::run({"/bin/mkdir", "-p", build_id_dir}).code, 0);
  std::string debug = build_id_dir + "/" + id.substr(2) + ".debug";
  std::string stripped = dir.file("inline-stripped");
  ASSERT_EQ(test::run({"/usr/bin/objcopy", "--only-keep-debug", fixture("inline"), debug}).code, 0);
  ASSERT_EQ(test::run({"/usr/bin/objcopy", "--strip-debug", fixture("inline"), stripped}).code, 0);

  auto without = ElfSymbolizer::open(stripped, -1, "inline");
  ASSERT_NE(without, nullptr);
  EXPECT_FALSE(without->has_dwarf()) << "no debug info where it is not looked for";

  ElfSymbolizer::set_debuginfo_path(":.debug:" + dir.path());
  auto found = ElfSymbolizer::open(stripped, -1, "inline");
  ElfSymbolizer::set_debuginfo_path("");
  ASSERT_NE(found, nullptr);
  EXPECT_TRUE(found->has_dwarf()) << "debug info found by build id under " << dir.path();
  auto addrs = addresses_of(fixture("inline"), 100);
  auto want = addr2line(fixture("inline"), addrs);
  for (std::size_t i = 0; i < addrs.size(); ++i) {
    if (want[i].empty() || want[i][0].line == 0) continue;
    EXPECT_EQ(found->resolve(addrs[i]).frames[0].line, want[i][0].line);
  }
}

__attribute__((noinline)) int resolve_me(int x) { return x * 3 + 1; }

TEST(Symbolizer, EachAddressIsResolvedOnceAndCached) {
  Symbolizer symbolizer;
  ASSERT_TRUE(symbolizer.snapshot(::getpid()));
  auto address = reinterpret_cast<std::uintptr_t>(&resolve_me) + 1;
  auto first = symbolizer.resolve_user(::getpid(), address);
  auto second = symbolizer.resolve_user(::getpid(), address);
  EXPECT_EQ(first.symbolized, second.symbolized) << "the second lookup is served from the cache";
  ASSERT_FALSE(first.symbolized->frames.empty());
  // Internal linkage: DWARF has no linkage name, only the plain name (addr2line agrees).
  EXPECT_TRUE(strip_params(first.symbolized->frames.back().function).ends_with("resolve_me"));
  EXPECT_TRUE(first.symbolized->frames.back().file.ends_with("symbolizer_test.cpp"));
  EXPECT_TRUE(symbolizer.module(first.module).path.ends_with("unit_tests"));
  // An address in no mapping of the process.
  auto nowhere = symbolizer.resolve_user(::getpid(), 0x10);
  EXPECT_EQ(nowhere.symbolized->frames[0].function, "[unknown]");
  // A process never snapshotted.
  EXPECT_EQ(symbolizer.resolve_user(4194303, address).symbolized->frames[0].function, "[unknown]");
}

}  // namespace
}  // namespace hotline
