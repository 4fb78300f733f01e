/* The unwinder seam: every program gets the current thread's user stack here, and only
 * here, as an id in a stack map (BPF_MAP_TYPE_STACK_TRACE, HOTLINE_MAX_STACK_DEPTH
 * instruction pointers, innermost first, zero-terminated when shorter). User space reads it
 * back through src/unwind/stack_reader.
 *
 * Today the stack is the kernel's frame-pointer walk (bpf_get_stackid). An unwinder from
 * .eh_frame tables replaces the body of hotline_user_stack and keeps its contract: an id in
 * the map the caller passes, or one of the negative results below. Callers never unwind
 * themselves. */
#ifndef HOTLINE_BPF_UNWIND_H
#define HOTLINE_BPF_UNWIND_H

#include <bpf/bpf_helpers.h>

/* No stack of this kind: a kernel thread has no user stack, a tick in user mode no kernel one. */
#define HOTLINE_STACK_NONE (-1)
/* The stack could not be stored (map full, hash collision): a loss to count. */
#define HOTLINE_STACK_LOST (-2)

static __always_inline __s32 hotline_stack_result(long id)
{
	if (id >= 0)
		return (__s32)id;
	return id == -14 /* -EFAULT */ ? HOTLINE_STACK_NONE : HOTLINE_STACK_LOST;
}

/* The user stack of the current thread. `ctx` is the program's context (perf_event or
 * uprobe registers). */
static __always_inline __s32 hotline_user_stack(void *ctx, void *stacks)
{
	return hotline_stack_result(bpf_get_stackid(ctx, stacks, BPF_F_USER_STACK));
}

/* The kernel stack (always the kernel's own unwinder, ORC or frame pointers). */
static __always_inline __s32 hotline_kernel_stack(void *ctx, void *stacks)
{
	return hotline_stack_result(bpf_get_stackid(ctx, stacks, 0));
}

#endif
