#include "report/table.h"

#include "util/text.h"

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
  std::vector<std::vector<std::string>> clean;
  clean.reserve(rows.size());
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    cells.reserve(row.size());
    for (const auto& cell : row) cells.push_back(printable(cell));
    clean.push_back(std::move(cells));
  }
  std::vector<std::size_t> widths(headers.size(), 0);
  for (std::size_t c = 0; c < headers.size(); ++c) widths[c] = display_width(headers[c]);
  for (const auto& row : clean) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells, std::size_t row) {
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
    if (row < row_style.size()) line = row_style[row].first + line + row_style[row].second;
    out += line + "\n";
  };
  emit(headers, row_style.size());
  for (std::size_t r = 0; r < clean.size(); ++r) emit(clean[r], r);
  return out;
}

std::string csv_escape(const std::string& raw) {
  const std::string field = printable(raw);  // no line breaks or escapes inside a field
  if (field.find_first_of(",\"") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string dump_json(const nlohmann::ordered_json& j, int indent) {
  return json_terminal_safe(j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
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
