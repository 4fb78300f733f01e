// The terminal UI for real: hotline runs in a tmux pane (its own tmux server), keys are sent
// with send-keys and the screen is read with capture-pane, as a user would see it.
#include <unistd.h>

#include <regex>
#include <sstream>
#include <thread>

#include "harness.h"

namespace hotline::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class Tmux {
 public:
  // `command` runs in a shell in a WIDTHxHEIGHT pane; its exit status is printed as EXIT=N.
  Tmux(const std::string& command, int width = 120, int height = 36, const std::string& env = "")
      : socket_("hotline-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++)) {
    const std::string shell = env + " " + command + "; echo EXIT=$?; sleep 600";
    RunResult r = run({TMUX_BIN, "-L", socket_, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x",
                       std::to_string(width), "-y", std::to_string(height), shell});
    EXPECT_EQ(r.code, 0) << r.err;
  }
  ~Tmux() { run({TMUX_BIN, "-L", socket_, "kill-server"}); }
  Tmux(const Tmux&) = delete;
  Tmux& operator=(const Tmux&) = delete;

  std::string screen(bool escapes = false) const {
    std::vector<std::string> argv = {TMUX_BIN, "-L", socket_, "capture-pane", "-p", "-t", "t"};
    if (escapes) argv.emplace_back("-e");
    return run(argv).out;
  }
  void keys(const std::vector<std::string>& keys) const {
    std::vector<std::string> argv = {TMUX_BIN, "-L", socket_, "send-keys", "-t", "t"};
    argv.insert(argv.end(), keys.begin(), keys.end());
    run(argv);
  }
  // The screen once `pred` holds (or the last screen after `timeout`).
  template <typename Pred>
  std::string wait_for(Pred pred, std::chrono::milliseconds timeout = 5s) const {
    const auto until = Clock::now() + timeout;
    std::string s;
    while (true) {
      s = screen();
      if (pred(s) || Clock::now() >= until) return s;
      std::this_thread::sleep_for(100ms);
    }
  }
  std::string wait_for_text(const std::string& text, std::chrono::milliseconds timeout = 5s) const {
    return wait_for([&](const std::string& s) { return s.find(text) != std::string::npos; }, timeout);
  }

 private:
  static inline int counter_ = 0;
  std::string socket_;
};

bool has(const std::string& screen, const std::string& text) { return screen.find(text) != std::string::npos; }

// The screen's line containing `text` ("" if none).
std::string line_with(const std::string& screen, const std::string& text) {
  std::istringstream in(screen);
  std::string line;
  while (std::getline(in, line)) {
    if (has(line, text)) return line;
  }
  return "";
}

// The first entry row under the CPU pane's heading.
std::string first_cpu_row(const std::string& screen) {
  std::istringstream in(screen);
  std::string line;
  while (std::getline(in, line)) {
    if (has(line, "SELF%")) {
      std::getline(in, line);
      return line;
    }
  }
  return "";
}

// "samples N" of the footer.
long footer_samples(const std::string& screen) {
  std::smatch m;
  static const std::regex re("samples ([0-9]+)");
  return std::regex_search(screen, m, re) ? std::stol(m[1]) : -1;
}

std::string moving_line(const char* marker) { return "moving.c:" + std::to_string(line_of("moving.c", marker)); }

