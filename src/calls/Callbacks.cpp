#include "switchboard/calls/Callbacks.h"

#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallSites.h"

#include <algorithm>
#include <tuple>

namespace sb::calls {

std::vector<CallbackRegistration> findCallbackRegistrations(const Analysis &a) {
  std::vector<CallbackRegistration> out;
  const pe::PeImage &img = a.image();
  if (!img.codeAnalysisSupported())
    return out;
  const api::ApiTable &table = a.apiTable();
  // One pass over the code for every callback-taking API the image calls.
  std::vector<Target> targets;
  // Globals holding GetProcAddress results: one sweep for every API.
  const std::unordered_map<uint32_t, std::string> &procGlobals = a.procAddressGlobals();
  for (const api::Api *api : table.withParamKind(api::Kind::Callback))
    if (auto t = resolveTarget(a, table, api->name, &procGlobals))
      targets.push_back(std::move(*t));
  if (targets.empty())
    return out;
  std::vector<const Target *> ptrs;
  for (const Target &t : targets)
    ptrs.push_back(&t);
  FindOptions fo;
  fo.threads = a.threads();
  std::vector<std::vector<CallSite>> sites = findCallSitesMany(a, table, ptrs, fo);
  for (size_t t = 0; t < targets.size(); ++t) {
    const std::vector<api::Param> &params = targets[t].api->params;
    for (const CallSite &cs : sites[t])
      for (size_t i = 0; i < cs.args.size() && i < params.size(); ++i) {
        const Argument &x = cs.args[i];
        if (params[i].kind != api::Kind::Callback || x.raw.kind != values::Kind::Image || x.raw.off != 0)
          continue;
        uint32_t rva = x.raw.base;
        if (!img.isExecutableRva(rva))
          continue;
        out.push_back({cs.siteRva, cs.functionRva, targets[t].api->name, params[i].name, rva});
      }
  }
  std::sort(out.begin(), out.end(), [](const auto &x, const auto &y) {
    return std::tie(x.siteRva, x.param, x.targetRva) < std::tie(y.siteRva, y.param, y.targetRva);
  });
  return out;
}

} // namespace sb::calls
