// SPDX-License-Identifier: GPL-2.0
/* CPU sampling: runs on every software cpu-clock tick of every CPU, keeps only ticks of
 * tracked processes, and counts (thread, user stack id, kernel stack id). User stacks come
 * from the unwinder seam (unwind.h) into stack maps: only instruction pointers reach user
 * space, never stack memory.
 *
 * Double buffering: user space flips `slot` at each checkpoint, waits for an RCU grace
 * period, then drains and clears the counts and stack maps of the old slot while this
 * program fills the other one. Nothing is read while being written, nothing is lost. */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hotline_abi.h"
#include "access.h"
#include "helpers.h"
#include "targets.h"
#include "unwind.h"

char LICENSE[] SEC("license") = "GPL";


HOTLINE_STACK_MAP(stacks0, 16384);
HOTLINE_STACK_MAP(stacks1, 16384);

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct hotline_cpu_key);
	__type(value, u64);
};
struct counts_map counts0 SEC(".maps");
struct counts_map counts1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOTLINE_CPU_STAT_COUNT);
	__type(key, u32);
	__type(value, u64);
} cpu_stats SEC(".maps");

/* Which buffer pair the sampler writes to; flipped by user space. */
volatile __u32 slot = 0;

static __always_inline void stat_add(u32 index, u64 n)
{
	hotline_counter_add(&cpu_stats, index, n);
}

/* Counts the sample; a stack that could not be stored is counted as lost only when the
 * sample itself was kept (under a "lost stack" marker), so every lost stack is one of
 * the recorded samples and a dropped sample is counted once, as dropped. */
static __always_inline void count_sample(void *counts, struct hotline_cpu_key *key, s32 user_id, s32 kernel_id)
{
	u64 zero = 0;
	key->user_stack = user_id >= 0 ? user_id : -1;
	key->kernel_stack = kernel_id >= 0 ? kernel_id : -1;
	u64 *count = hotline_lookup_or_init(counts, key, &zero);
	if (!count) {
		stat_add(HOTLINE_CPU_STAT_COUNTS_FULL, 1);
		return;
	}
	__sync_fetch_and_add(count, 1);
	if (user_id == HOTLINE_STACK_LOST)
		stat_add(HOTLINE_CPU_STAT_USER_STACK_LOST, 1);
	if (kernel_id == HOTLINE_STACK_LOST)
		stat_add(HOTLINE_CPU_STAT_KERNEL_STACK_LOST, 1);
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();
	u32 tgid = pid_tgid >> 32;
	if (tgid == 0 || !bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	if (!hotline_may_profile_current()) {
		stat_add(HOTLINE_CPU_STAT_DENIED, 1);
		return 0;
	}

	stat_add(HOTLINE_CPU_STAT_SAMPLES, 1);
	struct hotline_cpu_key key = {};
	key.pid = tgid;
	key.tid = (u32)pid_tgid;
	bpf_get_current_comm(key.comm, sizeof(key.comm));

	/* The user registers: the interrupted ones, or those saved at kernel entry. */
	struct pt_regs user = {};
	if ((ctx->regs.cs & 3) == 3) {
		user.ip = ctx->regs.ip;
		user.sp = ctx->regs.sp;
		user.bp = ctx->regs.bp;
	} else if (hotline_unwind_mode != HOTLINE_UNWIND_MODE_FP) {
		struct pt_regs *saved = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		if (saved)
			bpf_probe_read_kernel(&user, sizeof(user), saved);
	}

	if (slot == 0)
		count_sample(&counts0, &key, hotline_user_stack(ctx, tgid, user.ip, user.sp, user.bp, &stacks0),
			     hotline_kernel_stack(ctx, &stacks0));
	else
		count_sample(&counts1, &key, hotline_user_stack(ctx, tgid, user.ip, user.sp, user.bp, &stacks1),
			     hotline_kernel_stack(ctx, &stacks1));
	return 0;
}
