// malloc/free pairs in a loop: `alloc_loop PAIRS [SIZE]` prints the nanoseconds per pair
// (its own clock, around the loop only, so start-up and profiler attach are not counted).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static char* volatile escape;

int main(int argc, char** argv) {
  long pairs = argc > 1 ? atol(argv[1]) : 10000000;
  size_t size = argc > 2 ? (size_t)atol(argv[2]) : 64;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < pairs; ++i) {
    char* p = malloc(size);
    p[0] = (char)i;
    escape = p;
    free(escape);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("%.2f\n", ns / (double)pairs);
  return 0;
}
