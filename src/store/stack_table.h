#pragma once
// The stacks of a recording as every view reads them: `top`, `top heap`, the live view, the
// exports and diff. The prefix tree's walk (leaf to root, every inline level one node), the
// frame of a node, and where a heap sample's value belongs (the first frame outside the
// allocator) are written here once.
//
// A recording is untrusted: a parent chain that loops or runs deeper than any real stack is
// cut at kMaxStackNodes, and a node or frame that is missing reads as "[unknown]".
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "store/reader.h"

namespace hotline {

// The allocator or the standard library around it (its containers, operator new, Rust's
// alloc): a heap sample's value goes to the first frame from the leaf that is not one.
bool allocator_frame(const FrameInfo& frame);

class StackTable {
 public:
  // Deeper than any stack the recorder writes (127 addresses, each with its inline levels).
  static constexpr std::size_t kMaxStackNodes = 4096;

  StackTable() = default;
  explicit StackTable(const RecordingReader& reader) { update(reader); }

  // Reads the nodes and frames added since the last update. The writer only appends (ids
  // grow), so a live recording is followed by reading what is new, never all again.
  void update(const RecordingReader& reader);

  // A node's frame; nullptr when the node or its frame is not in the recording.
  const FrameInfo* frame_of(std::int64_t node) const;
  // The same, with an "[unknown]" frame in place of nullptr.
  const FrameInfo& frame(std::int64_t node) const;
  const StackNode* node(std::int64_t id) const;

  // Calls visit(node_id, frame) from the leaf outwards; `frame` is nullptr when unknown. A
  // visit that returns false stops the walk.
  template <typename Visit>
  void walk(std::int64_t leaf, Visit&& visit) const {
    std::int64_t id = leaf;
    for (std::size_t depth = 0; id != 0 && depth < kMaxStackNodes; ++depth) {
      const StackNode* n = node(id);
      if (n == nullptr) return;
      if (!visit(id, frame_of(id))) return;
      id = n->parent;
    }
  }
  // The node ids of a stack, root (outermost caller) first.
  std::vector<std::int64_t> root_to_leaf(std::int64_t leaf) const;

  // Where a heap sample's value belongs: the first known frame from the leaf outside the
  // allocator (or the innermost known frame when every frame is the allocator's, or with
  // `show_allocator`). Index into leaf-to-root order in `depth` when asked.
  const FrameInfo* allocating_frame(std::int64_t leaf, bool show_allocator = false,
                                    std::size_t* depth = nullptr) const;

  std::size_t node_count() const { return nodes_.size(); }
  std::size_t frame_count() const { return frames_.size(); }

 private:
  std::unordered_map<std::int64_t, StackNode> nodes_;
  std::unordered_map<std::int64_t, FrameInfo> frames_;
  std::int64_t last_node_ = 0, last_frame_ = 0;
};

}  // namespace hotline
