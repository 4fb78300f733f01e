// SPDX-License-Identifier: GPL-2.0
/* Heap, exact mode: uprobes on the entry of every allocator function of the probed files
 * (malloc family, operator new), uretprobes on their return, and free. One entry program
 * serves every kind (the probe's attach cookie says which); one return program every kind
 * but free.
 *
 * Probes are per process by default: uprobe_multi links the kernel filters to one process.
 * With `--heap-probes shared` there is one set per file and entry point, whichever
 * processes map it. Either way the programs keep to the tracked processes through the
 * process tracker's `targets` map (the CPU sampler's, by fd), which follows forks and exits
 * in the kernel. Calls of other processes return at once (counted: they still pay the
 * trap).
 *
 * Kept in the kernel: live blocks (pid, pointer → size, site) and cumulative totals per
 * allocation site. What reaches user space: sizes, counts, instruction pointers.
 *
 * User memory read: two 8-byte words per call of allocator ABI: the return address at the
 * entry's stack pointer (the immediate caller), and posix_memalign's result pointer through
 * its first argument; and, with unwind tables (unwind.h), the return addresses and saved
 * frame pointers of the stack, 8 bytes at a time. Nothing else. */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "hotline_abi.h"
#include "access.h"
#include "helpers.h"
#include "targets.h"
#include "unwind.h"

char LICENSE[] SEC("license") = "GPL";

enum call_kind { KIND_ALLOC = 0, KIND_REALLOC = 1, KIND_POSIX_MEMALIGN = 2 };

/* An allocator call in progress on a thread, from its entry to its return. Nested calls
 * (operator new → malloc, an allocator's internal entry points) only count depth: the
 * outermost call is the one the program made. */
struct pending {
	__u64 size;
	__u64 old_ptr; /* realloc */
	__u64 memptr;  /* posix_memalign's out-parameter */
	struct hotline_heap_key key;
	__u32 depth;
	__u32 kind;
};

struct live_key {
	__u32 pid;
	__u32 pad;
	__u64 ptr;
};

struct live_block {
	__u64 size;
	struct hotline_heap_key key;
};

/* hotline itself: its own allocator calls trap too, but are not another process's cost. */
const volatile __u32 hotline_self = 0;


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32); /* tid */
	__type(value, struct pending);
} pending_calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1048576);
	__type(key, struct live_key);
	__type(value, struct live_block);
} live SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct hotline_heap_key);
	__type(value, struct hotline_heap_totals);
} sites SEC(".maps");

HOTLINE_STACK_MAP(heap_stacks, 32768);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOTLINE_HEAP_STAT_COUNT);
	__type(key, u32);
	__type(value, u64);
} heap_stats SEC(".maps");

static __always_inline void stat_add(u32 index, u64 n)
{
	hotline_counter_add(&heap_stats, index, n);
}

static __always_inline int enter(struct pt_regs *ctx, u32 tgid, u32 tid, u64 size, u64 old_ptr, u64 memptr,
				 u32 kind)
{
	struct pending *p = bpf_map_lookup_elem(&pending_calls, &tid);
	if (p) {
		p->depth++;
		return 0;
	}
	struct pending call = {};
	call.size = size;
	call.old_ptr = old_ptr;
	call.memptr = memptr;
	call.kind = kind;
	call.depth = 1;
	call.key.pid = tgid;
	const s32 id = hotline_user_stack(ctx, tgid, PT_REGS_IP(ctx), PT_REGS_SP(ctx), PT_REGS_FP(ctx), &heap_stacks);
	call.key.stack = id >= 0 ? id : -1;
	if (id < 0)
		stat_add(HOTLINE_HEAP_STAT_STACK_LOST, 1);
	/* The return address into the caller sits at the stack pointer on entry. */
	if (bpf_probe_read_user(&call.key.caller, sizeof(call.key.caller), (void *)PT_REGS_SP(ctx)) != 0)
		call.key.caller = 0;
	bpf_map_update_elem(&pending_calls, &tid, &call, BPF_ANY);
	return 0;
}

static __always_inline struct hotline_heap_totals *site(struct hotline_heap_key *key)
{
	const struct hotline_heap_totals zero = {};
	struct hotline_heap_totals *t = hotline_lookup_or_init(&sites, key, &zero);
	if (!t)
		stat_add(HOTLINE_HEAP_STAT_SITES_FULL, 1);
	return t;
}

static __always_inline void release(u32 tgid, u64 ptr)
{
	if (ptr == 0)
		return;
	struct live_key lk = { .pid = tgid, .ptr = ptr };
	struct live_block *block = bpf_map_lookup_elem(&live, &lk);
	if (!block) {
		stat_add(HOTLINE_HEAP_STAT_UNTRACKED_FREES, 1);
		return;
	}
	struct hotline_heap_totals *t = site(&block->key);
	if (t) {
		__sync_fetch_and_add(&t->free_bytes, block->size);
		__sync_fetch_and_add(&t->free_count, 1);
	}
	bpf_map_delete_elem(&live, &lk);
	stat_add(HOTLINE_HEAP_STAT_FREES, 1);
}

