/* The unwind tables' maps, as every BPF object declares them: bpf/proc.bpf.c owns them (it
 * copies a parent's mappings to a forked child and forgets a process at exec and exit); the
 * other objects' copies are replaced by the tracker's maps at load time (bpf_map__reuse_fd),
 * like `targets`. User space (src/unwind/table_loader) fills them. Sizes are set by user
 * space; the hash maps allocate per entry (BPF_F_NO_PREALLOC), so locked memory follows what
 * is loaded. */
#ifndef HOTLINE_BPF_UNWIND_MAPS_H
#define HOTLINE_BPF_UNWIND_MAPS_H

#include <bpf/bpf_helpers.h>
#include "hotline_abi.h"

/* tgid -> its executable mappings. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct hotline_unwind_proc);
} unwind_procs SEC(".maps");

/* (table, page) -> the page's rows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, struct hotline_unwind_page_key);
	__type(value, struct hotline_unwind_page);
} unwind_pages SEC(".maps");

/* Every distinct rule of every loaded table (rows name them by index). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct hotline_unwind_rule);
} unwind_rules SEC(".maps");

/* One table's rows: an array sized to the table (BPF_F_INNER_MAP: sizes differ). */
struct hotline_unwind_rows {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

/* slot -> a table's rows. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__array(values, struct hotline_unwind_rows);
} unwind_tables SEC(".maps");

/* Processes whose mappings should be read again (struct hotline_unwind_request). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024);
} unwind_requests SEC(".maps");

/* When each process last asked (ns): at most one request per process per interval. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} unwind_request_times SEC(".maps");

#endif
