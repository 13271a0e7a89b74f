// switchboard: the command-line front end. Each subcommand lives in its own
// file; this one only wires them up and maps errors to exit codes.
#include "Common.h"

#include <iostream>

int main(int argc, char **argv) {
  using namespace sb::cli;
  CLI::App app{"switchboard: hidden control flow of Windows PE binaries"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "switchboard 0.1.0");
  std::vector<std::pair<CLI::App *, Runner>> commands;
  auto add = [&](Runner (*reg)(CLI::App &)) {
    size_t before = app.get_subcommands({}).size();
    Runner r = reg(app);
    commands.emplace_back(app.get_subcommands({})[before], std::move(r));
  };
  add(registerInfo);
  add(registerFunctions);
  add(registerDisasm);
  add(registerWhere);
  add(registerFnent);
  add(registerFrame);
  add(registerUnwind);
  add(registerSeh);
  add(registerEh);
  add(registerClasses);
  add(registerClass);
  add(registerVcalls);
  add(registerCalls);
  add(registerParams);
  add(registerMessages);
  add(registerExplain);
  add(registerGraph);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  for (auto &[cmd, run] : commands)
    if (cmd->parsed()) {
      try {
        return run();
      } catch (const std::exception &e) {
        std::cerr << "switchboard: " << e.what() << "\n";
        return kExitFailure;
      }
    }
  return kExitUsage;
}
