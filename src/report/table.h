#pragma once
// Rendering rows as an aligned text table, CSV (RFC 4180) or JSON.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hotline {

struct TextTable {
  std::vector<std::string> headers;
  std::vector<bool> right_align;  // per column
  std::vector<std::vector<std::string>> rows;
  // Optional, per row: text put around the whole line (hotline's own colour codes; the cells
  // themselves are always made printable).
  std::vector<std::pair<std::string, std::string>> row_style;
  std::string render() const;
};

// A CSV field: control characters made visible (util/text.h), quoted when it holds , or ".
std::string csv_escape(const std::string& field);
// JSON text of a report: invalid UTF-8 replaced, DEL and C1 controls escaped too.
std::string dump_json(const nlohmann::ordered_json& j, int indent = 2);

// The site columns every report ends an entry with: function, file, line. JSON: "line" is
// null when unknown; CSV: "function,file,line" escaped, the line empty when unknown.
void put_site(nlohmann::ordered_json& entry, const std::string& function, const std::string& file, int line);
std::string site_csv(const std::string& function, const std::string& file, int line);

// ASCII lower case: the case-insensitive --filter of every report.
std::string lower_ascii(std::string s);

}  // namespace hotline
