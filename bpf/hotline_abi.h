/* Kernel/user ABI of hotline's BPF programs: the only data that crosses from the kernel to
 * user space. Included by the bpf/ programs and by src/collect. Nothing here carries memory
 * contents: instruction pointers (inside stack maps), ids, counts and comm names only. */
#ifndef HOTLINE_ABI_H
#define HOTLINE_ABI_H

#ifndef __BPF__
#include <linux/types.h>
#endif

/* Layouts both sides rely on; a change here is an ABI change for both. */
#ifdef __cplusplus
#define HOTLINE_ABI_ASSERT(cond, what) static_assert(cond, what)
#else
#define HOTLINE_ABI_ASSERT(cond, what) _Static_assert(cond, what)
#endif

/* Frames kept per stack, in every collector and both CPU backends (the kernel's own
 * perf_event_max_stack default). */
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
HOTLINE_ABI_ASSERT(sizeof(struct hotline_cpu_key) == 32, "hotline_cpu_key layout");

/* Indices of the per-CPU counter array `cpu_stats`. */
enum hotline_cpu_stat {
	HOTLINE_CPU_STAT_SAMPLES = 0,         /* samples of target threads */
	HOTLINE_CPU_STAT_USER_STACK_LOST,     /* user stack not stored: map full or hash collision */
	HOTLINE_CPU_STAT_KERNEL_STACK_LOST,   /* same for kernel stacks */
	HOTLINE_CPU_STAT_COUNTS_FULL,         /* sample dropped: counts map full */
	HOTLINE_CPU_STAT_DENIED,              /* sample of a process the caller may not profile (bpf/access.h) */
	HOTLINE_CPU_STAT_COUNT
};

/* Indices of the process tracker's per-CPU counters `proc_stats`. */
enum hotline_proc_stat {
	HOTLINE_PROC_STAT_EVENTS_LOST = 0, /* process event not delivered: ring buffer full */
	HOTLINE_PROC_STAT_TARGETS_FULL,    /* a new child process could not be tracked */
	HOTLINE_PROC_STAT_COUNT
};

enum hotline_proc_event_kind {
	HOTLINE_PROC_FORK = 1, /* new process (not thread) forked by a tracked one */
	HOTLINE_PROC_EXEC = 2, /* tracked process executed a new program */
	HOTLINE_PROC_EXIT = 3, /* last thread of a tracked process exited */
	HOTLINE_PROC_DENIED = 4, /* a tracked process executed a program the caller may not profile:
				  * no longer tracked (bpf/access.h) */
};

struct hotline_proc_event {
	__u32 kind;
	__u32 pid;
	__u32 parent_pid;
	char comm[HOTLINE_COMM_LEN];
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_proc_event) == 28, "hotline_proc_event layout");

/* ---- Heap (exact mode): uprobes on the allocator entry points of tracked processes. ---- */

/* Where an allocation was made: the user stack at the allocator's entry (frame 0 is inside
 * the allocator) and the return address into the allocator's caller, read at the entry's
 * stack pointer (the frame-pointer walk skips it). */
struct hotline_heap_key {
	__u32 pid;
	__s32 stack; /* id in heap_stacks, -1 when it could not be stored */
	__u64 caller;
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_heap_key) == 16, "hotline_heap_key layout");

/* Cumulative per allocation site; user space takes differences per checkpoint. */
struct hotline_heap_totals {
	__u64 alloc_bytes;
	__u64 alloc_count;
	__u64 free_bytes;  /* of blocks allocated at this site */
	__u64 free_count;
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_heap_totals) == 32, "hotline_heap_totals layout");

/* What an allocator entry point is, in the attach cookie of its probe: one entry program
 * serves them all (and the return program every kind but free). */
enum hotline_alloc_fn {
	HOTLINE_ALLOC_MALLOC = 0,       /* (size): malloc, valloc, pvalloc, operator new */
	HOTLINE_ALLOC_CALLOC,           /* (count, size) */
	HOTLINE_ALLOC_MEMALIGN,         /* (alignment, size): memalign, aligned_alloc */
	HOTLINE_ALLOC_REALLOC,          /* (ptr, size) */
	HOTLINE_ALLOC_REALLOCARRAY,     /* (ptr, count, size) */
	HOTLINE_ALLOC_POSIX_MEMALIGN,   /* (&ptr, alignment, size) */
	HOTLINE_ALLOC_FREE,             /* (ptr) */
};

enum hotline_heap_stat {
	HOTLINE_HEAP_STAT_ALLOCS = 0,       /* allocations tracked */
	HOTLINE_HEAP_STAT_FREES,            /* frees of tracked blocks */
	HOTLINE_HEAP_STAT_UNTRACKED_FREES,  /* frees of blocks allocated before attaching (or dropped) */
	HOTLINE_HEAP_STAT_DROPPED,          /* allocations not tracked: live map full */
	HOTLINE_HEAP_STAT_STACK_LOST,       /* stack not stored (the caller is still known) */
	HOTLINE_HEAP_STAT_SITES_FULL,       /* totals map full: allocation counted nowhere */
	HOTLINE_HEAP_STAT_FAILED,           /* the allocator returned NULL */
	HOTLINE_HEAP_STAT_BYSTANDER_ALLOCS, /* allocation calls of untracked processes through shared probes */
	HOTLINE_HEAP_STAT_BYSTANDER_FREES,  /* frees of untracked processes through shared probes */
	HOTLINE_HEAP_STAT_DENIED,           /* calls of a process the caller may not profile (bpf/access.h) */
	HOTLINE_HEAP_STAT_SELF_CALLS,       /* hotline's own allocator calls through shared probes */
	HOTLINE_HEAP_STAT_COUNT
};

#endif
