#include "db/Sqlite.h"

#include <sqlite3.h>

#include <cstdio>
#include <cstring>
#include <fmt/format.h>

namespace sb::db {

Statement &Statement::operator=(Statement &&o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    s_ = o.s_;
    o.s_ = nullptr;
  }
  return *this;
}
Statement::~Statement() { sqlite3_finalize(s_); }

void Statement::bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
void Statement::bind(int i, std::string_view v) { sqlite3_bind_text(s_, i, v.data(), int(v.size()), SQLITE_TRANSIENT); }
void Statement::bind(int i, std::span<const uint8_t> v) {
  sqlite3_bind_blob64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT);
}
void Statement::bindNull(int i) { sqlite3_bind_null(s_, i); }

bool Statement::step() { return s_ && sqlite3_step(s_) == SQLITE_ROW; }
bool Statement::run() {
  int rc = s_ ? sqlite3_step(s_) : SQLITE_MISUSE;
  reset();
  return rc == SQLITE_DONE || rc == SQLITE_ROW;
}
void Statement::reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

int64_t Statement::integer(int col) const { return sqlite3_column_int64(s_, col); }
std::string Statement::text(int col) const {
  const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(s_, col));
  return p ? std::string(p, size_t(sqlite3_column_bytes(s_, col))) : std::string();
}
std::span<const uint8_t> Statement::blob(int col) const {
  const auto *p = static_cast<const uint8_t *>(sqlite3_column_blob(s_, col));
  return p ? std::span<const uint8_t>(p, size_t(sqlite3_column_bytes(s_, col))) : std::span<const uint8_t>();
}
bool Statement::isNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

Connection::~Connection() { sqlite3_close(db_); }

Expected<Connection> Connection::openReadOnly(const std::string &path) {
  sqlite3 *db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = fmt::format("{}: cannot open the project database: {}", path, db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return makeError(msg);
  }
  return Connection(db, path);
}

Expected<Connection> Connection::create(const std::string &path) {
  std::remove(path.c_str());
  sqlite3 *db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = fmt::format("{}: cannot create the project database: {}", path, db ? sqlite3_errmsg(db) : "");
    sqlite3_close(db);
    return makeError(msg);
  }
  return Connection(db, path);
}

bool Connection::exec(const std::string &sql) { return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK; }

Statement Connection::prepare(std::string_view sql) {
  sqlite3_stmt *s = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), int(sql.size()), &s, nullptr) != SQLITE_OK)
    return Statement();
  return Statement(s);
}

std::string Connection::error() const { return fmt::format("{}: {}", path_, db_ ? sqlite3_errmsg(db_) : "not open"); }

bool looksLikeSqlite(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return false;
  char head[16] = {};
  size_t n = std::fread(head, 1, sizeof head, f);
  std::fclose(f);
  return n == sizeof head && std::memcmp(head, "SQLite format 3", 16) == 0;
}

} // namespace sb::db
