#include "target/launch.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "util/error.h"

namespace hotline {
namespace {

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

int shell_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

}  // namespace

std::string resolve_command(const std::string& name) {
  if (name.empty()) throw Error(ExitCode::invalid_args, "empty command after --");
  if (name.find('/') != std::string::npos) {
    if (is_executable_file(name)) return name;
    throw Error(ExitCode::invalid_args, fmt::format("cannot run '{}': not an executable file", name),
                "check the path and its permissions");
  }
  const char* path_env = std::getenv("PATH");
  std::string path = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t end = path.find(':', pos);
    if (end == std::string::npos) end = path.size();
    // An empty PATH entry means the current directory.
    std::string candidate = (end > pos ? path.substr(pos, end - pos) : std::string(1, '.')) + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    pos = end + 1;
  }
  throw Error(ExitCode::invalid_args, fmt::format("command not found: '{}'", name),
              "check the name, or give its path");
}

LaunchedCommand::LaunchedCommand(const std::vector<std::string>& argv, const LaunchExtras& extras)
    : path_(resolve_command(argv.at(0))) {
  int gate[2], err[2];
  if (::pipe2(gate, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw Error(ExitCode::general, errno_text("cannot create pipes", errno));
  }
  UniqueFd gate_read(gate[0]), err_write(err[1]);
  gate_.reset(gate[1]);
  exec_error_.reset(err[0]);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  if (extras.environment) {
    for (const auto& kv : *extras.environment) envp.push_back(const_cast<char*>(kv.c_str()));
    envp.push_back(nullptr);
  }
  const pid_t parent = ::getpid();

  pid_ = ::fork();
  if (pid_ < 0) throw Error(ExitCode::general, errno_text("cannot fork", errno));
  if (pid_ == 0) {
    // Child: only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // hotline died before releasing us: don't run
    if (::getppid() != parent) ::_exit(127);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    char go = 0;
    ssize_t n;
    do {
      n = ::read(gate_read.get(), &go, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) ::_exit(127);
    ::prctl(PR_SET_PDEATHSIG, 0);
    for (int fd : extras.inherit_fds) ::fcntl(fd, F_SETFD, 0);
    if (extras.output_fd >= 0) {
      const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null >= 0) ::dup2(null, STDIN_FILENO);
      ::dup2(extras.output_fd, STDOUT_FILENO);
      ::dup2(extras.output_fd, STDERR_FILENO);
    }
    if (extras.environment) {
      ::execve(path_.c_str(), args.data(), envp.data());
    } else {
      ::execv(path_.c_str(), args.data());
    }
    int e = errno;
    ssize_t ignored = ::write(err_write.get(), &e, sizeof e);
    (void)ignored;
    ::_exit(127);
  }
}

LaunchedCommand::~LaunchedCommand() {
  if (pid_ > 0 && !status_) {
    if (!started_) {
      ::kill(pid_, SIGKILL);
      wait(true);
    }
    // A started command that outlives hotline keeps running, as with any parent exiting.
  }
}

void LaunchedCommand::start() {
  char go = 1;
  if (::write(gate_.get(), &go, 1) != 1) throw Error(ExitCode::general, errno_text("cannot start the command", errno));
  gate_.reset();
  started_ = true;
  int e = 0;
  ssize_t n;
  do {
    n = ::read(exec_error_.get(), &e, sizeof e);
  } while (n < 0 && errno == EINTR);
  exec_error_.reset();
  if (n == sizeof e) {
    wait(true);
    throw Error(ExitCode::invalid_args, errno_text(fmt::format("cannot execute '{}'", path_), e),
                "check that it is a program for this machine");
  }
}

std::optional<int> LaunchedCommand::wait(bool block) {
  if (status_ || pid_ <= 0) return status_;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = shell_status(status);
    wait_status_ = status;
  }
  return status_;
}

std::optional<int> LaunchedCommand::poll_exit() { return wait(false); }

int LaunchedCommand::terminate(std::chrono::milliseconds grace) {
  if (auto s = wait(false)) return *s;
  ::kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto s = wait(false)) return *s;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  return wait(true).value_or(137);
}

}  // namespace hotline
