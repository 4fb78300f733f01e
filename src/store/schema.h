#pragma once
// The recording format. docs/storage.md documents every table; bump kSchemaVersion on any
// incompatible change (readers refuse newer versions with a clear message).
namespace hotline {

// 1: CPU only (cpu_samples). 2: adds heap_samples. 3: one `samples` table of typed values
// (sample_types) and the executable segments of every module (module_segments);
// cpu_samples and heap_samples remain as views over `samples`, for queries written against
// 1 and 2. 4: adds `events`, the lifecycle of the recorded processes (fork, exec, exit and
// how). Readers read all four.
inline constexpr int kSchemaVersion = 4;
inline constexpr const char* kFormatName = "hotline-recording";

inline constexpr const char* kSchemaSql = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,          -- 1, 2, ... in time order
  ms INTEGER NOT NULL              -- end of the checkpoint, ms since the recording started
);

CREATE TABLE processes (
  pid        INTEGER PRIMARY KEY,  -- as seen from the initial PID namespace
  parent_pid INTEGER,
  comm       TEXT NOT NULL,
  exe        TEXT,
  start_ms   INTEGER NOT NULL,     -- when hotline started tracking it
  exit_ms    INTEGER               -- when it exited, NULL if alive at the end
);

CREATE TABLE threads (
  tid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  comm TEXT NOT NULL,
  PRIMARY KEY (tid, comm)
) WITHOUT ROWID;

CREATE TABLE modules (
  id       INTEGER PRIMARY KEY,
  path     TEXT NOT NULL,          -- mapped file, or [kernel], [vdso], [jit], [unknown]
  build_id TEXT                    -- hex GNU build id, NULL when none
);

-- The executable PT_LOAD segments of a module's file, read when it was recorded: exports
-- never open the profiled files again.
CREATE TABLE module_segments (
  module_id   INTEGER NOT NULL REFERENCES modules(id),
  start       INTEGER NOT NULL,    -- ELF virtual address
  end_address INTEGER NOT NULL,    -- exclusive
  file_offset INTEGER NOT NULL
);

CREATE TABLE locations (
  id        INTEGER PRIMARY KEY,
  module_id INTEGER NOT NULL REFERENCES modules(id),
  address   INTEGER NOT NULL       -- ELF virtual address in the module (absolute for the kernel)
);

CREATE TABLE frames (
  id           INTEGER PRIMARY KEY,
  function     TEXT NOT NULL,      -- demangled
  file         TEXT,               -- source file, NULL when unknown
  line         INTEGER,            -- source line, NULL when unknown
  inline_depth INTEGER NOT NULL,   -- 0: the function the code belongs to; k: inlined k levels into it
  module_id    INTEGER NOT NULL REFERENCES modules(id)
);

-- Call stacks as a prefix tree, root (outermost caller) to leaf (where the sample hit).
-- An address with inlined calls contributes one node per inline level, outermost first.
CREATE TABLE stacks (
  id          INTEGER PRIMARY KEY,
  parent      INTEGER REFERENCES stacks(id),   -- NULL for a root
  frame_id    INTEGER NOT NULL REFERENCES frames(id),
  location_id INTEGER NOT NULL REFERENCES locations(id)
);

-- What collectors measure: one row per kind of value (`cpu` samples, heap bytes, ...).
CREATE TABLE sample_types (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  unit TEXT NOT NULL               -- samples, bytes, count, nanoseconds
);

-- Every collector's values per checkpoint, stack, process and thread: the checkpoint's own
-- amount (heap: allocated or freed during it, of blocks allocated at that stack).
CREATE TABLE samples (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  type_id       INTEGER NOT NULL REFERENCES sample_types(id),
  stack_id      INTEGER NOT NULL REFERENCES stacks(id),  -- the leaf node
  pid           INTEGER NOT NULL,
  tid           INTEGER NOT NULL,  -- 0 when the collector does not tell threads apart
  value         INTEGER NOT NULL
);
CREATE INDEX samples_by_checkpoint ON samples(checkpoint_id, type_id);

-- The lifecycle of the recorded processes, in the order hotline heard of it.
CREATE TABLE events (
  ms        INTEGER NOT NULL,      -- when it happened, ms since the recording started
  pid       INTEGER NOT NULL,
  ppid      INTEGER,               -- the parent (fork: the process that forked it)
  comm      TEXT NOT NULL,         -- the process's name (fork: the parent's, which the child shares)
  kind      TEXT NOT NULL,         -- fork, exec, exit, killed, core_dumped, oom_killed
  exit_code INTEGER,               -- exit: its code; NULL when not an exit or not known
  signal    INTEGER,               -- killed, core_dumped, oom_killed: the signal's number
  detail    TEXT,                  -- exec: the new executable; exit: why the status is unknown
  argv0     TEXT,                  -- exec: the new program's argv[0] (no other argument is read)
  by_hotline INTEGER NOT NULL      -- 1: hotline sent the signal (it stops what it launched when the
                                   -- recording ends)
);
)sql";

// The tables of schema 1 and 2, as views over `samples`: queries written against them keep
// working. Readers accept these views only with exactly this text.
inline constexpr const char* kCpuSamplesView =
    "CREATE VIEW cpu_samples(checkpoint_id, stack_id, pid, tid, count) AS "
    "SELECT s.checkpoint_id, s.stack_id, s.pid, s.tid, s.value FROM samples s "
    "JOIN sample_types t ON t.id = s.type_id WHERE t.name = 'cpu'";
inline constexpr const char* kHeapSamplesView =
    "CREATE VIEW heap_samples(checkpoint_id, stack_id, pid, alloc_bytes, alloc_count, free_bytes, free_count) AS "
    "SELECT s.checkpoint_id, s.stack_id, s.pid, "
    "SUM(CASE t.name WHEN 'heap_alloc_bytes' THEN s.value ELSE 0 END), "
    "SUM(CASE t.name WHEN 'heap_alloc_count' THEN s.value ELSE 0 END), "
    "SUM(CASE t.name WHEN 'heap_free_bytes' THEN s.value ELSE 0 END), "
    "SUM(CASE t.name WHEN 'heap_free_count' THEN s.value ELSE 0 END) "
    "FROM samples s JOIN sample_types t ON t.id = s.type_id "
    "WHERE t.name IN ('heap_alloc_bytes', 'heap_alloc_count', 'heap_free_bytes', 'heap_free_count') "
    "GROUP BY s.checkpoint_id, s.stack_id, s.pid";

}  // namespace hotline
