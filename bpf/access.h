/* Who may be profiled, checked in the kernel on every sample and every allocator call.
 *
 * A hotline without CAP_SYS_PTRACE (the least-privilege setup) profiles only processes its
 * caller could ptrace: the kernel's own rule (__ptrace_may_access, cap_ptrace_access_check):
 * real, effective and saved uids and gids all the caller's real ones, no permitted
 * capability the caller lacks, and dumpable (SUID_DUMP_USER). User space checks it before
 * attaching; this checks it again at every event, so a process that execs a setuid program
 * or calls prctl(PR_SET_DUMPABLE, 0) while being profiled stops being sampled at once.
 * User space sets these before loading; with CAP_SYS_PTRACE `hotline_restricted` is 0. */
#ifndef HOTLINE_ACCESS_H
#define HOTLINE_ACCESS_H

#include <bpf/bpf_core_read.h>

const volatile __u32 hotline_restricted = 0;
const volatile __u32 hotline_uid = 0;
const volatile __u32 hotline_gid = 0;
const volatile __u64 hotline_caps = 0; /* the caller's permitted capabilities */

#define HOTLINE_SUID_DUMP_USER 1
#define HOTLINE_MMF_DUMPABLE_MASK 3

static __always_inline __u64 hotline_mm_flags(struct mm_struct *mm)
{
	struct mm_struct___bitmap *bitmap = (void *)mm;
	struct mm_struct___word *word = (void *)mm;
	if (bpf_core_field_exists(bitmap->flags.__mm_flags))
		return BPF_CORE_READ(bitmap, flags.__mm_flags[0]);
	return BPF_CORE_READ(word, flags);
}

static __always_inline int hotline_may_profile(struct task_struct *task)
{
	if (!hotline_restricted)
		return 1;
	const struct cred *cred = BPF_CORE_READ(task, real_cred);
	if (!cred)
		return 0;
	if (BPF_CORE_READ(cred, uid.val) != hotline_uid || BPF_CORE_READ(cred, euid.val) != hotline_uid ||
	    BPF_CORE_READ(cred, suid.val) != hotline_uid)
		return 0;
	if (BPF_CORE_READ(cred, gid.val) != hotline_gid || BPF_CORE_READ(cred, egid.val) != hotline_gid ||
	    BPF_CORE_READ(cred, sgid.val) != hotline_gid)
		return 0;
	__u64 caps = 0;
	if (bpf_core_read(&caps, sizeof(caps), &cred->cap_permitted) != 0 || (caps & ~hotline_caps) != 0)
		return 0;
	/* No mm: a thread past exit_mm (the kernel's rule skips the dumpable check then too). */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	if (!mm)
		return 1;
	return (hotline_mm_flags(mm) & HOTLINE_MMF_DUMPABLE_MASK) == HOTLINE_SUID_DUMP_USER;
}

static __always_inline int hotline_may_profile_current(void)
{
	if (!hotline_restricted)
		return 1;
	return hotline_may_profile((struct task_struct *)bpf_get_current_task());
}

#endif
