#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "util/fd.h"

namespace hotline {

// Creates `path` for writing with mode 0600, O_EXCL|O_NOFOLLOW: never through a symlink,
// never over an existing file unless `force`, in which case an existing regular file or
// symlink (the link itself, not its target) and its SQLite side files are removed first.
// Throws Error with a remedy.
UniqueFd create_private_file(const std::string& path, bool force);

// `path` with its directory part resolved (symlinks there followed, as the user meant them),
// its last component as it is. Unchanged when the directory cannot be resolved.
std::string with_resolved_directory(const std::string& path);

// Writes all of `bytes` to `fd` (retrying short writes); throws Error naming `path`.
void write_all(int fd, const std::string& bytes, const std::string& path);

// Whole file as a string (for /proc files and small text files); nullopt when it cannot be
// opened. Reads at most `limit` bytes.
std::optional<std::string> read_text_file(const std::string& path, std::size_t limit = 64 << 20);
// The same from an open descriptor (from its current position).
std::optional<std::string> read_fd(int fd, std::size_t limit);

}  // namespace hotline

namespace hotline {
// Keeps [A-Za-z0-9_-], replaces anything else with '_', at most `max_len` characters;
// "process" if nothing is left. For names that become part of file names.
std::string sanitize_name(std::string_view name, std::size_t max_len = 32);
}  // namespace hotline
