/* libhotline_heap.so: the sampled heap profiler hotline preloads into a command it launches
 * (`hotline record -- CMD`, --heap=sampled).
 *
 * Allocations are sampled by bytes, as tcmalloc and jemalloc do: each thread counts down a
 * random number of bytes drawn from an exponential distribution of mean S (--heap-sample-
 * bytes); the allocation that crosses zero is sampled. An allocation of n bytes is thus
 * sampled with probability 1 - exp(-n/S), and hotline weights it by the inverse, so totals
 * are unbiased. The fast path is a thread-local subtraction and a branch.
 *
 * Only sampled allocations pay: their stack is unwound (backtrace(): .eh_frame, so frames
 * without frame pointers are right too), their pointer goes into a lock-free table, and one
 * datagram goes to hotline. Over glibc, a sampled block is allocated slightly larger so that
 * its chunk header carries a rare size residue; a free reads that header (which glibc's free
 * reads next anyway) and looks further (a small counting filter, then the table) only for
 * the 1 in 64 chunks that carry the residue, and for large mmapped ones.
 *
 * The channel is a SOCK_SEQPACKET socket hotline created and passed by descriptor number;
 * it is used only if it is a socket of that type whose creator is the pid hotline named,
 * so a descriptor that was closed or reused (in an exec'd child, say) is never written to.
 * Nothing is written to files; nothing is named in the file system.
 *
 * Safe under threads (no locks), fork (the child refreshes its pid), exec (the socket and
 * this library follow only preloaded children, which re-check the socket), dlsym bootstrap
 * (allocations made while resolving the real functions come from a static arena), hotline
 * going away (MSG_NOSIGNAL: sampling stops, the program goes on), and programs that never
 * free. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <link.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "hotline_heap_abi.h"

#define EXPORT __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TLS static __thread __attribute__((tls_model("initial-exec")))

/* ---- the real allocator -------------------------------------------------------------- */

static void* (*real_malloc)(size_t);
static void* (*real_calloc)(size_t, size_t);
static void* (*real_realloc)(void*, size_t);
static void (*real_free)(void*);
static void* (*real_memalign)(size_t, size_t);
static int (*real_posix_memalign)(void**, size_t, size_t);
static void* (*real_aligned_alloc)(size_t, size_t);
static void* (*real_valloc)(size_t);
static void* (*real_pvalloc)(size_t);
static size_t (*real_usable_size)(void*);

/* While dlsym runs (it may allocate), allocations come from here and are never freed. */
static _Alignas(64) char boot_arena[64 * 1024];
static atomic_size_t boot_used;
static atomic_int resolve_state; /* 0 not yet, 1 resolving, 2 done */

static int in_boot_arena(const void* p) {
  return (const char*)p >= boot_arena && (const char*)p < boot_arena + sizeof boot_arena;
}

static void* boot_alloc(size_t size, size_t align) {
  if (align < 16) align = 16;
  size_t need = size + align + 16;
  size_t start = atomic_fetch_add(&boot_used, need);
  if (start + need > sizeof boot_arena || need < size) return NULL;
  uintptr_t base = (uintptr_t)boot_arena + start + 16;
  uintptr_t p = (base + align - 1) & ~(uintptr_t)(align - 1);
  ((size_t*)p)[-1] = size;
  return (void*)p;
}

static size_t boot_size(const void* p) { return ((const size_t*)p)[-1]; }

