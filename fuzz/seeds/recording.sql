PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES('command','tests/fixtures/single');
INSERT INTO meta VALUES('cpu_frequency_hz','99');
INSERT INTO meta VALUES('dropped_samples','0');
INSERT INTO meta VALUES('duration_ms','2000');
INSERT INTO meta VALUES('end_time','2026-11-23T14:45:47.257Z');
INSERT INTO meta VALUES('exe','tests/fixtures/single');
INSERT INTO meta VALUES('format','hotline-recording');
INSERT INTO meta VALUES('hotline_version','0.1.0');
INSERT INTO meta VALUES('interval_ms','1000');
INSERT INTO meta VALUES('lost_events','0');
INSERT INTO meta VALUES('lost_kernel_stacks','0');
INSERT INTO meta VALUES('lost_user_stacks','0');
INSERT INTO meta VALUES('map_bytes','34754632');
INSERT INTO meta VALUES('mode','launch');
INSERT INTO meta VALUES('pids','5367');
INSERT INTO meta VALUES('process_name','single');
INSERT INTO meta VALUES('samples','191');
INSERT INTO meta VALUES('schema_version','1');
INSERT INTO meta VALUES('start_time','2026-11-23T14:45:45.246Z');
INSERT INTO meta VALUES('truncated_stacks','0');
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,          -- 1, 2, ... in time order
  ms INTEGER NOT NULL              -- end of the checkpoint, ms since the recording started
);
INSERT INTO checkpoints VALUES(1,1000);
INSERT INTO checkpoints VALUES(2,2000);
CREATE TABLE processes (
  pid        INTEGER PRIMARY KEY,  -- as seen from the initial PID namespace
  parent_pid INTEGER,
  comm       TEXT NOT NULL,
  exe        TEXT,
  start_ms   INTEGER NOT NULL,     -- when hotline started tracking it
  exit_ms    INTEGER               -- when it exited, NULL if alive at the end
);
INSERT INTO processes VALUES(5367,5366,'single','/work/main/build/tests/fixtures/single',68,NULL);
CREATE TABLE threads (
  tid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  comm TEXT NOT NULL,
  PRIMARY KEY (tid, comm)
) WITHOUT ROWID;
INSERT INTO threads VALUES(5367,5367,'single');
CREATE TABLE modules (
  id       INTEGER PRIMARY KEY,
  path     TEXT NOT NULL,          -- mapped file, or [kernel], [vdso], [jit], [unknown]
  build_id TEXT                    -- hex GNU build id, NULL when none
);
INSERT INTO modules VALUES(1,'/usr/lib/x86_64-linux-gnu/libc.so.6','93ac61ec5a8eb1396f9fbd350e3169a558528a40');
INSERT INTO modules VALUES(2,'/work/main/build/tests/fixtures/single','f69b58078900a644d9967a79e51018020da70600');
CREATE TABLE locations (
  id        INTEGER PRIMARY KEY,
  module_id INTEGER NOT NULL REFERENCES modules(id),
  address   INTEGER NOT NULL       -- ELF virtual address in the module (absolute for the kernel)
);
INSERT INTO locations VALUES(1,1,160329);
INSERT INTO locations VALUES(2,2,4596);
INSERT INTO locations VALUES(3,2,4707);
INSERT INTO locations VALUES(4,2,4727);
INSERT INTO locations VALUES(5,2,4717);
CREATE TABLE frames (
  id           INTEGER PRIMARY KEY,
  function     TEXT NOT NULL,      -- demangled
  file         TEXT,               -- source file, NULL when unknown
  line         INTEGER,            -- source line, NULL when unknown
  inline_depth INTEGER NOT NULL,   -- 0: the function the code belongs to; k: inlined k levels into it
  module_id    INTEGER NOT NULL REFERENCES modules(id)
);
INSERT INTO frames VALUES(1,'__libc_start_call_main','../sysdeps/nptl/libc_start_call_main.h',58,0,1);
INSERT INTO frames VALUES(2,'main','/work/main/tests/fixtures/single.c',26,0,2);
INSERT INTO frames VALUES(3,'mix','/work/main/tests/fixtures/single.c',12,0,2);
CREATE TABLE stacks (
  id          INTEGER PRIMARY KEY,
  parent      INTEGER REFERENCES stacks(id),   -- NULL for a root
  frame_id    INTEGER NOT NULL REFERENCES frames(id),
  location_id INTEGER NOT NULL REFERENCES locations(id)
);
INSERT INTO stacks VALUES(1,NULL,1,1);
INSERT INTO stacks VALUES(2,1,2,2);
INSERT INTO stacks VALUES(3,2,3,3);
INSERT INTO stacks VALUES(4,2,3,4);
INSERT INTO stacks VALUES(5,2,3,5);
CREATE TABLE cpu_samples (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  stack_id      INTEGER NOT NULL REFERENCES stacks(id),  -- the leaf node
  pid           INTEGER NOT NULL,
  tid           INTEGER NOT NULL,
  count         INTEGER NOT NULL
);
INSERT INTO cpu_samples VALUES(1,3,5367,5367,26);
INSERT INTO cpu_samples VALUES(1,4,5367,5367,37);
INSERT INTO cpu_samples VALUES(1,5,5367,5367,29);
INSERT INTO cpu_samples VALUES(2,4,5367,5367,32);
INSERT INTO cpu_samples VALUES(2,3,5367,5367,34);
INSERT INTO cpu_samples VALUES(2,5,5367,5367,33);
CREATE INDEX cpu_samples_by_checkpoint ON cpu_samples(checkpoint_id);
COMMIT;
