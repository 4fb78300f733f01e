#include "report/table.h"

#include <cctype>

#include <algorithm>

namespace hotline {
namespace {

// Display width in terminal columns: counts UTF-8 code points (not bytes).
std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

std::string TextTable::render() const {
  std::vector<std::size_t> widths(headers.size(), 0);
  for (std::size_t c = 0; c < headers.size(); ++c) widths[c] = display_width(headers[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < headers.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      std::size_t pad = widths[c] - std::min(widths[c], display_width(cell));
      bool right = c < right_align.size() && right_align[c];
      if (c > 0) line += "  ";
      if (right) line += std::string(pad, ' ') + cell;
      else line += cell + (c + 1 < headers.size() ? std::string(pad, ' ') : "");
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(headers);
  for (const auto& row : rows) emit(row);
  return out;
}

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string lower_ascii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void put_site(nlohmann::ordered_json& entry, const std::string& function, const std::string& file, int line) {
  entry["function"] = function;
  entry["file"] = file;
  if (line > 0) entry["line"] = line;
  else entry["line"] = nullptr;
}

std::string site_csv(const std::string& function, const std::string& file, int line) {
  return csv_escape(function) + "," + csv_escape(file) + "," + (line > 0 ? std::to_string(line) : "");
}

}  // namespace hotline
