/* The process tracker's map of tracked processes (tgid -> 1), as every BPF object declares
 * it: bpf/proc.bpf.c owns it; the other objects' copies are replaced by the tracker's map at
 * load time (bpf_map__reuse_fd), which needs this very layout. Entries are sized by user
 * space (--map-scale). */
#ifndef HOTLINE_BPF_TARGETS_H
#define HOTLINE_BPF_TARGETS_H

#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} targets SEC(".maps");

#endif
