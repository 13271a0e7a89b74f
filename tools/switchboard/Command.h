// The command table: each command declares what it needs (an image, an
// analysis of code, an x64 image, its positional argument) and the driver
// (Command.cpp) parses the common options, opens the input, checks the
// architecture, loads --api tables, resolves names, and times the phases.
#pragma once
#include "switchboard/analysis/Analysis.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sb::dump { class Minidump; }

namespace sb::cli {

// Exit codes: 0 ok, 1 analysis failure, 2 usage error.
constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

// The options every command with a FILE takes. A command's own options
// struct derives from this; the driver binds these fields.
struct CommonOptions {
  std::string file;
  bool json = false;
  unsigned threads = 0;
  bool quiet = false;
  bool stats = false;
  std::vector<std::string> apiFiles;   // --api, on commands that analyze code
  std::string pdb;                     // --pdb: the PDB to name functions from
  bool noPdb = false;                  // --no-pdb: do not look for one
  std::string module;                  // --module: the module of a project database of several
};

// What the driver provides before the command runs.
enum class Needs {
  Nothing,    // no FILE (explain)
  Image,      // the PE model, any architecture (info)
  Analysis,   // an Analysis, any architecture (where)
  Code,       // an Analysis of an architecture with code analysis
  X64,        // an Analysis of an x64 image (unwind data, x64 calling convention)
  Dump,       // a minidump (FILE is a .dmp; its modules' images are looked for)
};

// The positional argument after FILE, if any.
struct Arg {
  enum Kind {
    None,
    Text,         // taken as given (a class name, an API, a message)
    Address,      // a name or address, resolved to an RVA
    Filter,       // optional narrowing: resolved, and an address inside a function means that function
    Function,     // resolved, and it must lie inside a known function
  } kind = None;
  const char *name = "";
  const char *help = "";
  bool required = true;
};

// Wall-clock time per phase (open, functions, analysis, render), printed to
// stderr with --stats; never part of an output.
class Stats {
public:
  // Ends the running phase and starts this one (times add up by name).
  void phase(const char *name);
  void finish();
  void print() const;

private:
  using Clock = std::chrono::steady_clock;
  std::vector<std::pair<std::string, double>> phases_;
  std::optional<std::string> current_;   // a copy: step names may be built for the call
  Clock::time_point start_;
};

struct Context {
  const pe::PeImage *image = nullptr;   // Image and every Analysis kind
  const dump::Minidump *dump = nullptr; // Dump
  std::shared_ptr<const api::ApiTable> api;   // the --api tables (nullptr: the built-in one)
  Analysis *analysis = nullptr;         // Analysis, Code, X64
  std::string arg;                      // the positional as typed
  std::optional<uint32_t> rva;          // Address, Filter (when given), Function
  const code::Function *function = nullptr;   // Function
  Stats *stats = nullptr;

  // Marks where the command's own analysis ends and its rendering starts.
  void phase(const char *name) const { stats->phase(name); }
};

struct Command {
  const char *name;
  const char *description;
  Needs needs = Needs::Code;
  Arg arg;
  std::shared_ptr<CommonOptions> options;         // the command's options struct
  std::function<void(CLI::App &)> addOptions;     // its own options, or empty
  std::function<int(const Context &)> run;
};

// Every command, in the order `--help` lists them.
std::vector<Command> commandTable();

// Adds the command as a subcommand of app, with the common options its
// needs call for and its positional argument bound to *arg.
CLI::App *install(CLI::App &app, const Command &cmd, std::string &arg);
// Opens another file as the command opens its FILE (commands that take
// several); nullptr after saying why not.
std::unique_ptr<Analysis> openFor(const Command &cmd, const std::string &file, std::shared_ptr<const api::ApiTable> api,
                                  const std::string &module = {});
// The sessions of a command over FILE [MORE...]: the first is the one the
// command was given, each other opened like it; modules are the file names.
struct OpenFiles {
  std::vector<std::unique_ptr<Analysis>> owned;
  std::vector<const Analysis *> all;
  std::vector<std::string> modules;
};
// The first file's analysis and the others', for commands over FILE
// [MORE...]; a project database of several modules gives all of them
// (the first file's others unless --module chose one). nullopt after
// saying why a file would not open.
std::optional<OpenFiles> openAll(const Command &cmd, const Analysis &first, const std::string &firstFile,
                                 const std::vector<std::string> &more, std::shared_ptr<const api::ApiTable> api);
// Provides what the command needs and runs it; the exit code.
int execute(const Command &cmd, const std::string &arg);

Command infoCommand();
Command functionsCommand();
Command disasmCommand();
Command whereCommand();
Command fnentCommand();
Command frameCommand();
Command unwindCommand();
Command sehCommand();
Command ehCommand();
Command classesCommand();
Command classCommand();
Command vcallsCommand();
Command callsCommand();
Command paramsCommand();
Command messagesCommand();
Command explainCommand();
Command stackCommand();
Command graphCommand();
Command analyzeCommand();
Command exportCommand();
Command reportCommand();
Command rpcCommand();
Command comCommand();
Command portsCommand();

} // namespace sb::cli
