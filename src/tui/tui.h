#pragma once
// The terminal UI (ncurses): the live view of `hotline record` on a terminal, and
// `hotline view FILE` on a finished recording. It reads the recording through its own
// read-only SQLite connection; the recorder never waits for it.
#include <functional>
#include <memory>
#include <string>

namespace hotline {

// Runs the live view in its own thread until stop(). `request_stop` is called (from the
// view's thread) when the user presses q: the recorder then ends and finalises the file,
// and calls stop(), which restores the terminal.
class LiveView {
 public:
  LiveView(const std::string& recording, std::function<void()> request_stop);
  ~LiveView();
  LiveView(const LiveView&) = delete;
  LiveView& operator=(const LiveView&) = delete;
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// `hotline view FILE`: the same UI over a finished (or growing) recording, with a time
// slider; returns when the user quits. Throws Error when standard input/output are not a
// terminal.
void run_view(const std::string& recording);

// Whether the live view can run here: stdin and stdout are terminals and TERM is usable.
bool live_view_possible();

}  // namespace hotline
