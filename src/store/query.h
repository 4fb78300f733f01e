#pragma once
// `hotline query`: user SQL on a read-only connection. Statements that would write, and
// ATTACH, are refused before they run.
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"

namespace hotline {

struct QueryResult {
  std::vector<std::string> columns;
  // Each cell: nullopt for SQL NULL; numbers are kept as text with `numeric` set.
  struct Cell {
    std::optional<std::string> text;
    bool numeric = false;
  };
  std::vector<std::vector<Cell>> rows;
};

QueryResult run_readonly_query(const Database& db, const std::string& sql);

}  // namespace hotline
