// A thin RAII layer over the SQLite C API: a connection and prepared
// statements with typed binds and columns. Errors become sb::Error messages
// that name the database file.
#pragma once
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace sb::db {

class Statement {
public:
  Statement() = default;
  Statement(sqlite3_stmt *s) : s_(s) {}
  Statement(Statement &&o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Statement &operator=(Statement &&o) noexcept;
  ~Statement();

  bool valid() const { return s_ != nullptr; }
  // Binds by position (1-based), left to right with bindAll.
  void bind(int i, int64_t v);
  void bind(int i, std::string_view v);
  void bind(int i, std::span<const uint8_t> v);
  void bindNull(int i);
  template <typename... T>
  void bindAll(const T &...v) {
    bindFrom(1, v...);
  }
  template <typename... T>
  void bindFrom(int first, const T &...v) {
    int i = first - 1;
    (bindOne(++i, v), ...);
  }
  // Runs to the next row: true while there is one.
  bool step();
  // step() for statements that return no rows, then reset for reuse.
  bool run();
  void reset();

  int64_t integer(int col) const;
  std::string text(int col) const;
  std::span<const uint8_t> blob(int col) const;
  bool isNull(int col) const;

private:
  void bindOne(int i, std::span<const uint8_t> v) { bind(i, v); }
  template <typename T>
  void bindOne(int i, const std::optional<T> &v) {
    if (v)
      bindOne(i, *v);
    else
      bindNull(i);
  }
  template <typename T>
  void bindOne(int i, const T &v) {
    if constexpr (std::is_convertible_v<const T &, std::string_view>)
      bind(i, std::string_view(v));
    else
      bind(i, int64_t(v));
  }
  sqlite3_stmt *s_ = nullptr;
};

class Connection {
public:
  // Opens an existing database read-only, or creates (replacing) one.
  static Expected<Connection> openReadOnly(const std::string &path);
  static Expected<Connection> create(const std::string &path);
  Connection(Connection &&o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  ~Connection();

  bool exec(const std::string &sql);
  Statement prepare(std::string_view sql);
  // The last error, as "FILE: message".
  std::string error() const;
  const std::string &path() const { return path_; }

private:
  Connection(sqlite3 *db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3 *db_ = nullptr;
  std::string path_;
};

// Whether the file starts with the SQLite header ("SQLite format 3\0").
bool looksLikeSqlite(const std::string &path);

} // namespace sb::db
