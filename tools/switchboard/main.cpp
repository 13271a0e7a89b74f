// switchboard: the command-line front end. The commands are a table
// (Command.h); this file only parses the command line and runs the one given.
#include "Common.h"

int main(int argc, char **argv) {
  using namespace sb::cli;
  CLI::App app{"switchboard: hidden control flow of Windows PE binaries"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "switchboard 0.1.0");
  std::vector<Command> table = commandTable();
  std::vector<std::string> args(table.size());
  std::vector<CLI::App *> subs;
  for (size_t i = 0; i < table.size(); ++i)
    subs.push_back(install(app, table[i], args[i]));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success &e) {   // --help, --version
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    reportError("{} (see `switchboard --help`)", e.what());
    return kExitUsage;
  }
  for (size_t i = 0; i < table.size(); ++i)
    if (subs[i]->parsed())
      return execute(table[i], args[i]);
  return kExitUsage;
}
