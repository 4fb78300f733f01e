#pragma once
// Helpers shared by the tests: running hotline and fixtures, temporary directories,
// locating marked lines in fixture sources, privilege checks.
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hotline::test {

struct RunResult {
  int code = -1;  // exit status, or 128+signal
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), capturing stdout and stderr.
RunResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout = std::chrono::seconds(120),
              const std::map<std::string, std::string>& env = {});

// A background process; killed (SIGKILL) and reaped on destruction.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv, bool capture = false);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Waits for exit; returns the status (code or 128+signal), or nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  std::string read_stdout();  // after exit, when captured
  std::string read_stderr();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1, err_fd_ = -1;
  std::optional<int> status_;
};

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string hotline_bin();
std::string fixture(const std::string& name);
std::string fixture_source(const std::string& name);
// 1-based number of the line of `source` (a fixture source file name) containing `marker`.
int line_of(const std::string& source, const std::string& marker);

bool in_ci();
bool is_root();

// `hotline query FILE SQL --csv` without the header row and trailing newlines: one value,
// or rows separated by '\n'.
std::string query_value(const std::string& db, const std::string& sql);
// Waits (up to 20 s) until a recording being written has committed `n` checkpoints: how long
// hotline takes to start (load, verify, attach) varies with the machine's load. False if it
// did not.
bool wait_for_checkpoints(const std::string& db, int n);

// `hotline top cpu FILE --json ARGS...`, parsed.
nlohmann::json top_json(const std::string& db, const std::vector<std::string>& args = {});
// First entry of a top report whose file ends with `file` and whose line is `line`.
const nlohmann::json* find_entry(const nlohmann::json& report, const std::string& file, int line);
std::string describe(const nlohmann::json& report);

}  // namespace hotline::test

// Privileged tests: skip with the reason when not root, fail in CI.
#define HOTLINE_REQUIRE_ROOT()                                                              \
  do {                                                                                      \
    if (!::hotline::test::is_root()) {                                                      \
      if (::hotline::test::in_ci()) FAIL() << "privileged test cannot run in CI: not root"; \
      GTEST_SKIP() << "needs root (eBPF, perf events): run make test as root";              \
    }                                                                                       \
  } while (0)
