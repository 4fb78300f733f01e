#include "util/log.h"

#include "util/error.h"
#include "util/text.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace hotline {

bool color_enabled(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

namespace {

std::mutex held_mutex;
bool holding = false;
std::vector<std::string> held;

// True when the message was kept for later.
bool keep(const std::string& line) {
  std::lock_guard lock(held_mutex);
  if (!holding) return false;
  held.push_back(line);
  return true;
}

}  // namespace

void hold_messages(bool hold) {
  std::vector<std::string> out;
  {
    std::lock_guard lock(held_mutex);
    holding = hold;
    if (!hold) out.swap(held);
  }
  for (const auto& line : out) (void)std::fprintf(stderr, "%s\n", line.c_str());
}

std::string last_held_message() {
  std::lock_guard lock(held_mutex);
  return held.empty() ? "" : held.back().substr(held.back().find(' ') + 1);
}

// Messages carry names the target chose (thread names, paths): nothing in them may reach
// the terminal as a control sequence.
void info(const std::string& raw) {
  const std::string message = printable(raw);
  if (keep("hotline: " + message)) return;
  (void)std::fprintf(stderr, "hotline: %s\n", message.c_str());
}

void warn(const std::string& raw) {
  const std::string message = printable(raw);
  if (keep("hotline: warning: " + message)) return;
  if (color_enabled(STDERR_FILENO)) {
    (void)std::fprintf(stderr, "hotline: \033[33mwarning:\033[0m %s\n", message.c_str());
  } else {
    (void)std::fprintf(stderr, "hotline: warning: %s\n", message.c_str());
  }
}

void error_message(const std::string& raw_message, const std::string& raw_remedy) {
  const std::string message = printable(raw_message), remedy = printable(raw_remedy);
  if (keep("hotline: error: " + message + (remedy.empty() ? "" : "\nhotline: hint: " + remedy))) return;
  bool color = color_enabled(STDERR_FILENO);
  (void)std::fprintf(stderr, "hotline: %serror:%s %s\n", color ? "\033[31m" : "", color ? "\033[0m" : "", message.c_str());
  if (!remedy.empty()) (void)std::fprintf(stderr, "hotline: hint: %s\n", remedy.c_str());
}

}  // namespace hotline

namespace hotline {

void write_text_stdout(const std::string& text) { write_stdout(printable_lines(text)); }

void write_stdout(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw Error(ExitCode::general, errno_text("cannot write the output", errno),
                "check the destination (disk full? closed pipe?)");
  }
}

}  // namespace hotline
