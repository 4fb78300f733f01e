// Exports read by the tools people already use, checked with those tools: go tool pprof,
// the pprof-format npm decoder, speedscope's own JSON schema; folded stacks by their format.
// And `hotline diff` on two recordings of a fixture whose hot line moves.
#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <set>
#include <sstream>
#include <tuple>

#include "harness.h"

namespace hotline::test {
namespace {

// "file.c:LINE" of a marked line, as pprof and hotline print it (after the directory).
std::string fmt_line(const std::string& source, const std::string& marker) {
  return source + ":" + std::to_string(line_of(source, marker));
}

// The first row of `go tool pprof -top` after its header: the heaviest entry.
std::string first_row(const std::string& top) {
  std::istringstream lines(top);
  std::string line;
  bool header = false;
  while (std::getline(lines, line)) {
    if (header && !line.empty()) return line;
    header = line.find("flat%") != std::string::npos;
  }
  return "";
}

// The data a flame graph page carries (the JSON in its <script id="data"> element).
nlohmann::json page_data(const std::string& page) {
  const std::string html = run({"/bin/cat", page}).out;
  const std::string open = "<script id=\"data\" type=\"application/json\">";
  const auto from = html.find(open);
  const auto to = html.find("</script>", from);
  if (from == std::string::npos || to == std::string::npos) return nlohmann::json::object();
  return nlohmann::json::parse(html.substr(from + open.size(), to - from - open.size()));
}

// What tests/js/check_flamegraph.mjs saw when it used a page in headless Chromium.
nlohmann::json use_in_browser(const std::string& page, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {NODE_BIN, std::string(JS_DIR) + "/check_flamegraph.mjs", page, "--browser",
                                   CHROMIUM_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  return r.code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

// The widest drawn frame with this label (null when none is drawn).
nlohmann::json widest(const nlohmann::json& frames, const std::string& label) {
  nlohmann::json best;
  for (const auto& f : frames) {
    if (f["label"] == label && (best.is_null() || f["width"] > best["width"])) best = f;
  }
  return best;
}

// A recording of `moving ab`: spin_a about two thirds of the samples, spin_b one third.
const std::string& two_function_recording() {
  static TempDir dir;
  static std::string db = [] {
    std::string path = dir.file("ab.db");
    RunResult r = run({hotline_bin(), "record", "-q", "--heap", "off", "-o", path, "--", fixture("moving"), "ab", "3"});
    EXPECT_EQ(r.code, 0) << r.err;
    return path;
  }();
  return db;
}

struct Recording {
  std::string db;
  std::uint64_t samples = 0;
};

// One CPU recording of the single fixture, shared by the export tests (3 s).
const Recording& cpu_recording() {
  static TempDir dir;
  static Recording rec = [] {
    Recording r;
    r.db = dir.file("single.db");
    RunResult res = run({hotline_bin(), "record", "-q", "--heap", "off", "--duration", "3s", "-o", r.db, "--",
                         fixture("single")});
    EXPECT_EQ(res.code, 0) << res.err;
    r.samples = std::stoull(query_value(r.db, "SELECT SUM(count) FROM cpu_samples"));
    return r;
  }();
  return rec;
}

std::string hot_location() { return fmt_line("single.c", "SINGLE_HOT_LINE"); }

RunResult export_to(const std::string& db, const std::string& out, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {hotline_bin(), "export", db, "-o", out};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

TEST(Export, PprofLoadsInGoToolPprofWithTheHotLineFirst) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const Recording& rec = cpu_recording();
  const std::string out = dir.file("cpu.pb.gz");
  RunResult r = export_to(rec.db, out, {"--format", "pprof"});
  ASSERT_EQ(r.code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat(out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "exports are private, like recordings";
  RunResult top = run({GO_BIN, "tool", "pprof", "-top", "-lines", out});
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(first_row(top.out).find(hot_location()), std::string::npos) << top.out;
  EXPECT_NE(top.out.find("File: single"), std::string::npos) << "the main executable names the profile: " << top.out;
  // Labels carry the process and thread.
  RunResult raw = run({GO_BIN, "tool", "pprof", "-raw", out});
  EXPECT_NE(raw.out.find("pid:["), std::string::npos) << raw.out;
  EXPECT_NE(raw.out.find("thread:[single]"), std::string::npos) << raw.out;
}

// readelf's executable (R E) LOAD segment of a file: virtual address, memory size, offset.
std::tuple<std::uint64_t, std::uint64_t, std::uint64_t> code_segment(const std::string& file) {
  std::uint64_t vaddr = 0, memsz = 0, offset = 0;
  std::istringstream segments(run({"/usr/bin/readelf", "-lW", file}).out);
  for (std::string line; std::getline(segments, line);) {
    std::istringstream f(line);
    std::string type, off, va, pa, filesz, msz, flags;
    if (f >> type >> off >> va >> pa >> filesz >> msz && type == "LOAD" && line.find(" R E ") != std::string::npos) {
      offset = std::stoull(off, nullptr, 16);
      vaddr = std::stoull(va, nullptr, 16);
      memsz = std::stoull(msz, nullptr, 16);
    }
  }
  return {vaddr, memsz, offset};
}

TEST(Export, PprofDecodesWithThePprofFormatPackage) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const Recording& rec = cpu_recording();
  const std::string out = dir.file("cpu.pb.gz");
  ASSERT_EQ(export_to(rec.db, out, {"--format", "pprof"}).code, 0);
  RunResult d = run({NODE_BIN, std::string(JS_DIR) + "/decode_pprof.mjs", out});
  ASSERT_EQ(d.code, 0) << d.err;
  auto j = nlohmann::json::parse(d.out);
  EXPECT_EQ(j["sample_types"], nlohmann::json::array({"samples/count", "cpu/nanoseconds"}));
  EXPECT_EQ(j["totals"][0].get<std::uint64_t>(), rec.samples) << "every sample is exported";
  const std::string leaf = j["heaviest_leaf"];
  EXPECT_NE(leaf.find("mix"), std::string::npos) << leaf;
  EXPECT_NE(leaf.find(hot_location()), std::string::npos) << leaf;
  // The executable's mapping covers its code segment (readelf's R E LOAD), not just the
  // addresses seen, and holds every location that refers to it.
  ASSERT_FALSE(j["mapping_ranges"].empty()) << d.out;
  const auto& main = j["mapping_ranges"][0];
  const auto [vaddr, memsz, offset] = code_segment(fixture("single"));
  auto u64 = [](const nlohmann::json& v) { return std::stoull(v.get<std::string>()); };
  EXPECT_EQ(u64(main["start"]), vaddr) << main.dump();
  EXPECT_EQ(u64(main["limit"]), vaddr + memsz) << main.dump();
  EXPECT_EQ(u64(main["offset"]), offset) << main.dump();
  for (const auto& m : j["mapping_ranges"]) {
    for (const auto& a : m["addresses"]) {
      EXPECT_GE(u64(a), u64(m["start"])) << m.dump();
      EXPECT_LT(u64(a), u64(m["limit"])) << m.dump();
    }
  }
}

// The recording is the single source of truth: the mapping of an executable that is gone,
// or replaced by another file, is still its own code segment, as recorded.
TEST(Export, PprofMappingsStayRightWhenTheBinaryIsGone) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string exe = dir.file("single");
  ASSERT_EQ(run({"/bin/cp", fixture("single"), exe}).code, 0);
  const auto [vaddr, memsz, offset] = code_segment(exe);
  ASSERT_GT(memsz, 0u);
  const std::string db = dir.file("gone.db");
  RunResult r = run({hotline_bin(), "record", "-q", "--heap", "off", "--duration", "2s", "-o", db, "--", exe});
  ASSERT_EQ(r.code, 0) << r.err;
  // Another program in its place, with other segments.
  ASSERT_EQ(::unlink(exe.c_str()), 0);
  ASSERT_EQ(run({"/bin/cp", fixture("jit"), exe}).code, 0);
  ASSERT_NE(std::get<1>(code_segment(exe)), memsz);
  const std::string out = dir.file("gone.pb.gz");
  ASSERT_EQ(export_to(db, out, {"--format", "pprof"}).code, 0);
  RunResult d = run({NODE_BIN, std::string(JS_DIR) + "/decode_pprof.mjs", out});
  ASSERT_EQ(d.code, 0) << d.err;
  auto j = nlohmann::json::parse(d.out);
  ASSERT_FALSE(j["mapping_ranges"].empty()) << d.out;
  const auto& main = j["mapping_ranges"][0];
  auto u64 = [](const nlohmann::json& v) { return std::stoull(v.get<std::string>()); };
  EXPECT_EQ(u64(main["start"]), vaddr) << main.dump();
  EXPECT_EQ(u64(main["limit"]), vaddr + memsz) << main.dump();
  EXPECT_EQ(u64(main["offset"]), offset) << main.dump();
  // Removed altogether: the same.
  ASSERT_EQ(::unlink(exe.c_str()), 0);
  ASSERT_EQ(export_to(db, out, {"--format", "pprof", "--force"}).code, 0);
  d = run({NODE_BIN, std::string(JS_DIR) + "/decode_pprof.mjs", out});
  ASSERT_EQ(d.code, 0) << d.err;
  j = nlohmann::json::parse(d.out);
  EXPECT_EQ(u64(j["mapping_ranges"][0]["start"]), vaddr) << d.out;
  EXPECT_EQ(u64(j["mapping_ranges"][0]["limit"]), vaddr + memsz) << d.out;
}

TEST(Export, HeapPprofCarriesGosFourSampleTypes) {
  TempDir dir;
  const std::string db = dir.file("heap.db");
  RunResult r = run({hotline_bin(), "record", "-q", "--heap-sample-bytes", "65536", "-o", db, "--", fixture("heap"),
                     "--run"});
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string out = dir.file("heap.pb.gz");
  ASSERT_EQ(export_to(db, out, {"--format", "pprof", "--type", "heap-live"}).code, 0);
  RunResult top = run({GO_BIN, "tool", "pprof", "-top", "-lines", out});
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("Type: inuse_space"), std::string::npos) << top.out;
  EXPECT_NE(first_row(top.out).find(fmt_line("heap.c", "HEAP_LIVE_LINE")), std::string::npos) << top.out;
  RunResult d = run({NODE_BIN, std::string(JS_DIR) + "/decode_pprof.mjs", out});
  ASSERT_EQ(d.code, 0) << d.err;
  auto j = nlohmann::json::parse(d.out);
  EXPECT_EQ(j["sample_types"], nlohmann::json::array({"alloc_objects/count", "alloc_space/bytes",
                                                      "inuse_objects/count", "inuse_space/bytes"}));
  // --type heap-alloc: the same values, allocated space by default.
  ASSERT_EQ(export_to(db, out, {"--format", "pprof", "--type", "heap-alloc", "--force"}).code, 0);
  RunResult alloc = run({GO_BIN, "tool", "pprof", "-top", "-lines", out});
  EXPECT_NE(alloc.out.find("Type: alloc_space"), std::string::npos) << alloc.out;
  // The flame graph page of the live heap: its table of lines leads with the live line.
  const std::string page = dir.file("heap.html");
  ASSERT_EQ(export_to(db, page, {"--type", "heap-live"}).code, 0);
  const auto data = page_data(page);
  ASSERT_FALSE(data["lines"].empty()) << data.dump();
  EXPECT_EQ(data["unit"], "bytes");
  EXPECT_EQ(data["lines"][0][1], fmt_line("heap.c", "HEAP_LIVE_LINE")) << data["lines"].dump();
}

TEST(Export, FoldedStacksSumToTheRecordingRootFirst) {
  HOTLINE_REQUIRE_ROOT();
  const Recording& rec = cpu_recording();
  RunResult r = run({hotline_bin(), "export", rec.db, "--format", "folded"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line, heaviest;
  std::uint64_t total = 0, best = 0;
  while (std::getline(lines, line)) {
    const auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    const std::uint64_t n = std::stoull(line.substr(space + 1));
    total += n;
    if (n > best) {
      best = n;
      heaviest = line.substr(0, space);
    }
  }
  EXPECT_EQ(total, rec.samples);
  // Root first, leaf last: ...;main;mix
  EXPECT_TRUE(heaviest.ends_with(";mix")) << heaviest;
  EXPECT_LT(heaviest.find("main"), heaviest.rfind("mix")) << heaviest;
  // --lines names the line too.
  RunResult with_lines = run({hotline_bin(), "export", rec.db, "--format", "folded", "--lines"});
  EXPECT_NE(with_lines.out.find("mix " + hot_location()), std::string::npos) << with_lines.out;
  // --filter keeps only stacks through a matching frame.
  RunResult none = run({hotline_bin(), "export", rec.db, "--format", "folded", "--filter", "no-such-function"});
  EXPECT_EQ(none.code, 0);
  EXPECT_TRUE(none.out.empty()) << none.out;
}

TEST(Export, SpeedscopeFileMatchesSpeedscopesSchema) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const Recording& rec = cpu_recording();
  const std::string out = dir.file("cpu.speedscope.json");
  ASSERT_EQ(export_to(rec.db, out, {"--format", "speedscope"}).code, 0);
  RunResult v = run({NODE_BIN, std::string(JS_DIR) + "/check_speedscope.mjs", out});
  ASSERT_EQ(v.code, 0) << v.out << v.err;
  auto j = nlohmann::json::parse(v.out);
  EXPECT_EQ(j["valid"], true);
  EXPECT_EQ(j["type"], "sampled");
  EXPECT_EQ(j["total"].get<std::uint64_t>(), rec.samples);
  // The checker can fail: a file with a unit speedscope does not know is rejected.
  RunResult bad_write = run({"/bin/sh", "-c", "sed 's/\"unit\":\"none\"/\"unit\":\"samples\"/' " + out + " > " +
                                                  dir.file("bad.json")});
  ASSERT_EQ(bad_write.code, 0);
  EXPECT_NE(run({NODE_BIN, std::string(JS_DIR) + "/check_speedscope.mjs", dir.file("bad.json")}).code, 0);
}

TEST(Export, SvgFlameGraphIsWellFormedWithTheHotFunctionAcross) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const Recording& rec = cpu_recording();
  const std::string out = dir.file("cpu.svg");
  ASSERT_EQ(export_to(rec.db, out, {"--format", "svg"}).code, 0);
  RunResult lint = run({"/usr/bin/xmllint", "--noout", out});
  EXPECT_EQ(lint.code, 0) << lint.err;
  const std::string svg = run({"/bin/cat", out}).out;
  EXPECT_TRUE(svg.starts_with("<?xml")) << svg.substr(0, 200);
  // The single fixture spends nearly all its time in mix: its frame spans nearly the whole
  // width (1180 px drawn), and its tooltip gives its samples.
  const auto title = svg.find("<title>mix (single.c");
  ASSERT_NE(title, std::string::npos) << svg.substr(0, 2000);
  const auto width_at = svg.find("width=\"", title);
  ASSERT_NE(width_at, std::string::npos);
  EXPECT_GT(std::stod(svg.substr(width_at + 7)), 0.9 * 1180) << svg.substr(title, 300);
  EXPECT_NE(svg.find(" samples (", title), std::string::npos);
}

TEST(Export, FlameGraphPageWorksInHeadlessChromium) {
  HOTLINE_REQUIRE_ROOT();
  const std::string& db = two_function_recording();
  TempDir dir;
  const std::string page = dir.file("ab.html");
  ASSERT_EQ(export_to(db, page, {}).code, 0) << "the flame graph page is the default format";
  struct stat st {};
  ASSERT_EQ(::stat(page.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const double a_share = std::stod(query_value(
      db, "SELECT 1.0 * SUM(CASE WHEN f.function = 'spin_a' THEN s.count ELSE 0 END) / SUM(s.count) FROM cpu_samples s "
          "JOIN stacks k ON k.id = s.stack_id JOIN frames f ON f.id = k.frame_id"));
  ASSERT_GT(a_share, 0.4);
  ASSERT_LT(a_share, 0.9);
  const std::string shot = std::string(FIXTURE_BIN_DIR) + "/../flamegraph-screenshot.png";
  const auto o = use_in_browser(page, {"--hot", "spin_a", "--zoom", "spin_b", "--search", "SPIN_A", "--screenshot", shot});
  ASSERT_TRUE(o.value("ready", false)) << o.dump();
  // Self-contained: the page itself is the only thing loaded; no script error.
  EXPECT_EQ(o["requests"].size(), 1u) << o["requests"].dump();
  EXPECT_TRUE(o["errors"].empty()) << o["errors"].dump();
  const double width = o["graphWidth"];
  // The hot function is drawn with its share of the width, its sibling beside it.
  const auto a = widest(o["frames"], "spin_a"), b = widest(o["frames"], "spin_b");
  ASSERT_FALSE(a.is_null()) << o["frames"].dump();
  ASSERT_FALSE(b.is_null()) << o["frames"].dump();
  EXPECT_NEAR(a["width"].get<double>() / width, a_share, 0.03);
  EXPECT_GT(a["width"], b["width"]);
  // Hovering shows the line and the samples.
  const std::string tip = o.value("tooltip", "");
  EXPECT_NE(tip.find(fmt_line("moving.c", "MOVING_A_LINE")), std::string::npos) << tip;
  EXPECT_NE(tip.find(" samples"), std::string::npos) << tip;
  // Clicking spin_b zooms: it spans the graph, spin_a is gone; Reset brings spin_a back.
  const auto zb = widest(o["zoomed"], "spin_b");
  ASSERT_FALSE(zb.is_null());
  EXPECT_GT(zb["width"].get<double>(), 0.97 * width);
  EXPECT_TRUE(widest(o["zoomed"], "spin_a").is_null());
  EXPECT_NEAR(widest(o["reset"], "spin_a")["width"].get<double>(), a["width"].get<double>(), 1.0);
  // Searching (case-insensitive) highlights spin_a only, and says how much it matched.
  EXPECT_TRUE(widest(o["searched"], "spin_a")["match"].get<bool>());
  EXPECT_FALSE(widest(o["searched"], "spin_b")["match"].get<bool>());
  // "Matched" is the share of samples with spin_a anywhere on their stack: its total %.
  double a_total = -1;
  const auto by_function = top_json(db, {"--by", "function"});
  for (const auto& e : by_function["entries"]) {
    if (e["function"] == "spin_a") a_total = e["total_pct"].get<double>();
  }
  const std::string matched = o.value("matched", "");
  ASSERT_TRUE(matched.starts_with("Matched: ")) << matched;
  EXPECT_NEAR(std::stod(matched.substr(9)), a_total, 0.5) << matched;
  EXPECT_FALSE(widest(o["cleared"], "spin_a")["match"].get<bool>()) << "Escape clears the search";
  // Flame (root at the bottom) by default; the toggle turns it into an icicle.
  EXPECT_GT(widest(o["frames"], "all")["top"], a["top"]);
  EXPECT_LT(widest(o["icicle"], "all")["top"], widest(o["icicle"], "spin_a")["top"]);
  // The table beside it: the hot line first.
  ASSERT_FALSE(o["table"].empty());
  EXPECT_EQ(o["table"][0][2], "spin_a") << o["table"].dump();
  EXPECT_EQ(o["table"][0][3], fmt_line("moving.c", "MOVING_A_LINE")) << o["table"].dump();
  struct stat shot_st {};
  EXPECT_EQ(::stat(shot.c_str(), &shot_st), 0) << "the screenshot is kept at " << shot;
  EXPECT_GT(shot_st.st_size, 10000);
}

TEST(Diff, DifferentialFlameGraphColoursWhatGrewAndShrank) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string base = dir.file("a.db"), page = dir.file("diff.html");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--heap", "off", "-o", base, "--", fixture("moving"), "a", "2"}).code, 0);
  RunResult r = run({hotline_bin(), "diff", base, two_function_recording(), "--format", "flamegraph", "-o", page});
  ASSERT_EQ(r.code, 0) << r.err;
  const auto o = use_in_browser(page, {"--hot", "spin_b", "--screenshot", dir.file("diff.png")});
  ASSERT_TRUE(o.value("ready", false)) << o.dump();
  EXPECT_TRUE(o["errors"].empty()) << o["errors"].dump();
  // spin_b is new (all of its share grew): red; spin_a went from ~100% to ~2/3: blue.
  const auto a = widest(o["frames"], "spin_a"), b = widest(o["frames"], "spin_b");
  ASSERT_FALSE(a.is_null() || b.is_null()) << o["frames"].dump();
  EXPECT_GT(b["delta"].get<double>(), 15.0);
  EXPECT_LT(a["delta"].get<double>(), -15.0);
  auto rgb = [](const std::string& css) {
    int r = 0, g = 0, bl = 0;
    std::sscanf(css.c_str(), "rgb(%d, %d, %d)", &r, &g, &bl);
    return std::array<int, 3>{r, g, bl};
  };
  const auto red = rgb(b["background"]), blue = rgb(a["background"]);
  EXPECT_GT(red[0], red[2] + 100) << b["background"];
  EXPECT_GT(blue[2], blue[0] + 100) << a["background"];
  const std::string tip = o.value("tooltip", "");
  EXPECT_NE(tip.find("base 0.00%"), std::string::npos) << tip;
  // The table: largest share changes first (spin_b's gain and spin_a's loss, ~1/3 each).
  EXPECT_EQ(o["tableHead"][0], "Δ points");
  ASSERT_GE(o["table"].size(), 2u);
  const std::set<std::string> first_two = {o["table"][0][3], o["table"][1][3]};
  EXPECT_EQ(first_two, (std::set<std::string>{"spin_a", "spin_b"})) << o["table"].dump();
  // Diff-page options are refused for the table, with the way to use them.
  RunResult table = run({hotline_bin(), "diff", base, two_function_recording(), "-o", page});
  EXPECT_EQ(table.code, 2);
  EXPECT_NE(table.err.find("--format flamegraph"), std::string::npos) << table.err;
}

TEST(Export, RefusalsExplainThemselves) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const Recording& rec = cpu_recording();
  RunResult heap = run({hotline_bin(), "export", rec.db, "--type", "heap-live", "-o", dir.file("h.pb.gz")});
  EXPECT_EQ(heap.code, 2);
  EXPECT_NE(heap.err.find("no heap data"), std::string::npos) << heap.err;
  RunResult format = run({hotline_bin(), "export", rec.db, "--format", "gif"});
  EXPECT_EQ(format.code, 2);
  const std::string existing = dir.file("exists.pb.gz");
  ASSERT_EQ(export_to(rec.db, existing, {}).code, 0);
  RunResult again = export_to(rec.db, existing, {});
  EXPECT_NE(again.code, 0) << "an existing file is not replaced without --force";
  EXPECT_EQ(export_to(rec.db, existing, {"--force"}).code, 0);
}

TEST(Diff, TheLineThatMovedLeadsBothWays) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string a = dir.file("a.db"), b = dir.file("b.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--heap", "off", "-o", a, "--", fixture("moving"), "a", "2"}).code, 0);
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--heap", "off", "-o", b, "--", fixture("moving"), "b", "2"}).code, 0);
  RunResult r = run({hotline_bin(), "diff", a, b, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_GE(j["entries"].size(), 2u) << r.out;
  const int line_a = line_of("moving.c", "MOVING_A_LINE"), line_b = line_of("moving.c", "MOVING_B_LINE");
  // The two biggest changes: B's line gained (nearly all of the profile), A's line lost it.
  const auto& e0 = j["entries"][0];
  const auto& e1 = j["entries"][1];
  const auto& gained = e0["delta_pct"].get<double>() > 0 ? e0 : e1;
  const auto& lost = e0["delta_pct"].get<double>() > 0 ? e1 : e0;
  EXPECT_EQ(gained["line"], line_b) << r.out;
  EXPECT_EQ(lost["line"], line_a) << r.out;
  EXPECT_GT(gained["delta_pct"].get<double>(), 80.0) << r.out;
  EXPECT_LT(lost["delta_pct"].get<double>(), -80.0) << r.out;
  EXPECT_NEAR(gained["base_pct"].get<double>(), 0.0, 1.0);
  // Text and CSV say the same.
  RunResult text = run({hotline_bin(), "diff", a, b});
  EXPECT_NE(text.out.find("moving.c:" + std::to_string(line_b)), std::string::npos) << text.out;
  RunResult csv = run({hotline_bin(), "diff", a, b, "--csv", "--by", "function"});
  EXPECT_NE(csv.out.find("spin_b"), std::string::npos) << csv.out;
  // Heap diff of CPU-only recordings is refused with the reason.
  RunResult heap = run({hotline_bin(), "diff", a, b, "--type", "heap-live"});
  EXPECT_EQ(heap.code, 2);
  EXPECT_NE(heap.err.find("no heap data"), std::string::npos) << heap.err;
}

}  // namespace
}  // namespace hotline::test
