PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO meta VALUES('command','build/tests/fixtures/heap');
INSERT INTO meta VALUES('command_status','0');
INSERT INTO meta VALUES('cpu_backend','bpf');
INSERT INTO meta VALUES('cpu_frequency_hz','99');
INSERT INTO meta VALUES('dropped_samples','0');
INSERT INTO meta VALUES('duration_ms','106');
INSERT INTO meta VALUES('end_time','2026-12-02T02:08:06.391Z');
INSERT INTO meta VALUES('exe','build/tests/fixtures/heap');
INSERT INTO meta VALUES('format','hotline-recording');
INSERT INTO meta VALUES('heap_allocations','10536');
INSERT INTO meta VALUES('heap_at_exit','1');
INSERT INTO meta VALUES('heap_dropped','0');
INSERT INTO meta VALUES('heap_frees','10454');
INSERT INTO meta VALUES('heap_mode','sampled');
INSERT INTO meta VALUES('heap_processes','1');
INSERT INTO meta VALUES('heap_sample_bytes','65536');
INSERT INTO meta VALUES('heap_untracked_frees','0');
INSERT INTO meta VALUES('hotline_version','0.1.0');
INSERT INTO meta VALUES('interval_ms','1000');
INSERT INTO meta VALUES('lost_events','0');
INSERT INTO meta VALUES('lost_kernel_stacks','0');
INSERT INTO meta VALUES('lost_user_stacks','0');
INSERT INTO meta VALUES('map_budget_bytes','3159562752');
INSERT INTO meta VALUES('map_bytes','38110776');
INSERT INTO meta VALUES('map_halvings','0');
INSERT INTO meta VALUES('mode','launch');
INSERT INTO meta VALUES('pids','19102');
INSERT INTO meta VALUES('process_name','heap');
INSERT INTO meta VALUES('samples','6');
INSERT INTO meta VALUES('schema_version','3');
INSERT INTO meta VALUES('start_time','2026-12-02T02:08:06.099Z');
INSERT INTO meta VALUES('truncated_stacks','0');
CREATE TABLE checkpoints (
  id INTEGER PRIMARY KEY,          -- 1, 2, ... in time order
  ms INTEGER NOT NULL              -- end of the checkpoint, ms since the recording started
);
INSERT INTO checkpoints VALUES(1,106);
CREATE TABLE processes (
  pid        INTEGER PRIMARY KEY,  -- as seen from the initial PID namespace
  parent_pid INTEGER,
  comm       TEXT NOT NULL,
  exe        TEXT,
  start_ms   INTEGER NOT NULL,     -- when hotline started tracking it
  exit_ms    INTEGER               -- when it exited, NULL if alive at the end
);
INSERT INTO processes VALUES(19102,19101,'heap','/work/main/build/tests/fixtures/heap',39,105);
CREATE TABLE threads (
  tid  INTEGER NOT NULL,
  pid  INTEGER NOT NULL,
  comm TEXT NOT NULL,
  PRIMARY KEY (tid, comm)
) WITHOUT ROWID;
INSERT INTO threads VALUES(19102,19102,'heap');
CREATE TABLE modules (
  id       INTEGER PRIMARY KEY,
  path     TEXT NOT NULL,          -- mapped file, or [kernel], [vdso], [jit], [unknown]
  build_id TEXT                    -- hex GNU build id, NULL when none
);
INSERT INTO modules VALUES(1,'[unknown]',NULL);
INSERT INTO modules VALUES(2,'/usr/lib/x86_64-linux-gnu/libgcc_s.so.1','6f03384c2e3c38887dd3ba5a24b2e18c17e2f0e0');
INSERT INTO modules VALUES(3,'/usr/lib/x86_64-linux-gnu/libc.so.6','93ac61ec5a8eb1396f9fbd350e3169a558528a40');
INSERT INTO modules VALUES(4,'/work/main/build/tests/fixtures/heap','77e57b9d0e3d4db04f95400f4388d385d5855fc8');
INSERT INTO modules VALUES(5,'/memfd:hotline-heap','eb06d3d2eff2337f17aca3736752616d8ec1135c');
INSERT INTO modules VALUES(6,'[kernel]',NULL);
CREATE TABLE module_segments (
  module_id   INTEGER NOT NULL REFERENCES modules(id),
  start       INTEGER NOT NULL,    -- ELF virtual address
  end_address INTEGER NOT NULL,    -- exclusive
  file_offset INTEGER NOT NULL
);
INSERT INTO module_segments VALUES(2,12288,104657,12288);
INSERT INTO module_segments VALUES(3,155648,1552636,155648);
INSERT INTO module_segments VALUES(4,4096,5609,4096);
INSERT INTO module_segments VALUES(5,4096,10149,4096);
CREATE TABLE locations (
  id        INTEGER PRIMARY KEY,
  module_id INTEGER NOT NULL REFERENCES modules(id),
  address   INTEGER NOT NULL       -- ELF virtual address in the module (absolute for the kernel)
);
INSERT INTO locations VALUES(1,1,0);
INSERT INTO locations VALUES(2,2,102080);
INSERT INTO locations VALUES(3,3,160329);
INSERT INTO locations VALUES(4,4,4848);
INSERT INTO locations VALUES(5,4,5193);
INSERT INTO locations VALUES(6,5,7618);
INSERT INTO locations VALUES(7,5,7212);
INSERT INTO locations VALUES(8,3,1092440);
INSERT INTO locations VALUES(9,6,-2130706129);
INSERT INTO locations VALUES(10,6,-2111900016);
INSERT INTO locations VALUES(11,6,-2115824465);
INSERT INTO locations VALUES(12,6,-2115824534);
INSERT INTO locations VALUES(13,6,-2113086025);
INSERT INTO locations VALUES(14,6,-2115807829);
INSERT INTO locations VALUES(15,6,-2115742253);
INSERT INTO locations VALUES(16,6,-2115766298);
INSERT INTO locations VALUES(17,6,-2124186560);
INSERT INTO locations VALUES(18,6,-2124219030);
INSERT INTO locations VALUES(19,6,-2124220411);
INSERT INTO locations VALUES(20,6,-2124223151);
INSERT INTO locations VALUES(21,2,87759);
INSERT INTO locations VALUES(22,6,-2113084091);
INSERT INTO locations VALUES(23,4,5214);
INSERT INTO locations VALUES(24,5,7964);
INSERT INTO locations VALUES(25,5,5758);
INSERT INTO locations VALUES(26,6,-2115807809);
INSERT INTO locations VALUES(27,6,-2115808582);
INSERT INTO locations VALUES(28,4,4853);
INSERT INTO locations VALUES(29,4,5274);
INSERT INTO locations VALUES(30,3,1497802);
INSERT INTO locations VALUES(31,6,-2130703231);
INSERT INTO locations VALUES(32,6,-2111876667);
INSERT INTO locations VALUES(33,6,-2124486017);
INSERT INTO locations VALUES(34,6,-2124487555);
INSERT INTO locations VALUES(35,6,-2124497228);
INSERT INTO locations VALUES(36,6,-2124030688);
INSERT INTO locations VALUES(37,6,-2124042795);
INSERT INTO locations VALUES(38,6,-2124277934);
INSERT INTO locations VALUES(39,6,-2124288835);
INSERT INTO locations VALUES(40,6,-2124298696);
INSERT INTO locations VALUES(41,6,-2118538617);
INSERT INTO locations VALUES(42,4,4400);
INSERT INTO locations VALUES(43,3,160516);
INSERT INTO locations VALUES(44,4,4713);
INSERT INTO locations VALUES(45,4,4843);
INSERT INTO locations VALUES(46,4,5097);
INSERT INTO locations VALUES(47,4,4858);
INSERT INTO locations VALUES(48,4,5378);
INSERT INTO locations VALUES(49,4,4863);
INSERT INTO locations VALUES(50,4,5474);
INSERT INTO locations VALUES(51,3,1087723);
INSERT INTO locations VALUES(52,3,561652);
INSERT INTO locations VALUES(53,4,5577);
CREATE TABLE frames (
  id           INTEGER PRIMARY KEY,
  function     TEXT NOT NULL,      -- demangled
  file         TEXT,               -- source file, NULL when unknown
  line         INTEGER,            -- source line, NULL when unknown
  inline_depth INTEGER NOT NULL,   -- 0: the function the code belongs to; k: inlined k levels into it
  module_id    INTEGER NOT NULL REFERENCES modules(id)
);
INSERT INTO frames VALUES(1,'[unknown]',NULL,NULL,0,1);
INSERT INTO frames VALUES(2,'_Unwind_Find_FDE',NULL,NULL,0,2);
INSERT INTO frames VALUES(3,'__libc_start_call_main','../sysdeps/nptl/libc_start_call_main.h',58,0,3);
INSERT INTO frames VALUES(4,'main','/work/main/tests/fixtures/heap.c',77,0,4);
INSERT INTO frames VALUES(5,'churn','/work/main/tests/fixtures/heap.c',35,0,4);
INSERT INTO frames VALUES(6,'malloc','./preload/hotline_heap.c',408,0,5);
INSERT INTO frames VALUES(7,'record','./preload/hotline_heap.c',319,0,5);
INSERT INTO frames VALUES(8,'__libc_send','../sysdeps/unix/sysv/linux/send.c',28,0,3);
INSERT INTO frames VALUES(9,'entry_SYSCALL_64_after_hwframe',NULL,NULL,0,6);
INSERT INTO frames VALUES(10,'do_syscall_64',NULL,NULL,0,6);
INSERT INTO frames VALUES(11,'__x64_sys_sendto',NULL,NULL,0,6);
INSERT INTO frames VALUES(12,'__sys_sendto',NULL,NULL,0,6);
INSERT INTO frames VALUES(13,'unix_dgram_sendmsg',NULL,NULL,0,6);
INSERT INTO frames VALUES(14,'sock_alloc_send_pskb',NULL,NULL,0,6);
INSERT INTO frames VALUES(15,'alloc_skb_with_frags',NULL,NULL,0,6);
INSERT INTO frames VALUES(16,'__alloc_skb',NULL,NULL,0,6);
INSERT INTO frames VALUES(17,'kmem_cache_alloc_node_noprof',NULL,NULL,0,6);
INSERT INTO frames VALUES(18,'__slab_alloc.isra.0',NULL,NULL,0,6);
INSERT INTO frames VALUES(19,'___slab_alloc',NULL,NULL,0,6);
INSERT INTO frames VALUES(20,'allocate_slab',NULL,NULL,0,6);
INSERT INTO frames VALUES(21,'[libgcc_s.so.1+0x156cf]',NULL,NULL,0,2);
INSERT INTO frames VALUES(22,'unix_seqpacket_sendmsg',NULL,NULL,0,6);
INSERT INTO frames VALUES(23,'churn','/work/main/tests/fixtures/heap.c',38,0,4);
INSERT INTO frames VALUES(24,'free','./preload/hotline_heap.c',414,0,5);
INSERT INTO frames VALUES(25,'note_free','./preload/hotline_heap.c',325,1,5);
INSERT INTO frames VALUES(26,'note_free','./preload/hotline_heap.c',330,2,5);
INSERT INTO frames VALUES(27,'send_simple','./preload/hotline_heap.c',141,0,5);
INSERT INTO frames VALUES(28,'skb_set_owner_w',NULL,NULL,0,6);
INSERT INTO frames VALUES(29,'main','/work/main/tests/fixtures/heap.c',78,0,4);
INSERT INTO frames VALUES(30,'grow','/work/main/tests/fixtures/heap.c',45,0,4);
INSERT INTO frames VALUES(31,'__memcpy_avx512_unaligned_erms','../sysdeps/x86_64/multiarch/memmove-vec-unaligned-erms.S',550,0,3);
INSERT INTO frames VALUES(32,'asm_exc_page_fault',NULL,NULL,0,6);
INSERT INTO frames VALUES(33,'exc_page_fault',NULL,NULL,0,6);
INSERT INTO frames VALUES(34,'handle_mm_fault',NULL,NULL,0,6);
INSERT INTO frames VALUES(35,'__handle_mm_fault',NULL,NULL,0,6);
INSERT INTO frames VALUES(36,'do_anonymous_page',NULL,NULL,0,6);
INSERT INTO frames VALUES(37,'vma_alloc_folio_noprof',NULL,NULL,0,6);
INSERT INTO frames VALUES(38,'alloc_pages_mpol',NULL,NULL,0,6);
INSERT INTO frames VALUES(39,'__alloc_frozen_pages_noprof',NULL,NULL,0,6);
INSERT INTO frames VALUES(40,'get_page_from_freelist',NULL,NULL,0,6);
INSERT INTO frames VALUES(41,'__rmqueue_pcplist',NULL,NULL,0,6);
INSERT INTO frames VALUES(42,'__list_del_entry_valid_or_report',NULL,NULL,0,6);
INSERT INTO frames VALUES(43,'_start',NULL,NULL,0,4);
INSERT INTO frames VALUES(44,'__libc_start_main_impl','../csu/libc-start.c',360,0,3);
INSERT INTO frames VALUES(45,'main','/work/main/tests/fixtures/heap.c',71,0,4);
INSERT INTO frames VALUES(46,'main','/work/main/tests/fixtures/heap.c',76,0,4);
INSERT INTO frames VALUES(47,'live','/work/main/tests/fixtures/heap.c',30,0,4);
INSERT INTO frames VALUES(48,'main','/work/main/tests/fixtures/heap.c',79,0,4);
INSERT INTO frames VALUES(49,'zeroed','/work/main/tests/fixtures/heap.c',52,0,4);
INSERT INTO frames VALUES(50,'main','/work/main/tests/fixtures/heap.c',80,0,4);
INSERT INTO frames VALUES(51,'aligned','/work/main/tests/fixtures/heap.c',57,0,4);
INSERT INTO frames VALUES(52,'clone3','../sysdeps/unix/sysv/linux/x86_64/clone3.S',81,0,3);
INSERT INTO frames VALUES(53,'start_thread','./nptl/pthread_create.c',442,0,3);
INSERT INTO frames VALUES(54,'thread_main','/work/main/tests/fixtures/heap.c',62,0,4);
CREATE TABLE stacks (
  id          INTEGER PRIMARY KEY,
  parent      INTEGER REFERENCES stacks(id),   -- NULL for a root
  frame_id    INTEGER NOT NULL REFERENCES frames(id),
  location_id INTEGER NOT NULL REFERENCES locations(id)
);
INSERT INTO stacks VALUES(1,NULL,1,1);
INSERT INTO stacks VALUES(2,1,2,2);
INSERT INTO stacks VALUES(3,NULL,3,3);
INSERT INTO stacks VALUES(4,3,4,4);
INSERT INTO stacks VALUES(5,4,5,5);
INSERT INTO stacks VALUES(6,5,6,6);
INSERT INTO stacks VALUES(7,6,7,7);
INSERT INTO stacks VALUES(8,7,8,8);
INSERT INTO stacks VALUES(9,8,9,9);
INSERT INTO stacks VALUES(10,9,10,10);
INSERT INTO stacks VALUES(11,10,11,11);
INSERT INTO stacks VALUES(12,11,12,12);
INSERT INTO stacks VALUES(13,12,13,13);
INSERT INTO stacks VALUES(14,13,14,14);
INSERT INTO stacks VALUES(15,14,15,15);
INSERT INTO stacks VALUES(16,15,16,16);
INSERT INTO stacks VALUES(17,16,17,17);
INSERT INTO stacks VALUES(18,17,18,18);
INSERT INTO stacks VALUES(19,18,19,19);
INSERT INTO stacks VALUES(20,19,20,20);
INSERT INTO stacks VALUES(21,NULL,21,21);
INSERT INTO stacks VALUES(22,12,22,22);
INSERT INTO stacks VALUES(23,4,23,23);
INSERT INTO stacks VALUES(24,23,24,24);
INSERT INTO stacks VALUES(25,24,25,24);
INSERT INTO stacks VALUES(26,25,26,24);
INSERT INTO stacks VALUES(27,26,27,25);
INSERT INTO stacks VALUES(28,27,8,8);
INSERT INTO stacks VALUES(29,28,9,9);
INSERT INTO stacks VALUES(30,29,10,10);
INSERT INTO stacks VALUES(31,30,11,11);
INSERT INTO stacks VALUES(32,31,12,12);
INSERT INTO stacks VALUES(33,32,13,13);
INSERT INTO stacks VALUES(34,33,14,26);
INSERT INTO stacks VALUES(35,34,28,27);
INSERT INTO stacks VALUES(36,3,29,28);
INSERT INTO stacks VALUES(37,36,30,29);
INSERT INTO stacks VALUES(38,37,31,30);
INSERT INTO stacks VALUES(39,38,32,31);
INSERT INTO stacks VALUES(40,39,33,32);
INSERT INTO stacks VALUES(41,40,34,33);
INSERT INTO stacks VALUES(42,41,35,34);
INSERT INTO stacks VALUES(43,42,36,35);
INSERT INTO stacks VALUES(44,43,37,36);
INSERT INTO stacks VALUES(45,44,38,37);
INSERT INTO stacks VALUES(46,45,39,38);
INSERT INTO stacks VALUES(47,46,40,39);
INSERT INTO stacks VALUES(48,47,41,40);
INSERT INTO stacks VALUES(49,48,42,41);
INSERT INTO stacks VALUES(50,NULL,43,42);
INSERT INTO stacks VALUES(51,50,44,43);
INSERT INTO stacks VALUES(52,51,3,3);
INSERT INTO stacks VALUES(53,52,45,44);
INSERT INTO stacks VALUES(54,52,46,45);
INSERT INTO stacks VALUES(55,54,47,46);
INSERT INTO stacks VALUES(56,52,4,4);
INSERT INTO stacks VALUES(57,56,5,5);
INSERT INTO stacks VALUES(58,52,29,28);
INSERT INTO stacks VALUES(59,58,30,29);
INSERT INTO stacks VALUES(60,52,48,47);
INSERT INTO stacks VALUES(61,60,49,48);
INSERT INTO stacks VALUES(62,52,50,49);
INSERT INTO stacks VALUES(63,62,51,50);
INSERT INTO stacks VALUES(64,NULL,52,51);
INSERT INTO stacks VALUES(65,64,53,52);
INSERT INTO stacks VALUES(66,65,54,53);
CREATE TABLE sample_types (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  unit TEXT NOT NULL               -- samples, bytes, count, nanoseconds
);
INSERT INTO sample_types VALUES(1,'cpu','samples');
INSERT INTO sample_types VALUES(2,'heap_alloc_bytes','bytes');
INSERT INTO sample_types VALUES(3,'heap_alloc_count','count');
INSERT INTO sample_types VALUES(4,'heap_free_bytes','bytes');
INSERT INTO sample_types VALUES(5,'heap_free_count','count');
CREATE TABLE samples (
  checkpoint_id INTEGER NOT NULL REFERENCES checkpoints(id),
  type_id       INTEGER NOT NULL REFERENCES sample_types(id),
  stack_id      INTEGER NOT NULL REFERENCES stacks(id),  -- the leaf node
  pid           INTEGER NOT NULL,
  tid           INTEGER NOT NULL,  -- 0 when the collector does not tell threads apart
  value         INTEGER NOT NULL
);
INSERT INTO samples VALUES(1,1,2,19102,19102,1);
INSERT INTO samples VALUES(1,1,20,19102,19102,1);
INSERT INTO samples VALUES(1,1,21,19102,19102,1);
INSERT INTO samples VALUES(1,1,22,19102,19102,1);
INSERT INTO samples VALUES(1,1,35,19102,19102,1);
INSERT INTO samples VALUES(1,1,49,19102,19102,1);
INSERT INTO samples VALUES(1,2,53,19102,0,264149);
INSERT INTO samples VALUES(1,3,53,19102,0,264);
INSERT INTO samples VALUES(1,4,53,19102,0,264149);
INSERT INTO samples VALUES(1,5,53,19102,0,264);
INSERT INTO samples VALUES(1,2,55,19102,0,67108872);
INSERT INTO samples VALUES(1,3,55,19102,0,64);
INSERT INTO samples VALUES(1,2,57,19102,0,1082485558);
INSERT INTO samples VALUES(1,3,57,19102,0,16517);
INSERT INTO samples VALUES(1,4,57,19102,0,1082485558);
INSERT INTO samples VALUES(1,5,57,19102,0,16517);
INSERT INTO samples VALUES(1,2,59,19102,0,16845120);
INSERT INTO samples VALUES(1,3,59,19102,0,17);
INSERT INTO samples VALUES(1,4,59,19102,0,8456512);
INSERT INTO samples VALUES(1,5,59,19102,0,16);
INSERT INTO samples VALUES(1,2,61,19102,0,4194304);
INSERT INTO samples VALUES(1,3,61,19102,0,1);
INSERT INTO samples VALUES(1,2,63,19102,0,2097152);
INSERT INTO samples VALUES(1,3,63,19102,0,1);
INSERT INTO samples VALUES(1,2,66,19102,0,16777218);
INSERT INTO samples VALUES(1,3,66,19102,0,16);
INSERT INTO samples VALUES(1,4,66,19102,0,1048576);
INSERT INTO samples VALUES(1,5,66,19102,0,1);
CREATE INDEX samples_by_checkpoint ON samples(checkpoint_id, type_id);
CREATE VIEW cpu_samples(checkpoint_id, stack_id, pid, tid, count) AS SELECT s.checkpoint_id, s.stack_id, s.pid, s.tid, s.value FROM samples s JOIN sample_types t ON t.id = s.type_id WHERE t.name = 'cpu';
CREATE VIEW heap_samples(checkpoint_id, stack_id, pid, alloc_bytes, alloc_count, free_bytes, free_count) AS SELECT s.checkpoint_id, s.stack_id, s.pid, SUM(CASE t.name WHEN 'heap_alloc_bytes' THEN s.value ELSE 0 END), SUM(CASE t.name WHEN 'heap_alloc_count' THEN s.value ELSE 0 END), SUM(CASE t.name WHEN 'heap_free_bytes' THEN s.value ELSE 0 END), SUM(CASE t.name WHEN 'heap_free_count' THEN s.value ELSE 0 END) FROM samples s JOIN sample_types t ON t.id = s.type_id WHERE t.name IN ('heap_alloc_bytes', 'heap_alloc_count', 'heap_free_bytes', 'heap_free_count') GROUP BY s.checkpoint_id, s.stack_id, s.pid;
COMMIT;
