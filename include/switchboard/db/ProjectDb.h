// The project database (`switchboard analyze`): one SQLite file holding the
// image, every model of its analysis, and the facts of those models as
// tables (docs/project-database.md). A session opened from it answers every
// accessor from the stored models, so each command gives the same output
// as on the binary, without analyzing again.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sb::db {

struct WriteOptions {
  // Called before each step ("functions", "classes", ... "tables"), with the
  // step's number and the count of steps.
  std::function<void(const char *step, size_t index, size_t count)> progress;
};

// One analyzed file of a database; sourcePath names it in `image`.
struct ModuleInput {
  const Analysis *analysis = nullptr;
  std::string sourcePath;
};

struct ModuleSummary {
  std::string fileName;
  size_t functions = 0, names = 0, edges = 0, classes = 0;
};

struct WriteSummary {
  uint64_t bytes = 0;   // the database file's size
  std::vector<ModuleSummary> modules;
  size_t links = 0;     // edges between the modules (RPC calls, port messages)
};

// Runs every analysis of each module's session (each once) and writes the
// database to path, replacing the file: the modules in the order given
// (module_id 0, 1, ...), and the edges from a client call in one module to
// the server routine or port loop in another.
Expected<WriteSummary> writeProjectDb(std::span<const ModuleInput> modules, const std::string &path,
                                      const WriteOptions &options = {});
// The database of one module.
Expected<WriteSummary> writeProjectDb(const Analysis &a, const std::string &sourcePath, const std::string &path,
                                      const WriteOptions &options = {});

// A module a database holds.
struct StoredModule {
  int64_t id = 0;
  std::string fileName, module;
  // Whether `name` (a file or module name, any case) names this module.
  bool isNamed(const std::string &name) const;
};
// The modules of a project database, in module_id order.
Expected<std::vector<StoredModule>> projectDbModules(const std::string &path);

// Whether the file is an SQLite database (what `open` takes for a project
// database; whether it is one of ours openProjectDb says).
bool isProjectDb(const std::string &path);

// Opens a project database: checks that it is one, of this schema version,
// and that its image decodes; the models are read when first asked for.
// The module opened is options.module (its file or module name), or the
// first one.
Expected<std::unique_ptr<Analysis>> openProjectDb(const std::string &path, AnalysisOptions options = {});

} // namespace sb::db
