// The rule for files read on a target's behalf (target/target_file.h), on real files: no
// symlink followed in any component, nothing but regular files of the owner or root, no
// open side effects or blocking, a bound on size; and the debug-file search built on it.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "harness.h"
#include "symbolize/elf_symbolizer.h"
#include "target/target_file.h"

namespace hotline {
namespace {

namespace fs = std::filesystem;
using test::fixture;
using test::run;
using test::RunResult;

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(TargetFile, RegularFilesOfTheOwnerAreRead) {
  test::TempDir dir;
  write(dir.file("map"), "1000 10 jitted\n");
  const FileOrigin origin = own_origin();
  OpenedFile f = open_in_root(origin, dir.file("map"), {1 << 20, {}});
  ASSERT_TRUE(f) << f.refusal;
  char buf[32] = {};
  EXPECT_EQ(::read(f.fd.get(), buf, sizeof buf), 15);
  EXPECT_EQ(std::string(buf), "1000 10 jitted\n");
  EXPECT_EQ(::fcntl(f.fd.get(), F_GETFL) & O_ACCMODE, O_RDONLY);
}

TEST(TargetFile, NoSymlinkIsFollowedInAnyComponent) {
  test::TempDir dir;
  write(dir.file("secret"), "0 100 secret\n");
  fs::create_directory(dir.file("real"));
  write(dir.file("real/map"), "ok\n");
  fs::create_symlink(dir.file("secret"), dir.file("link"));
  fs::create_directory_symlink(dir.file("real"), dir.file("dirlink"));
  const FileOrigin origin = own_origin();
  OpenedFile leaf = open_in_root(origin, dir.file("link"), {1 << 20, {}});
  EXPECT_FALSE(leaf);
  EXPECT_NE(leaf.refusal.find("symlink"), std::string::npos) << leaf.refusal;
  EXPECT_FALSE(leaf.absent);
  OpenedFile middle = open_in_root(origin, dir.file("dirlink/map"), {1 << 20, {}});
  EXPECT_FALSE(middle);
  EXPECT_NE(middle.refusal.find("symlink"), std::string::npos) << middle.refusal;
  EXPECT_TRUE(open_in_root(origin, dir.file("real/map"), {1 << 20, {}}));
  // The administrator's directories: links are followed there, the other checks stay.
  EXPECT_TRUE(open_host_file(origin, dir.file("link"), {1 << 20, {}}));
}

TEST(TargetFile, FifosDevicesAndDirectoriesAreRefusedWithoutBlocking) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0644), 0);
  const FileOrigin origin = own_origin();
  const auto start = std::chrono::steady_clock::now();
  OpenedFile fifo = open_in_root(origin, dir.file("fifo"), {1 << 20, {}});
  OpenedFile fifo_host = open_host_file(origin, dir.file("fifo"), {1 << 20, {}});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2)) << "no open of the FIFO itself";
  EXPECT_FALSE(fifo);
  EXPECT_FALSE(fifo_host);
  EXPECT_EQ(fifo.refusal, "is a FIFO");
  OpenedFile device = open_in_root(origin, "/dev/null", {1 << 20, {}});
  EXPECT_FALSE(device);
  EXPECT_EQ(device.refusal, "is a character device");
  OpenedFile directory = open_in_root(origin, dir.path(), {1 << 20, {}});
  EXPECT_FALSE(directory);
  EXPECT_EQ(directory.refusal, "is a directory");
  OpenedFile missing = open_in_root(origin, dir.file("nothing"), {1 << 20, {}});
  EXPECT_FALSE(missing);
  EXPECT_TRUE(missing.absent);
}

