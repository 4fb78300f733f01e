/* Small pieces every hotline BPF program uses: counters and lookup-or-insert. */
#ifndef HOTLINE_BPF_HELPERS_H
#define HOTLINE_BPF_HELPERS_H

#include <bpf/bpf_helpers.h>

/* Adds `n` to counter `index` of a per-CPU array of u64 (each CPU its own: no atomics). */
static __always_inline void hotline_counter_add(void *counters, __u32 index, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(counters, &index);
	if (value)
		*value += n;
}

/* The value of `key` in the hash map `map`, inserted as `*init` when absent. NULL when the
 * map is full. Another CPU may insert the same key at the same time: whichever wins, both
 * get its entry (the loser's BPF_NOEXIST update fails, the second lookup finds it). */
static __always_inline void *hotline_lookup_or_init(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);
	if (value)
		return value;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

#endif
