// The report's page: the sections' skeleton, the style, the data as JSON in
// a <script type="application/json"> element and the script that renders it.
// The Content-Security-Policy lets the page run its own inline script and
// style and load nothing, from anywhere.
#include "switchboard/report/Report.h"

#include "switchboard/support/Quote.h"

namespace sb::report {

extern const char *const kReportScript;
extern const char *const kReportStyle;

namespace {
constexpr const char *kBody = R"(<header>
<h1>switchboard: <span id="title">{title}</span></h1>
<nav><a href="#summary">Summary</a><a href="#messages">Messages</a><a href="#classes">Classes</a><a href="#exceptions">Exceptions</a><a href="#edges">Edges</a></nav>
<div id="search-box"><input id="search" type="search" placeholder="Search names and addresses" autocomplete="off"><ul id="search-results"></ul></div>
</header>
<div class="layout">
<main>
<section id="summary"><h2>Summary</h2><table id="summary-table"></table></section>
<section id="messages"><h2>Message graph</h2>
<p class="muted">Window classes and the procedures registered for them; pick a procedure to see the messages it handles and the functions that send them. Click a node for its listing.</p>
<div class="graph" id="overview"></div>
<div class="proc-list" id="proc-list"></div>
<div id="proc-info"></div>
<div class="graph" id="proc-graph"></div>
</section>
<section id="classes"><h2>C++ classes</h2><div id="class-tree"></div></section>
<section id="exceptions"><h2>Exception edges</h2><div class="muted" id="eh-count"></div><table id="eh-table"></table></section>
<section id="edges"><h2>All edges</h2>
<div class="filters"><label>kind <select id="edge-kind"></select></label><label>filter <input id="edge-filter" type="search" placeholder="name, address, label"></label><span class="muted" id="edge-count"></span></div>
<table id="edge-table"></table></section>
</main>
<aside id="listing-panel"><h2 id="listing-title">Listing</h2><pre id="listing"><span class="muted">Click a node, an edge or a search result.</span></pre></aside>
</div>
)";

std::string replaceAll(std::string text, std::string_view what, std::string_view with) {
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + with.size()))
    text.replace(at, what.size(), with);
  return text;
}
} // namespace

std::string renderReport(const Analysis &a, const std::string &moduleFile, const ReportOptions &options,
                         ReportCounts *counts) {
  const std::string data = reportData(a, moduleFile, options, counts);
  const std::string title = htmlEscape(moduleFile);
  std::string out;
  out.reserve(data.size() + 64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; "
         "style-src 'unsafe-inline'; img-src data:\">\n";
  out += "<link rel=\"icon\" href=\"data:,\">\n";
  out += "<title>switchboard report: " + title + "</title>\n";
  out += "<style>\n" + std::string(kReportStyle) + "</style>\n</head>\n<body>\n";
  out += replaceAll(kBody, "{title}", title);
  out += "<script type=\"application/json\" id=\"sb-data\">" + scriptJson(data) + "</script>\n";
  out += "<script>\n" + std::string(kReportScript) + "</script>\n</body>\n</html>\n";
  return out;
}

} // namespace sb::report
