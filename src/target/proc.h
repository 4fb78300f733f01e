#pragma once
// Reading /proc: untrusted text (a process controls its comm, its mappings' names), so
// every parser here is tolerant and bounded.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hotline {

struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t offset = 0;  // file offset of `start`
  bool executable = false;
  std::uint32_t dev_major = 0;
  std::uint32_t dev_minor = 0;
  std::uint64_t inode = 0;
  std::string path;  // file path, "[vdso]", "[heap]", "" for anonymous
  bool deleted = false;  // the file was unlinked after mapping (" (deleted)" suffix)

  bool contains(std::uint64_t address) const { return address >= start && address < end; }
  bool is_file() const { return !path.empty() && path.front() == '/'; }
};

// Parses the text of /proc/PID/maps. Malformed lines are skipped.
std::vector<Mapping> parse_maps(std::string_view text);
std::optional<std::vector<Mapping>> read_maps(pid_t pid);

struct ProcessInfo {
  pid_t pid = 0;
  std::string comm;
};

// Processes whose comm contains `needle` (case-sensitive), excluding hotline itself.
std::vector<ProcessInfo> find_processes_by_name(std::string_view needle);

std::optional<std::string> read_comm(pid_t pid);
std::optional<std::string> read_exe(pid_t pid);
std::optional<pid_t> read_ppid(pid_t pid);
// The first word of /proc/PID/cmdline (at most 256 bytes; no other argument is read).
std::optional<std::string> read_argv0(pid_t pid);
// Value of "Key:\t..." in /proc/PID/status ("self" for pid 0).
std::optional<std::string> read_status_field(pid_t pid, std::string_view key);
// The pid as seen inside the process's own (innermost) PID namespace.
std::optional<pid_t> read_namespace_pid(pid_t pid);
// User + system CPU time the process has used, in seconds (/proc/PID/stat).
std::optional<double> read_cpu_seconds(pid_t pid);
// Exists and is not a zombie.
bool process_alive(pid_t pid);

}  // namespace hotline
