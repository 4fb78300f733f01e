// Off-CPU benchmark workloads (bench/offcpu.sh). Prints the elapsed nanoseconds last.
//   pingpong N   two threads pass a byte back and forth over two pipes, N round trips: every
//                read blocks, so each round trip is two context switches per thread
//   server N     a mostly sleeping server: N times, sleep 1 ms then work about 20 us
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int ping[2], pong[2];
static long rounds;
static volatile uint64_t sink;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void *echo(void *arg) {
  (void)arg;
  char c;
  for (long i = 0; i < rounds; ++i) {
    if (read(ping[0], &c, 1) != 1 || write(pong[1], &c, 1) != 1) exit(1);
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "pingpong";
  long n = argc > 2 ? atol(argv[2]) : 100000;
  uint64_t t0 = now_ns();
  if (strcmp(mode, "pingpong") == 0) {
    rounds = n;
    if (pipe(ping) != 0 || pipe(pong) != 0) return 1;
    pthread_t t;
    pthread_create(&t, NULL, echo, NULL);
    char c = 'x';
    for (long i = 0; i < n; ++i) {
      if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) return 1;
    }
    pthread_join(t, NULL);
  } else {
    for (long i = 0; i < n; ++i) {
      struct timespec d = {0, 1000000};
      nanosleep(&d, NULL);
      uint64_t until = now_ns() + 20000;
      while (now_ns() < until) sink++;
    }
  }
  printf("%llu\n", (unsigned long long)(now_ns() - t0));
  return 0;
}
