/* The CO-RE type header hotline's BPF programs compile against.
 *
 * Trimmed by hand: only the kernel structs and fields the programs read, marked
 * preserve_access_index so libbpf relocates every field offset against the running
 * kernel's BTF (/sys/kernel/btf/vmlinux) at load time. Nothing here depends on the build
 * machine's kernel; uapi constants (map types, flags) come from linux-libc-dev, which is a
 * stable ABI. */
#ifndef HOTLINE_CORE_TYPES_H
#define HOTLINE_CORE_TYPES_H
/* Stands in for vmlinux.h: bpf_tracing.h then uses the kernel's pt_regs field names. */
#define __VMLINUX_H__

#include <linux/types.h>
#include <linux/bpf.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef int pid_t;
typedef _Bool bool;
#define true 1
#define false 0

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live; /* threads still alive in the thread group */
};

struct task_struct {
	pid_t pid;  /* thread id */
	pid_t tgid; /* process id */
	struct task_struct *real_parent;
	struct signal_struct *signal;
	char comm[16];
};

struct linux_binprm;

#pragma clang attribute pop

/* x86_64 user registers as seen by perf_event programs (bpf_user_pt_regs_t). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8, ax, cx, dx, si, di,
		orig_ax, ip, cs, flags, sp, ss;
};

struct bpf_perf_event_data {
	struct pt_regs regs;
	__u64 sample_period;
	__u64 addr;
};

#endif
