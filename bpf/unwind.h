/* The unwinder seam: every program gets the current thread's user stack here, and only
 * here, as an id in a stack map (a hash map of struct hotline_stack keyed by a 31-bit id,
 * innermost frame first). User space reads it back through src/unwind/stack_reader.
 *
 * Three ways to unwind, chosen at load time (`hotline_unwind_mode`, --unwind):
 *  - fp: the kernel's frame-pointer walk (bpf_get_stack);
 *  - tables: rules from each file's .eh_frame (src/unwind/cfi_table), loaded by user space
 *    into bpf/unwind_maps.h: find the mapping of the address, its rule, compute the CFA,
 *    read the return address (and the saved rbp when the rule says so) with 8-byte reads at
 *    computed addresses, continue. Code without a table ends the stack ("no table");
 *  - auto: tables where a file has one, frame pointers elsewhere (JIT, anonymous code, files
 *    without .eh_frame), and the kernel's walk for a process whose mappings are not loaded yet.
 *
 * The boundary: stack words are read only here, 8 bytes at a time, at addresses computed
 * from the registers and the rules, and only the resulting instruction pointers are stored.
 * Every step is bounded (HOTLINE_MAX_STACK_DEPTH frames, fixed-length searches): a crafted
 * table can cut its own process's stacks short, never loop. */
#ifndef HOTLINE_BPF_UNWIND_H
#define HOTLINE_BPF_UNWIND_H

#include <bpf/bpf_helpers.h>
#include "hotline_abi.h"
#include "unwind_maps.h"

/* No stack of this kind: a kernel thread has no user stack, a tick in user mode no kernel one. */
#define HOTLINE_STACK_NONE (-1)
/* The stack could not be stored (map full): a loss to count. */
#define HOTLINE_STACK_LOST (-2)

#define HOTLINE_UNWIND_MODE_FP 0
#define HOTLINE_UNWIND_MODE_AUTO 1
#define HOTLINE_UNWIND_MODE_TABLES 2
const volatile __u32 hotline_unwind_mode = HOTLINE_UNWIND_MODE_FP;

/* At most one request to read a process's mappings again per this interval. */
#define HOTLINE_UNWIND_REQUEST_NS (100ull * 1000 * 1000)

/* Where a stack is assembled before it is stored (per CPU: a program never nests with itself
 * on one CPU; each object has its own). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hotline_stack);
} unwind_scratch SEC(".maps");

static __always_inline __u64 hotline_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 29);
}

struct hotline_hash_state {
	struct hotline_stack *s;
	__u64 h;
};

static long hotline_hash_step(__u32 i, void *arg)
{
	struct hotline_hash_state *hs = arg;
	__u32 at = i;
	asm volatile("" : "+r"(at));
	if (at >= HOTLINE_MAX_STACK_DEPTH)
		return 1;
	hs->h = hotline_mix(hs->h, hs->s->ips[at]);
	return 0;
}

/* Stores the stack in `stacks` under an id derived from its hash; the same stack always gets
 * the same id within one map's lifetime (a different stack with the same id moves on to the
 * next id, up to four times). Loops run in bpf_loop callbacks: verified once, whatever the
 * number of call sites. */
static __always_inline __s32 hotline_store_stack(void *stacks, struct hotline_stack *s)
{
	struct hotline_hash_state hs = { .s = s, .h = hotline_mix(0x6a09e667f3bcc908ull, s->stop) };
	__u32 len = s->len;
	if (len > HOTLINE_MAX_STACK_DEPTH)
		len = HOTLINE_MAX_STACK_DEPTH;
	bpf_loop(len, hotline_hash_step, &hs, 0);
	const __u64 h = hs.h;
	s->hash = h;
	__u32 id = (__u32)(h ^ (h >> 32)) & 0x7fffffff;
	for (int attempt = 0; attempt < 4; attempt++) {
		long err = bpf_map_update_elem(stacks, &id, s, BPF_NOEXIST);
		if (err == 0)
			return (__s32)id;
		if (err != -17 /* -EEXIST */)
			return HOTLINE_STACK_LOST;
		struct hotline_stack *old = bpf_map_lookup_elem(stacks, &id);
		if (old && old->hash == h)
			return (__s32)id;
		id = (id + 1) & 0x7fffffff;
	}
	return HOTLINE_STACK_LOST;
}

