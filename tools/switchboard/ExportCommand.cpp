// `switchboard export FILE|DB --to r2|x64dbg|ida|ghidra|binja [-o OUT]`: the
// recovered functions, names, comments and cross-references (and, for the
// Python scripts, structures, enums and bookmarks), written for another
// tool (a radare2 script, an x64dbg database, an IDAPython, Ghidra or Binary
// Ninja script), from one export model.
#include "Common.h"

#include "switchboard/exporters/Exporter.h"

#include <filesystem>
#include <fstream>

namespace sb::cli {
namespace {
struct ExportOptions : CommonOptions {
  std::string to, out;
};
} // namespace

Command exportCommand() {
  auto o = std::make_shared<ExportOptions>();
  return {"export", "Write functions, names, comments and cross-references for radare2, x64dbg, IDA, Ghidra or Binary Ninja",
          Needs::Code, {}, o,
          [o](CLI::App &cmd) {
            cmd.add_option("--to", o->to,
                           "The tool: r2 (a radare2 script), x64dbg (a .dd64/.dd32 database), ida (an IDAPython "
                           "script for IDA Pro 9), ghidra (a Ghidra 11 script, Jython or PyGhidra) or binja (a "
                           "Binary Ninja 4 script)")
                ->required();
            cmd.add_option("-o,--output", o->out,
                           "The file to write (default: FILE with .r2, .dd64, .dd32, .ida.py, .ghidra.py or .binja.py)");
          },
          [o](const Context &c) -> int {
    auto tool = exporters::parseTool(o->to);
    if (!tool) {
      reportError("unknown tool '{}' (r2, x64dbg, ida, ghidra, binja)", o->to);
      return kExitUsage;
    }
    const Analysis &a = *c.analysis;
    namespace fs = std::filesystem;
    // What the tool calls the module: the file's name; a project database
    // keeps the module's name without its extension.
    std::string moduleFile = fs::path(o->file).filename().string();
    if (a.fromStore())
      moduleFile = a.moduleName() + (a.image().headers().isDll() ? ".dll" : ".exe");
    exporters::ExportModel model = exporters::buildExportModel(a, moduleFile);
    c.phase("render");
    exporters::ExportCounts counts;
    const std::string text = exporters::render(*tool, model, &counts);
    std::string out = o->out;
    if (out.empty()) {
      fs::path p(o->file);
      if (a.fromStore())
        p.replace_extension();   // notifu64.exe.sbdb -> notifu64.exe
      out = p.string() + exporters::defaultExtension(*tool, model);
    }
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f || !f.write(text.data(), std::streamsize(text.size())) || !f.flush()) {
      reportError("cannot write {}", out);
      return kExitFailure;
    }
    if (o->json) {
      printJson({{"tool", exporters::toolName(*tool)}, {"output", out}, {"functions", counts.functions},
                 {"names", counts.names}, {"comments", counts.comments}, {"xrefs", counts.xrefs},
                 {"structs", counts.structs}, {"enums", counts.enums}, {"bookmarks", counts.bookmarks}});
      return kExitOk;
    }
    fmt::print("wrote {} for {}: {} functions, {} names, {} comments, {} xrefs{}{}{}\n", out,
               exporters::toolName(*tool), counts.functions, counts.names, counts.comments, counts.xrefs,
               counts.structs ? fmt::format(", {} structures", counts.structs) : "",
               counts.enums ? fmt::format(", {} enums", counts.enums) : "",
               counts.bookmarks ? fmt::format(", {} bookmarks", counts.bookmarks) : "");
    return kExitOk;
  }};
}

} // namespace sb::cli
