// What the stand-in's record of a script must hold: the model's facts in
// the first run's calls, tool by tool, and the calls a second run must not
// make.
#pragma once
#include "switchboard/exporters/Exporter.h"

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace sb::test::script {

struct Counts {
  size_t functions = 0, tails = 0, names = 0, comments = 0, xrefs = 0, types = 0, bookmarks = 0;
};

// Checks (gtest expectations) that the run's calls put every function,
// tail, name, comment, cross-reference, type and bookmark of m at its
// address; returns what it went through.
Counts checkFacts(exporters::Tool t, const exporters::ExportModel &m, const nlohmann::json &run,
                  const std::string &file);

// What a second run must not call: everything that creates or renames.
const std::set<std::string> &creators(exporters::Tool t);

} // namespace sb::test::script
