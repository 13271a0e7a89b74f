// `switchboard calls FILE API|FUNC`: every call site of an import (direct,
// through import thunks, or through a global holding a GetProcAddress
// result) or of a function, with each argument's recovered value.
#include "Common.h"

#include "switchboard/calls/CallSites.h"

#include <fstream>
#include <sstream>

namespace sb::cli {
namespace {
struct CallsOptions : CommonOptions {
  std::string target;
  std::vector<std::string> apiFiles;
};
} // namespace

std::optional<api::ApiTable> loadApiTable(const std::vector<std::string> &files) {
  api::ApiTable table = api::ApiTable::builtin();
  for (const std::string &f : files) {
    std::ifstream in(f);
    if (!in) {
      fmt::print(stderr, "error: cannot read API table {}\n", f);
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto r = table.merge(ss.str()); !r) {
      fmt::print(stderr, "error: {}: {}\n", f, r.error());
      return std::nullopt;
    }
  }
  return table;
}

Runner registerCalls(CLI::App &app) {
  auto o = std::make_shared<CallsOptions>();
  CLI::App *cmd = app.add_subcommand("calls", "Call sites of an API or function with their recovered arguments");
  addCommonOptions(*cmd, *o);
  cmd->add_option("TARGET", o->target, "An imported API (SendMessageW, user32!SendMessageW) or a function (name, RVA, VA)")
      ->required();
  cmd->add_option("--api", o->apiFiles, "Extra API table (JSON, the format of data/api/win32.json)");
  return [o]() -> int {
    auto table = loadApiTable(o->apiFiles);
    if (!table)
      return kExitUsage;
    auto a = openCodeAnalysis(*o);
    if (!a)
      return kExitFailure;
    auto target = calls::resolveTarget(*a, *table, o->target);
    if (!target) {
      fmt::print(stderr, "error: {} neither imports nor contains '{}'\n", o->file, o->target);
      return kExitUsage;
    }
    calls::FindOptions fo;
    fo.threads = o->threads;
    std::vector<calls::CallSite> sites = calls::findCallSites(*a, *table, *target, fo);
    if (o->json) {
      json list = json::array();
      for (const calls::CallSite &cs : sites) {
        json args = json::array();
        for (const calls::Argument &arg : cs.args) {
          json j = {{"name", arg.name}, {"kind", calls::argKindName(arg.kind)}, {"value", arg.value ? json(*arg.value) : json(nullptr)},
                    {"text", arg.text}};
          if (!arg.fields.empty()) {
            json fields = json::object();
            for (const auto &[n, v] : arg.fields)
              fields[n] = v;
            j["fields"] = fields;
          }
          args.push_back(j);
        }
        list.push_back({{"site_rva", cs.siteRva}, {"function_rva", cs.functionRva}, {"function", a->describe(cs.functionRva)},
                        {"callee", cs.callee}, {"tail", cs.tail}, {"args", args}});
      }
      printJson({{"target", target->name}, {"calls", list}});
      return kExitOk;
    }
    for (const calls::CallSite &cs : sites) {
      std::string args;
      for (const calls::Argument &arg : cs.args)
        args += fmt::format("{}{}={}", args.empty() ? "" : ", ", arg.name, arg.text);
      fmt::print("{}+{} in {}: {}{}({})\n", a->moduleName(), hex(cs.siteRva), a->describe(cs.functionRva),
                 cs.tail ? "jmp " : "", cs.callee, args);
      for (const calls::Argument &arg : cs.args)
        for (const auto &[n, v] : arg.fields)
          fmt::print("    {}->{} = {}\n", arg.name, n, v);
    }
    fmt::print("{} call site{} of {}\n", sites.size(), sites.size() == 1 ? "" : "s", target->name);
    return kExitOk;
  };
}

} // namespace sb::cli