/* The kernel's own walk (frame pointers for user code, ORC or frame pointers in the kernel). */
static __always_inline __s32 hotline_kernel_walk(void *ctx, void *stacks, __u64 flags, __u32 stop)
{
	__u32 zero = 0;
	struct hotline_stack *s = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!s)
		return HOTLINE_STACK_LOST;
	long n = bpf_get_stack(ctx, s->ips, sizeof(s->ips), flags);
	if (n <= 0)
		return HOTLINE_STACK_NONE;
	s->len = (__u32)n / 8;
	/* A user stack of the kernel's walk stays "frame pointers" even when full: user space
	 * tells it by its stop reason (its first frames are not the unwinder's) and sees the cut
	 * from its length. */
	s->stop = stop;
	return hotline_store_stack(stacks, s);
}

static __always_inline void hotline_request_mappings(__u32 pid)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&unwind_request_times, &pid);
	if (last && now - *last < HOTLINE_UNWIND_REQUEST_NS)
		return;
	bpf_map_update_elem(&unwind_request_times, &pid, &now, BPF_ANY);
	struct hotline_unwind_request *r = bpf_ringbuf_reserve(&unwind_requests, sizeof(*r), 0);
	if (!r)
		return;
	r->pid = pid;
	bpf_ringbuf_submit(r, 0);
}

/* One 8-byte word of the target's stack. */
static __always_inline int hotline_read_word(__u64 *out, __u64 address)
{
	return bpf_probe_read_user(out, 8, (const void *)address);
}

struct hotline_unwind_state {
	__u64 pc, sp, bp;
	__u32 pid;
	__u32 exact;   /* pc is an interrupted instruction (the leaf, a signal's victim), not a return address */
	__u32 from_fp; /* pc came from a frame-pointer step (it may be garbage) */
	__u32 stop;
	__u32 done;
	__u32 len;
};

struct hotline_mapping_search {
	const struct hotline_unwind_proc *proc;
	__u64 pc;
	__u32 lo, hi;
};

static long hotline_mapping_step(__u32 i, void *arg)
{
	struct hotline_mapping_search *ms = arg;
	if (ms->lo >= ms->hi)
		return 1;
	__u32 mid = (ms->lo + ms->hi) >> 1;
	asm volatile("" : "+r"(mid));
	if (mid >= HOTLINE_UNWIND_MAX_MAPPINGS)
		return 1;
	if (ms->proc->mappings[mid].start <= ms->pc)
		ms->lo = mid + 1;
	else
		ms->hi = mid;
	return 0;
}

static __always_inline const struct hotline_unwind_mapping *
hotline_find_mapping(const struct hotline_unwind_proc *proc, __u64 pc)
{
	struct hotline_mapping_search ms = { .proc = proc, .pc = pc, .lo = 0, .hi = proc->count };
	if (ms.hi > HOTLINE_UNWIND_MAX_MAPPINGS)
		ms.hi = HOTLINE_UNWIND_MAX_MAPPINGS;
	bpf_loop(9, hotline_mapping_step, &ms, 0); /* 2^9 > HOTLINE_UNWIND_MAX_MAPPINGS */
	if (ms.lo == 0)
		return 0;
	const struct hotline_unwind_mapping *m = &proc->mappings[(ms.lo - 1) & (HOTLINE_UNWIND_MAX_MAPPINGS - 1)];
	return pc < m->end ? m : 0;
}

struct hotline_row_search {
	void *rows;
	__u32 target;
	__u32 lo, hi;
	__u32 failed;
};

static long hotline_row_step(__u32 i, void *arg)
{
	struct hotline_row_search *rs = arg;
	if (rs->lo >= rs->hi)
		return 1;
	__u32 mid = rs->lo + ((rs->hi - rs->lo) >> 1);
	const __u32 *row = bpf_map_lookup_elem(rs->rows, &mid);
	if (!row) {
		rs->failed = 1;
		return 1;
	}
	if (*row <= rs->target)
		rs->lo = mid + 1;
	else
		rs->hi = mid;
	return 0;
}

