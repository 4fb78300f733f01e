#include "store/stack_table.h"

#include <algorithm>

namespace hotline {

bool allocator_frame(const FrameInfo& f) {
  const std::string& fn = f.function;
  if (fn.starts_with("std::") || fn.starts_with("__gnu_cxx::") || fn.starts_with("operator new") ||
      fn.starts_with("__cxxabiv1::") || fn.starts_with("__libc_") || fn.starts_with("alloc::") ||
      fn.starts_with("__rust_") || fn.starts_with("__rdl_") || fn.starts_with("__rg_")) {
    return true;
  }
  return f.file.find("/c++/") != std::string::npos || f.file.find("/bits/") != std::string::npos;
}

void StackTable::update(const RecordingReader& reader) {
  last_frame_ = reader.frames_after(last_frame_, frames_);
  last_node_ = reader.stacks_after(last_node_, nodes_);
}

const StackNode* StackTable::node(std::int64_t id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const FrameInfo* StackTable::frame_of(std::int64_t id) const {
  const StackNode* n = node(id);
  if (n == nullptr) return nullptr;
  auto it = frames_.find(n->frame_id);
  return it == frames_.end() ? nullptr : &it->second;
}

const FrameInfo& StackTable::frame(std::int64_t id) const {
  static const FrameInfo unknown{"[unknown]", "", 0, 0, 0};
  const FrameInfo* f = frame_of(id);
  return f == nullptr ? unknown : *f;
}

std::vector<std::int64_t> StackTable::root_to_leaf(std::int64_t leaf) const {
  std::vector<std::int64_t> path;
  walk(leaf, [&](std::int64_t id, const FrameInfo*) {
    path.push_back(id);
    return true;
  });
  std::reverse(path.begin(), path.end());
  return path;
}

const FrameInfo* StackTable::allocating_frame(std::int64_t leaf, bool show_allocator, std::size_t* depth) const {
  const FrameInfo* first = nullptr;
  const FrameInfo* found = nullptr;
  std::size_t at = 0, first_at = 0;
  walk(leaf, [&](std::int64_t, const FrameInfo* f) {
    if (f != nullptr) {
      if (first == nullptr) {
        first = f;
        first_at = at;
      }
      if (show_allocator || !allocator_frame(*f)) {
        found = f;
        return false;
      }
    }
    ++at;
    return true;
  });
  if (found == nullptr) {
    found = first;
    at = first_at;
  }
  if (depth != nullptr) *depth = at;
  return found;
}

}  // namespace hotline
