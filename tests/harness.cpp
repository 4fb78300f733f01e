#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

namespace hotline::test {
namespace {

int status_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

pid_t spawn(const std::vector<std::string>& argv, int out_fd, int err_fd,
            const std::map<std::string, std::string>& env) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);  // own process group: a test can signal it without hitting the runner
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string drain(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, std::chrono::seconds timeout,
              const std::map<std::string, std::string>& env) {
  // Outputs go to temporary files: no pipe can fill up and block the child.
  char out_name[] = "/tmp/hotline-test-out-XXXXXX";
  char err_name[] = "/tmp/hotline-test-err-XXXXXX";
  int out_fd = mkstemp(out_name), err_fd = mkstemp(err_name);
  unlink(out_name);
  unlink(err_name);
  pid_t pid = spawn(argv, out_fd, err_fd, env);
  RunResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  result.code = status_code(status);
  lseek(out_fd, 0, SEEK_SET);
  lseek(err_fd, 0, SEEK_SET);
  result.out = drain(out_fd);
  result.err = drain(err_fd);
  close(out_fd);
  close(err_fd);
  return result;
}

Child::Child(const std::vector<std::string>& argv, bool capture) {
  if (capture) {
    char out_name[] = "/tmp/hotline-test-out-XXXXXX";
    char err_name[] = "/tmp/hotline-test-err-XXXXXX";
    out_fd_ = mkstemp(out_name);
    err_fd_ = mkstemp(err_name);
    unlink(out_name);
    unlink(err_name);
  }
  pid_ = spawn(argv, out_fd_, err_fd_, {});
}

Child::~Child() {
  // The whole process group: whatever the child started dies with the test.
  kill(-pid_, SIGKILL);
  if (!status_) {
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  if (out_fd_ >= 0) close(out_fd_);
  if (err_fd_ >= 0) close(err_fd_);
}

void Child::signal(int sig) const { kill(pid_, sig); }

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      status_ = status_code(status);
      return status_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

std::string Child::read_stdout() {
  if (out_fd_ < 0) return {};
  lseek(out_fd_, 0, SEEK_SET);
  return drain(out_fd_);
}

std::string Child::read_stderr() {
  if (err_fd_ < 0) return {};
  lseek(err_fd_, 0, SEEK_SET);
  return drain(err_fd_);
}

TempDir::TempDir() {
  char name[] = "/tmp/hotline-test-XXXXXX";
  path_ = mkdtemp(name);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// HOTLINE_TEST_BIN runs the tests against another build (to see a regression test fail on
// the code before its fix).
std::string hotline_bin() {
  const char* other = std::getenv("HOTLINE_TEST_BIN");
  return other != nullptr && *other != '\0' ? other : HOTLINE_BIN;
}
std::string fixture(const std::string& name) { return std::string(FIXTURE_BIN_DIR) + "/" + name; }
std::string fixture_source(const std::string& name) { return std::string(FIXTURE_SRC_DIR) + "/" + name; }

int line_of(const std::string& source, const std::string& marker) {
  std::ifstream in(fixture_source(source));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(marker) != std::string::npos) return n;
  }
  ADD_FAILURE() << "marker " << marker << " not found in " << source;
  return -1;
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "") != 0 && std::strcmp(ci, "0") != 0 && std::strcmp(ci, "false") != 0;
}

bool is_root() { return geteuid() == 0; }

bool wait_for_checkpoints(const std::string& db, int n) {
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::access(db.c_str(), F_OK) != 0) continue;
    RunResult r = run({hotline_bin(), "query", db, "SELECT COUNT(*) FROM checkpoints", "--csv"});
    const auto nl = r.out.find('\n');
    if (r.code == 0 && nl != std::string::npos && nl + 1 < r.out.size() && std::stoi(r.out.substr(nl + 1)) >= n) {
      return true;
    }
  }
  return false;
}

std::string query_value(const std::string& db, const std::string& sql) {
  RunResult r = run({hotline_bin(), "query", db, sql, "--csv"});
  EXPECT_EQ(r.code, 0) << r.err;
  auto nl = r.out.find('\n');
  std::string v = nl == std::string::npos ? "" : r.out.substr(nl + 1);
  while (!v.empty() && v.back() == '\n') v.pop_back();
  return v;
}

nlohmann::json top_json(const std::string& db, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {hotline_bin(), "top", "cpu", db, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = run(argv);
  EXPECT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

const nlohmann::json* find_entry(const nlohmann::json& report, const std::string& file, int line) {
  if (!report.contains("entries")) return nullptr;
  for (const auto& e : report["entries"]) {
    std::string f = e.value("file", "");
    if (f.size() >= file.size() && f.compare(f.size() - file.size(), file.size(), file) == 0 &&
        e["line"].is_number() && e["line"].get<int>() == line) {
      return &e;
    }
  }
  return nullptr;
}

std::string describe(const nlohmann::json& report) { return report.dump(1); }

}  // namespace hotline::test
