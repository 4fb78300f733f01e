#include "preflight/access.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "preflight/preflight.h"
#include "target/proc.h"

namespace hotline {
namespace {

std::vector<std::uint64_t> numbers(const std::optional<std::string>& field, int base) {
  std::vector<std::uint64_t> out;
  if (!field) return out;
  std::istringstream in(*field);
  for (std::string word; in >> word;) {
    try {
      out.push_back(std::stoull(word, nullptr, base));
    } catch (...) {
      return {};
    }
  }
  return out;
}

}  // namespace

const char* setcap_remedy() { return "setcap cap_perfmon,cap_bpf,cap_sys_ptrace+ep $(command -v hotline)"; }

Caller current_caller(const HostFacts& facts) {
  Caller c;
  c.unrestricted = facts.has(Capability::sys_ptrace);
  c.uid = ::getuid();
  c.gid = ::getgid();
  const auto caps = numbers(read_status_field(0, "CapPrm"), 16);
  c.permitted_caps = caps.empty() ? 0 : caps[0];
  return c;
}

std::optional<std::string> profiling_refusal(const Caller& caller, pid_t pid) {
  if (caller.unrestricted) return std::nullopt;
  const auto uids = numbers(read_status_field(pid, "Uid"), 10);
  const auto gids = numbers(read_status_field(pid, "Gid"), 10);
  const auto caps = numbers(read_status_field(pid, "CapPrm"), 16);
  if (uids.size() < 3 || gids.size() < 3 || caps.empty()) return std::nullopt;  // gone
  if (uids[0] != caller.uid) return "belongs to another user";
  if (uids[1] != caller.uid || uids[2] != caller.uid) return "runs setuid (its effective or saved uid is not yours)";
  if (gids[0] != caller.gid || gids[1] != caller.gid || gids[2] != caller.gid) {
    return "runs with another group (setgid, or a group you are not in as your real group)";
  }
  if ((caps[0] & ~caller.permitted_caps) != 0) {
    return fmt::format("holds capabilities you do not have (permitted set {:#x})", caps[0]);
  }
  // A process that is not dumpable has its /proc files (but not its /proc directory) given
  // to root: the owner of /proc/PID/stat is its effective uid only while it is dumpable.
  struct stat st {};
  if (::stat(fmt::format("/proc/{}/stat", pid).c_str(), &st) == 0 && st.st_uid != uids[1]) {
    return "is not dumpable (it called prctl(PR_SET_DUMPABLE, 0), as ssh-agent and gpg-agent do, or runs a "
           "privileged program)";
  }
  return std::nullopt;
}

std::optional<std::string> launch_refusal(const Caller& caller, const std::string& path) {
  if (caller.unrestricted) return std::nullopt;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;  // exec will say
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) == 0 && (vfs.f_flag & ST_NOSUID) != 0) return std::nullopt;
  if ((st.st_mode & S_ISUID) != 0 && st.st_uid != caller.uid) {
    return fmt::format("is setuid (runs as uid {})", st.st_uid);
  }
  if ((st.st_mode & S_ISGID) != 0 && (st.st_mode & S_IXGRP) != 0 && st.st_gid != caller.gid) {
    return fmt::format("is setgid (runs as gid {})", st.st_gid);
  }
  if (::getxattr(path.c_str(), "security.capability", nullptr, 0) > 0) return "has file capabilities";
  return std::nullopt;
}

}  // namespace hotline
