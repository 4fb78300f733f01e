// SPDX-License-Identifier: GPL-2.0
/* The process tracker: which processes hotline profiles, followed in the kernel. User space
 * seeds `targets` with the root targets; a fork of a tracked process adds the child, an exit
 * of its last thread removes it (so a recycled pid is never profiled), and an exec into a
 * program the caller may not profile removes it too (bpf/access.h). Each change is an event
 * in `proc_events`, with its time and, for an exit, the wait status (the process lifecycle of
 * `hotline events`); the OOM killer's choice of a tracked process is one too. Every
 * collector's programs share `targets` (the same map, by fd) and keep to the processes in it.
 * What reaches user space: pids, process names, exit statuses and times. */
#include "core_types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "hotline_abi.h"
#include "access.h"
#include "helpers.h"
#include "targets.h"
#include "unwind_maps.h"

char LICENSE[] SEC("license") = "GPL";


struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} proc_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HOTLINE_PROC_STAT_COUNT);
	__type(key, u32);
	__type(value, u64);
} proc_stats SEC(".maps");

#define HOTLINE_SIGNAL_GROUP_EXIT 0x4 /* include/linux/sched/signal.h */

/* `leader`: the comm is the thread group leader's (the process's name, not the name of the
 * thread that happens to exit last); NULL: the current task's. */
static __always_inline void emit(u32 kind, u32 pid, u32 parent_pid, u32 status,
				 struct task_struct *leader)
{
	struct hotline_proc_event *event =
		bpf_ringbuf_reserve(&proc_events, sizeof(*event), 0);
	if (!event) {
		hotline_counter_add(&proc_stats, HOTLINE_PROC_STAT_EVENTS_LOST, 1);
		return;
	}
	event->kind = kind;
	event->pid = pid;
	event->parent_pid = parent_pid;
	event->status = status;
	event->time_ns = bpf_ktime_get_ns();
	if (leader)
		BPF_CORE_READ_INTO(&event->comm, leader, comm);
	else
		bpf_get_current_comm(event->comm, sizeof(event->comm));
	bpf_ringbuf_submit(event, 0);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	u32 child_tgid = BPF_CORE_READ(child, tgid);
	if (child_tgid == parent_tgid) /* a new thread: already covered by its tgid */
		return 0;
	if (!bpf_map_lookup_elem(&targets, &parent_tgid))
		return 0;
	u8 one = 1;
	if (bpf_map_update_elem(&targets, &child_tgid, &one, BPF_ANY) != 0) {
		hotline_counter_add(&proc_stats, HOTLINE_PROC_STAT_TARGETS_FULL, 1);
		return 0;
	}
	/* The child runs in a copy of its parent's address space: the same mappings. */
	struct hotline_unwind_proc *mappings = bpf_map_lookup_elem(&unwind_procs, &parent_tgid);
	if (mappings)
		bpf_map_update_elem(&unwind_procs, &child_tgid, mappings, BPF_ANY);
	emit(HOTLINE_PROC_FORK, child_tgid, parent_tgid, 0, NULL);
	return 0;
}

/* After exec the new credentials and dumpable state are in place: a setuid, setgid or
 * file-capability program (or one the kernel made non-dumpable) is dropped at once when
 * the caller may not profile it. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *task)
{
	u32 tgid = BPF_CORE_READ(task, tgid);
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	bpf_map_delete_elem(&unwind_procs, &tgid); /* a new program: its mappings are loaded again */
	if (!hotline_may_profile(task)) {
		bpf_map_delete_elem(&targets, &tgid);
		emit(HOTLINE_PROC_DENIED, tgid, 0, 0, NULL);
		return 0;
	}
	emit(HOTLINE_PROC_EXEC, tgid, 0, 0, NULL);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *task)
{
	u32 tgid = BPF_CORE_READ(task, tgid);
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	/* do_exit() decrements signal->live before this tracepoint: 0 means the whole thread
	 * group is gone. Forget the pid now so that a recycled pid is never profiled. */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	bpf_map_delete_elem(&targets, &tgid);
	bpf_map_delete_elem(&unwind_procs, &tgid);
	/* The status its parent's wait() sees: a group exit's (exit_group(), a fatal signal,
	 * a core dump) or else the main thread's own. */
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	u32 status;
	if (BPF_CORE_READ(task, signal, flags) & HOTLINE_SIGNAL_GROUP_EXIT)
		status = BPF_CORE_READ(task, signal, group_exit_code);
	else
		status = BPF_CORE_READ(leader, exit_code);
	emit(HOTLINE_PROC_EXIT, tgid, 0, status, leader);
	return 0;
}

/* The kernel's OOM killer chose this task (mm/oom_kill.c): its process dies of SIGKILL
 * next. Not attached where the kernel has no such tracepoint. */
SEC("tp_btf/mark_victim")
int BPF_PROG(on_oom_victim, struct task_struct *task)
{
	u32 tgid = BPF_CORE_READ(task, tgid);
	if (!bpf_map_lookup_elem(&targets, &tgid))
		return 0;
	emit(HOTLINE_PROC_OOM_VICTIM, tgid, 0, 0, BPF_CORE_READ(task, group_leader));
	return 0;
}
