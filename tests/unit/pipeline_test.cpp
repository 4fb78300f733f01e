// Replay tests of the sample pipeline: drains as collectors deliver them (CPU ticks, heap
// deltas, lost and truncated stacks) go through symbolization and interning into a
// recording, and the stored rows are what `top` and `top heap` read. No kernel involved:
// the addresses are this test's own code, captured while it runs.
#include <unistd.h>

#include <gtest/gtest.h>

#include "harness.h"
#include "record/pipeline.h"
#include "report/heap_top.h"
#include "report/top.h"
#include "store/reader.h"
#include "store/writer.h"
#include "symbolize/symbolizer.h"
#include "util/files.h"

namespace hotline {
namespace {

// The address right after a call: a return address into the caller.
__attribute__((noinline)) std::uint64_t here() {
  return reinterpret_cast<std::uint64_t>(__builtin_return_address(0));
}

struct Captured {
  std::uint64_t in_leaf = 0;    // a return address inside replay_leaf (after its call to here)
  std::uint64_t in_caller = 0;  // the return address of replay_leaf's call in replay_caller
};

__attribute__((noinline)) void replay_leaf(Captured& c) {
  c.in_leaf = here();  // REPLAY_LEAF_LINE
  c.in_caller = reinterpret_cast<std::uint64_t>(__builtin_return_address(0));
  asm volatile("" ::: "memory");
}

__attribute__((noinline)) void replay_caller(Captured& c) {
  replay_leaf(c);  // REPLAY_CALLER_LINE
  asm volatile("" ::: "memory");
}

int line_in_this_file(const char* marker) {
  return test::line_of("../unit/pipeline_test.cpp", marker);
}

class Pipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    replay_caller(captured_);
    path_ = dir_.file("replay.db");
    create_private_file(path_, false);
    writer_ = std::make_unique<RecordingWriter>(path_);
    ASSERT_TRUE(symbolizer_.snapshot(::getpid()));
    pipeline_ = std::make_unique<SamplePipeline>(*writer_, symbolizer_);
  }

  StackSample sample(std::vector<std::uint64_t> values) const {
    StackSample s;
    s.pid = ::getpid();
    s.user_ips = {captured_.in_leaf, captured_.in_caller};  // innermost first
    s.values = std::move(values);
    return s;
  }

  Captured captured_;
  test::TempDir dir_;
  std::string path_;
  Symbolizer symbolizer_;
  std::unique_ptr<RecordingWriter> writer_;
  std::unique_ptr<SamplePipeline> pipeline_;
};

TEST_F(Pipeline, CpuTicksBecomeTheHotLineAndItsCaller) {
  const std::size_t cpu = pipeline_->add_source({sample_types::cpu});
  StackSample tick = sample({25});
  tick.tid = ::getpid();
  tick.comm = "replayer";
  StackSample lost;  // no stack at all
  lost.pid = ::getpid();
  lost.tid = ::getpid();
  lost.comm = "replayer";
  lost.values = {5};
  StackSample wrong = sample({1, 2});  // not of the declared types: dropped
  const std::int64_t c = writer_->begin_checkpoint(1000);
  EXPECT_EQ(pipeline_->write(c, cpu, {tick, lost, wrong}), 30u);
  writer_->commit_checkpoint();
  writer_->finish();

  RecordingReader reader(path_);
  const TopReport top = cpu_top(reader, {});
  EXPECT_EQ(top.total_samples, 30u);
  ASSERT_GE(top.entries.size(), 3u);
  EXPECT_NE(top.entries[0].function.find("replay_leaf"), std::string::npos) << top.entries[0].function;
  EXPECT_EQ(top.entries[0].line, line_in_this_file("REPLAY_LEAF_LINE"));
  EXPECT_EQ(top.entries[0].self_samples, 25u);
  bool caller = false, stack_lost = false;
  for (const TopEntry& e : top.entries) {
    if (e.function.find("replay_caller") != std::string::npos) {
      caller = true;
      EXPECT_EQ(e.line, line_in_this_file("REPLAY_CALLER_LINE"));
      EXPECT_EQ(e.self_samples, 0u);
      EXPECT_EQ(e.total_samples, 25u);
    }
    if (e.function == "[stack lost]") {
      stack_lost = true;
      EXPECT_EQ(e.self_samples, 5u);
    }
  }
  EXPECT_TRUE(caller);
  EXPECT_TRUE(stack_lost);
  EXPECT_EQ(test::query_value(path_, "SELECT comm FROM threads"), "replayer");
  // The module of this test binary, with its executable segments.
  EXPECT_NE(test::query_value(path_, "SELECT COUNT(*) FROM module_segments"), "0");
}

TEST_F(Pipeline, HeapDeltasGoToTheAllocatingLine) {
  const std::size_t heap = pipeline_->add_source({sample_types::heap_alloc_bytes, sample_types::heap_alloc_count,
                                                  sample_types::heap_free_bytes, sample_types::heap_free_count});
  StackSample alloc = sample({64 << 20, 64, 16 << 20, 16});
  alloc.user_ips = {captured_.in_caller};  // the allocator's caller: a return address
  const std::int64_t c = writer_->begin_checkpoint(1000);
  EXPECT_EQ(pipeline_->write(c, heap, {alloc}), 0u) << "heap values are not CPU samples";
  writer_->commit_checkpoint();
  writer_->finish();

  RecordingReader reader(path_);
  const HeapTopReport live = heap_top(reader, {});
  ASSERT_FALSE(live.entries.empty());
  EXPECT_NE(live.entries[0].function.find("replay_caller"), std::string::npos) << live.entries[0].function;
  EXPECT_EQ(live.entries[0].line, line_in_this_file("REPLAY_CALLER_LINE"));
  EXPECT_EQ(live.entries[0].live_bytes, std::int64_t{48} << 20);
  EXPECT_EQ(live.entries[0].alloc_count, 64);
  EXPECT_EQ(test::query_value(path_, "SELECT tid FROM samples GROUP BY tid"), "0") << "heap samples are per process";
}

TEST_F(Pipeline, TruncatedStacksAreMarkedAtTheirRoot) {
  const std::size_t cpu = pipeline_->add_source({sample_types::cpu});
  StackSample deep = sample({3});
  deep.truncated = true;
  const std::int64_t c = writer_->begin_checkpoint(1000);
  pipeline_->write(c, cpu, {deep});
  writer_->commit_checkpoint();
  writer_->finish();
  // The root of the stored stack is the marker, the caller under it.
  EXPECT_EQ(test::query_value(path_, "SELECT f.function FROM stacks s JOIN frames f ON f.id = s.frame_id "
                                     "WHERE s.parent IS NULL"),
            "[truncated: depth]");
}

}  // namespace
}  // namespace hotline
