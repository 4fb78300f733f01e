#include "store/reader.h"
#include "store/meta_keys.h"

#include <algorithm>
#include <limits>

#include <map>
#include <set>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "store/schema.h"
#include "target/target_file.h"
#include "util/error.h"
#include "util/fd.h"

namespace hotline {
namespace {

// A recording is untrusted input: the values it holds are checked as they are read.
constexpr std::int64_t kMaxCount = std::int64_t{1} << 40;  // samples or allocations in one checkpoint
constexpr std::int64_t kMaxBytes = std::int64_t{1} << 50;  // bytes allocated at one site in one checkpoint

[[noreturn]] void impossible(const std::string& path, const std::string& what) {
  throw Error(ExitCode::database, fmt::format("{} holds impossible values ({}): it is damaged or was not written by "
                                              "hotline",
                                              path, what),
              "record again; keep recordings where only you can write them");
}

std::int64_t checked(const std::string& path, std::int64_t v, const char* what, std::int64_t max = kMaxCount) {
  if (v < 0 || v > max) impossible(path, fmt::format("{} {}", what, v));
  return v;
}

// Totals over a whole window stay far from wrapping around.
struct Total {
  const std::string& path;
  std::uint64_t sum = 0;
  void add(std::int64_t v) {
    sum += static_cast<std::uint64_t>(v);
    if (sum > (std::uint64_t{1} << 60)) impossible(path, fmt::format("a total of {}", sum));
  }
};

void check_sqlite_header(const std::string& path) {
  // Looked at before it is opened: a FIFO or a device given as a recording is refused at
  // once (opening a FIFO blocks, a device's open may have effects).
  OpenedFile file = open_host_file(own_origin(), path, {0, {}, true});
  if (!file) {
    if (file.absent) throw Error(ExitCode::database, errno_text("cannot open " + path, ENOENT), "check the file name");
    if (file.refusal.starts_with("is ")) {
      throw Error(ExitCode::database, fmt::format("{} {}, not a recording", path, file.refusal),
                  "give a file written by 'hotline record'");
    }
    throw Error(file.refusal == std::strerror(EACCES) ? ExitCode::permission : ExitCode::database,
                fmt::format("cannot open {}: {}", path, file.refusal),
                "check the file's permissions (recordings are private, mode 0600)");
  }
  UniqueFd fd = std::move(file.fd);
  char header[16] = {};
  ssize_t n = ::read(fd.get(), header, sizeof header);
  if (n != static_cast<ssize_t>(sizeof header) || std::memcmp(header, "SQLite format 3", 16) != 0) {
    throw Error(ExitCode::database, fmt::format("{} is not a hotline recording (not an SQLite file)", path),
                "give a file written by 'hotline record'");
  }
}

}  // namespace

RecordingReader::RecordingReader(const std::string& path) : path_(path) {
  check_sqlite_header(path);
  db_ = Database(path, SQLITE_OPEN_READONLY);
  try {
    Statement st(db_, "SELECT key, value FROM meta");
    while (st.step()) meta_[st.column_text(0)] = st.column_text(1);
  } catch (const Error&) {
    throw Error(ExitCode::database, fmt::format("{} is not a hotline recording (no meta table)", path),
                "give a file written by 'hotline record'");
  }
  if (meta_or(meta_key::format) != kFormatName) {
    throw Error(ExitCode::database, fmt::format("{} is not a hotline recording", path),
                "give a file written by 'hotline record'");
  }
  std::int64_t version = meta_int(meta_key::schema_version, -1);
  if (version > kSchemaVersion) {
    throw Error(ExitCode::database,
                fmt::format("{} was written by a newer hotline (recording format {}, this hotline reads up to {})",
                            path, version, kSchemaVersion),
                "upgrade hotline to read it");
  }
  if (version < 1) {
    throw Error(ExitCode::database, fmt::format("{} has an invalid schema version", path));
  }
  version_ = static_cast<int>(version);
  validate_tables();
  if (version_ >= 3) {
    Statement types(db_, "SELECT id, name, unit FROM sample_types");
    while (types.step()) types_[types.column_text(1)] = {types.column_int(0), types.column_text(2)};
  }
}

// Every table read is a real table: a view in its place (a recursive one never ends) or a
// virtual table is not a recording. Schema 3's compatibility views must be exactly ours.
void RecordingReader::validate_tables() const {
  std::set<std::string> tables = {"meta", "checkpoints", "frames", "stacks", "modules", "locations", "threads",
                                  "processes"};
  std::map<std::string, std::string> views;
  if (version_ == 2) tables.insert("heap_samples");
  if (version_ <= 2) tables.insert("cpu_samples");
  if (version_ >= 3) {
    tables.insert({"module_segments", "sample_types", "samples"});
    views = {{"cpu_samples", kCpuSamplesView}, {"heap_samples", kHeapSamplesView}};
  }
  if (version_ >= 4) tables.insert("events");
  Statement st(db_, "SELECT name, type, COALESCE(sql, '') FROM sqlite_master WHERE name IN ('meta', 'checkpoints', "
                    "'frames', 'stacks', 'modules', 'module_segments', 'locations', 'cpu_samples', 'heap_samples', "
                    "'sample_types', 'samples', 'threads', 'processes', 'events')");
  std::size_t found = 0;
  while (st.step()) {
    const std::string name = st.column_text(0), type = st.column_text(1), sql = st.column_text(2);
    if (auto v = views.find(name); v != views.end()) {
      if (type != "view" || sql != v->second) {
        throw Error(ExitCode::database,
                    fmt::format("{} is not a hotline recording: its '{}' is not the view hotline writes", path_, name),
                    "give a file written by 'hotline record'");
      }
      continue;
    }
    if (type != "table" || !sql.starts_with("CREATE TABLE")) {
      throw Error(ExitCode::database,
                  fmt::format("{} is not a hotline recording: its '{}' is a {}, not a table", path_, name,
                              type == "table" ? "virtual table" : type),
                  "give a file written by 'hotline record'");
    }
    if (tables.contains(name)) ++found;
  }
  // A version-1 file holds no heap_samples; later versions hold every table of theirs.
  if (found < tables.size()) {
    throw Error(ExitCode::database, fmt::format("{} is not a complete hotline recording (tables are missing)", path_),
                "give a file written by 'hotline record'");
  }
}

std::string RecordingReader::meta_or(const std::string& key, const std::string& fallback) const {
  auto it = meta_.find(key);
  return it == meta_.end() ? fallback : it->second;
}

std::int64_t RecordingReader::meta_int(const std::string& key, std::int64_t fallback) const {
  auto it = meta_.find(key);
  if (it == meta_.end()) return fallback;
  try {
    return std::stoll(it->second);
  } catch (...) {
    return fallback;
  }
}

std::vector<CheckpointRow> RecordingReader::checkpoints() const { return checkpoints_after(std::numeric_limits<std::int64_t>::min()); }

std::vector<CheckpointRow> RecordingReader::checkpoints_after(std::int64_t after) const {
  std::vector<CheckpointRow> out;
  Statement st(db_, "SELECT id, ms FROM checkpoints WHERE id > ? ORDER BY id");
  st.bind(1, after);
  while (st.step()) {
    out.push_back({st.column_int(0), checked(path_, st.column_int(1), "checkpoint time", std::int64_t{1} << 50)});
  }
  return out;
}

std::unordered_map<std::int64_t, FrameInfo> RecordingReader::frames() const {
  std::unordered_map<std::int64_t, FrameInfo> out;
  frames_after(std::numeric_limits<std::int64_t>::min(), out);
  return out;
}

std::int64_t RecordingReader::frames_after(std::int64_t after, std::unordered_map<std::int64_t, FrameInfo>& out) const {
  Statement st(db_, "SELECT id, function, file, line, inline_depth, module_id FROM frames WHERE id > ? ORDER BY id");
  st.bind(1, after);
  std::int64_t last = after;
  while (st.step()) {
    last = st.column_int(0);
    out[last] = {st.column_text(1), st.column_text(2), static_cast<int>(st.column_int(3)),
                 static_cast<int>(st.column_int(4)), st.column_int(5)};
  }
  return last;
}

std::unordered_map<std::int64_t, StackNode> RecordingReader::stacks() const {
  std::unordered_map<std::int64_t, StackNode> out;
  stacks_after(std::numeric_limits<std::int64_t>::min(), out);
  return out;
}

std::int64_t RecordingReader::stacks_after(std::int64_t after, std::unordered_map<std::int64_t, StackNode>& out) const {
  Statement st(db_, "SELECT id, parent, frame_id, location_id FROM stacks WHERE id > ? ORDER BY id");
  st.bind(1, after);
  std::int64_t last = after;
  while (st.step()) {
    last = st.column_int(0);
    out[last] = {st.column_int(1), st.column_int(2), st.column_int(3)};
  }
  return last;
}

std::unordered_map<std::int64_t, ModuleRow> RecordingReader::modules() const {
  std::unordered_map<std::int64_t, ModuleRow> out;
  Statement st(db_, "SELECT id, path, build_id FROM modules");
  while (st.step()) out[st.column_int(0)] = {st.column_text(1), st.column_text(2)};
  return out;
}

std::unordered_map<std::int64_t, LocationRow> RecordingReader::locations() const {
  std::unordered_map<std::int64_t, LocationRow> out;
  Statement st(db_, "SELECT id, module_id, address FROM locations");
  while (st.step()) out[st.column_int(0)] = {st.column_int(1), static_cast<std::uint64_t>(st.column_int(2))};
  return out;
}

std::unordered_map<std::int64_t, std::string> RecordingReader::thread_names() const {
  std::unordered_map<std::int64_t, std::string> out;
  Statement st(db_, "SELECT tid, comm FROM threads");
  while (st.step()) out[st.column_int(0)] = st.column_text(1);
  return out;
}

std::vector<LifecycleEvent> RecordingReader::events(std::int64_t after, std::int64_t* last) const {
  std::vector<LifecycleEvent> out;
  if (version_ < 4) return out;
  Statement st(db_, "SELECT ms, pid, ppid, comm, kind, exit_code, signal, detail, argv0, by_hotline, rowid FROM events "
                    "WHERE rowid > ? ORDER BY rowid");
  st.bind(1, after);
  while (st.step()) {
    if (last != nullptr) *last = st.column_int(10);
    auto kind = parse_event_kind(st.column_text(4));
    if (!kind) continue;  // a kind of a newer hotline
    LifecycleEvent e;
    e.ms = st.column_int(0);
    e.pid = st.column_int(1);
    if (!st.column_null(2)) e.ppid = st.column_int(2);
    e.comm = st.column_text(3);
    e.kind = *kind;
    if (!st.column_null(5)) e.exit_code = static_cast<int>(std::clamp<std::int64_t>(st.column_int(5), -1, 255));
    if (!st.column_null(6)) e.signal = static_cast<int>(std::clamp<std::int64_t>(st.column_int(6), 0, 127));
    e.detail = st.column_text(7);
    e.argv0 = st.column_text(8);
    e.by_hotline = st.column_int(9) != 0;
    out.push_back(std::move(e));
  }
  return out;
}

std::int64_t RecordingReader::type_id(const SampleType& type) const {
  auto it = types_.find(type.name);
  return it == types_.end() ? -1 : it->second.first;
}

std::vector<CpuSampleRow> RecordingReader::cpu_samples(const std::vector<std::int64_t>& checkpoints) const {
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::uint64_t> sums;
  Statement st(db_, version_ >= 3 ? "SELECT stack_id, pid, tid, SUM(value) FROM samples WHERE checkpoint_id = ? "
                                    "AND type_id = ? GROUP BY stack_id, pid, tid"
                                  : "SELECT stack_id, pid, tid, SUM(count) FROM cpu_samples WHERE checkpoint_id = ? "
                                    "GROUP BY stack_id, pid, tid");
  Total total{path_};
  for (std::int64_t id : checkpoints) {
    st.bind(1, id);
    if (version_ >= 3) st.bind(2, type_id(sample_types::cpu));
    while (st.step()) {
      const std::int64_t n = checked(path_, st.column_int(3), "sample count");
      total.add(n);
      sums[{st.column_int(0), st.column_int(1), st.column_int(2)}] += static_cast<std::uint64_t>(n);
    }
    st.reset();
  }
  std::vector<CpuSampleRow> out;
  out.reserve(sums.size());
  for (const auto& [key, count] : sums) out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  return out;
}

std::vector<CpuSampleRow> RecordingReader::samples_of(const SampleType& type,
                                                      const std::vector<std::int64_t>& checkpoints) const {
  std::vector<CpuSampleRow> out;
  const std::int64_t type_row = type_id(type);
  if (version_ < 3 || type_row < 0) return out;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::uint64_t> sums;
  Statement st(db_, "SELECT stack_id, pid, tid, SUM(value) FROM samples WHERE checkpoint_id = ? AND type_id = ? "
                    "GROUP BY stack_id, pid, tid");
  Total total{path_};
  for (std::int64_t id : checkpoints) {
    st.bind(1, id).bind(2, type_row);
    while (st.step()) {
      // Nanoseconds of one thread in one checkpoint can be many seconds: bytes' bound.
      const std::int64_t v = checked(path_, st.column_int(3), type.name, kMaxBytes);
      total.add(v);
      sums[{st.column_int(0), st.column_int(1), st.column_int(2)}] += static_cast<std::uint64_t>(v);
    }
    st.reset();
  }
  out.reserve(sums.size());
  for (const auto& [key, v] : sums) out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), v});
  return out;
}