TEST(TargetFile, OtherUsersFilesAreRefusedUnlessTheyAreTheMappedInode) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
  test::TempDir dir;
  write(dir.file("theirs"), "0 100 theirs\n");
  ASSERT_EQ(::chown(dir.file("theirs").c_str(), 1, 1), 0);  // daemon
  FileOrigin origin = own_origin();
  origin.owners = {65534};  // a target running as nobody
  OpenedFile f = open_in_root(origin, dir.file("theirs"), {1 << 20, {}});
  EXPECT_FALSE(f);
  EXPECT_NE(f.refusal.find("belongs to uid 1"), std::string::npos) << f.refusal;
  struct stat st {};
  ASSERT_EQ(::stat(dir.file("theirs").c_str(), &st), 0);
  EXPECT_TRUE(open_in_root(origin, dir.file("theirs"), {1 << 20, Inode{st.st_dev, st.st_ino}}))
      << "the file the target mapped is read whoever owns it";
  EXPECT_TRUE(open_in_root(origin, "/etc/hostname", {1 << 20, {}})) << "root's files are accepted";
}

TEST(TargetFile, ARootOnlyFileIsNotTheTargetsEvenWhereItCouldLinkIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to own a file as root";
  test::TempDir dir;
  write(dir.file("private"), "0 100 root_only\n");
  ::chmod(dir.file("private").c_str(), 0600);
  write(dir.file("public"), "0 100 shared\n");
  ::chmod(dir.file("public").c_str(), 0644);
  FileOrigin target = own_origin();
  target.pid = 1;  // a target, not hotline's own: the check applies
  target.owners = {65534};
  target.groups = {65534};
  OpenedFile f = open_in_root(target, dir.file("private"), {1 << 20, {}});
  EXPECT_FALSE(f);
  EXPECT_NE(f.refusal.find("not readable by the process"), std::string::npos) << f.refusal;
  EXPECT_TRUE(open_in_root(target, dir.file("public"), {1 << 20, {}}));
}

TEST(TargetFile, LargerThanTheBoundIsRefused) {
  test::TempDir dir;
  write(dir.file("big"), std::string(4096, 'x'));
  OpenedFile f = open_in_root(own_origin(), dir.file("big"), {1024, {}});
  EXPECT_FALSE(f);
  EXPECT_NE(f.refusal.find("larger than"), std::string::npos);
}

TEST(TargetFile, PathsStayInsideTheTargetsRoot) {
  test::TempDir dir;
  fs::create_directories(dir.file("root/tmp"));
  write(dir.file("root/tmp/map"), "inside\n");
  write(dir.file("outside"), "outside\n");
  FileOrigin origin = own_origin();
  origin.root = std::make_shared<UniqueFd>(::open(dir.file("root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  EXPECT_TRUE(open_in_root(origin, "/tmp/map", {1 << 20, {}}));
  OpenedFile up = open_in_root(origin, "/tmp/../../outside", {1 << 20, {}});
  EXPECT_FALSE(up) << "'..' stops at the target's root";
  EXPECT_TRUE(up.absent);
}

// Separate debug files are looked for by the same rule: a debuglink naming a FIFO next to
// the binary does not block, one naming a symlink is not followed, a real one is found.
TEST(DebugSearch, DebuglinkCandidatesFollowTheRule) {
  test::TempDir dir;
  const std::string stripped = dir.file("prog");
  ASSERT_EQ(run({"/usr/bin/objcopy", "--only-keep-debug", fixture("inline"), dir.file("real.debug")}).code, 0);
  ASSERT_EQ(run({"/usr/bin/objcopy", "--strip-debug", "--add-gnu-debuglink=" + dir.file("real.debug"),
                 fixture("inline"), stripped}).code, 0);
  // The link names "real.debug"; at that name next to the binary: a FIFO, then a symlink.
  fs::rename(dir.file("real.debug"), dir.file("kept.debug"));
  ASSERT_EQ(::mkfifo(dir.file("real.debug").c_str(), 0644), 0);
  const auto start = std::chrono::steady_clock::now();
  auto fifo = ElfSymbolizer::open(stripped, -1, "prog");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  ASSERT_NE(fifo, nullptr);
  EXPECT_FALSE(fifo->has_dwarf());

  fs::remove(dir.file("real.debug"));
  fs::create_symlink(dir.file("kept.debug"), dir.file("real.debug"));
  auto linked = ElfSymbolizer::open(stripped, -1, "prog");
  ASSERT_NE(linked, nullptr);
  EXPECT_FALSE(linked->has_dwarf()) << "the symlink next to the binary is not followed";

  fs::remove(dir.file("real.debug"));
  fs::create_directory(dir.file(".debug"));
  fs::rename(dir.file("kept.debug"), dir.file(".debug/real.debug"));
  auto found = ElfSymbolizer::open(stripped, -1, "prog");
  ASSERT_NE(found, nullptr);
  EXPECT_TRUE(found->has_dwarf()) << "PROG_DIR/.debug/LINK, a regular file";
}

// Two programs built the usual way (gcc -g) and processed by dwz, which moves their shared
// DWARF into one multifile named by absolute path in .gnu_debugaltlink: names and types
// are then references into it (DW_FORM_GNU_strp_alt, DW_FORM_GNU_ref_alt).
class Dwz : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run({"/usr/bin/gcc", "-g", "-O1", test::fixture_source("single.c"), "-o", dir_.file("a")}).code, 0);
    ASSERT_EQ(run({"/usr/bin/gcc", "-g", "-O1", test::fixture_source("work.c"), "-o", dir_.file("b")}).code, 0);
    common_ = dir_.file("common.debug");
    RunResult r = run({"/usr/bin/dwz", "-m", common_, "-M", common_, dir_.file("a"), dir_.file("b")});
    ASSERT_EQ(r.code, 0) << r.err;
    RunResult info = run({"/usr/bin/readelf", "--debug-dump=info", dir_.file("a")});
    ASSERT_NE(info.out.find("alt indirect string"), std::string::npos) << "dwz made alt references";
  }
  std::uint64_t address_of(const std::string& function) {
    RunResult nm = run({"/usr/bin/nm", dir_.file("a")});
    std::istringstream in(nm.out);
    for (std::string addr, type, name; in >> addr >> type >> name;) {
      if (name == function) return std::stoull(addr, nullptr, 16);
    }
    return 0;
  }
  test::TempDir dir_;
  std::string common_;
};

