#pragma once
// What every collector is to the recording session: it starts on the tracked processes,
// hears of processes appearing and changing, is drained once per checkpoint into generic
// stack samples whose values are of the sample types it declares, and reports its counters
// as meta entries. The session holds a list of collectors and knows none of them by name;
// a new collector is its BPF file, a class implementing this, and its sample types
// (store/sample_types.h).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/sample_types.h"
#include "unwind/stack_reader.h"

namespace hotline {

struct LaunchExtras;

// One stack and its values, as every collector delivers them.
struct StackSample {
  pid_t pid = 0;
  pid_t tid = 0;     // 0: the collector does not tell threads apart
  std::string comm;  // the thread's name, when per thread
  std::vector<std::uint64_t> user_ips;    // innermost first
  std::vector<std::uint64_t> kernel_ips;  // innermost first; empty when the sample hit user mode
  // The innermost user address is the interrupted instruction (a CPU tick in user mode),
  // not a return address: it is resolved as is, every other one is stepped back into its call.
  bool user_leaf_exact = false;
  bool truncated = false;             // a stack reached the depth limit: its outermost callers are cut
  // The kernel stack was taken by a program on a tracepoint (off-CPU): its innermost frames
  // are that program and the tracepoint's functions that ran it, which are dropped.
  bool kernel_leaf_is_tracing = false;
  // Why the user stack ends there: the kernel's frame-pointer walk (no telling), its root,
  // or a reason the unwinder stopped (the recording shows it as the outermost frame).
  UnwindStop user_stop = UnwindStop::frame_pointers;
  std::vector<std::uint64_t> values;  // one per sample_types(), in that order
};

using MetaEntries = std::vector<std::pair<std::string, std::string>>;

// How a tracked process changed.
enum class ProcessChange {
  forked,    // a new child of a tracked process (its parent's address space, for now)
  executed,  // it runs a new program (its mappings are not final yet: the loader is at work)
  remapped,  // its mappings were read again after an exec (libraries mapped by the loader)
};

class Collector {
 public:
  virtual ~Collector() = default;

  // The kinds of value of this collector's samples, in StackSample::values order.
  virtual std::vector<SampleType> sample_types() const = 0;

  // A command about to be launched: what it must inherit (descriptors, environment).
  virtual void prepare_launch(LaunchExtras&) {}
  // The launched command was forked (it has not exec'd yet).
  virtual void launched(pid_t) {}
  // Starts on the root targets: running processes, or a launched command not yet exec'd
  // whose program is `command` ("" for running processes).
  virtual void start(const std::vector<pid_t>&, const std::string& /*command*/) {}
  virtual void process_changed(pid_t, ProcessChange) {}
  // Gone, or no longer to be profiled.
  virtual void process_ended(pid_t) {}
  // Called often between checkpoints (about every 50 ms): for work that cannot wait.
  virtual void tick() {}
  // The recording is about to take its last checkpoint; `targets_ended`: the launched
  // command ended by itself (so what a collector watched to the end is complete).
  virtual void finishing(bool /*targets_ended*/) {}

  // Everything collected since the last drain.
  virtual std::vector<StackSample> drain() = 0;
  // Counters and decisions for the recording's meta table, written at every checkpoint.
  virtual MetaEntries meta() const = 0;
  // Kernel memory its BPF maps lock (fdinfo memlock).
  virtual std::uint64_t map_bytes() const { return 0; }
  // After the last drain: detaches everything, and says what the user lost (warnings).
  virtual void stop() {}
};

}  // namespace hotline
