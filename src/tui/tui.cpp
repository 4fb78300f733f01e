#include "tui/tui.h"
#include "store/meta_keys.h"

#include <curses.h>
#include <langinfo.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <clocale>
#include <cstdlib>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "report/heap_top.h"
#include "store/reader.h"
#include "target/target_file.h"
#include "tui/model.h"
#include "util/duration.h"
#include "util/files.h"
#include "util/error.h"
#include "util/log.h"

namespace hotline {
namespace {

constexpr std::uint64_t kMaxSourceBytes = 16ull << 20;  // the source view reads no more of a file

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kMinWidth = 80, kMinHeight = 24;
constexpr auto kRefresh = milliseconds(200);
constexpr auto kWindow = std::chrono::seconds(10);  // w: the last 10 seconds

enum class Mode { cpu, heap, both, offcpu };
enum Pair : short { kHeader = 1, kHot = 2, kWarm = 3, kBanner = 4, kHeap = 5 };

// Characters (not bytes) of a UTF-8 string, for truncation to a column width.
std::size_t columns(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string fit(const std::string& s, std::size_t width, bool keep_right = false) {
  if (columns(s) <= width) return s + std::string(width - columns(s), ' ');
  if (width == 0) return "";
  // Cut at character boundaries; keep the end of paths (the file name), the start of names.
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  if (keep_right) return "~" + s.substr(starts[starts.size() - (width - 1)]);
  return s.substr(0, starts[width - 1]) + "~";
}

std::string where(const ViewLine& l) {
  if (l.file.empty()) return "?";
  return fmt::format("{}:{}", l.file.substr(l.file.rfind('/') + 1), l.line);
}

class Ui {
 public:
  Ui(std::string path, bool live, std::function<void()> request_stop)
      : path_(std::move(path)), live_(live), request_stop_(std::move(request_stop)) {}

  // The loop: returns when `done` is set (live) or the user quits (view).
  void run(const std::atomic<bool>& done) {
    start_ = Clock::now();
    while (!done.load()) {
      if (!paused_ && (Clock::now() >= next_reload_ || dirty_)) reload();
      draw();
      const int ch = getch();  // waits up to kRefresh
      if (ch == ERR) continue;
      if (!handle(ch)) return;
    }
  }

 private:
  void reload() {
    next_reload_ = Clock::now() + milliseconds(live_ ? 250 : 1000);
    try {
      RecordingReader reader(path_);
      // Only what is new is read (the model keeps the rest): a refresh costs the same at
      // the tenth minute as at the first.
      const bool changed = model_.update(reader);
      if (!changed && !dirty_) return;
      interval_ms_ = std::max<std::int64_t>(reader.meta_int(meta_key::interval_ms, 1000), 1);
      ViewQuery q;
      q.filter = filter_;
      q.cpu_sort = cpu_sort_;
      q.heap_sort = heap_sort_;
      if (windowed_) q.last = kWindow;
      if (!live_ && slider_ms_ >= 0) q.end = milliseconds(slider_ms_);
      data_ = model_.view(q);
      if (!live_ && slider_ms_ < 0) slider_ms_ = data_.recorded_ms;
      error_.clear();
      if (source_) load_stacks_if_needed(reader);
    } catch (const std::exception& e) {
      error_ = e.what();
    }
    dirty_ = false;
  }

  // --- drawing ---------------------------------------------------------------------------

  void put(int y, int x, const std::string& text, int width, attr_t attr = A_NORMAL, bool keep_right = false) {
    if (width <= 0) return;
    if (attr != A_NORMAL) attron(attr);
    mvaddstr(y, x, fit(unicode_ ? text : ascii(text), static_cast<std::size_t>(width), keep_right).c_str());
    if (attr != A_NORMAL) attroff(attr);
  }

  attr_t colour(Pair p) const { return colours_ ? COLOR_PAIR(p) : A_NORMAL; }

  std::string sparkline(const std::vector<double>& trend) const {
    static const char* const blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ascii[] = ".:-=+*#@";
    const double top = trend.empty() ? 0 : *std::max_element(trend.begin(), trend.end());
    std::string out;
    for (double v : trend) {
      if (v <= 0 || top <= 0) {
        out += ' ';
        continue;
      }
      const int level = std::clamp(static_cast<int>(v / top * 7.999), 0, 7);
      out += unicode_ ? std::string(blocks[level]) : std::string(1, ascii[level]);
    }
    return out;
  }

  void draw() {
    erase();
    int h = 0, w = 0;
    getmaxyx(stdscr, h, w);
    if (w < kMinWidth || h < kMinHeight) {
      const std::string msg = fmt::format("terminal too small ({}x{}): hotline needs {}x{}", w, h, kMinWidth, kMinHeight);
      mvaddstr(h / 2, std::max(0, (w - static_cast<int>(msg.size())) / 2), msg.substr(0, static_cast<std::size_t>(std::max(w, 0))).c_str());
      refresh();
      return;
    }
    draw_header(w);
    if (source_) {
      draw_source(h, w);
    } else {
      const int top = 3, bottom = h - 3;  // pane rows [top, bottom)
      if (mode_ == Mode::both && data_.has_heap) {
        const int left = w / 2;
        draw_cpu(top, bottom, 0, left - 1, focus_heap_ ? -1 : selected_cpu_);
        mvvline(top - 1, left - 1, unicode_ ? ACS_VLINE : '|', bottom - top + 1);
        draw_heap(top, bottom, left, w - left, focus_heap_ ? selected_heap_ : -1);
      } else if (mode_ == Mode::heap) {
        draw_heap(top, bottom, 0, w, selected_heap_);
      } else if (mode_ == Mode::offcpu) {
        draw_offcpu(top, bottom, 0, w, selected_offcpu_);
      } else {
        draw_cpu(top, bottom, 0, w, selected_cpu_);
      }
    }
    draw_footer(h, w);
    refresh();
  }

  void draw_header(int w) {
    const auto elapsed = live_ ? std::chrono::duration_cast<milliseconds>(Clock::now() - start_).count() : data_.recorded_ms;
    std::string heap = data_.heap_mode == "off" ? "heap off" : "heap " + data_.heap_mode;
    std::string state = live_ ? (data_.finished ? "ENDED" : "LIVE") : "VIEW";
    const std::string left = fmt::format(" hotline · {} (pid {}) · {} Hz · {} · {:.1f} s · {}", data_.process, data_.pids,
                                         data_.frequency_hz, heap, static_cast<double>(elapsed) / 1000.0, path_);
    put(0, 0, left, w - static_cast<int>(state.size()) - 2, colour(kHeader) | A_BOLD);
    put(0, w - static_cast<int>(state.size()) - 2, " " + state + " ", static_cast<int>(state.size()) + 2,
        colour(kHeader) | A_BOLD | A_REVERSE);
    // Second line: window, sort, filter; or the filter being typed; or the pause banner.
    if (editing_) {
      put(1, 0, " filter: " + edit_ + "_   (Enter apply, Esc cancel)", w, A_BOLD);
    } else if (paused_) {
      put(1, 0, " PAUSED: display frozen, recording continues (p resumes)", w, colour(kBanner) | A_BOLD | A_REVERSE);
    } else {
      std::string line = fmt::format(" window: {} ({:.1f}–{:.1f} s)", windowed_ ? "last 10 s" : "cumulative",
                                     static_cast<double>(data_.window_start_ms) / 1000.0,
                                     static_cast<double>(data_.window_end_ms) / 1000.0);
      if (!live_) line += fmt::format(" · time {}", slider());
      line += fmt::format(" · sort cpu: {}, heap: {}", cpu_sort_ == CpuSort::self ? "self" : cpu_sort_ == CpuSort::total ? "total" : "name",
                          heap_sort_ == HeapSort::live ? "live" : heap_sort_ == HeapSort::alloc ? "alloc" : "name");
      if (!filter_.empty()) line += " · filter: " + filter_;
      put(1, 0, line, w);
    }
    if (!error_.empty()) put(1, 0, " " + error_, w, colour(kHot) | A_BOLD);
  }

  std::string slider() const {
    const int cells = 20;
    const double total = static_cast<double>(std::max<std::int64_t>(data_.recorded_ms, 1));
    const int at = static_cast<int>(static_cast<double>(std::max<std::int64_t>(slider_ms_, 0)) / total * cells);
    std::string bar = "[";
    for (int i = 0; i < cells; ++i) bar += i < at ? '=' : i == at ? '|' : '-';
    return bar + fmt::format("] {:.1f}/{:.1f} s (←/→)", static_cast<double>(std::max<std::int64_t>(slider_ms_, 0)) / 1000.0,
                             total / 1000.0);
  }

  void clamp_scroll(int rows, std::size_t count, int selected, int& scroll) {
    if (selected < scroll) scroll = selected;
    if (selected >= scroll + rows) scroll = selected - rows + 1;
    scroll = std::clamp(scroll, 0, std::max(0, static_cast<int>(count) - rows));
  }

  // Of `rest` columns: the locations get what their longest needs (up to 2/5), the
  // function names the remainder.
  static int function_width(const std::vector<ViewLine>& lines, int rest) {
    std::size_t longest = 1;
    for (const ViewLine& l : lines) longest = std::max(longest, columns(where(l)) + 1);
    const int loc = std::min(static_cast<int>(longest), rest * 2 / 5);
    return std::max(8, rest - loc);
  }

  void draw_cpu(int top, int bottom, int x, int w, int selected) {
    put(top - 1, x, fmt::format("{:>6} {:>6}  {:<8}  {}", "SELF%", "TOTAL%", "TREND", "FUNCTION / LOCATION"), w, A_BOLD | A_UNDERLINE);
    const int rows = bottom - top;
    if (data_.cpu.empty()) {
      put(top, x, data_.checkpoints == 0 ? "  waiting for the first checkpoint…" : "  no samples in this window", w);
      return;
    }
    clamp_scroll(rows, data_.cpu.size(), std::max(selected, 0), cpu_scroll_);
    const int fn_w = function_width(data_.cpu, w - 26);
    for (int r = 0; r < rows && cpu_scroll_ + r < static_cast<int>(data_.cpu.size()); ++r) {
      const int i = cpu_scroll_ + r;
      const ViewLine& l = data_.cpu[static_cast<std::size_t>(i)];
      attr_t attr = i == selected ? A_REVERSE : A_NORMAL;
      const attr_t pct_attr = l.self_pct >= 10 ? colour(kHot) | A_BOLD : l.self_pct >= 2 ? colour(kWarm) : A_NORMAL;
      put(top + r, x, fmt::format("{:>5.1f}%", l.self_pct), 6, attr | pct_attr);
      put(top + r, x + 6, fmt::format(" {:>5.1f}%  ", l.total_pct), 10, attr);
      put(top + r, x + 16, sparkline(l.trend), 8, attr | colour(kWarm));
      put(top + r, x + 24, "  ", 2, attr);
      put(top + r, x + 26, l.function, fn_w, attr);
      put(top + r, x + 26 + fn_w, " " + where(l), w - 26 - fn_w, attr, true);
    }
  }

  void draw_heap(int top, int bottom, int x, int w, int selected) {
    put(top - 1, x, fmt::format("{:>9} {:>9}  {:<8}  {}", "LIVE", "ALLOC", "TREND", "FUNCTION / LOCATION"), w, A_BOLD | A_UNDERLINE);
    const int rows = bottom - top;
    if (!data_.has_heap) {
      put(top, x, "  no heap data (recorded with --heap=off)", w);
      return;
    }
    if (data_.heap.empty()) {
      put(top, x, data_.checkpoints == 0 ? "  waiting for the first checkpoint…" : "  no allocations in this window", w);
      return;
    }
    clamp_scroll(rows, data_.heap.size(), std::max(selected, 0), heap_scroll_);
    const int fn_w = function_width(data_.heap, w - 32);
    for (int r = 0; r < rows && heap_scroll_ + r < static_cast<int>(data_.heap.size()); ++r) {
      const int i = heap_scroll_ + r;
      const ViewLine& l = data_.heap[static_cast<std::size_t>(i)];
      attr_t attr = i == selected ? A_REVERSE : A_NORMAL;
      put(top + r, x, fmt::format("{:>9} {:>9}  ", human_bytes(l.live_bytes), human_bytes(l.alloc_bytes)), 22, attr | colour(kHeap));
      put(top + r, x + 22, sparkline(l.trend), 8, attr | colour(kHeap));
      put(top + r, x + 30, "  ", 2, attr);
      put(top + r, x + 32, l.function, fn_w, attr);
      put(top + r, x + 32 + fn_w, " " + where(l), w - 32 - fn_w, attr, true);
    }
  }

  void draw_footer(int h, int w) {
    std::string stats = fmt::format(" samples {} · lost {} · checkpoints {}", data_.samples, data_.lost, data_.checkpoints);
    if (data_.has_heap) {
      stats += fmt::format(" · live heap {}{} · peak {}", human_bytes(data_.live_bytes), data_.heap_sampled ? " (sampled)" : "",
                           human_bytes(data_.peak_bytes));
    }
    if (!data_.exits_note.empty()) stats += " · " + data_.exits_note;
    if (const std::string note = last_held_message(); !note.empty()) stats += " · " + note;
    put(h - 2, 0, stats, w, A_REVERSE);
    const std::string keys = source_ ? " ↑↓ PgUp/PgDn scroll · Esc/q back"
                                     : live_ ? " 1 cpu 2 heap 3 both 4 off-CPU · Tab pane · / filter · Esc clear · p pause · s sort · "
                                               "w window · ↑↓ move · Enter source · q quit"
                                             : " 1 cpu 2 heap 3 both 4 off-CPU · Tab pane · / filter · Esc clear · ←/→ time · s sort · "
                                               "w window · ↑↓ move · Enter source · q quit";
    put(h - 1, 0, keys, w, A_DIM);
  }

  // Without a UTF-8 locale: the UI's own symbols in ASCII.
  static std::string ascii(std::string s) {
    static const std::pair<const char*, const char*> table[] = {
        {"↑↓", "Up/Down"}, {"←/→", "Left/Right"}, {"·", "|"}, {"–", "-"}, {"…", "..."}, {"→", "->"}, {"—", "-"}};
    for (const auto& [from, to] : table) {
      for (std::size_t at; (at = s.find(from)) != std::string::npos;) s.replace(at, std::string(from).size(), to);
    }
    return s;
  }

  // --- the source view --------------------------------------------------------------------

  void open_source() {
    const ViewLine* l = selected_line();
    if (l == nullptr || l->file.empty()) return;
    source_ = true;
    source_file_ = l->file;
    source_line_ = l->line;
    source_text_.clear();
    stacks_.clear();
    // The path comes from the target's debug info: a FIFO or a device there must not block or
    // be opened, a huge file not be read whole (target/target_file.h).
    OpenedFile file = open_host_file(own_origin(), l->file, {kMaxSourceBytes, {}, true});
    if (file) {
      if (auto text = read_fd(file.fd.get(), kMaxSourceBytes)) {
        std::istringstream in(*text);
        for (std::string line; std::getline(in, line);) source_text_.push_back(line);
      }
    }
    source_scroll_ = -1;  // centre on the line at the next draw
    dirty_ = true;
  }

  void load_stacks_if_needed(const RecordingReader& reader) {
    if (source_text_.empty()) stacks_ = stacks_through(reader, source_file_, source_line_, 30);
  }

  void draw_source(int h, int w) {
    const int top = 2, rows = h - 4;
    if (source_text_.empty()) {
      put(top, 0, fmt::format(" {}:{} — source not readable here; the call stacks through this line:", source_file_, source_line_), w, A_BOLD);
      int y = top + 1;
      for (const StackThrough& s : stacks_) {
        if (y >= top + rows) break;
        std::string chain;
        for (const auto& f : s.frames) chain += (chain.empty() ? "" : unicode_ ? " → " : " -> ") + f;
        put(y++, 0, fmt::format(" {:>7} samples  {}", s.samples, chain), w, A_NORMAL, true);
      }
      if (stacks_.empty()) put(top + 1, 0, "  (no CPU samples pass through it)", w);
      return;
    }
    // Per-line CPU self % and heap live bytes of this file.
    std::map<int, double> cpu;
    std::map<int, std::int64_t> heap;
    for (const ViewLine& l : data_.cpu) {
      if (l.file == source_file_) cpu[l.line] += l.self_pct;
    }
    for (const ViewLine& l : data_.heap) {
      if (l.file == source_file_) heap[l.line] += l.live_bytes;
    }
    put(top, 0, fmt::format(" {}  (CPU self % · heap live, per line)", source_file_), w, A_BOLD, true);
    const int body = rows - 1, count = static_cast<int>(source_text_.size());
    if (source_scroll_ < 0) source_scroll_ = source_line_ - 1 - body / 2;
    source_scroll_ = std::clamp(source_scroll_, 0, std::max(0, count - body));
    for (int r = 0; r < body && source_scroll_ + r < count; ++r) {
      const int n = source_scroll_ + r + 1;
      std::string c = cpu.contains(n) ? fmt::format("{:5.1f}%", cpu[n]) : "";
      std::string m = heap.contains(n) ? human_bytes(heap[n]) : "";
      std::string text = source_text_[static_cast<std::size_t>(n - 1)];
      std::replace(text.begin(), text.end(), '\t', ' ');
      attr_t attr = n == source_line_ ? A_REVERSE : A_NORMAL;
      const attr_t c_attr = cpu.contains(n) && cpu[n] >= 10 ? colour(kHot) | A_BOLD : colour(kWarm);
      put(top + 1 + r, 0, fmt::format("{:>7}", c), 7, attr | c_attr);
      put(top + 1 + r, 7, fmt::format(" {:>9}", m), 10, attr | colour(kHeap));
      put(top + 1 + r, 17, fmt::format(" {:>5}  {}", n, text), w - 17, attr);
    }
  }

  // Lines where threads waited (recorded with --offcpu): self and total blocked time, the
  // kernel reason.
  void draw_offcpu(int top, int bottom, int x, int w, int selected) {
    put(top - 1, x, fmt::format("{:>8} {:>8}  {:<8}  {:<18}  {}", "BLOCKED", "TOTAL", "TREND", "REASON", "FUNCTION / LOCATION"),
        w, A_BOLD | A_UNDERLINE);
    const int rows = bottom - top;
    if (!data_.has_offcpu) {
      put(top, x, "  no off-CPU data (record with --offcpu)", w);
      return;
    }
    if (data_.offcpu.empty()) {
      put(top, x, data_.checkpoints == 0 ? "  waiting for the first checkpoint…" : "  no off-CPU time in this window", w);
      return;
    }
    clamp_scroll(rows, data_.offcpu.size(), std::max(selected, 0), offcpu_scroll_);
    const int fn_w = function_width(data_.offcpu, w - 50);
    for (int r = 0; r < rows && offcpu_scroll_ + r < static_cast<int>(data_.offcpu.size()); ++r) {
      const int i = offcpu_scroll_ + r;
      const ViewLine& l = data_.offcpu[static_cast<std::size_t>(i)];
      attr_t attr = i == selected ? A_REVERSE : A_NORMAL;
      const attr_t hot = l.self_pct >= 10 ? colour(kHot) | A_BOLD : l.self_pct >= 2 ? colour(kWarm) : A_NORMAL;
      put(top + r, x, fmt::format("{:>8}", format_ns_short(l.offcpu_ns)), 8, attr | hot);
      put(top + r, x + 8, fmt::format(" {:>8}  ", format_ns_short(l.offcpu_total_ns)), 11, attr);
      put(top + r, x + 19, sparkline(l.trend), 8, attr | colour(kWarm));
      put(top + r, x + 27, "  ", 2, attr);
      put(top + r, x + 29, l.reason, 18, attr);
      put(top + r, x + 47, "   ", 3, attr);
      put(top + r, x + 50, l.function, fn_w, attr);
      put(top + r, x + 50 + fn_w, " " + where(l), w - 50 - fn_w, attr, true);
    }
  }

  // --- keys --------------------------------------------------------------------------------

  const ViewLine* selected_line() const {
    if (mode_ == Mode::offcpu) {
      const int i = selected_offcpu_;
      return i >= 0 && i < static_cast<int>(data_.offcpu.size()) ? &data_.offcpu[static_cast<std::size_t>(i)] : nullptr;
    }
    const bool heap = mode_ == Mode::heap || (mode_ == Mode::both && focus_heap_ && data_.has_heap);
    const auto& list = heap ? data_.heap : data_.cpu;
    const int i = heap ? selected_heap_ : selected_cpu_;
    return i >= 0 && i < static_cast<int>(list.size()) ? &list[static_cast<std::size_t>(i)] : nullptr;
  }

  void move(int by) {
    if (mode_ == Mode::offcpu) {
      selected_offcpu_ = std::clamp(selected_offcpu_ + by, 0, std::max(0, static_cast<int>(data_.offcpu.size()) - 1));
      return;
    }
    const bool heap = mode_ == Mode::heap || (mode_ == Mode::both && focus_heap_ && data_.has_heap);
    int& i = heap ? selected_heap_ : selected_cpu_;
    const int count = static_cast<int>((heap ? data_.heap : data_.cpu).size());
    i = std::clamp(i + by, 0, std::max(0, count - 1));
  }

  // false: leave the loop (view mode quit).
  bool handle(int ch) {
    if (editing_) {
      if (ch == 27) {
        editing_ = false;
      } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        editing_ = false;
        filter_ = edit_;
        selected_cpu_ = selected_heap_ = selected_offcpu_ = 0;
        dirty_ = true;
      } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (!edit_.empty()) edit_.pop_back();
      } else if (ch >= 32 && ch < 127) {
        edit_ += static_cast<char>(ch);
      }
      return true;
    }
    int h = 0, w = 0;
    getmaxyx(stdscr, h, w);
    const int page = std::max(1, h - 6);
    if (source_) {
      switch (ch) {
        case 27: case 'q': case KEY_BACKSPACE: source_ = false; break;
        case KEY_UP: case 'k': --source_scroll_; break;
        case KEY_DOWN: case 'j': ++source_scroll_; break;
        case KEY_PPAGE: source_scroll_ -= page; break;
        case KEY_NPAGE: case ' ': source_scroll_ += page; break;
        default: break;
      }
      source_scroll_ = std::max(source_scroll_, 0);
      return true;
    }
    switch (ch) {
      case 'q':
      case 'Q':
        if (!live_) return false;
        if (!quitting_) {
          quitting_ = true;
          error_ = "stopping: finalising the recording…";
          request_stop_();
        }
        return true;
      case '1': mode_ = Mode::cpu; break;
      case '2': mode_ = Mode::heap; break;
      case '3': mode_ = Mode::both; break;
      case '4': mode_ = Mode::offcpu; break;
      case '\t': focus_heap_ = !focus_heap_; break;
      case '/': editing_ = true; edit_ = filter_; break;
      case 27:
        if (!filter_.empty()) {
          filter_.clear();
          dirty_ = true;
        }
        break;
      case 'p': case 'P': paused_ = !paused_; if (!paused_) dirty_ = true; break;
      case 's': case 'S': {
        const bool heap = mode_ == Mode::heap || (mode_ == Mode::both && focus_heap_);
        if (heap) heap_sort_ = static_cast<HeapSort>((static_cast<int>(heap_sort_) + 1) % 3);
        else cpu_sort_ = static_cast<CpuSort>((static_cast<int>(cpu_sort_) + 1) % 3);
        dirty_ = true;
        break;
      }
      case 'w': case 'W': windowed_ = !windowed_; dirty_ = true; break;
      case KEY_UP: case 'k': move(-1); break;
      case KEY_DOWN: case 'j': move(1); break;
      case KEY_PPAGE: move(-page); break;
      case KEY_NPAGE: move(page); break;
      case KEY_HOME: move(-1000000); break;
      case KEY_END: move(1000000); break;
      case KEY_LEFT: case KEY_RIGHT:
        if (!live_) {
          slider_ms_ = std::clamp<std::int64_t>(slider_ms_ + (ch == KEY_LEFT ? -interval_ms_ : interval_ms_), interval_ms_,
                                                std::max<std::int64_t>(data_.recorded_ms, interval_ms_));
          dirty_ = true;
        }
        break;
      case '\n': case '\r': case KEY_ENTER: open_source(); break;
      default: break;  // KEY_RESIZE included: the next draw uses the new size
    }
    if (dirty_) reload();
    return true;
  }