TEST(Tui, LiveViewShowsTheHotLineAndFollowsItsKeys) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("live.db");
  const auto started = Clock::now();
  Tmux tmux("cd " + dir.path() + " && " + hotline_bin() + " record -o " + db + " -- " + fixture("moving") + " ab 60");
  // The hot line, first, within 3 s of starting.
  std::string s = tmux.wait_for([](const std::string& sc) { return has(first_cpu_row(sc), "spin_a"); }, 3s);
  const auto shown_after = Clock::now() - started;
  ASSERT_TRUE(has(first_cpu_row(s), "spin_a")) << s;
  EXPECT_LE(shown_after, 3s);
  EXPECT_TRUE(has(first_cpu_row(s), moving_line("MOVING_A_LINE"))) << s;
  EXPECT_TRUE(has(s, "LIVE")) << s;
  EXPECT_TRUE(has(line_with(s, "hotline ·"), "moving (pid ")) << s;
  EXPECT_TRUE(has(s, "ALLOC")) << "side by side by default\n" << s;
  EXPECT_TRUE(has(s, "samples ")) << s;

  // 1: CPU full screen; 2: heap full screen; 3: side by side again.
  tmux.keys({"1"});
  s = tmux.wait_for([](const std::string& sc) { return !has(sc, "ALLOC"); });
  EXPECT_FALSE(has(s, "ALLOC")) << s;
  EXPECT_TRUE(has(s, "SELF%")) << s;
  tmux.keys({"2"});
  s = tmux.wait_for([](const std::string& sc) { return !has(sc, "SELF%"); });
  EXPECT_FALSE(has(s, "SELF%")) << s;
  EXPECT_TRUE(has(s, "ALLOC")) << s;
  tmux.keys({"3"});
  s = tmux.wait_for([](const std::string& sc) { return has(sc, "SELF%") && has(sc, "ALLOC"); });
  EXPECT_TRUE(has(s, "SELF%") && has(s, "ALLOC")) << s;

  // / filters (case-insensitive); Esc clears.
  tmux.keys({"1", "/", "SPIN_B", "Enter"});
  s = tmux.wait_for([](const std::string& sc) { return has(sc, "filter: SPIN_B") && !has(sc, "spin_a"); });
  EXPECT_TRUE(has(s, "filter: SPIN_B")) << s;
  EXPECT_FALSE(has(s, "spin_a")) << s;
  EXPECT_TRUE(has(first_cpu_row(s), "spin_b")) << s;
  tmux.keys({"Escape"});
  s = tmux.wait_for([](const std::string& sc) { return has(first_cpu_row(sc), "spin_a"); });
  EXPECT_TRUE(has(first_cpu_row(s), "spin_a")) << s;

  // p freezes the display (banner) while the recording goes on; p again resumes.
  tmux.keys({"p"});
  s = tmux.wait_for_text("PAUSED");
  ASSERT_TRUE(has(s, "PAUSED")) << s;
  const long frozen = footer_samples(s);
  std::this_thread::sleep_for(2500ms);
  s = tmux.screen();
  EXPECT_EQ(footer_samples(s), frozen) << s;
  tmux.keys({"p"});
  s = tmux.wait_for([&](const std::string& sc) { return !has(sc, "PAUSED") && footer_samples(sc) > frozen; });
  EXPECT_FALSE(has(s, "PAUSED")) << s;
  EXPECT_GT(footer_samples(s), frozen) << "the recording continued while the display was paused\n" << s;

  // Enter: the selected line's source, annotated with its CPU share.
  tmux.keys({"Enter"});
  s = tmux.wait_for_text("6364136223846793005");  // in the hot line's text
  const std::string annotated = line_with(s, "6364136223846793005");
  EXPECT_TRUE(std::regex_search(annotated, std::regex("^ +[0-9]+\\.[0-9]%"))) << s;
  tmux.keys({"Escape"});

  // q: the recording is finalised, the terminal given back, hotline exits 0.
  tmux.keys({"q"});
  s = tmux.wait_for_text("EXIT=", 15s);
  EXPECT_TRUE(has(s, "EXIT=0")) << s;
  EXPECT_TRUE(has(s, "stopped from the live view")) << s;
  EXPECT_FALSE(has(s, "SELF%")) << "the full-screen view is gone\n" << s;
  EXPECT_FALSE(query_value(db, "SELECT value FROM meta WHERE key = 'end_time'").empty());
  const auto top = top_json(db);
  ASSERT_FALSE(top["entries"].empty()) << top.dump();
  EXPECT_EQ(top["entries"][0]["function"], "spin_a");
  // The command's output went to a private log file, not over the view.
  EXPECT_EQ(query_value(db, "SELECT value FROM meta WHERE key = 'command_output'"), dir.file("live.log"));
  EXPECT_EQ(::access(dir.file("live.log").c_str(), F_OK), 0);
}

TEST(Tui, ViewOfARecordingHasATimeSliderAndSource) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("ab.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--heap", "off", "-o", db, "--", fixture("moving"), "ab", "3"}).code, 0);
  Tmux tmux(hotline_bin() + " view " + db);
  std::string s = tmux.wait_for([](const std::string& sc) { return has(first_cpu_row(sc), "spin_a"); });
  ASSERT_TRUE(has(first_cpu_row(s), "spin_a")) << s;
  EXPECT_TRUE(has(s, "VIEW")) << s;
  EXPECT_TRUE(has(line_with(s, "hotline ·"), "heap off")) << s;
  // The slider starts at the end; Left moves it back one checkpoint (the window shrinks).
  const std::string before = line_with(s, "time [");
  ASSERT_FALSE(before.empty()) << s;
  tmux.keys({"Left", "Left"});
  s = tmux.wait_for([&](const std::string& sc) { return line_with(sc, "time [") != before; });
  EXPECT_NE(line_with(s, "time ["), before) << s;
  // w: the last 10 s instead of cumulative.
  tmux.keys({"w"});
  s = tmux.wait_for_text("last 10 s");
  EXPECT_TRUE(has(s, "window: last 10 s")) << s;
  // Enter: the source of the hot line.
  tmux.keys({"Enter"});
  s = tmux.wait_for_text("6364136223846793005");
  EXPECT_TRUE(has(s, "moving.c")) << s;
  tmux.keys({"Escape", "q"});
  s = tmux.wait_for_text("EXIT=");
  EXPECT_TRUE(has(s, "EXIT=0")) << s;
}

