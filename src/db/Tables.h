// The fact tables of the project database, each filled from one model of
// the session (the same facts the commands render).
#pragma once
#include "db/Sqlite.h"

namespace sb { class Analysis; }

namespace sb::db {

// An INSERT of one table, prepared once, run per row.
class Inserter {
public:
  Inserter(Connection &c, const char *table, int columns);
  template <typename... T>
  void row(const T &...v) {
    st_.bindAll(v...);
    st_.run();
  }
  bool valid() const { return st_.valid(); }

private:
  Statement st_;
};

void writeImageTables(const Analysis &a, Connection &c);
void writeCodeTables(const Analysis &a, Connection &c);
void writeCxxTables(const Analysis &a, Connection &c);
void writeEhTables(const Analysis &a, Connection &c);
void writeMessageTables(const Analysis &a, Connection &c);
void writeGraphTables(const Analysis &a, Connection &c);

} // namespace sb::db
