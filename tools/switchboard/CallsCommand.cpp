// `switchboard calls FILE API|FUNC`: every call site of an import (direct,
// through import thunks, or through a global holding a GetProcAddress
// result) or of a function, with each argument's recovered value.
#include "Common.h"

#include "switchboard/calls/CallSites.h"

namespace sb::cli {
Command callsCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"calls", "Call sites of an API or function with their recovered arguments", Needs::Code,
          {Arg::Text, "TARGET", "An imported API (SendMessageW, user32!SendMessageW) or a function (name, RVA, VA)"}, o,
          {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const api::ApiTable *table = &a->apiTable();
    auto target = calls::resolveTarget(*a, *table, c.arg);
    if (!target) {
      reportError("{} neither imports nor contains '{}'", o->file, c.arg);
      return kExitUsage;
    }
    calls::FindOptions fo;
    fo.threads = o->threads;
    std::vector<calls::CallSite> sites = calls::findCallSites(*a, *table, *target, fo);
    c.phase("render");
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
  }};
}

} // namespace sb::cli
