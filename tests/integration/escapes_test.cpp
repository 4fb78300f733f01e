// A target names its threads and its source files: neither may drive the operator's
// terminal. Every text output (record's messages, top's table and CSV, query, folded
// stacks) shows escape sequences as visible text; JSON keeps the real value, escaped; the
// SVG export stays well-formed XML.
#include <filesystem>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;

bool raw_controls(const std::string& s) {
  for (unsigned char c : s) {
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

TEST(Escapes, TargetNamesNeverReachTheTerminalRaw) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  Child target({fixture("escapes")});
  std::this_thread::sleep_for(200ms);
  const std::string db = dir.file("esc.db");
  // Not quiet: the progress lines name the process.
  RunResult r = run({hotline_bin(), "record", "--no-view", "-v", "-d", "2s", "-o", db, "--pid",
                     std::to_string(target.pid())});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_FALSE(raw_controls(r.err)) << r.err;
  EXPECT_NE(r.err.find("\\x1b]0;t\\x07\\x1b[2J"), std::string::npos) << "the name is shown, made visible: " << r.err;

  // The hot line's file name as the debug info has it.
  const std::string evil = std::string("\x1b]0;pwned\x07/\x1b[2J") + "evil.c";
  RunResult text = run({hotline_bin(), "top", "cpu", db});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_FALSE(raw_controls(text.out)) << text.out;
  EXPECT_NE(text.out.find("\\x1b[2Jevil.c:103"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("\\x1b]0;t\\x07"), std::string::npos) << "the process name in the header: " << text.out;

  RunResult csv = run({hotline_bin(), "top", "cpu", db, "--csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_FALSE(raw_controls(csv.out)) << csv.out;
  std::size_t lines = 0;
  for (char c : csv.out) lines += c == '\n';
  EXPECT_GE(lines, 2u);

  // JSON: the raw output has no control byte, the parsed value is the real name.
  RunResult json = run({hotline_bin(), "top", "cpu", db, "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_FALSE(raw_controls(json.out));
  auto report = nlohmann::json::parse(json.out);
  ASSERT_FALSE(report["entries"].empty());
  EXPECT_EQ(report["entries"][0]["file"], evil) << json.out;
  EXPECT_EQ(report["entries"][0]["line"], 103);

  RunResult query = run({hotline_bin(), "query", db, "SELECT comm FROM threads"});
  ASSERT_EQ(query.code, 0) << query.err;
  EXPECT_FALSE(raw_controls(query.out)) << query.out;
  EXPECT_NE(query.out.find("\\x1b[2J"), std::string::npos) << query.out;

  RunResult folded = run({hotline_bin(), "export", db, "--format", "folded", "--lines"});
  ASSERT_EQ(folded.code, 0) << folded.err;
  EXPECT_FALSE(raw_controls(folded.out));

  const std::string svg = dir.file("esc.svg");
  RunResult exported = run({hotline_bin(), "export", db, "--format", "svg", "--lines", "-o", svg});
  ASSERT_EQ(exported.code, 0) << exported.err;
  RunResult lint = run({"/usr/bin/xmllint", "--noout", svg});
  EXPECT_EQ(lint.code, 0) << lint.out << lint.err;
}

}  // namespace
}  // namespace hotline::test
