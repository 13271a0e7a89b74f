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
#include <string>

namespace sb::db {

struct WriteOptions {
  // Called before each step ("functions", "classes", ... "tables"), with the
  // step's number and the count of steps.
  std::function<void(const char *step, size_t index, size_t count)> progress;
};

struct WriteSummary {
  uint64_t bytes = 0;   // the database file's size
  size_t functions = 0, names = 0, edges = 0, classes = 0;
};

// Runs every analysis of the session (each once) and writes the database to
// path, replacing the file. sourcePath names the analyzed file in `image`.
Expected<WriteSummary> writeProjectDb(const Analysis &a, const std::string &sourcePath, const std::string &path,
                                      const WriteOptions &options = {});

// Whether the file is an SQLite database (what `open` takes for a project
// database; whether it is one of ours openProjectDb says).
bool isProjectDb(const std::string &path);

// Opens a project database: checks that it is one, of this schema version,
// and that its image decodes; the models are read when first asked for.
Expected<std::unique_ptr<Analysis>> openProjectDb(const std::string &path, AnalysisOptions options = {});

} // namespace sb::db
