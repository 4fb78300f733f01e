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

/* A stored stack, user or kernel, innermost first: what every stack map holds (a hash map
 * keyed by a 31-bit id derived from `hash`; bpf/unwind.h stores, src/unwind/stack_reader reads
 * back). `stop` says why a user stack ends where it does. */
struct hotline_stack {
	__u64 hash; /* of the frames and the stop reason: tells stacks sharing an id apart */
	__u32 len;  /* frames in ips[] */
	__u32 stop; /* enum hotline_unwind_stop */
	__u64 ips[HOTLINE_MAX_STACK_DEPTH];
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_stack) == 16 + 8 * HOTLINE_MAX_STACK_DEPTH, "hotline_stack layout");

/* Why a user stack ends. Counted per sample in meta (unwind_stop_*) and shown as the stack's
 * outermost frame ("[unwind: ...]") unless it reached its root. */
enum hotline_unwind_stop {
	HOTLINE_UNWIND_FP = 0,          /* the kernel's frame-pointer walk ended: root or not, unknown */
	HOTLINE_UNWIND_ROOT,            /* the outermost frame (its return address is undefined or 0) */
	HOTLINE_UNWIND_DEPTH,           /* the depth limit cut the outermost callers */
	HOTLINE_UNWIND_NO_TABLE,        /* code without an unwind table, where frame pointers failed too */
	HOTLINE_UNWIND_INVALID,         /* no rule covers the address, or its rule cannot be followed */
	HOTLINE_UNWIND_READ_FAULT,      /* a stack word could not be read */
	HOTLINE_UNWIND_UNKNOWN_MAPPING, /* a return address in no executable mapping known */
	HOTLINE_UNWIND_STOP_COUNT
};

/* ---- Unwind tables (src/unwind/, bpf/unwind.h): rules from .eh_frame per executable file,
 * the executable mappings of every tracked process. Loaded by user space, read by BPF. ---- */

/* The rule for a range of instructions (x86-64): how to find the caller's frame. The return
 * address is always at CFA - 8 (anything else is HOTLINE_RULE_INVALID). */
enum hotline_rule_kind {
	HOTLINE_RULE_INVALID = 0,   /* no rule (a gap between FDEs), or one hotline cannot follow */
	HOTLINE_RULE_CFA_RSP,       /* CFA = rsp + cfa_offset */
	HOTLINE_RULE_CFA_RBP,       /* CFA = rbp + cfa_offset */
	HOTLINE_RULE_CFA_RBP_DEREF, /* CFA = *(rbp + cfa_offset) (stack realignment) */
	HOTLINE_RULE_PLT,           /* CFA = rsp + cfa_offset, + 8 when (rip & 15) >= rbp_offset */
	HOTLINE_RULE_SIGNAL,        /* a signal trampoline: registers from the ucontext at rsp */
	HOTLINE_RULE_STOP,          /* the outermost frame: the return address is undefined */
};
enum hotline_rbp_rule {
	HOTLINE_RBP_SAME = 0, /* the caller's rbp is this frame's */
	HOTLINE_RBP_AT_CFA,   /* saved at CFA + rbp_offset */
};
struct hotline_unwind_rule {
	__u8 kind; /* enum hotline_rule_kind */
	__u8 rbp;  /* enum hotline_rbp_rule */
	__u16 pad;
	__s32 cfa_offset;
	__s32 rbp_offset;
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_unwind_rule) == 12, "hotline_unwind_rule layout");

/* A table's rows are u32: (file address & 0xffff) << 16 | rule index, sorted, grouped by
 * 64 KiB page of file address; a page's rows start with one at its first byte when a rule
 * covers it. */
#define HOTLINE_UNWIND_PAGE_SHIFT 16
struct hotline_unwind_page_key {
	__u32 table; /* slot in unwind_tables */
	__u32 page;  /* file address >> HOTLINE_UNWIND_PAGE_SHIFT */
};
struct hotline_unwind_page {
	__u32 first; /* index of the page's first row in the table */
	__u32 count;
};