TEST_F(Dwz, TheMultifileIsFoundAndItsNamesResolve) {
  auto elf = ElfSymbolizer::open(dir_.file("a"), -1, "a");
  ASSERT_NE(elf, nullptr);
  ASSERT_TRUE(elf->has_dwarf());
  const std::uint64_t mix = address_of("mix");
  ASSERT_NE(mix, 0u);
  EXPECT_EQ(elf->resolve(mix + 4).frames.back().function, "mix") << "the name is in the dwz file";
}

// The multifile replaced by a FIFO (or a symlink): neither hotline's search nor libdw's own
// lookup may open it and block.
TEST_F(Dwz, AFifoInPlaceOfTheMultifileDoesNotBlock) {
  std::filesystem::rename(common_, dir_.file("kept.debug"));
  ASSERT_EQ(::mkfifo(common_.c_str(), 0644), 0);
  const auto start = std::chrono::steady_clock::now();
  auto elf = ElfSymbolizer::open(dir_.file("a"), -1, "a");
  ASSERT_NE(elf, nullptr);
  for (std::uint64_t a = address_of("mix"); a < address_of("mix") + 32; ++a) (void)elf->resolve(a);
  (void)elf->resolve(address_of("main"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// A dwz reference (.gnu_debugaltlink) naming a FIFO: libdw must not open it by itself.
TEST(DebugSearch, AltLinkToAFifoDoesNotBlock) {
  test::TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("alt.fifo").c_str(), 0644), 0);
  {
    std::ofstream section(dir.file("altlink"), std::ios::binary);
    const std::string name = dir.file("alt.fifo");
    section.write(name.c_str(), static_cast<std::streamsize>(name.size() + 1));
    section.write("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14", 20);
  }
  const std::string binary = dir.file("with-alt");
  ASSERT_EQ(run({"/usr/bin/objcopy", "--add-section", ".gnu_debugaltlink=" + dir.file("altlink"), fixture("inline"),
                 binary}).code, 0);
  const auto start = std::chrono::steady_clock::now();
  auto elf = ElfSymbolizer::open(binary, -1, "with-alt");
  ASSERT_NE(elf, nullptr);
  EXPECT_TRUE(elf->has_dwarf());
  for (std::uint64_t a = 0x1000; a < 0x1400; a += 16) (void)elf->resolve(a);  // names, files: no alt lookup
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace hotline
