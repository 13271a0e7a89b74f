// The fact tables of the project database, each filled from one model of
// the session (the same facts the commands render).
#pragma once
#include "db/Sqlite.h"

#include <optional>

namespace sb { class Analysis; }
namespace sb::graph { struct Edge; }

namespace sb::db {

// The module a row belongs to (`image.module_id`): a database holds one or
// several analyzed files, and every fact table starts with this column.
struct ModuleId {
  int64_t id = 0;
};

// An INSERT of one table, prepared once, run per row.
class Inserter {
public:
  // A table of facts of one module: `columns` values after its module_id.
  Inserter(Connection &c, const char *table, ModuleId module, int columns);
  // A table of the whole database (meta).
  Inserter(Connection &c, const char *table, int columns);
  template <typename... T>
  void row(const T &...v) {
    if (module_) {
      st_.bind(1, *module_);
      st_.bindFrom(2, v...);
    } else {
      st_.bindAll(v...);
    }
    st_.run();
  }
  bool valid() const { return st_.valid(); }

private:
  Statement st_;
  std::optional<int64_t> module_;
};

// Each writes one model's tables for the module; writeGraphTables gives
// its edges ids from firstEdgeId on and returns the next free one.
void writeImageTables(const Analysis &a, Connection &c, ModuleId mod);
void writeCodeTables(const Analysis &a, Connection &c, ModuleId mod);
void writeCxxTables(const Analysis &a, Connection &c, ModuleId mod);
void writeEhTables(const Analysis &a, Connection &c, ModuleId mod);
void writeMessageTables(const Analysis &a, Connection &c, ModuleId mod);
int64_t writeGraphTables(const Analysis &a, Connection &c, ModuleId mod, int64_t firstEdgeId);

// One row of `edges` (an Inserter of kEdgeColumns): toRva is NULL for an
// edge into a module outside the database or to a candidate set; toModuleId
// names the target's module when it is another module of the database.
inline constexpr int kEdgeColumns = 12;
void edgeRow(Inserter &edges, int64_t id, const graph::Edge &e, std::optional<int64_t> toModuleId,
             std::optional<int64_t> toRva);

} // namespace sb::db
