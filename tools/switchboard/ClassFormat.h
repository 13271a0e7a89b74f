// JSON and text renderings of the C++ object model shared by the `classes`,
// `class` and `vcalls` commands.
#pragma once
#include "Common.h"

#include "switchboard/cxx/ObjectModel.h"

namespace sb::cli {

json classJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::Class &c);
json structorJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::Structor &s);
json initializerJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::StaticInitializer &s);
// A site refers to its candidates by set ("candidate_set": N); the sets,
// each listed once with the targets' names, by candidateSetJson.
json vcallJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::VirtualCall &v);
json candidateSetJson(const Analysis &a, const cxx::ObjectModel &m, uint32_t id);
// The analysis with progress on a terminal.
const cxx::ObjectModel &analyzeClasses(const Analysis &a, const CommonOptions &o);

} // namespace sb::cli