 public:
  bool unicode_ = false, colours_ = false;

 private:
  std::string path_;
  bool live_;
  std::function<void()> request_stop_;
  Clock::time_point start_, next_reload_;
  ViewModel model_;  // what the recording held at the last reload
  std::int64_t interval_ms_ = 1000, slider_ms_ = -1;
  ViewData data_;
  std::string error_, filter_, edit_;
  Mode mode_ = Mode::both;
  bool focus_heap_ = false, editing_ = false, paused_ = false, windowed_ = false, dirty_ = true, quitting_ = false;
  CpuSort cpu_sort_ = CpuSort::self;
  HeapSort heap_sort_ = HeapSort::live;
  int selected_cpu_ = 0, selected_heap_ = 0, cpu_scroll_ = 0, heap_scroll_ = 0;
  int selected_offcpu_ = 0, offcpu_scroll_ = 0;
  bool source_ = false;
  std::string source_file_;
  int source_line_ = 0, source_scroll_ = 0;
  std::vector<std::string> source_text_;
  std::vector<StackThrough> stacks_;
};

// ncurses on the terminal, restored by the destructor.
class Screen {
 public:
  explicit Screen(Ui& ui) {
    (void)std::setlocale(LC_ALL, "");
    ui.unicode_ = std::string(nl_langinfo(CODESET)) == "UTF-8";
    initscr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    timeout(static_cast<int>(kRefresh.count()));
    const char* no_color = std::getenv("NO_COLOR");
    if (has_colors() && (no_color == nullptr || *no_color == '\0')) {
      start_color();
      use_default_colors();
      init_pair(kHeader, COLOR_BLACK, COLOR_CYAN);
      init_pair(kHot, COLOR_RED, -1);
      init_pair(kWarm, COLOR_YELLOW, -1);
      init_pair(kBanner, COLOR_YELLOW, -1);
      init_pair(kHeap, COLOR_GREEN, -1);
      ui.colours_ = true;
    }
  }
  ~Screen() { endwin(); }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;
};

}  // namespace

