// SPDX-License-Identifier: GPL-2.0
/* Off-CPU time: when a tracked thread is switched out while not runnable (it sleeps, waits
 * for a lock, a pipe, a socket, the disk), its user stack (through the unwinder seam) and
 * kernel stack are stored and the time noted in `offcpu_blocks`; when it is switched back
 * in, the time it was away is added to (thread, stacks) totals in the checkpoint's slot.
 * User space drains the totals once per checkpoint and adds, itself, the time of blocks
 * still in progress (it reads `offcpu_blocks`, never writes it). Preemption (still
 * runnable) is not off-CPU time. What reaches user space: ids, instruction pointers,
 * thread names and durations. */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hotline_abi.h"
#include "access.h"
#include "helpers.h"
#include "targets.h"
#include "unwind_maps.h"
#include "unwind.h"

char LICENSE[] SEC("license") = "GPL";

/* Never cleared while recording: a block's stack ids stay valid however long it lasts
 * (the same stack keeps its id; a full map loses new stacks, counted). */
HOTLINE_STACK_MAP(offcpu_stacks, 8192);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32); /* thread id */
	__type(value, struct hotline_offcpu_block);
} offcpu_blocks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hotline_offcpu_key);
	__type(value, struct hotline_offcpu_value);
} offcpu0 SEC(".maps"), offcpu1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOTLINE_OFFCPU_STAT_COUNT);
	__type(key, u32);
	__type(value, u64);
} offcpu_stats SEC(".maps");

/* Blocks shorter than this are not counted (--offcpu-min). */
const volatile __u64 hotline_offcpu_min_ns = 1000;

/* Which totals map the program adds to; flipped by user space. */
volatile __u32 slot = 0;

static __always_inline void stat_add(u32 index, u64 n)
{
	hotline_counter_add(&offcpu_stats, index, n);
}

static __always_inline unsigned long task_state(struct task_struct *task)
{
	if (bpf_core_field_exists(task->__state))
		return BPF_CORE_READ(task, __state);
	struct task_struct___pre514 *old = (void *)task;
	return BPF_CORE_READ(old, state);
}

static __always_inline void add_block(void *totals, const struct hotline_offcpu_key *key, u64 ns)
{
	struct hotline_offcpu_value zero = {};
	struct hotline_offcpu_value *v = hotline_lookup_or_init(totals, key, &zero);
	if (!v) {
		stat_add(HOTLINE_OFFCPU_STAT_COUNTS_FULL, 1);
		return;
	}
	__sync_fetch_and_add(&v->ns, ns);
	__sync_fetch_and_add(&v->count, 1);
}

/* The thread switched out: a block begins when it is not runnable. */
static __always_inline void switched_out(void *ctx, struct task_struct *prev, bool preempt)
{
	u32 tgid = BPF_CORE_READ(prev, tgid);
	if (tgid == 0 || !bpf_map_lookup_elem(&targets, &tgid))
		return;
	if (preempt)
		return;
	unsigned long state = task_state(prev);
	/* Runnable (0) is preemption or a yield; TASK_DEAD (0x80) the thread's last switch. */
	if (state == 0 || (state & 0x80))
		return;
	if (!hotline_may_profile_current()) {
		stat_add(HOTLINE_OFFCPU_STAT_DENIED, 1);
		return;
	}
	struct hotline_offcpu_block block = {};
	block.pid = tgid;
	block.tid = BPF_CORE_READ(prev, pid);
	bpf_get_current_comm(block.comm, sizeof(block.comm));
	/* The user registers saved at kernel entry (a thread blocks inside the kernel). */
	struct pt_regs user = {};
	struct pt_regs *saved = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (saved)
		bpf_probe_read_kernel(&user, sizeof(user), saved);
	block.user_stack = hotline_user_stack(ctx, tgid, user.ip, user.sp, user.bp, &offcpu_stacks);
	block.kernel_stack = hotline_kernel_stack(ctx, &offcpu_stacks);
	block.start_ns = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&offcpu_blocks, &block.tid, &block, BPF_ANY) != 0)
		stat_add(HOTLINE_OFFCPU_STAT_BLOCKS_FULL, 1);
}

/* The thread is about to run again: its block, if one was noted, ends. */
static __always_inline void switched_in(struct task_struct *next)
{
	u32 tid = BPF_CORE_READ(next, pid);
	struct hotline_offcpu_block *block = bpf_map_lookup_elem(&offcpu_blocks, &tid);
	if (!block)
		return;
	const u64 now = bpf_ktime_get_ns();
	const u64 ns = now > block->start_ns ? now - block->start_ns : 0;
	if (ns < hotline_offcpu_min_ns) {
		stat_add(HOTLINE_OFFCPU_STAT_SHORT, 1);
	} else {
		struct hotline_offcpu_key key = {};
		key.pid = block->pid;
		key.tid = block->tid;
		key.user_stack = block->user_stack >= 0 ? block->user_stack : -1;
		key.kernel_stack = block->kernel_stack >= 0 ? block->kernel_stack : -1;
		__builtin_memcpy(key.comm, block->comm, sizeof(key.comm));
		if (block->user_stack == HOTLINE_STACK_LOST)
			stat_add(HOTLINE_OFFCPU_STAT_USER_STACK_LOST, 1);
		if (block->kernel_stack == HOTLINE_STACK_LOST)
			stat_add(HOTLINE_OFFCPU_STAT_KERNEL_STACK_LOST, 1);
		stat_add(HOTLINE_OFFCPU_STAT_BLOCKS, 1);
		if (slot == 0)
			add_block(&offcpu0, &key, ns);
		else
			add_block(&offcpu1, &key, ns);
	}
	bpf_map_delete_elem(&offcpu_blocks, &tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	switched_out(ctx, prev, preempt);
	switched_in(next);
	return 0;
}