// Key 4: the off-CPU pane (lines by blocked time, with the kernel reason); the footer says
// how targets died.
TEST(Tui, OffCpuPaneAndAbnormalExits) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("offcpu.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--offcpu", "-o", db, "--", fixture("offcpu"), "1"}).code, 0);
  {
    Tmux tmux(hotline_bin() + " view " + db, 140, 36);
    std::string s = tmux.wait_for_text("SELF%");
    tmux.keys({"4"});
    s = tmux.wait_for([](const std::string& sc) { return has(sc, "BLOCKED") && has(sc, "nanosleep"); });
    EXPECT_TRUE(has(s, "REASON")) << s;
    EXPECT_TRUE(has(line_with(s, "clock_nanosleep"), "do_nanosleep")) << s;
    EXPECT_TRUE(has(s, "pipe_read")) << s;
    EXPECT_TRUE(has(s, "4 off-CPU")) << s;
    tmux.keys({"1"});
    s = tmux.wait_for([](const std::string& sc) { return !has(sc, "BLOCKED"); });
    EXPECT_TRUE(has(s, "SELF%")) << s;
    tmux.keys({"q"});
    EXPECT_TRUE(has(tmux.wait_for_text("EXIT="), "EXIT=0"));
  }
  const std::string deaths = dir.file("deaths.db");
  RunResult r = run({hotline_bin(), "record", "-q", "-o", deaths, "--", fixture("lifecycle"), dir.path()});
  ASSERT_EQ(r.code, 0) << r.err;
  Tmux tmux(hotline_bin() + " view " + deaths, 160, 30);
  std::string s = tmux.wait_for_text("killed by SIGKILL");
  EXPECT_TRUE(has(s, "1 process killed by SIGKILL")) << s;
  EXPECT_TRUE(has(s, "killed by SIGSEGV")) << s;
  tmux.keys({"4"});
  s = tmux.wait_for_text("no off-CPU data");
  EXPECT_TRUE(has(s, "record with --offcpu")) << s;
  tmux.keys({"q"});
  EXPECT_TRUE(has(tmux.wait_for_text("EXIT="), "EXIT=0"));
}

TEST(Tui, SmallTerminalsPlainLocalesAndNoColor) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("ab.db");
  ASSERT_EQ(run({hotline_bin(), "record", "-q", "--heap", "off", "-o", db, "--", fixture("moving"), "ab", "2"}).code, 0);
  {
    Tmux small(hotline_bin() + " view " + db, 70, 20);
    const std::string s = small.wait_for_text("terminal too small");
    EXPECT_TRUE(has(s, "terminal too small (70x20)")) << s;
    small.keys({"q"});
    EXPECT_TRUE(has(small.wait_for_text("EXIT="), "EXIT=0"));
  }
  {
    // Colours by default (the header's cyan background)...
    Tmux coloured(hotline_bin() + " view " + db, 120, 30, "NO_COLOR= LC_ALL=C.UTF-8");
    coloured.wait_for([](const std::string& sc) { return has(first_cpu_row(sc), "spin_a"); });
    EXPECT_TRUE(has(coloured.screen(true), "46m")) << coloured.screen(true);
  }
  {
    // ...none with NO_COLOR; and ASCII only without a UTF-8 locale.
    Tmux plain(hotline_bin() + " view " + db, 120, 30, "NO_COLOR=1 LC_ALL=C");
    const std::string s = plain.wait_for([](const std::string& sc) { return has(first_cpu_row(sc), "spin_a"); });
    const std::string raw = plain.screen(true);
    for (const char* colour : {"46m", "[31m", "[32m", "[33m", ";31m", ";33m"}) {
      EXPECT_FALSE(has(raw, colour)) << colour << "\n" << raw;
    }
    for (unsigned char c : s) EXPECT_LT(c, 0x80) << s;
    EXPECT_TRUE(has(s, "Up/Down")) << s;
  }
}

TEST(Tui, WithoutATerminalThereIsNoView) {
  HOTLINE_REQUIRE_ROOT();
  TempDir dir;
  const std::string db = dir.file("plain.db");
  // Standard output is a pipe here: progress lines, no escape sequences.
  RunResult r = run({hotline_bin(), "record", "--heap", "off", "-o", db, "--", fixture("moving"), "a", "1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.err, "recording moving")) << r.err;
  EXPECT_FALSE(has(r.out + r.err, "\x1b[?1049h")) << "no full-screen mode";
  RunResult v = run({hotline_bin(), "view", db});
  EXPECT_EQ(v.code, 2);
  EXPECT_TRUE(has(v.err, "needs a terminal")) << v.err;
  EXPECT_TRUE(has(v.err, "hotline top cpu")) << v.err;
}

}  // namespace
}  // namespace hotline::test
