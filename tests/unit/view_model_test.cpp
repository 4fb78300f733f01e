// The live view's model follows a growing recording by reading only what is new, and shows
// exactly what a fresh read of the whole file shows.
#include <gtest/gtest.h>

#include "harness.h"
#include "store/reader.h"
#include "store/sample_types.h"
#include "store/sqlite.h"
#include "store/writer.h"
#include "tui/model.h"
#include "util/files.h"

namespace hotline {
namespace {

void expect_same(const ViewData& a, const ViewData& b, const std::string& what) {
  EXPECT_EQ(a.checkpoints, b.checkpoints) << what;
  EXPECT_EQ(a.samples, b.samples) << what;
  EXPECT_EQ(a.window_start_ms, b.window_start_ms) << what;
  EXPECT_EQ(a.window_end_ms, b.window_end_ms) << what;
  EXPECT_EQ(a.live_bytes, b.live_bytes) << what;
  EXPECT_EQ(a.peak_bytes, b.peak_bytes) << what;
  ASSERT_EQ(a.cpu.size(), b.cpu.size()) << what;
  for (std::size_t i = 0; i < a.cpu.size(); ++i) {
    EXPECT_EQ(a.cpu[i].function, b.cpu[i].function) << what;
    EXPECT_EQ(a.cpu[i].line, b.cpu[i].line) << what;
    EXPECT_EQ(a.cpu[i].self_samples, b.cpu[i].self_samples) << what;
    EXPECT_DOUBLE_EQ(a.cpu[i].total_pct, b.cpu[i].total_pct) << what;
    EXPECT_EQ(a.cpu[i].trend, b.cpu[i].trend) << what;
  }
  ASSERT_EQ(a.heap.size(), b.heap.size()) << what;
  for (std::size_t i = 0; i < a.heap.size(); ++i) {
    EXPECT_EQ(a.heap[i].function, b.heap[i].function) << what;
    EXPECT_EQ(a.heap[i].live_bytes, b.heap[i].live_bytes) << what;
    EXPECT_EQ(a.heap[i].alloc_bytes, b.heap[i].alloc_bytes) << what;
    EXPECT_EQ(a.heap[i].trend, b.heap[i].trend) << what;
  }
}

TEST(ViewModel, FollowsAGrowingRecordingAsAFreshReadWould) {
  test::TempDir dir;
  const std::string path = dir.file("live.db");
  create_private_file(path, false);
  RecordingWriter w(path);
  w.set_meta("heap_mode", "exact");
  const std::int64_t mod = w.module_id("/usr/bin/app", "");
  auto node = [&](std::int64_t parent, const std::string& fn, int line) {
    return w.stack_node(parent, w.frame_id({fn, "/src/app.c", line, 0, mod}),
                        w.location_id(mod, static_cast<std::uint64_t>(line) * 16));
  };
  const std::int64_t cpu = w.sample_type(sample_types::cpu);
  const std::int64_t ab = w.sample_type(sample_types::heap_alloc_bytes), ac = w.sample_type(sample_types::heap_alloc_count),
                     fb = w.sample_type(sample_types::heap_free_bytes), fc = w.sample_type(sample_types::heap_free_count);
  const std::int64_t main_ = node(0, "main", 1);

  ViewModel model;
  const std::vector<ViewQuery> queries = [] {
    std::vector<ViewQuery> q(4);
    q[1].last = std::chrono::milliseconds(3000);
    q[2].end = std::chrono::milliseconds(2500);
    q[3].filter = "work";
    return q;
  }();
  for (int c = 1; c <= 12; ++c) {
    // New stacks keep appearing; allocations at one line are freed two checkpoints later.
    const std::int64_t id = w.begin_checkpoint(c * 1000);
    const std::int64_t work = node(main_, "work" + std::to_string(c % 5), 10 + c % 5);
    const std::int64_t hot = node(work, "hot", 20 + c % 3);
    const SampleValue s1{cpu, static_cast<std::uint64_t>(10 * c)}, s2{cpu, 7};
    w.add_sample(id, hot, 42, 42, {&s1, 1});
    w.add_sample(id, work, 42, 43, {&s2, 1});
    const std::int64_t site = node(main_, "make", 30 + c % 2);
    const SampleValue heap[] = {{ab, static_cast<std::uint64_t>(c) << 20}, {ac, 1},
                                {fb, c > 2 ? static_cast<std::uint64_t>(c - 2) << 20 : 0}, {fc, c > 2 ? 1u : 0u}};
    w.add_sample(id, site, 42, 0, heap);
    w.commit_checkpoint();

    RecordingReader reader(path);
    EXPECT_TRUE(model.update(reader));
    EXPECT_FALSE(model.update(reader)) << "nothing new: nothing changed";
    for (std::size_t q = 0; q < queries.size(); ++q) {
      if (queries[q].end && c < 3) continue;  // the slider is past the end
      expect_same(model.view(queries[q]), load_view(RecordingReader(path), queries[q]),
                  "checkpoint " + std::to_string(c) + ", query " + std::to_string(q));
    }
  }
  EXPECT_EQ(model.checkpoints(), 12u);
}

TEST(ViewModel, ReadsEachCheckpointOnce) {
  test::TempDir dir;
  const std::string path = dir.file("once.db");
  create_private_file(path, false);
  RecordingWriter w(path);
  const std::int64_t mod = w.module_id("/usr/bin/app", "");
  const std::int64_t leaf = w.stack_node(0, w.frame_id({"hot", "/src/app.c", 5, 0, mod}), w.location_id(mod, 0x50));
  const std::int64_t cpu = w.sample_type(sample_types::cpu);
  const SampleValue ten{cpu, 10};
  w.add_sample(w.begin_checkpoint(1000), leaf, 1, 1, {&ten, 1});
  w.commit_checkpoint();
  ViewModel model;
  model.update(RecordingReader(path));
  EXPECT_EQ(model.view({}).samples, 10u);
  {
    // Behind the model's back (the writer never rewrites a committed checkpoint).
    Database db(path, SQLITE_OPEN_READWRITE);
    db.exec("UPDATE samples SET value = 1000");
  }
  w.add_sample(w.begin_checkpoint(2000), leaf, 1, 1, {&ten, 1});
  w.commit_checkpoint();
  model.update(RecordingReader(path));
  EXPECT_EQ(model.view({}).samples, 20u) << "the first checkpoint was not read again";
  EXPECT_EQ(load_view(RecordingReader(path), {}).samples, 1010u);
}

// The footer's note of processes that died abnormally follows the events as they come.
TEST(ViewModel, SaysWhenTargetsDieAbnormally) {
  test::TempDir dir;
  const std::string path = dir.file("deaths.db");
  create_private_file(path, false);
  RecordingWriter w(path);
  auto ended = [](std::int64_t pid, int status, bool oom) {
    LifecycleEvent e;
    e.pid = pid;
    e.comm = "worker";
    decode_wait_status(status, oom, e);
    return e;
  };
  w.begin_checkpoint(1000);
  w.add_event(ended(10, 3 << 8, false));  // exit 3: not abnormal
  w.commit_checkpoint();
  ViewModel model;
  {
    RecordingReader reader(path);
    model.update(reader);
    EXPECT_EQ(model.view({}).exits_note, "");
  }
  w.begin_checkpoint(2000);
  w.add_event(ended(11, 11, false));
  w.add_event(ended(12, 11, false));
  w.add_event(ended(13, 9, true));
  w.commit_checkpoint();
  RecordingReader reader(path);
  EXPECT_TRUE(model.update(reader));
  EXPECT_EQ(model.view({}).exits_note, "2 processes killed by SIGSEGV, 1 OOM-killed");
  EXPECT_EQ(load_view(reader, {}).exits_note, model.view({}).exits_note) << "as a fresh read";
}

}  // namespace
}  // namespace hotline
