#pragma once
// Thin RAII over the SQLite C API: a connection, prepared statements, transactions.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/error.h"

namespace hotline {

// The file system holding the database is full (SQLITE_FULL, or a write failing with
// ENOSPC or EDQUOT): what was committed is intact; the writer decides what to keep.
class DiskFull : public Error {
 public:
  using Error::Error;
};

class Database {
 public:
  Database() = default;
  // Throws Error(database) with SQLite's message.
  Database(const std::string& path, int flags);
  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  sqlite3* get() const { return db_; }
  void exec(const std::string& sql);
  [[noreturn]] void fail(const std::string& what) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Statement {
 public:
  Statement() = default;
  Statement(const Database& db, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, std::nullopt_t);
  // Steps once: true when a row is available.
  bool step();
  // Runs to completion and resets (for inserts/updates).
  void run();
  void reset();

  std::int64_t column_int(int index) const;
  std::string column_text(int index) const;
  bool column_null(int index) const;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  const Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace hotline
