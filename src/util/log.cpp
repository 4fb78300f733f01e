#include "util/log.h"

#include "util/error.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace hotline {

bool color_enabled(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

void info(const std::string& message) { (void)std::fprintf(stderr, "hotline: %s\n", message.c_str()); }

void warn(const std::string& message) {
  if (color_enabled(STDERR_FILENO)) {
    (void)std::fprintf(stderr, "hotline: \033[33mwarning:\033[0m %s\n", message.c_str());
  } else {
    (void)std::fprintf(stderr, "hotline: warning: %s\n", message.c_str());
  }
}

void error_message(const std::string& message, const std::string& remedy) {
  bool color = color_enabled(STDERR_FILENO);
  (void)std::fprintf(stderr, "hotline: %serror:%s %s\n", color ? "\033[31m" : "", color ? "\033[0m" : "", message.c_str());
  if (!remedy.empty()) (void)std::fprintf(stderr, "hotline: hint: %s\n", remedy.c_str());
}

}  // namespace hotline

namespace hotline {

void write_stdout(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw Error(ExitCode::general, errno_text("cannot write the output", errno),
                "check the destination (disk full? closed pipe?)");
  }
}

}  // namespace hotline
