/* Kernel/user ABI of hotline's BPF programs: the only data that crosses from the kernel to
 * user space. Included by the bpf/ programs and by src/collect. Nothing here carries memory
 * contents: instruction pointers (inside stack maps), ids, counts and comm names only. */
#ifndef HOTLINE_ABI_H
#define HOTLINE_ABI_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* Frames kept per stack (the kernel's own perf_event_max_stack default). */
#define HOTLINE_MAX_STACK_DEPTH 127
#define HOTLINE_COMM_LEN 16

/* Key of the per-checkpoint CPU sample counts: one entry per (thread, user stack,
 * kernel stack). A stack id of -1 means "no stack of that kind" (e.g. no kernel part
 * because the sample hit user mode). */
struct hotline_cpu_key {
	__u32 pid; /* thread group id, as seen from the initial PID namespace */
	__u32 tid;
	__s32 user_stack;
	__s32 kernel_stack;
	char comm[HOTLINE_COMM_LEN]; /* thread name at sample time */
};

/* Indices of the per-CPU counter array `cpu_stats`. */
enum hotline_cpu_stat {
	HOTLINE_STAT_SAMPLES = 0,         /* samples of target threads */
	HOTLINE_STAT_USER_STACK_LOST,     /* user stack not stored: map full or hash collision */
	HOTLINE_STAT_KERNEL_STACK_LOST,   /* same for kernel stacks */
	HOTLINE_STAT_COUNTS_FULL,         /* sample dropped: counts map full */
	HOTLINE_STAT_EVENTS_LOST,         /* process event not delivered: ring buffer full */
	HOTLINE_STAT_TARGETS_FULL,        /* a new child process could not be tracked */
	HOTLINE_STAT_COUNT
};

enum hotline_proc_event_kind {
	HOTLINE_PROC_FORK = 1, /* new process (not thread) forked by a tracked one */
	HOTLINE_PROC_EXEC = 2, /* tracked process executed a new program */
	HOTLINE_PROC_EXIT = 3, /* last thread of a tracked process exited */
};

struct hotline_proc_event {
	__u32 kind;
	__u32 pid;
	__u32 parent_pid;
	char comm[HOTLINE_COMM_LEN];
};

#endif
