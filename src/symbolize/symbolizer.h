#pragma once
// Turns instruction pointers of target processes into source frames.
//
// The address space of every tracked process is remembered from /proc/PID/maps snapshots
// (taken at start, on fork/exec, and at each checkpoint) and each mapped executable file is
// opened once, while the process lives, so that samples of a process that exited before its
// checkpoint are still resolved. Resolution is cached per (module, address): each unique
// address is symbolized once; modules with the same build id share one cache.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "symbolize/elf_symbolizer.h"
#include "symbolize/frame.h"
#include "symbolize/kernel_symbols.h"
#include "symbolize/perf_map.h"
#include "target/proc.h"
#include "target/target_file.h"
#include "util/fd.h"

namespace hotline {

using ModuleId = std::uint32_t;

struct ModuleInfo {
  std::string path;      // file path as mapped, or "[kernel]", "[vdso]", "[jit]", "[unknown]"
  std::string build_id;  // hex, "" when none or not yet opened
  bool opened = false;   // an ELF was read for it
  bool has_dwarf = false;
  std::vector<ElfSymbolizer::CodeSegment> code_segments;  // executable segments of the file
};

struct ResolvedAddress {
  ModuleId module = 0;
  std::uint64_t address = 0;  // module-relative virtual address; absolute for the kernel
  const Symbolized* symbolized = nullptr;  // owned by the Symbolizer, stable
};

class Symbolizer {
 public:
  explicit Symbolizer(std::string kallsyms_path = "/proc/kallsyms");
  ~Symbolizer();

  // Records the current mappings of `pid` (newer mappings replace overlapping older ones;
  // older ones stay so that in-flight samples still resolve). Returns false when the
  // process is gone.
  bool snapshot(pid_t pid);
  // A new process now has this pid (fork after reuse, exec): forget the old address space.
  void reset_process(pid_t pid);
  // `child` was forked from `parent`: it starts with the parent's address space (what a
  // child that exits before its own snapshot ran in).
  void inherit(pid_t child, pid_t parent);

  // `address` is the instruction to attribute: callers pass return addresses minus one.
  ResolvedAddress resolve_user(pid_t pid, std::uint64_t address);
  ResolvedAddress resolve_kernel(std::uint64_t address);

  const ModuleInfo& module(ModuleId id) const { return modules_[id].info; }
  std::size_t module_count() const { return modules_.size(); }
  // Opens (if needed) the ELF at `path` and reports whether it has DWARF line info.
  static bool file_has_debuginfo(const std::string& path);
  // The same for the executable of a running process (/proc/PID/exe, by the target-file rule).
  static bool process_exe_has_debuginfo(pid_t pid);

  // Files of a target that were not read, and why (target/target_file.h); each reported
  // once, for the caller to warn about.
  struct Refusal {
    pid_t pid;
    std::string path;
    std::string reason;
  };
  std::vector<Refusal> take_refusals();

 private:
  struct Region {
    std::uint64_t end;
    std::uint64_t offset;
    ModuleId module;
  };
  struct Process {
    std::map<std::uint64_t, Region> regions;  // by start address
    std::optional<FileOrigin> origin;         // its root and owners, as of the last snapshot
    std::string perf_map_path;                // as the process sees it: /tmp/perf-NSPID.map
    std::unique_ptr<PerfMap> perf_map;
    bool perf_map_stale = true;  // re-read the perf map on a miss, once per snapshot
    std::unordered_map<std::uint64_t, Symbolized> jit_cache;
  };
  struct Module {
    ModuleInfo info;
    std::string open_path;  // the path as its process sees it
    UniqueFd fd;            // held open from the first snapshot so exits don't lose it
    std::optional<DebugSearch> search;  // where its debug files may be, and whose they may be
    std::unique_ptr<ElfSymbolizer> elf;
    ModuleId canonical = 0;  // first module with the same build id
    bool tried = false;
  };

  ModuleId intern_file(pid_t pid, const Process& process, const Mapping& m);
  void refuse(pid_t pid, const std::string& path, const OpenedFile& file);
  ModuleId intern_named(const std::string& name);
  ElfSymbolizer* elf_for(ModuleId id);
  const Symbolized* cached(ModuleId module, std::uint64_t address, const auto& compute);

  std::vector<Module> modules_;
  std::map<std::tuple<std::uint64_t, std::uint64_t, std::string>, ModuleId> files_;  // (dev, inode, path)
  std::map<std::string, ModuleId> named_;
  std::map<std::string, ModuleId> by_build_id_;
  std::unordered_map<pid_t, Process> processes_;
  std::unordered_map<std::uint64_t, std::unordered_map<std::uint64_t, Symbolized>> cache_;
  std::string kallsyms_path_;
  std::unique_ptr<KernelSymbols> kernel_;
  UniqueFd vdso_fd_;
  std::vector<Refusal> refusals_;
  std::set<std::string> refused_;  // "pid path": reported already
};

}  // namespace hotline
