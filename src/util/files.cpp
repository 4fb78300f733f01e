#include "util/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "util/error.h"

namespace hotline {

namespace {
int open_exclusive(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}
}  // namespace

UniqueFd create_private_file(const std::string& path, bool force) {
  UniqueFd fd(open_exclusive(path));
  if (!fd && errno == EEXIST) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      throw Error(ExitCode::general, errno_text("cannot inspect " + path, errno));
    }
    if (!force) {
      throw Error(ExitCode::general, fmt::format("{} already exists", path),
                  "choose another name with -o, or pass --force to replace it");
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
      throw Error(ExitCode::general,
                  fmt::format("{} exists and is not a regular file; not replacing it", path),
                  "choose another name with -o");
    }
    if (::unlink(path.c_str()) != 0) {
      throw Error(ExitCode::permission, errno_text("cannot replace " + path, errno));
    }
    for (const char* side : {"-wal", "-shm", "-journal"}) ::unlink((path + side).c_str());
    fd.reset(open_exclusive(path));
  }
  if (!fd) {
    int err = errno;
    ExitCode code = (err == EACCES || err == EPERM) ? ExitCode::permission : ExitCode::general;
    std::string remedy = err == ELOOP ? "the path is a symlink; hotline never writes through one"
                         : err == ENOENT ? "create the directory first, or choose another with -o"
                                         : "choose a writable location with -o or HOTLINE_OUTPUT_DIR";
    throw Error(code, errno_text("cannot create " + path, err), remedy);
  }
  // The umask may narrow the mode; nothing may widen it.
  if (::fchmod(fd.get(), 0600) != 0) {
    throw Error(ExitCode::general, errno_text("cannot set mode 0600 on " + path, errno));
  }
  return fd;
}

std::optional<std::string> read_text_file(const std::string& path, std::size_t limit) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  return read_fd(fd.get(), limit);
}

std::optional<std::string> read_fd(int fd, std::size_t limit) {
  std::string out;
  char buf[16384];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  if (out.size() > limit) out.resize(limit);
  return out;
}

}  // namespace hotline

namespace hotline {
std::string sanitize_name(std::string_view name, std::size_t max_len) {
  std::string out;
  for (char c : name) {
    if (out.size() >= max_len) break;
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  bool meaningful = false;
  for (char c : out) meaningful |= c != '_';
  return meaningful ? out : "process";
}
std::string with_resolved_directory(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) return path;
  std::string out = real;
  std::free(real);  // NOLINT(cppcoreguidelines-no-malloc): realpath's buffer
  return (out == "/" ? "" : out) + "/" + name;
}

void write_all(int fd, const std::string& bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(ExitCode::general, errno_text(fmt::format("cannot write {}", path), errno), "check the disk");
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace hotline