std::unordered_map<std::int64_t, std::uint64_t> RecordingReader::cpu_counts(
    const std::vector<std::int64_t>& checkpoints) const {
  std::unordered_map<std::int64_t, std::uint64_t> out;
  Statement st(db_, version_ >= 3 ? "SELECT stack_id, SUM(value) FROM samples WHERE checkpoint_id = ? AND type_id = ? "
                                    "GROUP BY stack_id"
                                  : "SELECT stack_id, SUM(count) FROM cpu_samples WHERE checkpoint_id = ? "
                                    "GROUP BY stack_id");
  Total total{path_};
  for (std::int64_t id : checkpoints) {
    st.bind(1, id);
    if (version_ >= 3) st.bind(2, type_id(sample_types::cpu));
    while (st.step()) {
      const std::int64_t n = checked(path_, st.column_int(1), "sample count");
      total.add(n);
      out[st.column_int(0)] += static_cast<std::uint64_t>(n);
    }
    st.reset();
  }
  return out;
}

bool RecordingReader::has_heap_table() const {
  if (version_ >= 3) return true;
  Statement st(db_, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'heap_samples'");
  return st.step() && st.column_int(0) > 0;
}

std::unordered_map<std::int64_t, RecordingReader::HeapCounts> RecordingReader::heap_counts(
    const std::vector<std::int64_t>& checkpoints) const {
  std::unordered_map<std::int64_t, HeapCounts> out;
  if (!has_heap_table()) return out;
  Total total{path_};
  if (version_ >= 3) {
    const std::int64_t alloc_bytes = type_id(sample_types::heap_alloc_bytes),
                       alloc_count = type_id(sample_types::heap_alloc_count),
                       free_bytes = type_id(sample_types::heap_free_bytes),
                       free_count = type_id(sample_types::heap_free_count);
    Statement st(db_, "SELECT stack_id, type_id, SUM(value) FROM samples WHERE checkpoint_id = ? "
                      "AND type_id IN (?, ?, ?, ?) GROUP BY stack_id, type_id");
    for (std::int64_t id : checkpoints) {
      st.bind(1, id).bind(2, alloc_bytes).bind(3, alloc_count).bind(4, free_bytes).bind(5, free_count);
      while (st.step()) {
        HeapCounts& h = out[st.column_int(0)];
        const std::int64_t type = st.column_int(1), v = st.column_int(2);
        if (type == alloc_bytes) {
          total.add(v < 0 ? 0 : v);
          h.alloc_bytes += checked(path_, v, "allocated bytes", kMaxBytes);
        } else if (type == alloc_count) {
          h.alloc_count += checked(path_, v, "allocation count");
        } else if (type == free_bytes) {
          h.free_bytes += checked(path_, v, "freed bytes", kMaxBytes);
        } else if (type == free_count) {
          h.free_count += checked(path_, v, "free count");
        }
      }
      st.reset();
    }
    return out;
  }
  Statement st(db_, "SELECT stack_id, SUM(alloc_bytes), SUM(alloc_count), SUM(free_bytes), SUM(free_count) "
                    "FROM heap_samples WHERE checkpoint_id = ? GROUP BY stack_id");
  for (std::int64_t id : checkpoints) {
    st.bind(1, id);
    while (st.step()) {
      HeapCounts& h = out[st.column_int(0)];
      total.add(st.column_int(1) < 0 ? 0 : st.column_int(1));
      h.alloc_bytes += checked(path_, st.column_int(1), "allocated bytes", kMaxBytes);
      h.alloc_count += checked(path_, st.column_int(2), "allocation count");
      h.free_bytes += checked(path_, st.column_int(3), "freed bytes", kMaxBytes);
      h.free_count += checked(path_, st.column_int(4), "free count");
    }
    st.reset();
  }
  return out;
}

std::unordered_map<std::int64_t, std::vector<SegmentInfo>> RecordingReader::module_segments() const {
  std::unordered_map<std::int64_t, std::vector<SegmentInfo>> out;
  if (version_ < 3) return out;
  Statement st(db_, "SELECT module_id, start, end_address, file_offset FROM module_segments ORDER BY module_id, start");
  while (st.step()) {
    const auto start = static_cast<std::uint64_t>(st.column_int(1)), end = static_cast<std::uint64_t>(st.column_int(2));
    if (end <= start) impossible(path_, fmt::format("an executable segment ending before it starts at {:#x}", start));
    out[st.column_int(0)].push_back({start, end, static_cast<std::uint64_t>(st.column_int(3))});
  }
  return out;
}

}  // namespace hotline
