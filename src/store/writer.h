#pragma once
// Writes one recording. Every checkpoint is one transaction: a recording killed at any
// moment keeps every checkpoint committed before. Frames, locations, modules and stack
// nodes are interned: each is stored once.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "store/events.h"
#include "store/sample_types.h"
#include "store/sqlite.h"

namespace hotline {

struct FrameRow {
  std::string function;
  std::string file;  // "" = unknown
  int line = 0;      // 0 = unknown
  int inline_depth = 0;
  std::int64_t module_id = 0;
  auto operator<=>(const FrameRow&) const = default;
};

// An executable segment of a module's file, in its ELF virtual addresses.
struct SegmentRow {
  std::uint64_t start = 0, end = 0, file_offset = 0;
};

// One value of a sample: `type` is an id from RecordingWriter::sample_type.
struct SampleValue {
  std::int64_t type = 0;
  std::uint64_t value = 0;
};

class RecordingWriter {
 public:
  // `path` must already exist, empty, created private (create_private_file).
  explicit RecordingWriter(const std::string& path);

  void set_meta(const std::string& key, const std::string& value);

  // Starts the checkpoint's transaction; returns its id.
  std::int64_t begin_checkpoint(std::int64_t ms);
  void commit_checkpoint();

  // `segments`: the file's executable segments, stored with the module the first time.
  std::int64_t module_id(const std::string& path, const std::string& build_id,
                         const std::vector<SegmentRow>& segments = {});
  std::int64_t location_id(std::int64_t module_id, std::uint64_t address);
  std::int64_t frame_id(const FrameRow& frame);
  // 0 = no parent (root).
  std::int64_t stack_node(std::int64_t parent, std::int64_t frame_id, std::int64_t location_id);

  // The id of a kind of value, registered the first time it is asked for.
  std::int64_t sample_type(const SampleType& type);
  // A stack's values in a checkpoint (tid 0: not per thread). Zero values are not stored.
  void add_sample(std::int64_t checkpoint, std::int64_t stack, pid_t pid, pid_t tid,
                  std::span<const SampleValue> values);
  void upsert_process(pid_t pid, std::optional<pid_t> parent, const std::string& comm,
                      const std::string& exe, std::int64_t start_ms);
  void process_exited(pid_t pid, std::int64_t ms);
  void add_thread(pid_t tid, pid_t pid, const std::string& comm);
  // A process lifecycle event (the `events` table).
  void add_event(const LifecycleEvent& event);

  // Final step: leaves a single self-contained file (WAL folded back, rollback journal).
  void finish();
  // After DiskFull: the checkpoint in progress is dropped (what was committed stays), and
  // the write-ahead log is folded into the file if the space left allows; true if it was.
  bool abandon();

 private:
  Database db_;
  Statement set_meta_, add_checkpoint_, add_module_, add_segment_, add_location_, add_frame_, add_stack_,
      add_type_, add_sample_, upsert_process_, process_exited_, add_thread_, add_event_;
  std::map<std::string, std::int64_t> types_;
  std::map<std::pair<std::string, std::string>, std::int64_t> modules_;
  std::map<std::pair<std::int64_t, std::uint64_t>, std::int64_t> locations_;
  std::map<FrameRow, std::int64_t> frames_;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::int64_t> stacks_;
  std::set<std::pair<pid_t, std::string>> threads_;
  std::int64_t next_checkpoint_ = 1;
  bool in_transaction_ = false;
};

}  // namespace hotline
