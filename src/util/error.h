#pragma once
// Typed errors that carry the process exit code and a remedy sentence; the CLI maps them.
#include <stdexcept>
#include <string>

namespace hotline {

enum class ExitCode : int {
  ok = 0,
  general = 1,
  invalid_args = 2,
  not_found = 3,
  permission = 4,
  no_debuginfo = 5,
  database = 6,
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, std::string what, std::string remedy = {})
      : std::runtime_error(std::move(what)), code_(code), remedy_(std::move(remedy)) {}
  ExitCode code() const { return code_; }
  const std::string& remedy() const { return remedy_; }

 private:
  ExitCode code_;
  std::string remedy_;
};

// "what: strerror(errno)" for system call failures.
std::string errno_text(const std::string& what, int err);

}  // namespace hotline
