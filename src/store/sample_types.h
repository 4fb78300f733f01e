#pragma once
// The kinds of value collectors record: the rows of a recording's `sample_types` table. A
// collector declares the ones it produces; views and exports look them up by name. A new
// collector adds its own here.
namespace hotline {

struct SampleType {
  const char* name;
  const char* unit;  // samples, bytes, count, nanoseconds
};

namespace sample_types {
// CPU samples (each 1/cpu_frequency_hz seconds of CPU time), per thread.
inline constexpr SampleType cpu{"cpu", "samples"};
// Heap, per allocation stack and process: allocated during the checkpoint, and freed during
// it of blocks allocated at that stack (live = allocated - freed, summed from the start).
inline constexpr SampleType heap_alloc_bytes{"heap_alloc_bytes", "bytes"};
inline constexpr SampleType heap_alloc_count{"heap_alloc_count", "count"};
inline constexpr SampleType heap_free_bytes{"heap_free_bytes", "bytes"};
inline constexpr SampleType heap_free_count{"heap_free_count", "count"};
// Off-CPU, per thread and (user + kernel) stack: time blocked while not runnable, and the
// number of blocks that ended during the checkpoint (a block in progress adds its time so
// far, and its count when it ends).
inline constexpr SampleType offcpu{"offcpu", "nanoseconds"};
inline constexpr SampleType offcpu_count{"offcpu_count", "count"};
}  // namespace sample_types

}  // namespace hotline
