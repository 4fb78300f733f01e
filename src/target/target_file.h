#pragma once
// Files read on a target's behalf: its executables and libraries, its JIT symbol map
// (/tmp/perf-PID.map), the separate debug files its binaries name. Their paths come from
// the target, and under its root (its home directory, /tmp, a container's whole file
// system) its owner may have planted anything: a symlink to a file only root may read, a
// FIFO that blocks whoever opens it, a device whose open has side effects.
//
// The rule, for every such file:
//  - resolved under the target's own root (/proc/PID/root), following no symlink in any
//    component (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS); the
//    kernel's own magic links to one exact object (/proc/PID/map_files/..., /proc/PID/exe)
//    are the only links followed;
//  - looked at before it is opened (O_PATH: no open side effect, no blocking): only a
//    regular file, owned by one of the target's uids or by root (or, for a mapped file, the
//    very inode the target mapped), no larger than the caller's bound; a root-owned file
//    must also be readable by the target (a hard link to a root-only file is not its own);
//  - then opened read-only and non-blocking through the descriptor already checked, so
//    what is read is what was checked.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/fd.h"

namespace hotline {

// Where a target's files live and whose they may be.
struct FileOrigin {
  std::shared_ptr<UniqueFd> root;  // O_PATH directory of the target's root ("/" for ours)
  std::vector<uid_t> owners;       // uids whose files are accepted besides root's
  std::vector<gid_t> groups;       // the target's gids (real, effective, saved, fs, supplementary)
  pid_t pid = 0;                   // 0: hotline's own (files the user named)
};

// The root and uids of process `pid` (its real, effective, saved and file-system uids), or
// nullopt when the process is gone or its root cannot be opened.
std::optional<FileOrigin> target_origin(pid_t pid);
// Hotline's own root and uids: for files the user names (a command, a recording).
FileOrigin own_origin();

struct Inode {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const Inode&) const = default;
};

struct OpenedFile {
  UniqueFd fd;          // O_RDONLY | O_NONBLOCK | O_CLOEXEC when accepted
  std::string refusal;  // why not ("is a symlink", "is a FIFO", ...); "" when accepted
  bool absent = false;  // no such file (not worth a warning)
  Inode inode;
  std::uint64_t size = 0;
  explicit operator bool() const { return static_cast<bool>(fd); }
};

struct FileLimits {
  std::uint64_t max_bytes = 0;
  std::optional<Inode> mapped;  // this inode is accepted whoever owns it (the file the target mapped)
  bool any_owner = false;       // a file the user named: whoever owns it (still regular, bounded)
};

struct Mapping;

// A file process `pid` maps: /proc/PID/map_files/START-END, the exact object mapped even if
// since replaced or deleted (it needs CAP_SYS_ADMIN); else its path under the target's own
// root, accepted when it is the inode mapped (or a regular file of the target's owner or root).
OpenedFile open_mapped_file(const FileOrigin& origin, pid_t pid, const Mapping& mapping);

// `path` is absolute as the target sees it.
OpenedFile open_in_root(const FileOrigin& origin, const std::string& path, const FileLimits& limits);
// A /proc magic link naming one object (/proc/PID/map_files/START-END, /proc/PID/exe):
// followed, then the same checks on what it names.
OpenedFile open_proc_link(const FileOrigin& origin, const std::string& link, const FileLimits& limits);
// A file under a directory the host's administrator owns (a system debug directory, given
// by absolute path in hotline's own root): symlinks are followed, the other checks apply.
OpenedFile open_host_file(const FileOrigin& origin, const std::string& path, const FileLimits& limits);

// Bounds (bytes) for the kinds of files read.
constexpr std::uint64_t kMaxElfBytes = 32ull << 30;     // executables, libraries, debug files
constexpr std::uint64_t kMaxPerfMapBytes = 256ull << 20;  // /tmp/perf-PID.map (read up to this)

// "/proc/self/fd/N" for an open descriptor: how the kernel is handed a file hotline has
// already checked (uprobes take a path and would otherwise resolve it again).
std::string fd_path(int fd);

}  // namespace hotline
