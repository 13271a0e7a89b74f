// The sections of the report's data, each read from one of the session's
// models; Data.cpp puts them together. Addresses are RVAs (numbers); names
// come from the naming service, and the page looks up the rest in `names`
// and `functions`.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/report/Report.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace sb::report {

using json = nlohmann::ordered_json;

// Every name of the naming service: [rva, text, label (0/1), source].
json namesSection(const Analysis &a);
// Every function: [rva, end of the main chunk, name].
json functionsSection(const Analysis &a);
// Every edge of the graph: [kind, from, function of from (or -1), to, label,
// exactness, evidence, detail], `to` an RVA, "module!name" or [set index];
// with the kind/exactness/evidence names the indices refer to and the sets.
json edgesSection(const Analysis &a);
// Window classes, procedures with their cases, and the graph's message
// edges into each case (indices into the edges section).
json messagesSection(const Analysis &a, ReportCounts &counts);
// The C++ classes: bases, derived, vftables with their slots, structors,
// size and fields.
json classesSection(const Analysis &a);
// Listings (like `disasm`, with each edge's comment at its site) of the
// functions the other sections name, most important first, within the
// budget: [[rva, text]] where text holds one line per instruction
// ("rva\tinstruction\tnote", rva in hex) and ":name" label lines.
json listingsSection(const Analysis &a, const ReportOptions &options, ReportCounts &counts);

} // namespace sb::report
