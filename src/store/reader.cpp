#include "store/reader.h"

#include <map>
#include <tuple>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "store/schema.h"
#include "util/error.h"
#include "util/fd.h"

namespace hotline {
namespace {

void check_sqlite_header(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    int err = errno;
    throw Error(err == EACCES ? ExitCode::permission : ExitCode::database,
                errno_text("cannot open " + path, err),
                err == ENOENT ? "check the file name" : "check the file's permissions (recordings are private, mode 0600)");
  }
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
  if (meta_or("format") != kFormatName) {
    throw Error(ExitCode::database, fmt::format("{} is not a hotline recording", path),
                "give a file written by 'hotline record'");
  }
  std::int64_t version = meta_int("schema_version", -1);
  if (version > kSchemaVersion) {
    throw Error(ExitCode::database,
                fmt::format("{} was written by a newer hotline (recording format {}, this hotline reads up to {})",
                            path, version, kSchemaVersion),
                "upgrade hotline to read it");
  }
  if (version < 1) {
    throw Error(ExitCode::database, fmt::format("{} has an invalid schema version", path));
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

std::vector<CheckpointRow> RecordingReader::checkpoints() const {
  std::vector<CheckpointRow> out;
  Statement st(db_, "SELECT id, ms FROM checkpoints ORDER BY id");
  while (st.step()) out.push_back({st.column_int(0), st.column_int(1)});
  return out;
}

std::unordered_map<std::int64_t, FrameInfo> RecordingReader::frames() const {
  std::unordered_map<std::int64_t, FrameInfo> out;
  Statement st(db_, "SELECT id, function, file, line, inline_depth, module_id FROM frames");
  while (st.step()) {
    out[st.column_int(0)] = {st.column_text(1), st.column_text(2), static_cast<int>(st.column_int(3)),
                             static_cast<int>(st.column_int(4)), st.column_int(5)};
  }
  return out;
}

std::unordered_map<std::int64_t, StackNode> RecordingReader::stacks() const {
  std::unordered_map<std::int64_t, StackNode> out;
  Statement st(db_, "SELECT id, parent, frame_id, location_id FROM stacks");
  while (st.step()) out[st.column_int(0)] = {st.column_int(1), st.column_int(2), st.column_int(3)};
  return out;
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

std::vector<CpuSampleRow> RecordingReader::cpu_samples(const std::vector<std::int64_t>& checkpoints) const {
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, std::uint64_t> sums;
  Statement st(db_, "SELECT stack_id, pid, tid, SUM(count) FROM cpu_samples WHERE checkpoint_id = ? "
                    "GROUP BY stack_id, pid, tid");
  for (std::int64_t id : checkpoints) {
    st.bind(1, id);
    while (st.step()) {
      sums[{st.column_int(0), st.column_int(1), st.column_int(2)}] += static_cast<std::uint64_t>(st.column_int(3));
    }
    st.reset();
  }
  std::vector<CpuSampleRow> out;
  out.reserve(sums.size());
  for (const auto& [key, count] : sums) out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key), count});
  return out;
}

std::unordered_map<std::int64_t, std::uint64_t> RecordingReader::cpu_counts(
    const std::vector<std::int64_t>& checkpoints) const {
  std::unordered_map<std::int64_t, std::uint64_t> out;
  Statement st(db_, "SELECT stack_id, SUM(count) FROM cpu_samples WHERE checkpoint_id = ? GROUP BY stack_id");
  for (std::int64_t id : checkpoints) {
    st.bind(1, id);
    while (st.step()) out[st.column_int(0)] += static_cast<std::uint64_t>(st.column_int(1));
    st.reset();
  }
  return out;
}

bool RecordingReader::has_heap_table() const {
  Statement st(db_, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'heap_samples'");
  return st.step() && st.column_int(0) > 0;
}

std::unordered_map<std::int64_t, RecordingReader::HeapCounts> RecordingReader::heap_counts(
    const std::vector<std::int64_t>& checkpoints) const {
  std::unordered_map<std::int64_t, HeapCounts> out;
  if (!has_heap_table()) return out;
  Statement st(db_, "SELECT stack_id, SUM(alloc_bytes), SUM(alloc_count), SUM(free_bytes), SUM(free_count) "
                    "FROM heap_samples WHERE checkpoint_id = ? GROUP BY stack_id");
  for (std::int64_t id : checkpoints) {
    st.bind(1, id);
    while (st.step()) {
      HeapCounts& h = out[st.column_int(0)];
      h.alloc_bytes += st.column_int(1);
      h.alloc_count += st.column_int(2);
      h.free_bytes += st.column_int(3);
      h.free_count += st.column_int(4);
    }
    st.reset();
  }
  return out;
}

}  // namespace hotline
