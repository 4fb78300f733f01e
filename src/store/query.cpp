#include "store/query.h"

#include <fmt/format.h>

#include "util/error.h"

namespace hotline {
namespace {

int deny_attach(void*, int action, const char*, const char*, const char*, const char*) {
  return (action == SQLITE_ATTACH || action == SQLITE_DETACH) ? SQLITE_DENY : SQLITE_OK;
}

}  // namespace

QueryResult run_readonly_query(const Database& db, const std::string& sql) {
  sqlite3_set_authorizer(db.get(), deny_attach, nullptr);
  QueryResult result;
  const char* tail = sql.c_str();
  const char* end = sql.c_str() + sql.size();
  bool any = false;
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    int rc = sqlite3_prepare_v2(db.get(), tail, static_cast<int>(end - tail), &raw, &next);
    if (rc != SQLITE_OK) {
      if (sqlite3_errcode(db.get()) == SQLITE_AUTH) {
        throw Error(ExitCode::invalid_args, "refused: ATTACH and DETACH are not allowed in query",
                    "query one recording at a time");
      }
      throw Error(ExitCode::invalid_args, fmt::format("invalid query: {}", sqlite3_errmsg(db.get())),
                  "see docs/storage.md for the tables; try: SELECT * FROM meta");
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    tail = next;
    if (!stmt) continue;  // whitespace or comment
    if (!sqlite3_stmt_readonly(stmt.get())) {
      throw Error(ExitCode::invalid_args,
                  fmt::format("refused: '{}' would modify the recording; query is read-only",
                              std::string(sqlite3_sql(stmt.get())).substr(0, 80)),
                  "use SELECT statements only");
    }
    any = true;
    // Only the last statement's rows are shown (like the sqlite3 shell's last result).
    result = QueryResult{};
    int ncols = sqlite3_column_count(stmt.get());
    for (int c = 0; c < ncols; ++c) result.columns.emplace_back(sqlite3_column_name(stmt.get(), c));
    while (true) {
      rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        throw Error(ExitCode::database, fmt::format("query failed: {}", sqlite3_errmsg(db.get())));
      }
      std::vector<QueryResult::Cell> row;
      for (int c = 0; c < ncols; ++c) {
        int type = sqlite3_column_type(stmt.get(), c);
        if (type == SQLITE_NULL) {
          row.push_back({std::nullopt, false});
        } else {
          const unsigned char* text = sqlite3_column_text(stmt.get(), c);
          row.push_back({std::string(text ? reinterpret_cast<const char*>(text) : ""),
                         type == SQLITE_INTEGER || type == SQLITE_FLOAT});
        }
      }
      result.rows.push_back(std::move(row));
    }
  }
  if (!any) throw Error(ExitCode::invalid_args, "empty query", "give a SELECT statement");
  sqlite3_set_authorizer(db.get(), nullptr, nullptr);
  return result;
}

}  // namespace hotline
