// `switchboard analyze FILE [-o OUT.sbdb] [--pdb PDB]`: every analysis, once,
// into a project database that every other command accepts in place of FILE.
#include "Common.h"

#include "switchboard/db/ProjectDb.h"

#include <unistd.h>

namespace sb::cli {
namespace {
struct AnalyzeOptions : CommonOptions {
  std::string out;
};
} // namespace

Command analyzeCommand() {
  auto o = std::make_shared<AnalyzeOptions>();
  return {"analyze", "Run every analysis once and write a project database (SQLite) for the other commands",
          Needs::Analysis, {}, o,
          [o](CLI::App &cmd) { cmd.add_option("-o,--output", o->out, "The database to write (default: FILE.sbdb)"); },
          [o](const Context &c) -> int {
    if (c.analysis->fromStore()) {
      reportError("{} is already a project database", o->file);
      return kExitUsage;
    }
    const std::string out = o->out.empty() ? o->file + ".sbdb" : o->out;
    db::WriteOptions wo;
    const bool bar = !o->quiet && isatty(STDERR_FILENO);
    wo.progress = [bar, &c](const char *step, size_t i, size_t n) {
      c.phase(step);   // --stats: the time of each step
      if (bar) {
        const size_t width = 24, done = width * i / n;
        fmt::print(stderr, "\r\033[K[{}{}] {}/{} {}", std::string(done, '#'), std::string(width - done, '.'), i + 1, n,
                   step);
        std::fflush(stderr);
      }
    };
    auto written = db::writeProjectDb(*c.analysis, o->file, out, wo);
    if (bar)
      fmt::print(stderr, "\r\033[K");
    if (!written) {
      reportError("{}", written.error());
      return kExitFailure;
    }
    c.phase("render");
    const db::WriteSummary &s = *written;
    const pdb::PdbNames *pdb = c.analysis->pdb();
    if (o->json) {
      printJson({{"database", out}, {"bytes", s.bytes}, {"functions", s.functions}, {"names", s.names},
                 {"edges", s.edges}, {"classes", s.classes}});
      return kExitOk;
    }
    fmt::print("wrote {} ({:.1f} MB): {} functions, {} names, {} edges, {} classes{}\n", out, s.bytes / 1e6,
               s.functions, s.names, s.edges, s.classes, pdb ? " (names from the PDB)" : "");
    return kExitOk;
  }};
}

} // namespace sb::cli
