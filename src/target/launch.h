#pragma once
// Launching `hotline record -- CMD ARGS...`: the child is forked first and held at a gate
// until the sampler is attached and tracking its pid, so its first instruction is profiled.
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "util/fd.h"

namespace hotline {

// Finds an executable for argv[0] as execvp would (PATH search unless it contains '/').
// Throws Error(invalid_args) when there is none.
std::string resolve_command(const std::string& name);

// What the command gets besides its arguments (the heap sampler's library and socket).
struct LaunchExtras {
  std::vector<int> inherit_fds;                         // kept open across exec
  std::optional<std::vector<std::string>> environment;  // NAME=value; default: hotline's
  int output_fd = -1;  // >= 0: the command's stdout and stderr (stdin from /dev/null): the terminal is the view's
};

class LaunchedCommand {
 public:
  explicit LaunchedCommand(const std::vector<std::string>& argv, const LaunchExtras& extras = {});
  ~LaunchedCommand();
  LaunchedCommand(const LaunchedCommand&) = delete;
  LaunchedCommand& operator=(const LaunchedCommand&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& path() const { return path_; }
  // Lets the child exec. Throws Error if the exec failed.
  void start();
  // Exit status in shell terms (code, or 128+signal) once the child has ended.
  std::optional<int> poll_exit();
  // The wait status itself (exit code << 8, or the signal | 0x80), once it has exited.
  std::optional<int> wait_status() const { return wait_status_; }
  // SIGTERM, then SIGKILL after `grace`; returns the exit status.
  int terminate(std::chrono::milliseconds grace);

 private:
  std::optional<int> wait(bool block);
  pid_t pid_ = -1;
  std::string path_;
  UniqueFd gate_;        // write end: closing it with a byte releases the child
  UniqueFd exec_error_;  // read end: receives errno if exec fails, EOF on success
  std::optional<int> status_;
  std::optional<int> wait_status_;
  bool started_ = false;
};

}  // namespace hotline
