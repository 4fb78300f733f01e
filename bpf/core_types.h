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
	int group_exit_code; /* a group exit's status (exit_group, a fatal signal; 0x80: core dumped) */
	unsigned int flags;  /* SIGNAL_GROUP_EXIT (0x4): the group exits with group_exit_code */
};

/* Credentials, for the ptrace rule of bpf/access.h. kernel_cap_t is { u64 val } since 6.3
 * and { u32 cap[2] } before: the same 8 bytes on x86_64, read as such. */
typedef struct {
	__u32 val;
} kuid_t;
typedef struct {
	__u32 val;
} kgid_t;
typedef struct {
	__u64 val;
} kernel_cap_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kgid_t sgid;
	kuid_t euid;
	kgid_t egid;
	kernel_cap_t cap_permitted;
};

struct mm_struct;

struct task_struct {
	pid_t pid;  /* thread id */
	pid_t tgid; /* process id */
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct signal_struct *signal;
	int exit_code; /* the wait status of a thread that exited on its own */
	const struct cred *real_cred; /* what the ptrace rule reads */
	struct mm_struct *mm;
	char comm[16];
	unsigned int __state; /* 0: runnable; since 5.14 */
};

/* The task state before 5.14 (chosen at load time by bpf_core_field_exists). */
struct task_struct___pre514 {
	long state;
};

/* mm_struct.flags holds the dumpable state in its two low bits: an unsigned long before
 * 6.18, a bitmap (mm_flags_t { unsigned long __mm_flags[1]; }) since. Two flavors, chosen
 * at load time by bpf_core_field_exists. */
struct mm_struct___word {
	unsigned long flags;
};
struct mm_flags___bitmap {
	unsigned long __mm_flags[1];
};
struct mm_struct___bitmap {
	struct mm_flags___bitmap flags;
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
