#pragma once
// Loads unwind tables for the BPF unwinder (bpf/unwind.h): for every tracked process, its
// executable mappings with the table of the file each maps, in `unwind_procs`; for every
// such file, its rows (unwind/cfi_table) in an array of `unwind_tables`, its pages in
// `unwind_pages`, its rules in the shared `unwind_rules`.
//
// A file's table is built once, keyed by the mapped inode (and shared by build id), by a
// worker thread: a large binary never stalls a checkpoint; until its table is there, its
// code unwinds by frame pointers (auto) or ends the stack (tables). Processes are (re)read
// when they start, exec, when the loader has mapped their libraries, and when the BPF
// unwinder met an address in no known mapping (a dlopen, a library replaced). Tables no
// process maps any more are evicted when the memory budget needs their room.
//
// A collector without samples: it follows processes through the Collector interface, and
// reports what the tables use as meta.
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "collect/collector.h"
#include "target/proc.h"
#include "target/target_file.h"
#include "unwind/cfi_table.h"
#include "unwind/unwind_maps.h"
#include "util/fd.h"

struct ring_buffer;

namespace hotline {

class TableLoader final : public Collector {
 public:
  struct Options {
    UnwindMapFds maps;
    UnwindMode mode = UnwindMode::automatic;
    std::uint64_t max_bytes = std::uint64_t{64} << 20;  // locked memory of all tables together
    std::uint32_t max_tables = 1024;                     // slots in unwind_tables
    std::uint32_t max_rules = 16384;                     // entries of unwind_rules
    bool verbose = false;
  };
  explicit TableLoader(const Options& options);
  ~TableLoader() override;
  TableLoader(const TableLoader&) = delete;
  TableLoader& operator=(const TableLoader&) = delete;

  std::vector<SampleType> sample_types() const override { return {}; }
  void start(const std::vector<pid_t>& roots, const std::string& command) override;
  void process_changed(pid_t pid, ProcessChange change) override;
  void process_ended(pid_t pid) override;
  void tick() override;
  void finishing(bool) override { tick(); }
  std::vector<StackSample> drain() override;
  MetaEntries meta() const override;
  std::uint64_t map_bytes() const override;

  // Waits (up to `timeout`) until no table is being built, and loads what was built; for
  // tests and benchmarks. Returns whether everything queued was built.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct FileKey {
    std::uint64_t dev = 0, inode = 0;
    auto operator<=>(const FileKey&) const = default;
  };
  struct LoadSegment {
    std::uint64_t vaddr = 0, offset = 0, filesz = 0;  // of an executable PT_LOAD
  };
  // building (by the worker) → built (in memory) → ready (in the BPF maps, when a process
  // maps it); or failed.
  enum class State { building, built, ready, failed };
  struct Table {
    FileKey key;
    std::string path;
    State state = State::building;
    std::string why;  // failed: why
    std::uint32_t slot = HOTLINE_UNWIND_TABLE_NONE;
    UniqueFd rows_fd;
    std::vector<std::uint32_t> pages;
    std::vector<LoadSegment> segments;
    std::optional<CfiTable> built;  // until installed
    std::chrono::nanoseconds took{};
    std::size_t rows = 0;
    std::uint64_t bytes = 0;
    std::set<pid_t> users;
    std::chrono::steady_clock::time_point last_used;
  };
  struct Job {
    FileKey key;
    UniqueFd fd;
  };
  struct Built {
    FileKey key;
    std::optional<CfiTable> table;
    std::vector<LoadSegment> segments;
    std::string why;
    std::chrono::nanoseconds took{};
  };

  void sync(pid_t pid);
  void prebuild(const std::string& command);
  void queue(const FileKey& key, const std::string& path, UniqueFd fd);
  Table* table_for(pid_t pid, const FileOrigin* origin, const Mapping& m);
  void receive(Built& built);
  void install(const std::vector<Table*>& tables);  // into the BPF maps
  bool make_room(std::uint64_t bytes);
  void evict(Table& table);      // out of the maps and forgotten
  void uninstall(Table& table);  // out of the maps
  void worker();
  static int on_request(void* ctx, void* data, std::size_t size);

  Options options_;
  ring_buffer* requests_ = nullptr;
  std::map<FileKey, Table> tables_;
  std::unordered_map<pid_t, std::set<FileKey>> uses_;  // per process: the files it maps
  std::set<pid_t> waiting_;                            // processes to read again when a table is loaded
  std::set<pid_t> requested_;                          // asked by the BPF unwinder, read at the next tick
  std::set<pid_t> tracked_;
  std::map<UnwindRule, std::uint32_t> rules_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t bytes_ = 0;
  std::uint64_t requests_seen_ = 0, syncs_ = 0, mappings_dropped_ = 0, over_budget_ = 0, evictions_ = 0;
  std::chrono::nanoseconds build_time_{};

  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  std::deque<Job> jobs_;
  std::vector<Built> built_;
  bool busy_ = false;
  bool stopping_ = false;
  std::atomic<bool> cancel_{false};  // ends a build in progress (at exit)
  std::thread thread_;
};

}  // namespace hotline