bool live_view_possible() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1 && term != nullptr && *term != '\0' &&
         std::string(term) != "dumb";
}

struct LiveView::State {
  std::atomic<bool> done{false};
  std::thread thread;
  std::string failure;
};

LiveView::LiveView(const std::string& recording, std::function<void()> request_stop) : state_(std::make_unique<State>()) {
  hold_messages(true);
  State* s = state_.get();
  s->thread = std::thread([s, recording, request_stop = std::move(request_stop)] {
    try {
      Ui ui(recording, true, request_stop);
      Screen screen(ui);
      ui.run(s->done);
    } catch (const std::exception& e) {
      s->failure = e.what();
    }
  });
}

void LiveView::stop() {
  if (!state_ || !state_->thread.joinable()) return;
  state_->done.store(true);
  state_->thread.join();
  hold_messages(false);
  if (!state_->failure.empty()) warn("the live view failed: " + state_->failure);
}

LiveView::~LiveView() { stop(); }

void run_view(const std::string& recording) {
  { RecordingReader check(recording); }  // a clear error (the file's first) before the screen is taken
  if (!live_view_possible()) {
    throw Error(ExitCode::invalid_args, "hotline view needs a terminal (standard input and output)",
                "for text output use: hotline top cpu FILE, hotline top heap FILE");
  }
  std::atomic<bool> never{false};
  Ui ui(recording, false, [] {});
  Screen screen(ui);
  ui.run(never);
}

}  // namespace hotline