static __always_inline const struct hotline_unwind_rule *hotline_find_rule(__u32 table, __u64 address)
{
	struct hotline_unwind_page_key pk = { .table = table, .page = (__u32)(address >> HOTLINE_UNWIND_PAGE_SHIFT) };
	const struct hotline_unwind_page *page = bpf_map_lookup_elem(&unwind_pages, &pk);
	if (!page)
		return 0;
	void *rows = bpf_map_lookup_elem(&unwind_tables, &table);
	if (!rows)
		return 0;
	/* The last row at or before the address: rows compare as (offset << 16 | rule). */
	const __u32 target = ((__u32)(address & 0xffff) << 16) | 0xffff;
	const __u32 first = page->first;
	__u32 count = page->count;
	if (count > 65537)
		count = 65537;
	struct hotline_row_search rs = { .rows = rows, .target = target, .lo = first, .hi = first + count };
	bpf_loop(18, hotline_row_step, &rs, 0); /* 2^18 > 65537 */
	if (rs.failed || rs.lo == first)
		return 0; /* before the page's first row: no rule covers it */
	__u32 at = rs.lo - 1;
	const __u32 *row = bpf_map_lookup_elem(rows, &at);
	if (!row)
		return 0;
	__u32 rule = *row & 0xffff;
	return bpf_map_lookup_elem(&unwind_rules, &rule);
}

static __always_inline long hotline_unwind_end(struct hotline_unwind_state *st, __u32 stop)
{
	st->stop = stop;
	st->done = 1;
	return 1;
}

/* A caller found through frame pointers: rbp points at the saved rbp, the return address
 * above it. */
static __always_inline long hotline_fp_step(struct hotline_unwind_state *st)
{
	__u64 ra = 0, bp = 0;
	if (st->bp == 0)
		return hotline_unwind_end(st, HOTLINE_UNWIND_NO_TABLE);
	if (hotline_read_word(&ra, st->bp + 8) != 0 || hotline_read_word(&bp, st->bp) != 0)
		return hotline_unwind_end(st, HOTLINE_UNWIND_NO_TABLE);
	st->sp = st->bp + 16;
	st->bp = bp;
	st->pc = ra;
	st->from_fp = 1;
	return 0;
}

static long hotline_unwind_step(__u32 i, void *arg)
{
	struct hotline_unwind_state *st = arg;
	__u32 zero = 0;
	struct hotline_stack *out = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!out || i >= HOTLINE_MAX_STACK_DEPTH)
		return 1;
	if (i > 0 && st->pc == 0)
		return hotline_unwind_end(st, HOTLINE_UNWIND_ROOT);
	const struct hotline_unwind_proc *proc = bpf_map_lookup_elem(&unwind_procs, &st->pid);
	const struct hotline_unwind_mapping *m = proc ? hotline_find_mapping(proc, st->pc) : 0;
	if (!m) {
		/* The leaf is real wherever it is; a caller outside every mapping is not a frame. */
		if (i == 0) {
			out->ips[0] = st->pc;
			st->len = 1;
		}
		if (st->from_fp)
			return hotline_unwind_end(st, HOTLINE_UNWIND_NO_TABLE);
		hotline_request_mappings(st->pid);
		return hotline_unwind_end(st, HOTLINE_UNWIND_UNKNOWN_MAPPING);
	}
	/* A signal's victim is an interrupted instruction: stored one byte on, so that user space,
	 * which steps every caller back by one into its call, lands on it. */
	__u32 at = i;
	asm volatile("" : "+r"(at)); /* keep the bound check on the register that indexes */
	if (at >= HOTLINE_MAX_STACK_DEPTH)
		return 1;
	out->ips[at] = st->pc + (st->exact && at > 0 ? 1 : 0);
	st->len = at + 1;
	const __u64 pc = st->pc;
	const __u64 lookup = st->exact ? pc : pc - 1; /* a return address may follow a call that ends its function */
	st->exact = 0;
	st->from_fp = 0;
	if (m->table == HOTLINE_UNWIND_TABLE_NONE) {
		if (hotline_unwind_mode == HOTLINE_UNWIND_MODE_TABLES)
			return hotline_unwind_end(st, HOTLINE_UNWIND_NO_TABLE);
		return hotline_fp_step(st);
	}
	const struct hotline_unwind_rule *rule = hotline_find_rule(m->table, lookup - m->bias);
	if (!rule)
		return hotline_unwind_end(st, HOTLINE_UNWIND_INVALID);
	__u64 cfa = 0;
	switch (rule->kind) {
	case HOTLINE_RULE_CFA_RSP:
		cfa = st->sp + (__s64)rule->cfa_offset;
		break;
	case HOTLINE_RULE_CFA_RBP:
		cfa = st->bp + (__s64)rule->cfa_offset;
		break;
	case HOTLINE_RULE_CFA_RBP_DEREF:
		if (hotline_read_word(&cfa, st->bp + (__s64)rule->cfa_offset) != 0)
			return hotline_unwind_end(st, HOTLINE_UNWIND_READ_FAULT);
		break;
	case HOTLINE_RULE_PLT:
		cfa = st->sp + (__s64)rule->cfa_offset + ((pc & 15) >= (__u64)rule->rbp_offset ? 8 : 0);
		break;
	case HOTLINE_RULE_SIGNAL: {
		/* rsp points at the ucontext the kernel saved: uc_mcontext at 40, and in it rbp at
		 * 80, rsp at 120, rip at 128. */
		__u64 rip = 0, rsp = 0, rbp = 0;
		if (hotline_read_word(&rip, st->sp + 168) != 0 || hotline_read_word(&rsp, st->sp + 160) != 0 ||
		    hotline_read_word(&rbp, st->sp + 120) != 0)
			return hotline_unwind_end(st, HOTLINE_UNWIND_READ_FAULT);
		st->pc = rip;
		st->sp = rsp;
		st->bp = rbp;
		st->exact = 1;
		return 0;
	}
	case HOTLINE_RULE_STOP:
		return hotline_unwind_end(st, HOTLINE_UNWIND_ROOT);
	default:
		return hotline_unwind_end(st, HOTLINE_UNWIND_INVALID);
	}
	__u64 ra = 0;
	if (hotline_read_word(&ra, cfa - 8) != 0)
		return hotline_unwind_end(st, HOTLINE_UNWIND_READ_FAULT);
	if (rule->rbp == HOTLINE_RBP_AT_CFA) {
		__u64 bp = 0;
		if (hotline_read_word(&bp, cfa + (__s64)rule->rbp_offset) != 0)
			return hotline_unwind_end(st, HOTLINE_UNWIND_READ_FAULT);
		st->bp = bp;
	}
	st->sp = cfa;
	st->pc = ra;
	return 0;
}

