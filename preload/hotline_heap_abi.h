/* The messages the heap sampler (libhotline_heap.so, preloaded into a launched command)
 * sends to hotline over the private SOCK_SEQPACKET socket it inherited. One message per
 * datagram, native byte order (both ends run on the same machine). Shared by C and C++. */
#ifndef HOTLINE_HEAP_ABI_H
#define HOTLINE_HEAP_ABI_H

#include <stdint.h>

#define HOTLINE_HEAP_ABI_VERSION 1u
#define HOTLINE_HEAP_MAX_FRAMES 64

/* Environment the launched command receives (hotline sets them, the sampler reads them). */
#define HOTLINE_HEAP_ENV_FD "HOTLINE_HEAP_FD"               /* the socket's descriptor number */
#define HOTLINE_HEAP_ENV_PEER "HOTLINE_HEAP_PEER"           /* hotline's pid: who must own it */
#define HOTLINE_HEAP_ENV_SAMPLE "HOTLINE_HEAP_SAMPLE_BYTES" /* mean bytes between samples */
#define HOTLINE_HEAP_ENV_RESTRICTED "HOTLINE_HEAP_RESTRICTED" /* 1: hotline lacks CAP_SYS_PTRACE:
                                                               * a non-dumpable process is not sampled */

enum hotline_heap_msg_kind {
  HOTLINE_HEAP_MSG_HELLO = 1,   /* a process started sampling: ptr = ABI version, size = mean */
  HOTLINE_HEAP_MSG_ALLOC = 2,   /* a sampled allocation of `size` bytes at `ptr`, with its stack */
  HOTLINE_HEAP_MSG_FREE = 3,    /* the sampled block at `ptr` is freed (sent before it is) */
  HOTLINE_HEAP_MSG_DROPPED = 4, /* `size` sampled allocations could not be tracked (table full) */
};

struct hotline_heap_msg {
  uint32_t kind;
  uint32_t pid;
  uint64_t ptr;
  uint64_t size;
  /* ALLOC only: return addresses, innermost first (the allocator's caller); the datagram
   * carries as many as were captured: its length is 24 + 8 * frames. */
  uint64_t frames[HOTLINE_HEAP_MAX_FRAMES];
};

#define HOTLINE_HEAP_MSG_HEADER 24u

#ifdef __cplusplus
static_assert(sizeof(struct hotline_heap_msg) == HOTLINE_HEAP_MSG_HEADER + 8 * HOTLINE_HEAP_MAX_FRAMES,
              "hotline_heap_msg layout");
#else
_Static_assert(sizeof(struct hotline_heap_msg) == HOTLINE_HEAP_MSG_HEADER + 8 * HOTLINE_HEAP_MAX_FRAMES,
               "hotline_heap_msg layout");
#endif

#endif
