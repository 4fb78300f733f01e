#pragma once
// Rendering rows as an aligned text table, CSV (RFC 4180) or JSON.
#include <string>
#include <vector>

namespace hotline {

struct TextTable {
  std::vector<std::string> headers;
  std::vector<bool> right_align;  // per column
  std::vector<std::vector<std::string>> rows;
  std::string render() const;
};

std::string csv_escape(const std::string& field);

// ASCII lower case: the case-insensitive --filter of every report.
std::string lower_ascii(std::string s);

}  // namespace hotline
