#pragma once
// The unwind tables' BPF maps (bpf/unwind_maps.h) as user space holds them: created by the
// process tracker's object, shared by fd with every object that unwinds (bpf_map__reuse_fd,
// before load), filled by the table loader (unwind/table_loader.h).
#include <bpf/libbpf.h>

#include <cstdint>

namespace hotline {

// How user stacks are unwound (--unwind), as the BPF programs' `hotline_unwind_mode`.
enum class UnwindMode : std::uint8_t {
  fp = 0,      // the kernel's frame-pointer walk
  automatic = 1,  // tables where a file has one, frame pointers elsewhere
  tables = 2,  // tables only: code without one ends the stack
};
const char* to_string(UnwindMode);
// "auto", "fp", "tables"; false for anything else.
bool parse_unwind_mode(const char* text, UnwindMode& out);

struct UnwindMapFds {
  int procs = -1, pages = -1, rules = -1, tables = -1, requests = -1, request_times = -1;
};

// Makes `maps` (a skeleton's maps struct, before load) use the shared unwind maps. Returns 0 or
// a negative errno.
template <typename SkeletonMaps>
int reuse_unwind_maps(const SkeletonMaps& maps, const UnwindMapFds& fds) {
  const struct {
    bpf_map* map;
    int fd;
  } pairs[] = {{maps.unwind_procs, fds.procs},     {maps.unwind_pages, fds.pages},
               {maps.unwind_rules, fds.rules},     {maps.unwind_tables, fds.tables},
               {maps.unwind_requests, fds.requests}, {maps.unwind_request_times, fds.request_times}};
  for (const auto& p : pairs) {
    if (p.fd < 0) return -9;  // -EBADF
    if (const int err = bpf_map__reuse_fd(p.map, p.fd); err != 0) return err;
  }
  return 0;
}

}  // namespace hotline
