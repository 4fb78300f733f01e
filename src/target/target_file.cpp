#include "target/target_file.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "target/proc.h"

namespace hotline {
namespace {

const char* kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

OpenedFile refused(std::string why, bool absent = false) {
  OpenedFile out;
  out.refusal = std::move(why);
  out.absent = absent;
  return out;
}

OpenedFile from_errno(int err) {
  if (err == ENOENT || err == ENOTDIR) return refused("does not exist", true);
  if (err == ELOOP) return refused("is reached through a symlink, which hotline does not follow for a target");
  if (err == EXDEV) return refused("lies outside the target's root");
  return refused(std::strerror(err));
}

// The checks on an O_PATH descriptor, then the read-only descriptor of the same file.
OpenedFile accept(UniqueFd path_fd, const FileOrigin& origin, const FileLimits& limits) {
  struct stat st {};
  if (::fstat(path_fd.get(), &st) != 0) return from_errno(errno);
  if (!S_ISREG(st.st_mode)) return refused(fmt::format("is {}", kind_of(st.st_mode)));
  const Inode inode{st.st_dev, st.st_ino};
  const bool mapped = limits.mapped && *limits.mapped == inode;
  const bool owner_ok = st.st_uid == 0 || std::find(origin.owners.begin(), origin.owners.end(), st.st_uid) !=
                                              origin.owners.end();
  if (!mapped && !owner_ok && !limits.any_owner) {
    return refused(fmt::format("belongs to uid {}, neither the process's owner nor root", st.st_uid));
  }
  // Root's file where a process that is not root could have linked it (fs.protected_hardlinks
  // off): only when that process could read it itself.
  const bool target_is_root =
      std::find(origin.owners.begin(), origin.owners.end(), uid_t{0}) != origin.owners.end();
  if (!mapped && !limits.any_owner && origin.pid != 0 && st.st_uid == 0 && !target_is_root) {
    const bool in_group = std::find(origin.groups.begin(), origin.groups.end(), st.st_gid) != origin.groups.end();
    if ((st.st_mode & S_IROTH) == 0 && !(in_group && (st.st_mode & S_IRGRP) != 0)) {
      return refused("belongs to root and is not readable by the process");
    }
  }
  if (limits.max_bytes > 0 && static_cast<std::uint64_t>(st.st_size) > limits.max_bytes) {
    return refused(fmt::format("is larger than {} MiB", limits.max_bytes >> 20));
  }
  // Reopening through the descriptor itself: the very inode just checked, whatever the
  // path names by now.
  UniqueFd fd(::open(fd_path(path_fd.get()).c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) return from_errno(errno);
  struct stat again {};
  if (::fstat(fd.get(), &again) != 0 || again.st_dev != st.st_dev || again.st_ino != st.st_ino) {
    return refused("changed while being opened");
  }
  OpenedFile out;
  out.fd = std::move(fd);
  out.inode = inode;
  out.size = static_cast<std::uint64_t>(st.st_size);
  return out;
}

// openat2 without it (kernels before 5.6): one component at a time, none of them a symlink.
int open_components(int root, const std::string& relative) {
  UniqueFd dir(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  if (!dir) return -1;
  std::istringstream parts(relative);
  std::vector<std::string> names;
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      errno = EXDEV;
      return -1;
    }
    names.push_back(part);
  }
  if (names.empty()) {
    errno = ENOENT;
    return -1;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    UniqueFd next(::openat(dir.get(), names[i].c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return -1;
    struct stat st {};
    if (::fstat(next.get(), &st) != 0) return -1;
    if (S_ISLNK(st.st_mode)) {
      errno = ELOOP;
      return -1;
    }
    if (i + 1 < names.size() && !S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      return -1;
    }
    dir = std::move(next);
  }
  return dir.release();
}

std::vector<std::uint32_t> ids_of(pid_t pid, std::initializer_list<const char*> fields) {
  std::vector<std::uint32_t> out;
  for (const char* field : fields) {
    if (auto ids = read_status_field(pid, field)) {
      std::istringstream in(*ids);
      for (std::uint32_t id = 0; in >> id;) {
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
      }
    }
  }
  return out;
}

std::vector<uid_t> uids_of(pid_t pid) { return ids_of(pid, {"Uid"}); }

}  // namespace

std::string fd_path(int fd) { return fmt::format("/proc/self/fd/{}", fd); }

// Processes that share a root share one descriptor of it: thousands of short-lived
// children of one parent hold one, not thousands.
static std::shared_ptr<UniqueFd> shared_root(UniqueFd fd) {
  static std::mutex lock;
  static std::map<std::pair<dev_t, ino_t>, std::weak_ptr<UniqueFd>> roots;
  const std::lock_guard hold(lock);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::make_shared<UniqueFd>(std::move(fd));
  auto& slot = roots[{st.st_dev, st.st_ino}];
  if (auto existing = slot.lock()) return existing;
  auto made = std::make_shared<UniqueFd>(std::move(fd));
  slot = made;
  return made;
}

std::optional<FileOrigin> target_origin(pid_t pid) {
  FileOrigin origin;
  origin.pid = pid;
  UniqueFd root(::open(fmt::format("/proc/{}/root", pid).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return std::nullopt;
  origin.root = shared_root(std::move(root));
  origin.owners = uids_of(pid);
  origin.groups = ids_of(pid, {"Gid", "Groups"});
  if (origin.owners.empty()) return std::nullopt;
  return origin;
}

FileOrigin own_origin() {
  FileOrigin origin;
  origin.root = shared_root(UniqueFd(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)));
  origin.owners = uids_of(0);
  if (origin.owners.empty()) origin.owners = {::getuid(), ::geteuid()};
  return origin;
}

OpenedFile open_in_root(const FileOrigin& origin, const std::string& path, const FileLimits& limits) {
  if (!origin.root || !*origin.root) return refused("the process's root is not accessible");
  if (path.empty() || path.front() != '/') return refused("is not an absolute path");
  const std::string relative = path.substr(path.find_first_not_of('/') == std::string::npos
                                               ? path.size()
                                               : path.find_first_not_of('/'));
  if (relative.empty()) return refused("is a directory");
  open_how how{};
  how.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = -1;
  for (int attempt = 0; attempt < 4; ++attempt) {  // EAGAIN: a rename raced the lookup
    fd = static_cast<int>(::syscall(SYS_openat2, origin.root->get(), relative.c_str(), &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN) break;
  }
  if (fd < 0 && (errno == ENOSYS || errno == E2BIG)) fd = open_components(origin.root->get(), relative);
  if (fd < 0) return from_errno(errno);
  return accept(UniqueFd(fd), origin, limits);
}

OpenedFile open_proc_link(const FileOrigin& origin, const std::string& link, const FileLimits& limits) {
  UniqueFd fd(::open(link.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return from_errno(errno);
  return accept(std::move(fd), origin, limits);
}

OpenedFile open_host_file(const FileOrigin& origin, const std::string& path, const FileLimits& limits) {
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return from_errno(errno);
  return accept(std::move(fd), origin, limits);
}

}  // namespace hotline

namespace hotline {

OpenedFile open_mapped_file(const FileOrigin& origin, pid_t pid, const Mapping& mapping) {
  const FileLimits limits{kMaxElfBytes, Inode{makedev(mapping.dev_major, mapping.dev_minor), mapping.inode}};
  const std::string exact = fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, mapping.start, mapping.end);
  OpenedFile file = open_proc_link(origin, exact, limits);
  if (!file) file = open_in_root(origin, mapping.path, limits);
  return file;
}

}  // namespace hotline