/* The user stack of the current thread of process `pid`, from its user registers (the
 * interrupted ones, or those saved at kernel entry when a sample hit the kernel). `ctx` is
 * the program's context, for the kernel's own walk. */
static __always_inline __s32 hotline_user_stack(void *ctx, __u32 pid, __u64 pc, __u64 sp, __u64 bp, void *stacks)
{
	if (hotline_unwind_mode == HOTLINE_UNWIND_MODE_FP)
		return hotline_kernel_walk(ctx, stacks, BPF_F_USER_STACK, HOTLINE_UNWIND_FP);
	if (!bpf_map_lookup_elem(&unwind_procs, &pid)) {
		/* Not loaded yet (it has just started, or exec'd): ask, and meanwhile the kernel's walk. */
		hotline_request_mappings(pid);
		if (hotline_unwind_mode == HOTLINE_UNWIND_MODE_AUTO)
			return hotline_kernel_walk(ctx, stacks, BPF_F_USER_STACK, HOTLINE_UNWIND_FP);
	}
	__u32 zero = 0;
	struct hotline_stack *out = bpf_map_lookup_elem(&unwind_scratch, &zero);
	if (!out)
		return HOTLINE_STACK_LOST;
	struct hotline_unwind_state st = {};
	st.pc = pc;
	st.sp = sp;
	st.bp = bp;
	st.pid = pid;
	st.exact = 1;
	bpf_loop(HOTLINE_MAX_STACK_DEPTH, hotline_unwind_step, &st, 0);
	if (!st.done)
		st.stop = HOTLINE_UNWIND_DEPTH;
	/* The leaf itself in no mapping known (a library mapped since the mappings were read, the
	 * request is on its way): the kernel's walk meanwhile. */
	if (st.len <= 1 && st.stop == HOTLINE_UNWIND_UNKNOWN_MAPPING && hotline_unwind_mode == HOTLINE_UNWIND_MODE_AUTO)
		return hotline_kernel_walk(ctx, stacks, BPF_F_USER_STACK, HOTLINE_UNWIND_FP);
	if (st.len == 0)
		return HOTLINE_STACK_NONE;
	out->len = st.len;
	out->stop = st.stop;
	return hotline_store_stack(stacks, out);
}

/* The kernel stack (always the kernel's own unwinder, ORC or frame pointers). */
static __always_inline __s32 hotline_kernel_stack(void *ctx, void *stacks)
{
	return hotline_kernel_walk(ctx, stacks, 0, HOTLINE_UNWIND_ROOT);
}

/* Declares a stack map of `entries` stacks (sized again by user space). */
#define HOTLINE_STACK_MAP(name, entries)                    \
	struct {                                                \
		__uint(type, BPF_MAP_TYPE_HASH);                    \
		__uint(max_entries, entries);                       \
		__type(key, __u32);                                 \
		__type(value, struct hotline_stack);                \
	} name SEC(".maps")

#endif
