#pragma once
// Whose processes a caller may profile. With CAP_SYS_PTRACE: any. Without it (the least-
// privilege setup, cap_bpf,cap_perfmon+ep on a copy of hotline, or no capabilities at all),
// only processes the caller could ptrace, by the kernel's own rule (__ptrace_may_access,
// cap_ptrace_access_check): real, effective and saved uids all the caller's real uid, the
// same for gids, dumpable (not setuid, setgid or file-capability elevated, not
// prctl(PR_SET_DUMPABLE, 0) as ssh-agent and gpg-agent do), and no capability the caller
// lacks. Checked before anything attaches; the BPF programs check it again on every sample
// and allocation (bpf/access.h), and exec re-checks it.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace hotline {

struct HostFacts;

struct Caller {
  bool unrestricted = false;  // CAP_SYS_PTRACE
  uid_t uid = 0;              // real uid
  gid_t gid = 0;              // real gid
  std::uint64_t permitted_caps = 0;
};

Caller current_caller(const HostFacts& facts);

// Why `caller` may not profile `pid` ("belongs to another user", "is not dumpable", ...),
// or nullopt when it may (or when the process is gone: that is found out elsewhere).
std::optional<std::string> profiling_refusal(const Caller& caller, pid_t pid);

// Why `caller` may not profile the program at `path` once it is executed (setuid or setgid
// to someone else, file capabilities beyond the caller's, on a file system that honours
// them), or nullopt.
std::optional<std::string> launch_refusal(const Caller& caller, const std::string& path);

// The setcap line that grants the capability, for remedies.
const char* setcap_remedy();

}  // namespace hotline
