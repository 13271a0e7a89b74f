// `switchboard params FILE FUNC`: x64 parameter provenance: where each
// incoming register parameter goes and, per call site, where each outgoing
// register argument comes from (the map for recovering them from a dump).
#include "Common.h"

#include "switchboard/calls/ParamFlow.h"

#include <algorithm>
#include <cctype>

namespace sb::cli {
namespace {
const char *kRegs[] = {"RCX", "RDX", "R8", "R9"};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return char(std::toupper(c)); });
  return s;
}
} // namespace

Command paramsCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"params", "x64 parameter provenance: where register parameters go and come from", Needs::X64,
          {Arg::Function, "FUNC", "The function (name, RVA or VA)"}, o, {},
          [o](const Context &ctx) -> int {
    Analysis *a = ctx.analysis;
    const code::Function *f = ctx.function;
    calls::ParamFlow pf = calls::analyzeParams(*a, *f);
    ctx.phase("render");
    if (o->json) {
      json incoming = json::array();
      for (const calls::IncomingParam &p : pf.incoming) {
        json locs = json::array(), at = json::array();
        for (const calls::ParamLocation &l : p.locations)
          locs.push_back({{"text", l.text()}, {"site_rva", l.siteRva},
                          {"kind", l.kind == calls::ParamLocation::Home ? "home"
                                   : l.kind == calls::ParamLocation::NonVolatile ? "nonvolatile" : "stack"},
                          {"register", l.reg ? json(code::gprName(*l.reg, true)) : json(nullptr)},
                          {"entry_offset", l.kind == calls::ParamLocation::NonVolatile ? json(nullptr) : json(l.offset)}});
        for (const auto &[site, still] : p.atCalls)
          at.push_back({{"site_rva", site}, {"locations", still}});
        incoming.push_back({{"param", p.index + 1}, {"register", kRegs[p.index]}, {"locations", locs}, {"at_calls", at}});
      }
      json callsJson = json::array();
      for (const calls::CallParams &c : pf.calls) {
        json args = json::array();
        for (const calls::OutgoingArg &arg : c.args)
          args.push_back({{"param", arg.index + 1}, {"register", kRegs[arg.index]}, {"kind", arg.kind},
                          {"source", arg.source},
                          {"nonvolatile", arg.heldIn ? json(code::gprName(*arg.heldIn, true)) : json(nullptr)},
                          {"saved_by_callee", arg.savedByCallee.empty() ? json(nullptr) : json(arg.savedByCallee)}});
        callsJson.push_back({{"site_rva", c.siteRva}, {"callee_rva", c.calleeRva}, {"callee", c.callee}, {"args", args}});
      }
      printJson({{"function_rva", pf.functionRva}, {"function", a->describe(pf.functionRva)}, {"incoming", incoming},
                 {"calls", callsJson}});
      return kExitOk;
    }
    fmt::print("{} ({}): incoming register parameters\n", a->describe(f->rva), formatVa(a->image(), a->image().rvaToVa(f->rva)));
    for (const calls::IncomingParam &p : pf.incoming) {
      std::string where;
      for (const calls::ParamLocation &l : p.locations)
        where += fmt::format("{}{} (at +{:#x})", where.empty() ? "" : "; ", l.text(), l.siteRva - f->rva);
      fmt::print("  P{} {:<3} {}\n", p.index + 1, kRegs[p.index], where.empty() ? "not saved" : where);
    }
    for (size_t ci = 0; ci < pf.calls.size(); ++ci) {
      const calls::CallParams &c = pf.calls[ci];
      fmt::print("call at {}+{:#x} to {}:\n", a->describe(f->rva), c.siteRva - f->rva, c.callee);
      for (const calls::OutgoingArg &arg : c.args) {
        std::string held;
        if (arg.heldIn)
          held = fmt::format(" = {}{}", upper(code::gprName(*arg.heldIn, true)),
                             arg.savedByCallee.empty() ? "" : fmt::format(" (saved by callee at {})", arg.savedByCallee));
        fmt::print("  P{} = {}{}: {}\n", arg.index + 1, kRegs[arg.index], held, arg.source);
      }
      for (const calls::IncomingParam &p : pf.incoming) {
        if (ci >= p.atCalls.size() || p.atCalls[ci].second.empty())
          continue;
        std::string still;
        for (size_t k : p.atCalls[ci].second)
          still += (still.empty() ? "" : ", ") + p.locations[k].text();
        fmt::print("  (own P{} still {})\n", p.index + 1, still);
      }
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
