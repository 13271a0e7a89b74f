// `switchboard report FILE|DB [-o OUT]`: the interactive HTML report, one
// self-contained offline page rendered from the session (src/report).
#include "Common.h"

#include "switchboard/report/Report.h"

#include <filesystem>
#include <fstream>

namespace sb::cli {
namespace {
struct ReportOptions : CommonOptions {
  std::string out;
  size_t listingBudget = report::ReportOptions{}.listingBudget;
};
} // namespace

Command reportCommand() {
  auto o = std::make_shared<ReportOptions>();
  return {"report", "Write the interactive HTML report (message graph, classes, exception edges, all edges, listings)",
          Needs::Code, {}, o,
          [o](CLI::App &cmd) {
            cmd.add_option("-o,--output", o->out, "The file to write (default: FILE with .html)");
            cmd.add_option("--listing-budget", o->listingBudget,
                           "Instructions the function listings may hold in all (default 400000)");
          },
          [o](const Context &c) -> int {
    const Analysis &a = *c.analysis;
    namespace fs = std::filesystem;
    // The module's file name; a project database keeps the module's name
    // without its extension (as `export` does).
    std::string moduleFile = fs::path(o->file).filename().string();
    if (a.fromStore())
      moduleFile = a.moduleName() + (a.image().headers().isDll() ? ".dll" : ".exe");
    report::ReportOptions options;
    options.listingBudget = o->listingBudget;
    // The models the report reads, computed before its rendering is timed.
    a.graph();
    a.names();
    c.phase("render");
    report::ReportCounts counts;
    const std::string html = report::renderReport(a, moduleFile, options, &counts);
    std::string out = o->out;
    if (out.empty()) {
      fs::path p(o->file);
      if (a.fromStore())
        p.replace_extension();   // gui_app.exe.sbdb -> gui_app.exe
      out = p.string() + ".html";
    }
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(html.data(), std::streamsize(html.size())) || !f.flush()) {
      reportError("cannot write {}", out);
      return kExitFailure;
    }
    if (o->json) {
      printJson({{"output", out}, {"bytes", html.size()}, {"procedures", counts.procedures},
                 {"handled_messages", counts.cases}, {"sends", counts.sends}, {"classes", counts.classes},
                 {"edges", counts.edges}, {"listings", counts.listings}, {"listed_instructions", counts.instructions}});
      return kExitOk;
    }
    fmt::print("wrote {} ({} bytes): {} procedures, {} handled messages, {} sends, {} classes, {} edges, "
               "{} listings\n",
               out, html.size(), counts.procedures, counts.cases, counts.sends, counts.classes, counts.edges,
               counts.listings);
    return kExitOk;
  }};
}

} // namespace sb::cli
