#pragma once
// The recording format. docs/storage.md documents every table; bump kSchemaVersion on any
// incompatible change (readers refuse newer versions with a clear message).
namespace hotline {

// 1: CPU only. 2: adds heap_samples (a version-1 file simply has no heap data).
inline constexpr int kSchemaVersion = 2;
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

CREATE TABLE cpu_samples (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  stack_id      INTEGER NOT NULL REFERENCES stacks(id),  -- the leaf node
  pid           INTEGER NOT NULL,
  tid           INTEGER NOT NULL,
  count         INTEGER NOT NULL
);
CREATE INDEX cpu_samples_by_checkpoint ON cpu_samples(checkpoint_id);

-- Heap activity per checkpoint and allocation stack (changes during the checkpoint): live
-- bytes of a stack at checkpoint n = sum over checkpoints <= n of alloc_bytes - free_bytes.
CREATE TABLE heap_samples (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  stack_id      INTEGER NOT NULL REFERENCES stacks(id),  -- leaf: the line that called the allocator
  pid           INTEGER NOT NULL,
  alloc_bytes   INTEGER NOT NULL,
  alloc_count   INTEGER NOT NULL,
  free_bytes    INTEGER NOT NULL,  -- of blocks allocated at this stack, freed in this checkpoint
  free_count    INTEGER NOT NULL
);
CREATE INDEX heap_samples_by_checkpoint ON heap_samples(checkpoint_id);
)sql";

}  // namespace hotline