/* The executable mappings of a process, sorted by start. */
#define HOTLINE_UNWIND_MAX_MAPPINGS 256
#define HOTLINE_UNWIND_TABLE_NONE 0xffffffffu
struct hotline_unwind_mapping {
	__u64 start;
	__u64 end;
	__u64 bias;  /* file address = ip - bias */
	__u32 table; /* slot in unwind_tables; HOTLINE_UNWIND_TABLE_NONE: frame pointers */
	__u32 pad;
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_unwind_mapping) == 32, "hotline_unwind_mapping layout");
struct hotline_unwind_proc {
	__u32 count;
	__u32 pad;
	struct hotline_unwind_mapping mappings[HOTLINE_UNWIND_MAX_MAPPINGS];
};

/* Sent (rate-limited) when a tracked process's stack met an address in no known mapping, or
 * the process has no mappings loaded yet: user space reads its mappings again. */
struct hotline_unwind_request {
	__u32 pid;
};

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
	HOTLINE_PROC_OOM_VICTIM = 5, /* the kernel's OOM killer chose a tracked process (it dies of
				      * SIGKILL next) */
};

struct hotline_proc_event {
	__u32 kind;
	__u32 pid;
	__u32 parent_pid;
	__u32 status; /* exit: the wait status (exit code << 8, or the signal | 0x80 if core dumped) */
	__u64 time_ns; /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	char comm[HOTLINE_COMM_LEN]; /* fork: the parent's; exit: the process's (its main thread's) */
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_proc_event) == 40, "hotline_proc_event layout");

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

/* ---- Off-CPU: time tracked threads spend switched out while not runnable. ---- */

/* A thread's block in progress, from its switch-out to its switch-in (key: thread id). */
struct hotline_offcpu_block {
	__u64 start_ns; /* bpf_ktime_get_ns (CLOCK_MONOTONIC) at the switch-out */
	__u32 pid;
	__u32 tid;
	__s32 user_stack; /* ids in offcpu_stacks; -1 none, -2 not stored */
	__s32 kernel_stack;
	char comm[HOTLINE_COMM_LEN];
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_offcpu_block) == 40, "hotline_offcpu_block layout");

/* Key of the per-checkpoint off-CPU totals: as a CPU sample's, (thread, user stack, kernel
 * stack); -1 for no stack. */
struct hotline_offcpu_key {
	__u32 pid;
	__u32 tid;
	__s32 user_stack;
	__s32 kernel_stack;
	char comm[HOTLINE_COMM_LEN];
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_offcpu_key) == 32, "hotline_offcpu_key layout");

/* Blocks that ended during the checkpoint: their whole time, from switch-out to switch-in. */
struct hotline_offcpu_value {
	__u64 ns;
	__u64 count;
};
HOTLINE_ABI_ASSERT(sizeof(struct hotline_offcpu_value) == 16, "hotline_offcpu_value layout");

enum hotline_offcpu_stat {
	HOTLINE_OFFCPU_STAT_BLOCKS = 0,     /* blocks of tracked threads that ended, at least the minimum long */
	HOTLINE_OFFCPU_STAT_SHORT,          /* blocks that ended before the minimum (not counted) */
	HOTLINE_OFFCPU_STAT_BLOCKS_FULL,    /* a switch-out not followed: the map of blocks in progress is full */
	HOTLINE_OFFCPU_STAT_COUNTS_FULL,    /* a block's time counted nowhere: totals map full */
	HOTLINE_OFFCPU_STAT_USER_STACK_LOST,   /* a counted block whose user stack was not stored */
	HOTLINE_OFFCPU_STAT_KERNEL_STACK_LOST, /* same for the kernel stack */
	HOTLINE_OFFCPU_STAT_DENIED,         /* switch-outs of a process the caller may not profile */
	HOTLINE_OFFCPU_STAT_COUNT
};

#endif
