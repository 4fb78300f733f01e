#pragma once
// The rule of bpf/access.h as user space loads it into every BPF object: without
// CAP_SYS_PTRACE only processes the caller could ptrace are sampled (preflight/access.h).
#include <cstdint>

namespace hotline {

struct BpfAccessRule {
  bool restricted = false;
  std::uint32_t uid = 0, gid = 0;   // the caller's real ids
  std::uint64_t permitted_caps = 0; // the caller's permitted capabilities
};

}  // namespace hotline
