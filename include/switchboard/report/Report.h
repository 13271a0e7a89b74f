// The interactive HTML report: one self-contained offline page (its script,
// style and data inlined; a Content-Security-Policy that forbids any
// network) with the summary, the message graph (window classes ->
// procedures -> handled messages -> senders, each node opening its
// function's listing with the edge labels inline), the C++ classes, the
// exception edges, every edge of the graph (searchable, filterable by kind)
// and a search over names and addresses. Everything in it is read from the
// session's graph, naming service and models, never re-derived; the same
// session (from a file or from its project database) gives the same bytes.
#pragma once
#include "switchboard/analysis/Analysis.h"

#include <cstddef>
#include <string>

namespace sb::report {

struct ReportOptions {
  // Instructions the listings may hold in all: a large image keeps its
  // report small by listing the functions the message graph names first
  // (procedures, then senders), then the rest of the referenced functions,
  // until the budget is spent.
  size_t listingBudget = 400000;
};

struct ReportCounts {
  size_t procedures = 0, cases = 0, sends = 0, classes = 0, edges = 0, listings = 0, instructions = 0;
};

// The report's data: JSON text (what the page embeds).
std::string reportData(const Analysis &a, const std::string &moduleFile, const ReportOptions &options = {},
                       ReportCounts *counts = nullptr);
// The whole page.
std::string renderReport(const Analysis &a, const std::string &moduleFile, const ReportOptions &options = {},
                         ReportCounts *counts = nullptr);

} // namespace sb::report
