// The stack table every view reads: the walk, the allocating frame, incremental reading of a
// live recording, and what a crafted recording cannot do to it.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include "harness.h"
#include "report/top.h"
#include "store/reader.h"
#include "store/sqlite.h"
#include "store/stack_table.h"
#include "store/writer.h"
#include "util/files.h"

namespace hotline {
namespace {

// A CPU sample row, as the recorder writes it.
void add_cpu(RecordingWriter& w, std::int64_t checkpoint, std::int64_t stack, pid_t pid, pid_t tid, std::uint64_t n) {
  const SampleValue v{w.sample_type(sample_types::cpu), n};
  w.add_sample(checkpoint, stack, pid, tid, {&v, 1});
}


class Stacks : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("stacks.db");
    create_private_file(path_, false);
    writer_ = std::make_unique<RecordingWriter>(path_);
    mod_ = writer_->module_id("/usr/bin/app", "");
  }

  std::int64_t node(std::int64_t parent, const char* fn, const char* file, int line, std::uint64_t addr) {
    return writer_->stack_node(parent, writer_->frame_id({fn, file, line, 0, mod_}), writer_->location_id(mod_, addr));
  }

  test::TempDir dir_;
  std::string path_;
  std::unique_ptr<RecordingWriter> writer_;
  std::int64_t mod_ = 0;
};

TEST_F(Stacks, WalksLeafToRootAndFindsTheAllocatingLine) {
  // main -> make_table (app.cc:12) -> std::vector<int>::_M_realloc_insert -> operator new
  const std::int64_t main_ = node(0, "main", "/src/app.cc", 5, 0x100);
  const std::int64_t make = node(main_, "make_table", "/src/app.cc", 12, 0x200);
  const std::int64_t grow =
      node(make, "std::vector<int>::_M_realloc_insert", "/usr/include/c++/12/bits/vector.tcc", 440, 0x300);
  const std::int64_t leaf = node(grow, "operator new(unsigned long)", "", 0, 0x400);
  // A stack that is allocator from end to end.
  const std::int64_t only = node(0, "operator new(unsigned long)", "", 0, 0x400);
  writer_->commit_checkpoint();

  RecordingReader reader(path_);
  const StackTable table(reader);
  EXPECT_EQ(table.node_count(), 5u);
  std::vector<std::string> order;
  table.walk(leaf, [&](std::int64_t, const FrameInfo* f) {
    order.push_back(f->function);
    return true;
  });
  EXPECT_EQ(order, (std::vector<std::string>{"operator new(unsigned long)", "std::vector<int>::_M_realloc_insert",
                                             "make_table", "main"}));
  EXPECT_EQ(table.root_to_leaf(leaf), (std::vector<std::int64_t>{main_, make, grow, leaf}));

  std::size_t depth = 99;
  const FrameInfo* site = table.allocating_frame(leaf, false, &depth);
  ASSERT_NE(site, nullptr);
  EXPECT_EQ(site->function, "make_table");
  EXPECT_EQ(site->line, 12);
  EXPECT_EQ(depth, 2u);
  EXPECT_EQ(table.allocating_frame(leaf, true)->function, "operator new(unsigned long)");
  EXPECT_EQ(table.allocating_frame(only)->function, "operator new(unsigned long)");
  EXPECT_EQ(table.frame(12345).function, "[unknown]");
  EXPECT_EQ(table.frame_of(12345), nullptr);
}

TEST_F(Stacks, ALiveRecordingIsFollowedByReadingOnlyWhatIsNew) {
  const std::int64_t main_ = node(0, "main", "/src/app.c", 5, 0x100);
  const std::int64_t a = node(main_, "a", "/src/app.c", 10, 0x200);
  writer_->begin_checkpoint(1000);
  writer_->commit_checkpoint();

  RecordingReader reader(path_);
  StackTable table(reader);
  EXPECT_EQ(table.node_count(), 2u);
  EXPECT_EQ(table.frame_count(), 2u);

  writer_->begin_checkpoint(2000);
  const std::int64_t b = node(main_, "b", "/src/app.c", 20, 0x300);
  writer_->commit_checkpoint();
  table.update(reader);
  EXPECT_EQ(table.node_count(), 3u);
  EXPECT_EQ(table.frame_count(), 3u);
  EXPECT_EQ(table.frame(b).function, "b");
  EXPECT_EQ(table.frame(a).function, "a");
  EXPECT_EQ(table.root_to_leaf(b), (std::vector<std::int64_t>{main_, b}));

  // What the reader has seen is not read again: a row changed behind its back (impossible
  // from the writer, which only appends) stays as first read.
  writer_.reset();
  {
    Database db(path_, SQLITE_OPEN_READWRITE);
    db.exec("UPDATE frames SET function = 'renamed' WHERE function = 'a'");
  }
  table.update(reader);
  EXPECT_EQ(table.frame(a).function, "a");
  EXPECT_EQ(table.node_count(), 3u);
}

TEST_F(Stacks, AParentChainThatLoopsIsCut) {
  const std::int64_t root = node(0, "main", "/src/app.c", 5, 0x100);
  const std::int64_t leaf = node(root, "hot", "/src/app.c", 10, 0x200);
  const std::int64_t c = writer_->begin_checkpoint(1000);
  add_cpu(*writer_, c, leaf, 1, 1, 7);
  writer_->commit_checkpoint();
  writer_->finish();
  writer_.reset();
  {
    Database db(path_, SQLITE_OPEN_READWRITE);
    db.exec("UPDATE stacks SET parent = " + std::to_string(leaf) + " WHERE id = " + std::to_string(root));
  }
  RecordingReader reader(path_);
  const StackTable table(reader);
  EXPECT_EQ(table.root_to_leaf(leaf).size(), StackTable::kMaxStackNodes);
  EXPECT_NE(table.allocating_frame(leaf), nullptr);
  const TopReport top = cpu_top(reader, {});
  ASSERT_FALSE(top.entries.empty());
  EXPECT_EQ(top.entries[0].function, "hot");
  EXPECT_EQ(top.entries[0].self_samples, 7u);
  EXPECT_DOUBLE_EQ(top.entries[0].total_pct, 100.0);  // counted once per sample, however deep the loop
}

}  // namespace
}  // namespace hotline
