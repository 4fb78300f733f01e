PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES('command','/work/main/build/tests/fixtures/lifecycle');
INSERT INTO meta VALUES('command_status','0');
INSERT INTO meta VALUES('cpu_backend','bpf');
INSERT INTO meta VALUES('cpu_frequency_hz','99');
INSERT INTO meta VALUES('dropped_samples','0');
INSERT INTO meta VALUES('duration_ms','611');
INSERT INTO meta VALUES('end_time','2026-12-02T19:25:32.245Z');
INSERT INTO meta VALUES('exe','/work/main/build/tests/fixtures/lifecycle');
INSERT INTO meta VALUES('format','hotline-recording');
INSERT INTO meta VALUES('heap_allocations','0');
INSERT INTO meta VALUES('heap_at_exit','1');
INSERT INTO meta VALUES('heap_dropped','0');
INSERT INTO meta VALUES('heap_frees','0');
INSERT INTO meta VALUES('heap_mode','sampled');
INSERT INTO meta VALUES('heap_processes','2');
INSERT INTO meta VALUES('heap_sample_bytes','524288');
INSERT INTO meta VALUES('heap_untracked_frees','0');
INSERT INTO meta VALUES('hotline_version','0.1.0');
INSERT INTO meta VALUES('interval_ms','1000');
INSERT INTO meta VALUES('lost_events','0');
INSERT INTO meta VALUES('lost_kernel_stacks','0');
INSERT INTO meta VALUES('lost_user_stacks','0');
INSERT INTO meta VALUES('map_budget_bytes','3159498752');
INSERT INTO meta VALUES('map_bytes','57131976');
INSERT INTO meta VALUES('map_halvings','0');
INSERT INTO meta VALUES('mode','launch');
INSERT INTO meta VALUES('offcpu','on');
INSERT INTO meta VALUES('offcpu_blocks','11');
INSERT INTO meta VALUES('offcpu_dropped_blocks','0');
INSERT INTO meta VALUES('offcpu_lost_stacks','0');
INSERT INTO meta VALUES('offcpu_map_halvings','0');
INSERT INTO meta VALUES('offcpu_min_ns','1000');
INSERT INTO meta VALUES('offcpu_short_blocks','0');
INSERT INTO meta VALUES('offcpu_truncated_stacks','0');
INSERT INTO meta VALUES('pids','22584');
INSERT INTO meta VALUES('process_name','lifecycle');
INSERT INTO meta VALUES('samples','0');
INSERT INTO meta VALUES('schema_version','4');
INSERT INTO meta VALUES('start_time','2026-12-02T19:25:31.287Z');
INSERT INTO meta VALUES('truncated_stacks','0');
INSERT INTO meta VALUES('unwind_mapping_reads','15');
INSERT INTO meta VALUES('unwind_mode','auto');
INSERT INTO meta VALUES('unwind_stop_depth','0');
INSERT INTO meta VALUES('unwind_stop_frame_pointers','0');
INSERT INTO meta VALUES('unwind_stop_invalid_rule','0');
INSERT INTO meta VALUES('unwind_stop_no_table','0');
INSERT INTO meta VALUES('unwind_stop_read_fault','0');
INSERT INTO meta VALUES('unwind_stop_root','0');
INSERT INTO meta VALUES('unwind_stop_unknown_mapping','0');
INSERT INTO meta VALUES('unwind_table_build_ms','24.0');
INSERT INTO meta VALUES('unwind_table_bytes','297956');
INSERT INTO meta VALUES('unwind_table_rows','73609');
INSERT INTO meta VALUES('unwind_tables','8');
INSERT INTO meta VALUES('unwind_tables_failed','0');
INSERT INTO meta VALUES('unwind_tables_over_budget','0');
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,          -- 1, 2, ... in time order
  ms INTEGER NOT NULL              -- end of the checkpoint, ms since the recording started
);
INSERT INTO checkpoints VALUES(1,611);
CREATE TABLE processes (
  pid        INTEGER PRIMARY KEY,  -- as seen from the initial PID namespace
  parent_pid INTEGER,
  comm       TEXT NOT NULL,
  exe        TEXT,
  start_ms   INTEGER NOT NULL,     -- when hotline started tracking it
  exit_ms    INTEGER               -- when it exited, NULL if alive at the end
);
INSERT INTO processes VALUES(22584,22583,'lifecycle','/work/main/build/tests/fixtures/lifecycle',57,611);
INSERT INTO processes VALUES(22587,22584,'lifecycle','/work/main/build/tests/fixtures/lifecycle',258,358);
INSERT INTO processes VALUES(22588,22584,'lifecycle','/work/main/build/tests/fixtures/lifecycle',259,559);
INSERT INTO processes VALUES(22589,22584,'lifecycle','/work/main/build/tests/fixtures/lifecycle',259,358);
INSERT INTO processes VALUES(22590,22584,'lifecycle','/work/main/build/tests/fixtures/lifecycle',259,359);
INSERT INTO processes VALUES(22591,22584,'sleep','/usr/bin/sleep',260,610);
CREATE TABLE threads (
  tid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  comm TEXT NOT NULL,
  PRIMARY KEY (tid, comm)
) WITHOUT ROWID;
INSERT INTO threads VALUES(22584,22584,'lifecycle');
INSERT INTO threads VALUES(22587,22587,'lifecycle');
INSERT INTO threads VALUES(22588,22588,'lifecycle');
INSERT INTO threads VALUES(22589,22589,'lifecycle');
INSERT INTO threads VALUES(22590,22590,'lifecycle');
INSERT INTO threads VALUES(22591,22591,'lifecycle');
INSERT INTO threads VALUES(22591,22591,'sleep');
CREATE TABLE modules (
  id       INTEGER PRIMARY KEY,
  path     TEXT NOT NULL,          -- mapped file, or [kernel], [vdso], [jit], [unknown]
  build_id TEXT                    -- hex GNU build id, NULL when none
);
INSERT INTO modules VALUES(1,'/work/main/build/tests/fixtures/lifecycle','700af3de564bcc83c307b115f4c0957ad23a1f92');
INSERT INTO modules VALUES(2,'/usr/lib/x86_64-linux-gnu/libc.so.6','93ac61ec5a8eb1396f9fbd350e3169a558528a40');
INSERT INTO modules VALUES(3,'[kernel]',NULL);
INSERT INTO modules VALUES(4,'[unknown]',NULL);
CREATE TABLE module_segments (
  module_id   INTEGER NOT NULL REFERENCES modules(id),
  start       INTEGER NOT NULL,    -- ELF virtual address
  end_address INTEGER NOT NULL,    -- exclusive
  file_offset INTEGER NOT NULL
);
INSERT INTO module_segments VALUES(1,4096,5629,4096);
INSERT INTO module_segments VALUES(2,155648,1552636,155648);
CREATE TABLE locations (
  id        INTEGER PRIMARY KEY,
  module_id INTEGER NOT NULL REFERENCES modules(id),
  address   INTEGER NOT NULL       -- ELF virtual address in the module (absolute for the kernel)
);
INSERT INTO locations VALUES(1,1,4464);
INSERT INTO locations VALUES(2,2,160516);
INSERT INTO locations VALUES(3,2,160329);
INSERT INTO locations VALUES(4,1,5273);
INSERT INTO locations VALUES(5,2,867282);
INSERT INTO locations VALUES(6,3,-2130706129);
INSERT INTO locations VALUES(7,3,-2111463168);
INSERT INTO locations VALUES(8,3,-2127133977);
INSERT INTO locations VALUES(9,3,-2127134350);
INSERT INTO locations VALUES(10,3,-2127136302);
INSERT INTO locations VALUES(11,3,-2111413646);
INSERT INTO locations VALUES(12,3,-2111416057);
INSERT INTO locations VALUES(13,1,5178);
INSERT INTO locations VALUES(14,2,867922);
INSERT INTO locations VALUES(15,2,849154);
INSERT INTO locations VALUES(16,3,-2126270723);
INSERT INTO locations VALUES(17,3,-2126284977);
INSERT INTO locations VALUES(18,3,-2126321212);
INSERT INTO locations VALUES(19,3,-2111384867);
INSERT INTO locations VALUES(20,4,0);
INSERT INTO locations VALUES(21,3,-2123473501);
INSERT INTO locations VALUES(22,3,-2123477835);
INSERT INTO locations VALUES(23,3,-2123483796);
INSERT INTO locations VALUES(24,3,-2122872791);
INSERT INTO locations VALUES(25,3,-2122874471);
INSERT INTO locations VALUES(26,3,-2130703231);
INSERT INTO locations VALUES(27,3,-2111439524);
INSERT INTO locations VALUES(28,3,-2124383521);
INSERT INTO locations VALUES(29,3,-2124385599);
INSERT INTO locations VALUES(30,3,-2124415255);
INSERT INTO locations VALUES(31,3,-2124445213);
INSERT INTO locations VALUES(32,3,-2124768062);
INSERT INTO locations VALUES(33,3,-2124795370);
INSERT INTO locations VALUES(34,3,-2111413442);
INSERT INTO locations VALUES(35,1,5353);
INSERT INTO locations VALUES(36,1,5613);
INSERT INTO locations VALUES(37,1,5140);
INSERT INTO locations VALUES(38,2,867791);
INSERT INTO locations VALUES(39,3,-2127044695);
INSERT INTO locations VALUES(40,1,4887);
INSERT INTO locations VALUES(41,1,4994);
INSERT INTO locations VALUES(42,1,5373);
CREATE TABLE frames (
  id           INTEGER PRIMARY KEY,
  function     TEXT NOT NULL,      -- demangled
  file         TEXT,               -- source file, NULL when unknown
  line         INTEGER,            -- source line, NULL when unknown
  inline_depth INTEGER NOT NULL,   -- 0: the function the code belongs to; k: inlined k levels into it
  module_id    INTEGER NOT NULL REFERENCES modules(id)
);
INSERT INTO frames VALUES(1,'_start',NULL,NULL,0,1);
INSERT INTO frames VALUES(2,'__libc_start_main_impl','../csu/libc-start.c',360,0,2);
INSERT INTO frames VALUES(3,'__libc_start_call_main','../sysdeps/nptl/libc_start_call_main.h',58,0,2);
INSERT INTO frames VALUES(4,'main','/work/main/tests/fixtures/lifecycle.c',98,0,1);
INSERT INTO frames VALUES(5,'__GI___wait4','../sysdeps/unix/sysv/linux/wait4.c',30,0,2);
INSERT INTO frames VALUES(6,'entry_SYSCALL_64_after_hwframe',NULL,NULL,0,3);
INSERT INTO frames VALUES(7,'do_syscall_64',NULL,NULL,0,3);
INSERT INTO frames VALUES(8,'__do_sys_wait4',NULL,NULL,0,3);
INSERT INTO frames VALUES(9,'kernel_wait4',NULL,NULL,0,3);
INSERT INTO frames VALUES(10,'do_wait',NULL,NULL,0,3);
INSERT INTO frames VALUES(11,'schedule',NULL,NULL,0,3);
INSERT INTO frames VALUES(12,'__schedule',NULL,NULL,0,3);
INSERT INTO frames VALUES(13,'main','/work/main/tests/fixtures/lifecycle.c',94,0,1);
INSERT INTO frames VALUES(14,'nap_ms','/work/main/tests/fixtures/lifecycle.c',25,1,1);
INSERT INTO frames VALUES(15,'__GI___nanosleep','../sysdeps/unix/sysv/linux/nanosleep.c',25,0,2);
INSERT INTO frames VALUES(16,'__GI___clock_nanosleep','../sysdeps/unix/sysv/linux/clock_nanosleep.c',48,0,2);
INSERT INTO frames VALUES(17,'__x64_sys_clock_nanosleep',NULL,NULL,0,3);
INSERT INTO frames VALUES(18,'common_nsleep',NULL,NULL,0,3);
INSERT INTO frames VALUES(19,'hrtimer_nanosleep',NULL,NULL,0,3);
INSERT INTO frames VALUES(20,'do_nanosleep',NULL,NULL,0,3);
INSERT INTO frames VALUES(21,'[unknown]',NULL,NULL,0,4);
INSERT INTO frames VALUES(22,'__x64_sys_execve',NULL,NULL,0,3);
INSERT INTO frames VALUES(23,'do_execveat_common.isra.0',NULL,NULL,0,3);
INSERT INTO frames VALUES(24,'bprm_execve',NULL,NULL,0,3);
INSERT INTO frames VALUES(25,'load_elf_binary',NULL,NULL,0,3);
INSERT INTO frames VALUES(26,'elf_load',NULL,NULL,0,3);
INSERT INTO frames VALUES(27,'asm_exc_page_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(28,'exc_page_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(29,'handle_mm_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(30,'__handle_mm_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(31,'do_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(32,'__do_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(33,'filemap_fault',NULL,NULL,0,3);
INSERT INTO frames VALUES(34,'folio_wait_bit_common',NULL,NULL,0,3);
INSERT INTO frames VALUES(35,'io_schedule',NULL,NULL,0,3);
INSERT INTO frames VALUES(36,'main','/work/main/tests/fixtures/lifecycle.c',52,0,1);
INSERT INTO frames VALUES(37,'nap_ms','/work/main/tests/fixtures/lifecycle.c',25,0,1);
INSERT INTO frames VALUES(38,'main','/work/main/tests/fixtures/lifecycle.c',58,0,1);
INSERT INTO frames VALUES(39,'__libc_pause','../sysdeps/unix/sysv/linux/pause.c',29,0,2);
INSERT INTO frames VALUES(40,'__x64_sys_pause',NULL,NULL,0,3);
INSERT INTO frames VALUES(41,'main','/work/main/tests/fixtures/lifecycle.c',64,0,1);
INSERT INTO frames VALUES(42,'main','/work/main/tests/fixtures/lifecycle.c',71,0,1);
INSERT INTO frames VALUES(43,'main','/work/main/tests/fixtures/lifecycle.c',76,0,1);
CREATE TABLE stacks (
  id          INTEGER PRIMARY KEY,
  parent      INTEGER REFERENCES stacks(id),   -- NULL for a root
  frame_id    INTEGER NOT NULL REFERENCES frames(id),
  location_id INTEGER NOT NULL REFERENCES locations(id)
);
INSERT INTO stacks VALUES(1,NULL,1,1);
INSERT INTO stacks VALUES(2,1,2,2);
INSERT INTO stacks VALUES(3,2,3,3);
INSERT INTO stacks VALUES(4,3,4,4);
INSERT INTO stacks VALUES(5,4,5,5);
INSERT INTO stacks VALUES(6,5,6,6);
INSERT INTO stacks VALUES(7,6,7,7);
INSERT INTO stacks VALUES(8,7,8,8);
INSERT INTO stacks VALUES(9,8,9,9);
INSERT INTO stacks VALUES(10,9,10,10);
INSERT INTO stacks VALUES(11,10,11,11);
INSERT INTO stacks VALUES(12,11,12,12);
INSERT INTO stacks VALUES(13,3,13,13);
INSERT INTO stacks VALUES(14,13,14,13);
INSERT INTO stacks VALUES(15,14,15,14);
INSERT INTO stacks VALUES(16,15,16,15);
INSERT INTO stacks VALUES(17,16,6,6);
INSERT INTO stacks VALUES(18,17,7,7);
INSERT INTO stacks VALUES(19,18,17,16);
INSERT INTO stacks VALUES(20,19,18,17);
INSERT INTO stacks VALUES(21,20,19,18);
INSERT INTO stacks VALUES(22,21,20,19);
INSERT INTO stacks VALUES(23,22,11,11);
INSERT INTO stacks VALUES(24,23,12,12);
INSERT INTO stacks VALUES(25,NULL,21,20);
INSERT INTO stacks VALUES(26,25,6,6);
INSERT INTO stacks VALUES(27,26,7,7);
INSERT INTO stacks VALUES(28,27,22,21);
INSERT INTO stacks VALUES(29,28,23,22);
INSERT INTO stacks VALUES(30,29,24,23);
INSERT INTO stacks VALUES(31,30,25,24);
INSERT INTO stacks VALUES(32,31,26,25);
INSERT INTO stacks VALUES(33,32,27,26);
INSERT INTO stacks VALUES(34,33,28,27);
INSERT INTO stacks VALUES(35,34,29,28);
INSERT INTO stacks VALUES(36,35,30,29);
INSERT INTO stacks VALUES(37,36,31,30);
INSERT INTO stacks VALUES(38,37,32,31);
INSERT INTO stacks VALUES(39,38,33,32);
INSERT INTO stacks VALUES(40,39,34,33);
INSERT INTO stacks VALUES(41,40,35,34);
INSERT INTO stacks VALUES(42,41,11,11);
INSERT INTO stacks VALUES(43,42,12,12);
INSERT INTO stacks VALUES(44,NULL,3,3);
INSERT INTO stacks VALUES(45,44,16,15);
INSERT INTO stacks VALUES(46,45,6,6);
INSERT INTO stacks VALUES(47,46,7,7);
INSERT INTO stacks VALUES(48,47,17,16);
INSERT INTO stacks VALUES(49,48,18,17);
INSERT INTO stacks VALUES(50,49,19,18);
INSERT INTO stacks VALUES(51,50,20,19);
INSERT INTO stacks VALUES(52,51,11,11);
INSERT INTO stacks VALUES(53,52,12,12);
INSERT INTO stacks VALUES(54,3,36,35);
INSERT INTO stacks VALUES(55,54,37,36);
INSERT INTO stacks VALUES(56,55,15,14);
INSERT INTO stacks VALUES(57,56,16,15);
INSERT INTO stacks VALUES(58,57,6,6);
INSERT INTO stacks VALUES(59,58,7,7);
INSERT INTO stacks VALUES(60,59,17,16);
INSERT INTO stacks VALUES(61,60,18,17);
INSERT INTO stacks VALUES(62,61,19,18);
INSERT INTO stacks VALUES(63,62,20,19);
INSERT INTO stacks VALUES(64,63,11,11);
INSERT INTO stacks VALUES(65,64,12,12);
INSERT INTO stacks VALUES(66,3,38,37);
INSERT INTO stacks VALUES(67,66,39,38);
INSERT INTO stacks VALUES(68,67,6,6);
INSERT INTO stacks VALUES(69,68,7,7);
INSERT INTO stacks VALUES(70,69,40,39);
INSERT INTO stacks VALUES(71,70,11,11);
INSERT INTO stacks VALUES(72,71,12,12);
INSERT INTO stacks VALUES(73,3,41,40);
INSERT INTO stacks VALUES(74,73,14,40);
INSERT INTO stacks VALUES(75,74,15,14);
INSERT INTO stacks VALUES(76,75,16,15);
INSERT INTO stacks VALUES(77,76,6,6);
INSERT INTO stacks VALUES(78,77,7,7);
INSERT INTO stacks VALUES(79,78,17,16);
INSERT INTO stacks VALUES(80,79,18,17);
INSERT INTO stacks VALUES(81,80,19,18);
INSERT INTO stacks VALUES(82,81,20,19);
INSERT INTO stacks VALUES(83,82,11,11);
INSERT INTO stacks VALUES(84,83,12,12);
INSERT INTO stacks VALUES(85,3,42,41);
INSERT INTO stacks VALUES(86,85,14,41);
INSERT INTO stacks VALUES(87,86,15,14);
INSERT INTO stacks VALUES(88,87,16,15);
INSERT INTO stacks VALUES(89,88,6,6);
INSERT INTO stacks VALUES(90,89,7,7);
INSERT INTO stacks VALUES(91,90,17,16);
INSERT INTO stacks VALUES(92,91,18,17);
INSERT INTO stacks VALUES(93,92,19,18);
INSERT INTO stacks VALUES(94,93,20,19);
INSERT INTO stacks VALUES(95,94,11,11);
INSERT INTO stacks VALUES(96,95,12,12);
INSERT INTO stacks VALUES(97,3,43,42);
INSERT INTO stacks VALUES(98,97,37,36);
INSERT INTO stacks VALUES(99,98,15,14);
INSERT INTO stacks VALUES(100,99,16,15);
INSERT INTO stacks VALUES(101,100,6,6);
INSERT INTO stacks VALUES(102,101,7,7);
INSERT INTO stacks VALUES(103,102,17,16);
INSERT INTO stacks VALUES(104,103,18,17);
INSERT INTO stacks VALUES(105,104,19,18);
INSERT INTO stacks VALUES(106,105,20,19);
INSERT INTO stacks VALUES(107,106,11,11);
INSERT INTO stacks VALUES(108,107,12,12);
INSERT INTO stacks VALUES(109,25,16,15);
INSERT INTO stacks VALUES(110,109,6,6);
INSERT INTO stacks VALUES(111,110,7,7);
INSERT INTO stacks VALUES(112,111,17,16);
INSERT INTO stacks VALUES(113,112,18,17);
INSERT INTO stacks VALUES(114,113,19,18);
INSERT INTO stacks VALUES(115,114,20,19);
INSERT INTO stacks VALUES(116,115,11,11);
INSERT INTO stacks VALUES(117,116,12,12);
CREATE TABLE sample_types (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  unit TEXT NOT NULL               -- samples, bytes, count, nanoseconds
);
INSERT INTO sample_types VALUES(1,'cpu','samples');
INSERT INTO sample_types VALUES(2,'offcpu','nanoseconds');
INSERT INTO sample_types VALUES(3,'offcpu_count','count');
INSERT INTO sample_types VALUES(4,'heap_alloc_bytes','bytes');
INSERT INTO sample_types VALUES(5,'heap_alloc_count','count');
INSERT INTO sample_types VALUES(6,'heap_free_bytes','bytes');
INSERT INTO sample_types VALUES(7,'heap_free_count','count');
CREATE TABLE samples (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  type_id       INTEGER NOT NULL REFERENCES sample_types(id),
  stack_id      INTEGER NOT NULL REFERENCES stacks(id),  -- the leaf node
  pid           INTEGER NOT NULL,
  tid           INTEGER NOT NULL,  -- 0 when the collector does not tell threads apart
  value         INTEGER NOT NULL
);
INSERT INTO samples VALUES(1,2,12,22584,22584,51733755);
INSERT INTO samples VALUES(1,3,12,22584,22584,2);
INSERT INTO samples VALUES(1,2,24,22584,22584,300073916);
INSERT INTO samples VALUES(1,3,24,22584,22584,1);
INSERT INTO samples VALUES(1,2,43,22584,22584,47358);
INSERT INTO samples VALUES(1,3,43,22584,22584,1);
INSERT INTO samples VALUES(1,2,53,22584,22584,200075774);
INSERT INTO samples VALUES(1,3,53,22584,22584,1);
INSERT INTO samples VALUES(1,2,65,22587,22587,100029111);
INSERT INTO samples VALUES(1,3,65,22587,22587,1);
INSERT INTO samples VALUES(1,2,72,22588,22588,300561401);
INSERT INTO samples VALUES(1,3,72,22588,22588,1);
INSERT INTO samples VALUES(1,2,84,22589,22589,100082862);
INSERT INTO samples VALUES(1,3,84,22589,22589,1);
INSERT INTO samples VALUES(1,2,96,22590,22590,100064507);
INSERT INTO samples VALUES(1,3,96,22590,22590,1);
INSERT INTO samples VALUES(1,2,108,22591,22591,50080885);
INSERT INTO samples VALUES(1,3,108,22591,22591,1);
INSERT INTO samples VALUES(1,2,117,22591,22591,300025125);
INSERT INTO samples VALUES(1,3,117,22591,22591,1);
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
INSERT INTO events VALUES(57,22584,22583,'lifecycle','exec',NULL,NULL,'/work/main/build/tests/fixtures/lifecycle','/work/main/build/tests/fixtures/lifecycle',0);
INSERT INTO events VALUES(258,22587,22584,'lifecycle','fork',NULL,NULL,NULL,NULL,0);
INSERT INTO events VALUES(258,22588,22584,'lifecycle','fork',NULL,NULL,NULL,NULL,0);
INSERT INTO events VALUES(258,22589,22584,'lifecycle','fork',NULL,NULL,NULL,NULL,0);
INSERT INTO events VALUES(258,22590,22584,'lifecycle','fork',NULL,NULL,NULL,NULL,0);
INSERT INTO events VALUES(258,22591,22584,'lifecycle','fork',NULL,NULL,NULL,NULL,0);
INSERT INTO events VALUES(309,22591,22584,'sleep','exec',NULL,NULL,'/usr/bin/sleep','napping-sleep',0);
INSERT INTO events VALUES(358,22587,22584,'lifecycle','exit',3,NULL,NULL,NULL,0);
INSERT INTO events VALUES(358,22589,22584,'lifecycle','killed',NULL,11,NULL,NULL,0);
INSERT INTO events VALUES(359,22590,22584,'lifecycle','core_dumped',NULL,11,NULL,NULL,0);
INSERT INTO events VALUES(558,22588,22584,'lifecycle','killed',NULL,9,NULL,NULL,0);
INSERT INTO events VALUES(610,22591,22584,'sleep','exit',0,NULL,NULL,NULL,0);
INSERT INTO events VALUES(610,22584,22583,'lifecycle','exit',0,NULL,NULL,NULL,0);
CREATE INDEX samples_by_checkpoint ON samples(checkpoint_id, type_id);
CREATE VIEW cpu_samples(checkpoint_id, stack_id, pid, tid, count) AS SELECT s.checkpoint_id, s.stack_id, s.pid, s.tid, s.value FROM samples s JOIN sample_types t ON t.id = s.type_id WHERE t.name = 'cpu';
CREATE VIEW heap_samples(checkpoint_id, stack_id, pid, alloc_bytes, alloc_count, free_bytes, free_count) AS SELECT s.checkpoint_id, s.stack_id, s.pid, SUM(CASE t.name WHEN 'heap_alloc_bytes' THEN s.value ELSE 0 END), SUM(CASE t.name WHEN 'heap_alloc_count' THEN s.value ELSE 0 END), SUM(CASE t.name WHEN 'heap_free_bytes' THEN s.value ELSE 0 END), SUM(CASE t.name WHEN 'heap_free_count' THEN s.value ELSE 0 END) FROM samples s JOIN sample_types t ON t.id = s.type_id WHERE t.name IN ('heap_alloc_bytes', 'heap_alloc_count', 'heap_free_bytes', 'heap_free_count') GROUP BY s.checkpoint_id, s.stack_id, s.pid;
COMMIT;
