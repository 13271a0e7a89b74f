// The driver of the command table: what every command shares, in one place.
#include "Common.h"

#include "switchboard/db/ProjectDb.h"
#include "switchboard/dump/Minidump.h"
#include "switchboard/support/Text.h"

#include <algorithm>

#include <filesystem>
#include <unistd.h>

namespace sb::cli {

void Stats::phase(const char *name) {
  finish();
  current_ = name;
  start_ = Clock::now();
}

void Stats::finish() {
  if (!current_)
    return;
  double secs = std::chrono::duration<double>(Clock::now() - start_).count();
  auto it = std::find_if(phases_.begin(), phases_.end(), [&](const auto &p) { return p.first == *current_; });
  if (it == phases_.end())
    phases_.emplace_back(*current_, secs);
  else
    it->second += secs;
  current_.reset();
}

void Stats::print() const {
  double total = 0;
  fmt::print(stderr, "switchboard: stats:\n");
  for (const auto &[name, secs] : phases_) {
    fmt::print(stderr, "  {:<10} {:9.3f} s\n", name, secs);
    total += secs;
  }
  fmt::print(stderr, "  {:<10} {:9.3f} s\n", "total", total);
}

std::vector<Command> commandTable() {
  std::vector<Command> t;
  for (Command (*make)() : {infoCommand, functionsCommand, disasmCommand, whereCommand, fnentCommand, frameCommand,
                            unwindCommand, sehCommand, ehCommand, classesCommand, classCommand, vcallsCommand,
                            callsCommand, paramsCommand, messagesCommand, explainCommand, graphCommand, analyzeCommand,
                            exportCommand, reportCommand, rpcCommand, comCommand, portsCommand, stackCommand})
    t.push_back(make());
  return t;
}

CLI::App *install(CLI::App &app, const Command &cmd, std::string &arg) {
  CLI::App *sub = app.add_subcommand(cmd.name, cmd.description);
  CommonOptions &o = *cmd.options;
  if (cmd.needs == Needs::Dump)
    sub->add_option("DUMP", o.file, "Minidump (.dmp) written by MiniDumpWriteDump, WinDbg .dump, procdump...")
        ->required();
  else if (cmd.needs != Needs::Nothing)
    sub->add_option("FILE", o.file, "PE file, or a project database (.sbdb) written by `analyze`")->required();
  if (cmd.arg.kind != Arg::None) {
    CLI::Option *p = sub->add_option(cmd.arg.name, arg, cmd.arg.help);
    if (cmd.arg.required)
      p->required();
  }
  sub->add_flag("--json", o.json, "Machine-readable output");
  if (cmd.needs != Needs::Nothing) {
    sub->add_option("--threads", o.threads, "Worker threads (default: one per core)");
    sub->add_flag("-q,--quiet", o.quiet, "No progress on the terminal");
  }
  if (cmd.needs != Needs::Nothing && cmd.needs != Needs::Image) {
    sub->add_option("--api", o.apiFiles, "Extra API table (JSON, the format of data/api/win32.json)");
    if (cmd.needs != Needs::Dump)
      sub->add_option("--pdb", o.pdb, "PDB to name functions from (refused unless its GUID/age match the image)");
    sub->add_flag("--no-pdb", o.noPdb, "Do not look for a PDB (next to FILE, by its CodeView name, in "
                                       "SWITCHBOARD_SYMBOL_PATH)");
  }
  if (cmd.needs != Needs::Nothing && cmd.needs != Needs::Dump)
    sub->add_option("--module", o.module, "A project database of several modules: the module to open (its file "
                                          "or module name; default: the first)");
  sub->add_flag("--stats", o.stats, "Time the phases (open, functions, analysis, render) on stderr");
  if (cmd.addOptions)
    cmd.addOptions(*sub);
  return sub;
}

namespace {
bool progressShown(const CommonOptions &o) { return !o.quiet && isatty(STDERR_FILENO); }

} // namespace

namespace {
std::string fileNameOf(const std::string &path) { return std::filesystem::path(path).filename().string(); }

// The stored modules of a project database (nothing for a binary); false
// after saying why the database would not open.
bool storedModules(const std::string &file, std::vector<db::StoredModule> &out) {
  out.clear();
  if (!db::isProjectDb(file))
    return true;
  auto modules = db::projectDbModules(file);
  if (!modules) {
    reportError("{}", modules.error());
    return false;
  }
  out = std::move(*modules);
  return true;
}
} // namespace

std::optional<OpenFiles> openAll(const Command &cmd, const Analysis &first, const std::string &firstFile,
                                 const std::vector<std::string> &more, std::shared_ptr<const api::ApiTable> api) {
  OpenFiles out;
  std::vector<db::StoredModule> stored;
  if (!storedModules(firstFile, stored))
    return std::nullopt;
  auto add = [&](const std::string &file, const std::string &module) {
    auto a = openFor(cmd, file, api, module);
    if (!a)
      return false;
    out.all.push_back(a.get());
    out.modules.push_back(module.empty() ? fileNameOf(file) : module);
    out.owned.push_back(std::move(a));
    return true;
  };
  out.all.push_back(&first);
  if (stored.empty()) {
    out.modules.push_back(fileNameOf(firstFile));
  } else {
    // The module the session opened: the one --module named, or the first.
    const std::string &chosen = cmd.options->module;
    auto it = std::find_if(stored.begin(), stored.end(), [&](const db::StoredModule &m) {
      return chosen.empty() || m.isNamed(chosen);
    });
    out.modules.push_back(it != stored.end() ? it->fileName : fileNameOf(firstFile));
    if (chosen.empty())
      for (size_t i = 1; i < stored.size(); ++i)
        if (!add(firstFile, stored[i].fileName))
          return std::nullopt;
  }
  for (const std::string &f : more) {
    if (!storedModules(f, stored))
      return std::nullopt;
    if (stored.empty() && !add(f, ""))
      return std::nullopt;
    for (const db::StoredModule &m : stored)
      if (!add(f, m.fileName))
        return std::nullopt;
  }
  return out;
}

std::unique_ptr<Analysis> openFor(const Command &cmd, const std::string &file, std::shared_ptr<const api::ApiTable> api,
                                  const std::string &module) {
  CommonOptions o = *cmd.options;
  o.file = file;
  if (!module.empty())
    o.module = module;
  AnalysisOptions ao;
  ao.module = o.module;
  ao.threads = o.threads;
  ao.api = std::move(api);
  ao.pdbPath = o.pdb;
  ao.findPdb = !o.noPdb;
  ao.warn = [](const std::string &w) { fmt::print(stderr, "switchboard: warning: {}\n", w); };
  if (!o.pdb.empty() && db::isProjectDb(o.file))
    fmt::print(stderr, "switchboard: warning: --pdb is ignored with a project database (its names are stored)\n");
  if (progressShown(o))
    ao.progress = [](const char *phase, size_t n) {
      std::fprintf(stderr, "\r%s: %zu functions...   ", phase, n);
      std::fflush(stderr);
    };
  auto a = Analysis::open(o.file, std::move(ao));
  if (!a) {
    reportError("{}", a.error());
    return nullptr;
  }
  const pe::PeImage &img = (*a)->image();
  if (cmd.needs == Needs::Code && !img.codeAnalysisSupported()) {
    reportError("{}: code analysis is not supported for {} (headers: use `info`)", o.file,
                pe::machineName(img.machine()));
    return nullptr;
  }
  if (cmd.needs == Needs::X64 && img.machine() != pe::Machine::X64) {
    reportError("{} needs x64 unwind data; {} is {}", cmd.name, o.file, pe::machineName(img.machine()));
    return nullptr;
  }
  return a.take();
}

namespace {
// The positional argument resolved as the command asked; false (after saying
// why) when it names nothing.
bool resolveArg(const Command &cmd, const Analysis &a, Context &c) {
  if (cmd.arg.kind == Arg::None || cmd.arg.kind == Arg::Text || c.arg.empty())
    return true;
  c.rva = a.resolve(c.arg);
  if (!c.rva) {
    reportError("no function or address '{}'", c.arg);
    return false;
  }
  if (cmd.arg.kind == Arg::Filter) {
    if (const code::Function *f = a.functionContaining(*c.rva))
      c.rva = f->rva;
  } else if (cmd.arg.kind == Arg::Function) {
    c.function = a.functionContaining(*c.rva);
    if (!c.function) {
      reportError("{} is not inside a known function",
                  c.arg == hex(*c.rva) ? c.arg : fmt::format("{} ({})", c.arg, hex(*c.rva)));
      return false;
    }
  }
  return true;
}

int executeWith(const Command &cmd, Context &c) {
  const CommonOptions &o = *cmd.options;
  Stats &stats = *c.stats;
  if (cmd.needs == Needs::Nothing) {
    stats.phase("analysis");
    return cmd.run(c);
  }
  stats.phase("open");
  if (cmd.needs == Needs::Image && db::isProjectDb(o.file)) {
    // The image a project database stores.
    AnalysisOptions ao;
    ao.module = o.module;
    auto a = Analysis::open(o.file, std::move(ao));
    if (!a) {
      reportError("{}", a.error());
      return kExitFailure;
    }
    c.image = &(*a)->image();
    stats.phase("analysis");
    return cmd.run(c);
  }
  if (cmd.needs == Needs::Image) {
    auto img = pe::PeImage::load(o.file);
    if (!img) {
      reportError("{}", img.error());
      return kExitFailure;
    }
    c.image = &*img;
    stats.phase("analysis");
    return cmd.run(c);
  }
  std::shared_ptr<const api::ApiTable> api;
  if (!o.apiFiles.empty()) {
    auto table = loadApiTable(o.apiFiles);
    if (!table)
      return kExitUsage;
    api = std::make_shared<const api::ApiTable>(std::move(*table));
  }
  if (cmd.needs == Needs::Dump) {
    auto d = dump::Minidump::load(o.file);
    if (!d) {
      reportError("{}", d.error());
      return kExitFailure;
    }
    c.dump = &*d;
    c.api = std::move(api);
    stats.phase("analysis");
    return cmd.run(c);
  }
  c.api = api;
  auto a = openFor(cmd, o.file, std::move(api));
  if (!a)
    return kExitFailure;
  c.analysis = a.get();
  c.image = &a->image();
  if (o.stats) {
    // Discovery on its own, so that its time is not the command's.
    stats.phase("functions");
    a->functions();
    if (progressShown(o))
      fmt::print(stderr, "\r\033[K");
  }
  stats.phase("analysis");
  if (!resolveArg(cmd, *a, c))
    return kExitUsage;
  return cmd.run(c);
}
} // namespace

int execute(const Command &cmd, const std::string &arg) {
  Stats stats;
  Context c;
  c.arg = arg;
  c.stats = &stats;
  int rc;
  try {
    rc = executeWith(cmd, c);
  } catch (const std::exception &e) {
    reportError("{}", e.what());
    rc = kExitFailure;
  }
  stats.finish();
  if (cmd.options->stats) {
    std::fflush(stdout);
    stats.print();
  }
  return rc;
}

} // namespace sb::cli
