#pragma once
// Read-only access to a recording. Opening validates that the file is a hotline recording
// of a schema this build understands (Error(database), exit 6, otherwise).
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/events.h"
#include "store/sample_types.h"
#include "store/sqlite.h"

namespace hotline {

struct CheckpointRow {
  std::int64_t id;
  std::int64_t ms;
};

struct FrameInfo {
  std::string function;
  std::string file;
  int line = 0;
  int inline_depth = 0;
  std::int64_t module_id = 0;
};

struct StackNode {
  std::int64_t parent = 0;  // 0 = root
  std::int64_t frame_id = 0;
  std::int64_t location_id = 0;
};

struct ModuleRow {
  std::string path;
  std::string build_id;  // hex, or empty
};

struct LocationRow {
  std::int64_t module_id = 0;
  std::uint64_t address = 0;  // ELF virtual address in the module (return addresses minus one)
};

// An executable segment of a module's file (schema 3 on; none in older recordings).
struct SegmentInfo {
  std::uint64_t start = 0, end = 0, file_offset = 0;
};

struct CpuSampleRow {
  std::int64_t stack = 0;  // leaf node
  std::int64_t pid = 0, tid = 0;
  std::uint64_t count = 0;
};

class RecordingReader {
 public:
  explicit RecordingReader(const std::string& path);

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& meta() const { return meta_; }
  std::string meta_or(const std::string& key, const std::string& fallback = "") const;
  std::int64_t meta_int(const std::string& key, std::int64_t fallback = 0) const;
  const Database& db() const { return db_; }
  int schema_version() const { return version_; }

  std::vector<CheckpointRow> checkpoints() const;
  // Those with an id above `after` (a reader following a live recording).
  std::vector<CheckpointRow> checkpoints_after(std::int64_t after) const;
  std::unordered_map<std::int64_t, FrameInfo> frames() const;
  std::unordered_map<std::int64_t, StackNode> stacks() const;
  // Rows with an id above `after` added to `out`; returns the highest id now read (the
  // writer only appends, so a reader following a live recording asks for what is new).
  std::int64_t frames_after(std::int64_t after, std::unordered_map<std::int64_t, FrameInfo>& out) const;
  std::int64_t stacks_after(std::int64_t after, std::unordered_map<std::int64_t, StackNode>& out) const;
  std::unordered_map<std::int64_t, ModuleRow> modules() const;
  std::unordered_map<std::int64_t, LocationRow> locations() const;
  std::unordered_map<std::int64_t, std::string> thread_names() const;  // tid -> comm (one of them when a thread was renamed)
  // Sample counts per (leaf stack node, pid, tid), over the given checkpoint ids.
  std::vector<CpuSampleRow> cpu_samples(const std::vector<std::int64_t>& checkpoints) const;
  // Values of one sample type per (leaf stack node, pid, tid), over the given checkpoint ids
  // (empty when the recording holds none of that type, or is older than schema 3).
  std::vector<CpuSampleRow> samples_of(const SampleType& type, const std::vector<std::int64_t>& checkpoints) const;
  // Whether the recording holds values of this type at all.
  bool has_type(const SampleType& type) const { return type_id(type) >= 0; }
  // Sample counts per leaf stack node, over the given checkpoint ids.
  std::unordered_map<std::int64_t, std::uint64_t> cpu_counts(const std::vector<std::int64_t>& checkpoints) const;

  struct HeapCounts {
    std::int64_t alloc_bytes = 0, alloc_count = 0, free_bytes = 0, free_count = 0;
  };
  // Heap activity per leaf stack node, summed over the given checkpoints (empty for a
  // recording without heap data).
  std::unordered_map<std::int64_t, HeapCounts> heap_counts(const std::vector<std::int64_t>& checkpoints) const;
  bool has_heap_table() const;
  // The processes' lifecycle events, in the order they were recorded (empty before schema
  // 4; kinds this build does not know are left out).
  // With `after`: only the rows after that rowid, the last one read put in `*last` (a
  // reader following a live recording).
  std::vector<LifecycleEvent> events(std::int64_t after = 0, std::int64_t* last = nullptr) const;
  // Each module's executable segments, as recorded (empty before schema 3).
  std::unordered_map<std::int64_t, std::vector<SegmentInfo>> module_segments() const;

 private:
  std::string path_;
  Database db_;
  std::map<std::string, std::string> meta_;
  int version_ = 0;
  std::map<std::string, std::pair<std::int64_t, std::string>> types_;  // name -> (id, unit)

  void validate_tables() const;
  // A sample type's id in this file, -1 when it holds none of that type.
  std::int64_t type_id(const SampleType& type) const;
};

}  // namespace hotline