static void resolve(void) {
  int expected = 0;
  if (!atomic_compare_exchange_strong(&resolve_state, &expected, 1)) return; /* done, or under way */
  real_calloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  real_realloc = (void* (*)(void*, size_t))dlsym(RTLD_NEXT, "realloc");
  real_free = (void (*)(void*))dlsym(RTLD_NEXT, "free");
  real_memalign = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
  real_posix_memalign = (int (*)(void**, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
  real_aligned_alloc = (void* (*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
  real_valloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "valloc");
  real_pvalloc = (void* (*)(size_t))dlsym(RTLD_NEXT, "pvalloc");
  real_usable_size = (size_t (*)(void*))dlsym(RTLD_NEXT, "malloc_usable_size");
  /* malloc last: it is the "resolved" flag the fast paths test. */
  void* (*m)(size_t) = (void* (*)(size_t))dlsym(RTLD_NEXT, "malloc");
  atomic_store_explicit((_Atomic(void*)*)&real_malloc, (void*)m, memory_order_release);
  atomic_store(&resolve_state, 2);
}

static int resolved(void) {
  if (LIKELY(real_malloc != NULL)) return 1;
  resolve();
  return real_malloc != NULL;
}

/* ---- the channel --------------------------------------------------------------------- */

static int channel_fd = -1;
static atomic_int sampling; /* 1 while the channel works */
static int64_t sample_mean = 512 * 1024;
static uintptr_t self_lo, self_hi; /* this library's code: frames to skip */
static atomic_ulong dropped_pending;
static pid_t my_pid; /* refreshed in a forked child (pthread_atfork): no getpid per message */
static int restricted; /* hotline's rule without CAP_SYS_PTRACE: only dumpable processes */

static void channel_send(const struct hotline_heap_msg* m, size_t len) {
  for (;;) {
    ssize_t n = send(channel_fd, m, len, MSG_NOSIGNAL);
    if (n == (ssize_t)len) return;
    if (n < 0 && errno == EINTR) continue;
    /* hotline is gone (EPIPE) or the socket is not what it was: stop sampling for good. */
    atomic_store(&sampling, 0);
    return;
  }
}

static void send_simple(uint32_t kind, uintptr_t ptr, uint64_t size) {
  if (kind != HOTLINE_HEAP_MSG_HELLO && !atomic_load_explicit(&sampling, memory_order_relaxed)) return;
  struct hotline_heap_msg m;
  m.kind = kind;
  m.pid = (uint32_t)my_pid;
  m.ptr = ptr;
  m.size = size;
  int saved = errno;
  channel_send(&m, HOTLINE_HEAP_MSG_HEADER);
  errno = saved;
}

/* ---- the table of sampled pointers --------------------------------------------------- */

/* A counting filter (one byte per bucket, saturating at 255) in front of an open-addressing
 * table. Slots go EMPTY -> pointer -> TOMB -> pointer...; lookups stop at EMPTY or after
 * MAX_PROBE slots, and inserts never go further, so both agree. */
#define FILTER_BITS 14
#define TABLE_BITS 17
#define MAX_PROBE 32
#define TOMB ((uintptr_t)1)
#define UNMARKED ((uintptr_t)2) /* stored with a block whose glibc chunk is not marked */

static _Atomic unsigned char filter[1u << FILTER_BITS];
static _Atomic uintptr_t table[1u << TABLE_BITS];
static atomic_long table_live;
static atomic_long unmarked_live; /* live sampled blocks a free cannot recognise by their chunk */

static inline size_t filter_slot(uintptr_t p) {
  return (size_t)(((p >> 4) * 0x9E3779B97F4A7C15ull) >> (64 - FILTER_BITS));
}
static inline size_t table_slot(uintptr_t p) {
  return (size_t)(((p >> 4) * 0xC2B2AE3D27D4EB4Full) >> (64 - TABLE_BITS));
}

static int table_insert(uintptr_t p, uintptr_t flags) {
  size_t mask = (1u << TABLE_BITS) - 1, i = table_slot(p);
  for (int n = 0; n < MAX_PROBE; ++n, i = (i + 1) & mask) {
    uintptr_t cur = atomic_load_explicit(&table[i], memory_order_relaxed);
    if ((cur == 0 || cur == TOMB) &&
        atomic_compare_exchange_strong_explicit(&table[i], &cur, p | flags, memory_order_acq_rel,
                                                memory_order_relaxed)) {
      if (flags & UNMARKED) atomic_fetch_add(&unmarked_live, 1);
      _Atomic unsigned char* f = &filter[filter_slot(p)];
      unsigned char c = atomic_load_explicit(f, memory_order_relaxed);
      while (c < 255 && !atomic_compare_exchange_weak_explicit(f, &c, (unsigned char)(c + 1), memory_order_acq_rel,
                                                               memory_order_relaxed)) {
      }
      atomic_fetch_add_explicit(&table_live, 1, memory_order_relaxed);
      return 1;
    }
  }
  return 0;
}

static int table_remove(uintptr_t p) {
  _Atomic unsigned char* f = &filter[filter_slot(p)];
  unsigned char c = atomic_load_explicit(f, memory_order_acquire);
  if (LIKELY(c == 0)) return 0; /* the fast path of every free */
  size_t mask = (1u << TABLE_BITS) - 1, i = table_slot(p);
  for (int n = 0; n < MAX_PROBE; ++n, i = (i + 1) & mask) {
    uintptr_t cur = atomic_load_explicit(&table[i], memory_order_acquire);
    if (cur == 0) return 0;
    if ((cur & ~UNMARKED) == p) {
      /* Only the thread freeing p can get here for p: a plain store would do, CAS is cheap. */
      if (!atomic_compare_exchange_strong(&table[i], &cur, TOMB)) return 0;
      if (cur & UNMARKED) atomic_fetch_sub(&unmarked_live, 1);
      c = atomic_load_explicit(f, memory_order_relaxed);
      while (c > 0 && c < 255 &&
             !atomic_compare_exchange_weak_explicit(f, &c, (unsigned char)(c - 1), memory_order_acq_rel,
                                                    memory_order_relaxed)) {
      }
      atomic_fetch_sub_explicit(&table_live, 1, memory_order_relaxed);
      return 1;
    }
  }
  return 0;
}

/* ---- sampling ------------------------------------------------------------------------ */

TLS int64_t tl_countdown; /* bytes until the next sample; <= 0: take the slow path */
TLS int tl_ready;         /* tl_countdown and tl_rng are set up */
TLS int tl_busy;          /* inside the slow path: allocations made there are not sampled */
TLS uint64_t tl_rng;

static uint64_t next_random(void) {
  /* xorshift64*: good enough to place sample points, and allocation-free. */
  uint64_t x = tl_rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  tl_rng = x;
  return x * 0x2545F4914F6CDD1Dull;
}

static int64_t draw_countdown(void) {
  /* Exponential with mean sample_mean: -mean * ln(U), U uniform in (0, 1]. */
  double u = ((double)(next_random() >> 11) + 1.0) / 9007199254740992.0;
  double bytes = -log(u) * (double)sample_mean;
  if (bytes > 9.0e18) bytes = 9.0e18;
  return (int64_t)bytes + 1;
}

static void seed_thread(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  tl_rng = ((uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull) ^ (uint64_t)(uintptr_t)&tl_rng ^
           ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_sec;
  if (tl_rng == 0) tl_rng = 0x853c49e6748fea9bull;
  tl_countdown = draw_countdown();
  tl_ready = 1;
}

/* Recognising a sampled block at free() without touching memory free() does not touch
 * anyway: over glibc's allocator, a sampled block is allocated padded so that its chunk's
 * size field (the word before the block, which glibc's free reads next) has a rare
 * residue, (size / 16) % 64 == 63 (at most 1008 bytes more, once per sample). A free looks
 * at the filter and table only for chunks with that residue (1 in 64 of the others) or
 * mmapped ones (large, rare). Over another allocator, or for blocks that could not be
 * marked (the memalign family), every free consults the filter while such blocks live. */
static int glibc_chunks;
#define MARK_MASK 63u

static size_t marked_size(size_t n) {
  if (!glibc_chunks || n > ((size_t)1 << 40)) return n;
  size_t r = n + 23 < 32 ? 32 : (n + 23) & ~(size_t)15; /* glibc's request2size */
  size_t c = r + ((size_t)((MARK_MASK - ((r >> 4) & MARK_MASK)) & MARK_MASK) << 4);
  return c - 8;
}

static inline int chunk_marked(const void* p) {
  size_t field = ((const size_t*)p)[-1];
  return (field & 2) != 0 || ((field >> 4) & MARK_MASK) == MARK_MASK; /* IS_MMAPPED, or the residue */
}

/* 1 when this allocation is to be sampled (and re-arms the countdown). */
static __attribute__((noinline)) int decide_slow(size_t size) {
  if (tl_busy) return 0;
  if (!atomic_load_explicit(&sampling, memory_order_relaxed)) {
    tl_countdown = INT64_MAX / 4; /* no channel (or no longer): the fast path only */
    return 0;
  }
  /* A process that made itself non-dumpable (prctl, or a privileged program) is off limits
   * to a hotline without CAP_SYS_PTRACE: it stops being sampled, for good. */
  if (restricted && prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 1) {
    atomic_store(&sampling, 0);
    tl_countdown = INT64_MAX / 4;
    return 0;
  }
  if (!tl_ready) {
    seed_thread();
    tl_countdown -= (int64_t)size;
    if (tl_countdown > 0) return 0;
  }
  tl_countdown = draw_countdown();
  return 1;
}

static inline int take_sample(size_t size) {
  int64_t left = tl_countdown - (int64_t)size;
  tl_countdown = left;
  return UNLIKELY(left <= 0) && decide_slow(size);
}

/* A sampled block: into the table, its stack to hotline. */
static __attribute__((noinline)) void record(void* p, size_t size) {
  if (p == NULL) return;
  tl_busy = 1;
  int saved = errno;
  uintptr_t flags = (glibc_chunks && chunk_marked(p)) ? 0 : UNMARKED;
  if (!table_insert((uintptr_t)p, flags)) {
    unsigned long pending = atomic_fetch_add(&dropped_pending, 1) + 1;
    if (pending % 1024 == 1) send_simple(HOTLINE_HEAP_MSG_DROPPED, 0, atomic_exchange(&dropped_pending, 0));
  } else {
    void* raw[HOTLINE_HEAP_MAX_FRAMES + 8];
    int n = backtrace(raw, HOTLINE_HEAP_MAX_FRAMES + 8);
    struct hotline_heap_msg m;
    m.kind = HOTLINE_HEAP_MSG_ALLOC;
    m.pid = (uint32_t)my_pid;
    m.ptr = (uintptr_t)p;
    m.size = size;
    int first = 0;
    while (first < n && (uintptr_t)raw[first] >= self_lo && (uintptr_t)raw[first] < self_hi) ++first;
    int k = 0;
    for (int i = first; i < n && k < HOTLINE_HEAP_MAX_FRAMES; ++i) m.frames[k++] = (uintptr_t)raw[i];
    channel_send(&m, HOTLINE_HEAP_MSG_HEADER + 8u * (size_t)k);
  }
  errno = saved;
  tl_busy = 0;
}

static inline void note_free(void* p) {
  if (LIKELY(atomic_load_explicit(&table_live, memory_order_relaxed) == 0) || p == NULL) return;
  if (glibc_chunks && atomic_load_explicit(&unmarked_live, memory_order_relaxed) == 0 && LIKELY(!chunk_marked(p))) {
    return;
  }
  if (table_remove((uintptr_t)p)) send_simple(HOTLINE_HEAP_MSG_FREE, (uintptr_t)p, 0);
}

/* ---- setup --------------------------------------------------------------------------- */

static int find_self(struct dl_phdr_info* info, size_t size, void* data) {
  (void)size;
  uintptr_t me = (uintptr_t)data;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)* ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (me >= lo && me < hi) {
      self_lo = lo;
      self_hi = hi;
      return 1;
    }
  }
  return 0;
}

static void after_fork_in_child(void) { my_pid = getpid(); }

static long env_number(const char* name) {
  const char* s = getenv(name);
  if (s == NULL || *s == '\0') return -1;
  char* end = NULL;
  long v = strtol(s, &end, 10);
  return (*end == '\0' && v >= 0) ? v : -1;
}

static __attribute__((constructor)) void hotline_heap_init(void) {
  tl_busy = 1;
  resolved();
  long fd = env_number(HOTLINE_HEAP_ENV_FD), peer = env_number(HOTLINE_HEAP_ENV_PEER);
  long mean = env_number(HOTLINE_HEAP_ENV_SAMPLE);
  if (fd < 0 || peer <= 0 || fd > 1 << 20) goto out;
  /* Only hotline's socket: a SOCK_SEQPACKET unix socket created by that pid. */
  struct stat st;
  int type = 0;
  socklen_t len = sizeof type;
  struct ucred cred;
  socklen_t clen = sizeof cred;
  if (fstat((int)fd, &st) != 0 || !S_ISSOCK(st.st_mode) ||
      getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_SEQPACKET ||
      getsockopt((int)fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) != 0 || cred.pid != (pid_t)peer) {
    goto out;
  }
  channel_fd = (int)fd;
  if (mean > 0) sample_mean = mean;
  restricted = env_number(HOTLINE_HEAP_ENV_RESTRICTED) == 1;
  {
    /* Chunk marking relies on glibc's chunk header: only when malloc is glibc's own. */
    Dl_info info;
    glibc_chunks = dladdr((void*)real_malloc, &info) != 0 && info.dli_fname != NULL &&
                   strstr(info.dli_fname, "libc.so.6") != NULL && real_usable_size != NULL;
  }
  my_pid = getpid();
  pthread_atfork(NULL, NULL, after_fork_in_child);
  dl_iterate_phdr(find_self, (void*)(uintptr_t)&record);
  {
    void* warm[4];
    backtrace(warm, 4); /* loads the unwinder now, not inside the first sampled malloc */
  }
  atomic_store(&sampling, 1);
  tl_ready = 0; /* this thread's countdown may have been parked before sampling started */
  tl_countdown = 0;
  send_simple(HOTLINE_HEAP_MSG_HELLO, HOTLINE_HEAP_ABI_VERSION, (uint64_t)sample_mean);
out:
  tl_busy = 0;
}

/* ---- the interposed functions -------------------------------------------------------- */

EXPORT void* malloc(size_t size) {
  if (UNLIKELY(!resolved())) return boot_alloc(size, 16);
  if (LIKELY(!take_sample(size))) return real_malloc(size);
  void* p = real_malloc(marked_size(size));
  record(p, size);
  return p;
}

EXPORT void free(void* p) {
  if (UNLIKELY(in_boot_arena(p))) return;
  note_free(p);
  if (LIKELY(real_free != NULL)) real_free(p);
}

EXPORT void* calloc(size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  if (UNLIKELY(!resolved() || real_calloc == NULL)) return boot_alloc(total, 16); /* static: zeroed */
  if (LIKELY(!take_sample(total))) return real_calloc(n, size);
  void* p = real_calloc(1, marked_size(total));
  record(p, total);
  return p;
}

EXPORT void* realloc(void* old, size_t size) {
  if (UNLIKELY(in_boot_arena(old) || !resolved())) {
    void* p = malloc(size);
    if (p != NULL && old != NULL) {
      size_t keep = boot_size(old);
      memcpy(p, old, keep < size ? keep : size);
    }
    return p;
  }
  if (old == NULL) return malloc(size);
  /* The old block is reported freed first: once realloc returns, another thread may be
   * handed that address. (If realloc fails, the old block stays but is no longer tracked.) */
  note_free(old);
  if (size == 0 || LIKELY(!take_sample(size))) return real_realloc(old, size);
  if (!glibc_chunks || real_usable_size == NULL) {
    void* p = real_realloc(old, size);
    record(p, size);
    return p;
  }
  /* Sampled: a fresh, marked block, and the old one's contents. */
  void* p = real_malloc(marked_size(size));
  if (p == NULL) return NULL;
  size_t have = real_usable_size(old);
  memcpy(p, old, have < size ? have : size);
  real_free(old);
  record(p, size);
  return p;
}

EXPORT void* reallocarray(void* old, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(old, total);
}

/* The memalign family is not padded (the alignment decides the chunk): its sampled blocks
 * are flagged unmarked, and frees consult the filter while any lives. */
EXPORT int posix_memalign(void** out, size_t align, size_t size) {
  if (UNLIKELY(!resolved() || real_posix_memalign == NULL)) {
    *out = boot_alloc(size, align);
    return *out ? 0 : ENOMEM;
  }
  int sampled = take_sample(size);
  int r = real_posix_memalign(out, align, size);
  if (UNLIKELY(sampled) && r == 0) record(*out, size);
  return r;
}

EXPORT void* aligned_alloc(size_t align, size_t size) {
  if (UNLIKELY(!resolved() || real_aligned_alloc == NULL)) return boot_alloc(size, align);
  int sampled = take_sample(size);
  void* p = real_aligned_alloc(align, size);
  if (UNLIKELY(sampled)) record(p, size);
  return p;
}

EXPORT void* memalign(size_t align, size_t size) {
  if (UNLIKELY(!resolved() || real_memalign == NULL)) return boot_alloc(size, align);
  int sampled = take_sample(size);
  void* p = real_memalign(align, size);
  if (UNLIKELY(sampled)) record(p, size);
  return p;
}

EXPORT void* valloc(size_t size) {
  if (UNLIKELY(!resolved() || real_valloc == NULL)) return boot_alloc(size, 4096);
  int sampled = take_sample(size);
  void* p = real_valloc(size);
  if (UNLIKELY(sampled)) record(p, size);
  return p;
}

EXPORT void* pvalloc(size_t size) {
  if (UNLIKELY(!resolved() || real_pvalloc == NULL)) return boot_alloc(size, 4096);
  int sampled = take_sample(size);
  void* p = real_pvalloc(size);
  if (UNLIKELY(sampled)) record(p, size);
  return p;
}