static __always_inline void record(u32 tgid, u64 ptr, u64 size, struct hotline_heap_key *key)
{
	struct live_key lk = { .pid = tgid, .ptr = ptr };
	/* Still live under this address: its free went unseen (e.g. a free path not probed).
	 * Close it first so that its site does not keep it forever. */
	if (bpf_map_lookup_elem(&live, &lk))
		release(tgid, ptr);
	struct hotline_heap_totals *t = site(key);
	if (!t)
		return;
	struct live_block block = { .size = size, .key = *key };
	if (bpf_map_update_elem(&live, &lk, &block, BPF_NOEXIST) != 0) {
		stat_add(HOTLINE_HEAP_STAT_DROPPED, 1);
		return;
	}
	__sync_fetch_and_add(&t->alloc_bytes, size);
	__sync_fetch_and_add(&t->alloc_count, 1);
	stat_add(HOTLINE_HEAP_STAT_ALLOCS, 1);
}

SEC("uprobe")
int BPF_KPROBE(heap_enter)
{
	const u64 kind = bpf_get_attach_cookie(ctx);
	const u64 pid_tgid = bpf_get_current_pid_tgid();
	const u32 tgid = pid_tgid >> 32;
	const u32 tid = (u32)pid_tgid;
	if (!bpf_map_lookup_elem(&targets, &tgid)) {
		if (tgid == hotline_self)
			stat_add(HOTLINE_HEAP_STAT_SELF_CALLS, 1);
		else
			stat_add(kind == HOTLINE_ALLOC_FREE ? HOTLINE_HEAP_STAT_BYSTANDER_FREES : HOTLINE_HEAP_STAT_BYSTANDER_ALLOCS, 1);
		return 0;
	}
	if (!hotline_may_profile_current()) {
		stat_add(HOTLINE_HEAP_STAT_DENIED, 1);
		return 0;
	}
	switch (kind) {
	case HOTLINE_ALLOC_FREE:
		release(tgid, PT_REGS_PARM1(ctx));
		return 0;
	case HOTLINE_ALLOC_CALLOC:
		return enter(ctx, tgid, tid, PT_REGS_PARM1(ctx) * PT_REGS_PARM2(ctx), 0, 0, KIND_ALLOC);
	case HOTLINE_ALLOC_MEMALIGN: /* memalign(alignment, size), aligned_alloc(alignment, size) */
		return enter(ctx, tgid, tid, PT_REGS_PARM2(ctx), 0, 0, KIND_ALLOC);
	case HOTLINE_ALLOC_REALLOC:
		return enter(ctx, tgid, tid, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx), 0, KIND_REALLOC);
	case HOTLINE_ALLOC_REALLOCARRAY:
		return enter(ctx, tgid, tid, PT_REGS_PARM2(ctx) * PT_REGS_PARM3(ctx), PT_REGS_PARM1(ctx), 0, KIND_REALLOC);
	case HOTLINE_ALLOC_POSIX_MEMALIGN:
		return enter(ctx, tgid, tid, PT_REGS_PARM3(ctx), 0, PT_REGS_PARM1(ctx), KIND_POSIX_MEMALIGN);
	default:
		return enter(ctx, tgid, tid, PT_REGS_PARM1(ctx), 0, 0, KIND_ALLOC);
	}
}

SEC("uretprobe")
int BPF_KRETPROBE(heap_exit, u64 result)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u32 tgid = pid_tgid >> 32;
	u32 tid = (u32)pid_tgid;
	struct pending *p = bpf_map_lookup_elem(&pending_calls, &tid);
	if (!p)
		return 0;
	if (p->depth > 1) {
		p->depth--;
		return 0;
	}
	struct pending call = *p;
	bpf_map_delete_elem(&pending_calls, &tid);

	u64 ptr = result;
	if (call.kind == KIND_POSIX_MEMALIGN) {
		ptr = 0;
		if (result == 0 && call.memptr != 0 &&
		    bpf_probe_read_user(&ptr, sizeof(ptr), (void *)call.memptr) != 0)
			ptr = 0;
	}
	if (call.kind == KIND_REALLOC && call.old_ptr != 0) {
		/* realloc frees the old block when it succeeds, or when asked for size 0; on
		 * failure the old block is untouched. */
		if (ptr != 0 || call.size == 0)
			release(tgid, call.old_ptr);
	}
	if (ptr == 0) {
		if (call.size != 0)
			stat_add(HOTLINE_HEAP_STAT_FAILED, 1);
		return 0;
	}
	record(tgid, ptr, call.size, &call.key);
	return 0;
}

/* A thread that ends inside an allocator call (or execs from one) leaves its entry behind:
 * gone with the thread, so that a recycled thread id starts clean. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(heap_thread_exit, struct task_struct *task)
{
	u32 tid = BPF_CORE_READ(task, pid);
	bpf_map_delete_elem(&pending_calls, &tid);
	return 0;
}
