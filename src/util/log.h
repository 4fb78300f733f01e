#pragma once
// Messages to stderr, prefixed "hotline: " / "hotline: warning: ". Warnings are yellow on a
// terminal unless NO_COLOR is set.
#include <string>

namespace hotline {

void info(const std::string& message);
void warn(const std::string& message);
void error_message(const std::string& message, const std::string& remedy);
bool color_enabled(int fd);
// While a full-screen view owns the terminal, messages are kept and printed when it is
// released (hold_messages(false)); the view shows the latest.
void hold_messages(bool hold);
std::string last_held_message();
// The command's result on stdout; throws Error(general) when it cannot be written.
void write_stdout(const std::string& text);
// A text result (table, CSV, JSON) on stdout: no control character but newline and tab
// reaches the terminal, whatever the recording holds.
void write_text_stdout(const std::string& text);

}  // namespace hotline
