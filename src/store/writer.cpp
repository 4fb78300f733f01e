#include "store/writer.h"
#include "store/meta_keys.h"

#include <fmt/format.h>

#include "store/schema.h"
#include "util/files.h"

namespace hotline {

// SQLite refuses a symlink anywhere in the path with SQLITE_OPEN_NOFOLLOW; only the last
// component must not be one (the file was created O_NOFOLLOW|O_EXCL): the directory part is
// resolved first.
RecordingWriter::RecordingWriter(const std::string& path)
    : db_(with_resolved_directory(path), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX) {
  // WAL: readers (top, query, the live view) never block the writer. synchronous=NORMAL in
  // WAL mode keeps every committed checkpoint across a crash of hotline itself.
  db_.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;");
  db_.exec(fmt::format("PRAGMA application_id={}; PRAGMA user_version={};", 0x686f746c /* 'hotl' */,
                       kSchemaVersion));
  db_.exec("BEGIN");
  db_.exec(kSchemaSql);
  db_.exec(kCpuSamplesView);
  db_.exec(kHeapSamplesView);
  db_.exec("COMMIT");
  set_meta_ = Statement(db_, "INSERT INTO meta(key, value) VALUES (?, ?) "
                             "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  add_checkpoint_ = Statement(db_, "INSERT INTO checkpoints(id, ms) VALUES (?, ?)");
  add_module_ = Statement(db_, "INSERT INTO modules(id, path, build_id) VALUES (?, ?, ?)");
  add_segment_ = Statement(db_, "INSERT INTO module_segments(module_id, start, end_address, file_offset) "
                                "VALUES (?, ?, ?, ?)");
  add_location_ = Statement(db_, "INSERT INTO locations(id, module_id, address) VALUES (?, ?, ?)");
  add_frame_ = Statement(db_, "INSERT INTO frames(id, function, file, line, inline_depth, module_id) "
                              "VALUES (?, ?, ?, ?, ?, ?)");
  add_stack_ = Statement(db_, "INSERT INTO stacks(id, parent, frame_id, location_id) VALUES (?, ?, ?, ?)");
  add_type_ = Statement(db_, "INSERT INTO sample_types(id, name, unit) VALUES (?, ?, ?)");
  add_sample_ = Statement(db_, "INSERT INTO samples(checkpoint_id, type_id, stack_id, pid, tid, value) "
                               "VALUES (?, ?, ?, ?, ?, ?)");
  upsert_process_ = Statement(db_, "INSERT INTO processes(pid, parent_pid, comm, exe, start_ms) "
                                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT(pid) DO UPDATE SET "
                                   "comm = excluded.comm, exe = excluded.exe, exit_ms = NULL");
  process_exited_ = Statement(db_, "UPDATE processes SET exit_ms = ? WHERE pid = ?");
  add_thread_ = Statement(db_, "INSERT OR IGNORE INTO threads(tid, pid, comm) VALUES (?, ?, ?)");
  add_event_ = Statement(db_, "INSERT INTO events(ms, pid, ppid, comm, kind, exit_code, signal, detail, argv0, "
                              "by_hotline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  set_meta(meta_key::format, kFormatName);
  set_meta(meta_key::schema_version, std::to_string(kSchemaVersion));
}

void RecordingWriter::set_meta(const std::string& key, const std::string& value) {
  set_meta_.bind(1, key).bind(2, value).run();
}

std::int64_t RecordingWriter::begin_checkpoint(std::int64_t ms) {
  db_.exec("BEGIN");
  in_transaction_ = true;
  std::int64_t id = next_checkpoint_++;
  add_checkpoint_.bind(1, id).bind(2, ms).run();
  return id;
}

void RecordingWriter::commit_checkpoint() {
  if (!in_transaction_) return;
  db_.exec("COMMIT");
  in_transaction_ = false;
}

std::int64_t RecordingWriter::module_id(const std::string& path, const std::string& build_id,
                                        const std::vector<SegmentRow>& segments) {
  auto [it, inserted] = modules_.try_emplace({path, build_id}, static_cast<std::int64_t>(modules_.size() + 1));
  if (inserted) {
    add_module_.bind(1, it->second).bind(2, path);
    if (build_id.empty()) add_module_.bind(3, std::nullopt);
    else add_module_.bind(3, build_id);
    add_module_.run();
    for (const SegmentRow& s : segments) {
      add_segment_.bind(1, it->second)
          .bind(2, static_cast<std::int64_t>(s.start))
          .bind(3, static_cast<std::int64_t>(s.end))
          .bind(4, static_cast<std::int64_t>(s.file_offset))
          .run();
    }
  }
  return it->second;
}

std::int64_t RecordingWriter::location_id(std::int64_t module_id, std::uint64_t address) {
  auto [it, inserted] =
      locations_.try_emplace({module_id, address}, static_cast<std::int64_t>(locations_.size() + 1));
  if (inserted) {
    add_location_.bind(1, it->second).bind(2, module_id).bind(3, static_cast<std::int64_t>(address)).run();
  }
  return it->second;
}

std::int64_t RecordingWriter::frame_id(const FrameRow& frame) {
  auto [it, inserted] = frames_.try_emplace(frame, static_cast<std::int64_t>(frames_.size() + 1));
  if (inserted) {
    add_frame_.bind(1, it->second).bind(2, frame.function);
    if (frame.file.empty()) add_frame_.bind(3, std::nullopt);
    else add_frame_.bind(3, frame.file);
    if (frame.line <= 0) add_frame_.bind(4, std::nullopt);
    else add_frame_.bind(4, std::int64_t{frame.line});
    add_frame_.bind(5, std::int64_t{frame.inline_depth}).bind(6, frame.module_id).run();
  }
  return it->second;
}

std::int64_t RecordingWriter::stack_node(std::int64_t parent, std::int64_t frame_id,
                                         std::int64_t location_id) {
  auto [it, inserted] = stacks_.try_emplace({parent, frame_id, location_id},
                                            static_cast<std::int64_t>(stacks_.size() + 1));
  if (inserted) {
    add_stack_.bind(1, it->second);
    if (parent == 0) add_stack_.bind(2, std::nullopt);
    else add_stack_.bind(2, parent);
    add_stack_.bind(3, frame_id).bind(4, location_id).run();
  }
  return it->second;
}

std::int64_t RecordingWriter::sample_type(const SampleType& type) {
  auto [it, inserted] = types_.try_emplace(type.name, static_cast<std::int64_t>(types_.size() + 1));
  if (inserted) add_type_.bind(1, it->second).bind(2, type.name).bind(3, type.unit).run();
  return it->second;
}

void RecordingWriter::add_sample(std::int64_t checkpoint, std::int64_t stack, pid_t pid, pid_t tid,
                                 std::span<const SampleValue> values) {
  for (const SampleValue& v : values) {
    if (v.value == 0) continue;
    add_sample_.bind(1, checkpoint)
        .bind(2, v.type)
        .bind(3, stack)
        .bind(4, std::int64_t{pid})
        .bind(5, std::int64_t{tid})
        .bind(6, static_cast<std::int64_t>(v.value))
        .run();
  }
}

void RecordingWriter::upsert_process(pid_t pid, std::optional<pid_t> parent, const std::string& comm,
                                     const std::string& exe, std::int64_t start_ms) {
  upsert_process_.bind(1, std::int64_t{pid});
  if (parent) upsert_process_.bind(2, std::int64_t{*parent});
  else upsert_process_.bind(2, std::nullopt);
  upsert_process_.bind(3, comm);
  if (exe.empty()) upsert_process_.bind(4, std::nullopt);
  else upsert_process_.bind(4, exe);
  upsert_process_.bind(5, start_ms).run();
}

void RecordingWriter::process_exited(pid_t pid, std::int64_t ms) {
  process_exited_.bind(1, ms).bind(2, std::int64_t{pid}).run();
}

void RecordingWriter::add_event(const LifecycleEvent& e) {
  add_event_.bind(1, e.ms).bind(2, e.pid);
  if (e.ppid) add_event_.bind(3, *e.ppid);
  else add_event_.bind(3, std::nullopt);
  add_event_.bind(4, e.comm).bind(5, std::string(event_kind_name(e.kind)));
  if (e.exit_code) add_event_.bind(6, std::int64_t{*e.exit_code});
  else add_event_.bind(6, std::nullopt);
  if (e.signal) add_event_.bind(7, std::int64_t{*e.signal});
  else add_event_.bind(7, std::nullopt);
  if (e.detail.empty()) add_event_.bind(8, std::nullopt);
  else add_event_.bind(8, e.detail);
  if (e.argv0.empty()) add_event_.bind(9, std::nullopt);
  else add_event_.bind(9, e.argv0);
  add_event_.bind(10, std::int64_t{e.by_hotline ? 1 : 0}).run();
}

void RecordingWriter::add_thread(pid_t tid, pid_t pid, const std::string& comm) {
  if (threads_.emplace(tid, comm).second) {
    add_thread_.bind(1, std::int64_t{tid}).bind(2, std::int64_t{pid}).bind(3, comm).run();
  }
}

bool RecordingWriter::abandon() {
  if (in_transaction_) {
    in_transaction_ = false;
    try {
      db_.exec("ROLLBACK");
    } catch (const Error&) {
      // SQLite rolled it back itself (a failed commit may do so).
    }
  }
  try {
    // A row (busy, frames in the log, frames folded): all folded, and the log emptied.
    Statement st(db_, "PRAGMA wal_checkpoint(TRUNCATE)");
    return st.step() && st.column_int(0) == 0 && st.column_int(1) == st.column_int(2);
  } catch (const Error&) {
    return false;
  }
}

void RecordingWriter::finish() {
  commit_checkpoint();
  db_.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
}

}  // namespace hotline
