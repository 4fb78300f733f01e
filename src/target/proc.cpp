#include "target/proc.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <memory>
#include <sstream>
#include <string>

#include "util/files.h"
#include "util/lines.h"

namespace hotline {
namespace {

std::string proc_path(pid_t pid, const char* leaf) {
  return "/proc/" + std::to_string(pid) + "/" + leaf;
}

bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && p == s.data() + s.size();
}

// Next space-separated field of `line` starting at `pos`.
std::string_view next_field(std::string_view line, std::size_t& pos) {
  while (pos < line.size() && line[pos] == ' ') ++pos;
  std::size_t start = pos;
  while (pos < line.size() && line[pos] != ' ') ++pos;
  return line.substr(start, pos - start);
}

std::string_view trim_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<Mapping> parse_maps(std::string_view text) {
  std::vector<Mapping> out;
  Lines lines(text);
  while (auto next = lines.next()) {
    std::string_view line = *next;

    std::size_t pos = 0;
    std::string_view range = next_field(line, pos);
    std::string_view perms = next_field(line, pos);
    std::string_view offset = next_field(line, pos);
    std::string_view dev = next_field(line, pos);
    std::string_view inode = next_field(line, pos);
    std::size_t dash = range.find('-');
    std::size_t colon = dev.find(':');
    if (dash == std::string_view::npos || perms.size() != 4 || colon == std::string_view::npos) {
      continue;
    }
    Mapping m;
    std::uint64_t major = 0, minor = 0;
    if (!parse_hex(range.substr(0, dash), m.start) || !parse_hex(range.substr(dash + 1), m.end) ||
        !parse_hex(offset, m.offset) || !parse_hex(dev.substr(0, colon), major) ||
        !parse_hex(dev.substr(colon + 1), minor) || m.end <= m.start) {
      continue;
    }
    auto [p, ec] = std::from_chars(inode.data(), inode.data() + inode.size(), m.inode);
    if (ec != std::errc() || p != inode.data() + inode.size()) continue;
    m.dev_major = static_cast<std::uint32_t>(major);
    m.dev_minor = static_cast<std::uint32_t>(minor);
    m.executable = perms[2] == 'x';
    while (pos < line.size() && line[pos] == ' ') ++pos;
    std::string_view path = line.substr(pos);
    constexpr std::string_view kDeleted = " (deleted)";
    if (path.size() > kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) {
      m.deleted = true;
      path.remove_suffix(kDeleted.size());
    }
    m.path = std::string(path);
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::vector<Mapping>> read_maps(pid_t pid) {
  auto text = read_text_file(proc_path(pid, "maps"));
  if (!text) return std::nullopt;
  return parse_maps(*text);
}

std::optional<std::string> read_comm(pid_t pid) {
  auto text = read_text_file(proc_path(pid, "comm"), 64);
  if (!text) return std::nullopt;
  return std::string(trim_newline(*text));
}

std::optional<std::string> read_exe(pid_t pid) {
  std::string link = proc_path(pid, "exe");
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string exe(buf, static_cast<std::size_t>(n));
  constexpr std::string_view kDeleted = " (deleted)";
  if (exe.size() > kDeleted.size() && exe.ends_with(kDeleted)) exe.resize(exe.size() - kDeleted.size());
  return exe;
}

std::optional<std::string> read_argv0(pid_t pid) {
  auto text = read_text_file(proc_path(pid, "cmdline"), 4096);
  if (!text || text->empty()) return std::nullopt;
  std::string argv0 = text->substr(0, text->find('\0'));
  if (argv0.size() > 256) argv0.resize(256);
  return argv0;
}

std::optional<std::string> read_status_field(pid_t pid, std::string_view key) {
  auto text = read_text_file(pid == 0 ? "/proc/self/status" : proc_path(pid, "status"), 1 << 16);
  if (!text) return std::nullopt;
  Lines lines(*text);
  while (auto next = lines.next()) {
    std::string_view line = *next;
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      std::string_view value = line.substr(key.size() + 1);
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
      return std::string(value);
    }
  }
  return std::nullopt;
}

namespace {
std::optional<pid_t> parse_pid(std::string_view s) {
  pid_t out = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc()) return std::nullopt;
  return out;
}
}  // namespace

std::optional<pid_t> read_ppid(pid_t pid) {
  auto v = read_status_field(pid, "PPid");
  return v ? parse_pid(*v) : std::nullopt;
}

std::optional<double> read_cpu_seconds(pid_t pid) {
  auto text = read_text_file("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text) return std::nullopt;
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses; fields resume after
  // the last ')'. utime and stime are fields 14 and 15.
  const std::size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(text->substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    try {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    } catch (...) {
      return std::nullopt;
    }
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return static_cast<double>(utime + stime) / static_cast<double>(ticks > 0 ? ticks : 100);
}

std::optional<pid_t> read_namespace_pid(pid_t pid) {
  auto v = read_status_field(pid, "NSpid");
  if (!v) return std::nullopt;
  // Tab-separated, outermost first: the last one is the innermost namespace's pid.
  std::string_view s = *v;
  std::size_t tab = s.find_last_of("\t ");
  if (tab != std::string_view::npos) s = s.substr(tab + 1);
  return parse_pid(s);
}

bool process_alive(pid_t pid) {
  if (pid <= 0) return false;
  auto stat = read_text_file(proc_path(pid, "stat"), 4096);
  if (!stat) return false;
  // State follows the last ')' (comm may contain parentheses and spaces).
  std::size_t paren = stat->rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat->size()) return false;
  char state = (*stat)[paren + 2];
  return state != 'Z' && state != 'X';
}

std::vector<ProcessInfo> find_processes_by_name(std::string_view needle) {
  std::vector<ProcessInfo> out;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir("/proc"), ::closedir);
  if (!dir) return out;
  pid_t self = ::getpid();
  while (dirent* entry = ::readdir(dir.get())) {
    pid_t pid = 0;
    std::string_view name = entry->d_name;
    auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec != std::errc() || p != name.data() + name.size() || pid == self) continue;
    auto comm = read_comm(pid);
    if (!comm || comm->find(needle) == std::string::npos) continue;
    if (!process_alive(pid)) continue;
    out.push_back({pid, *comm});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.pid < b.pid; });
  return out;
}

}  // namespace hotline
