#include "report/query_render.h"

#include <nlohmann/json.hpp>

#include "report/table.h"

namespace hotline {

std::string render_query_text(const QueryResult& result) {
  TextTable t;
  t.headers = result.columns;
  t.right_align.assign(result.columns.size(), false);
  for (const auto& row : result.rows) {
    std::vector<std::string> cells;
    for (std::size_t c = 0; c < row.size(); ++c) {
      cells.push_back(row[c].text.value_or("NULL"));
      if (row[c].numeric) t.right_align[c] = true;
    }
    t.rows.push_back(std::move(cells));
  }
  return t.render();
}

std::string render_query_csv(const QueryResult& result) {
  std::string out;
  for (std::size_t c = 0; c < result.columns.size(); ++c) out += (c ? "," : "") + csv_escape(result.columns[c]);
  out += "\n";
  for (const auto& row : result.rows) {
    for (std::size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csv_escape(row[c].text.value_or(""));
    out += "\n";
  }
  return out;
}

std::string render_query_json(const QueryResult& result) {
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const auto& row : result.rows) {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (std::size_t c = 0; c < row.size(); ++c) {
      const auto& cell = row[c];
      if (!cell.text) obj[result.columns[c]] = nullptr;
      else if (cell.numeric) obj[result.columns[c]] = nlohmann::ordered_json::parse(*cell.text, nullptr, false);
      else obj[result.columns[c]] = *cell.text;
    }
    rows.push_back(std::move(obj));
  }
  return dump_json(rows) + "\n";
}

}  // namespace hotline
