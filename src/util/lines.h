#pragma once
// Walks text line by line without copying: `Lines lines(text); while (auto l = lines.next())`.
// The last line need not end with '\n'.
#include <optional>
#include <string_view>

namespace hotline {

class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  std::optional<std::string_view> next() {
    if (pos_ >= text_.size()) return std::nullopt;
    std::size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return line;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace hotline
