// `switchboard vcalls FILE [FUNC]`: virtual call sites with their slot and
// candidate targets, narrowed where the receiver's class is known.
#include "ClassFormat.h"

namespace sb::cli {
namespace {
struct VcallsOptions : CommonOptions {
  unsigned maxCandidates = 8;
};
} // namespace

Command vcallsCommand() {
  auto o = std::make_shared<VcallsOptions>();
  return {"vcalls", "Virtual call sites with slot and candidate targets", Needs::Code,
          {Arg::Filter, "FUNC", "Only the call sites in this function (name, RVA or VA)", false}, o,
          [o](CLI::App &cmd) {
            cmd.add_option("--max-candidates", o->maxCandidates, "Candidates listed per site in text output (default 8)");
          },
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    std::optional<uint32_t> only = c.rva;
    const cxx::ObjectModel &m = analyzeClasses(*a, *o);
    c.phase("render");
    if (o->json) {
      // The sites, then each candidate set they use once, by id.
      json sites = json::array(), sets = json::array();
      std::vector<bool> used(m.candidateSets.size());
      for (const cxx::VirtualCall &v : m.vcalls)
        if (!only || v.functionRva == *only) {
          sites.push_back(vcallJson(*a, m, v));
          used[v.candidateSet] = true;
        }
      for (uint32_t id = 0; id < used.size(); ++id)
        if (used[id])
          sets.push_back(candidateSetJson(*a, m, id));
      printJson({{"vcalls", std::move(sites)}, {"candidate_sets", std::move(sets)}});
      return kExitOk;
    }
    size_t shown = 0;
    for (const cxx::VirtualCall &v : m.vcalls) {
      if (only && v.functionRva != *only)
        continue;
      ++shown;
      fmt::print("{}+{} in {}: call [vfptr+{}] slot {} of {}{}\n", a->moduleName(), hex(v.siteRva), m.nameFor(*a, v.functionRva),
                 hex(v.slotOffset), v.slot, v.receiver, v.vfptrOffset ? fmt::format(" (vfptr at +{:#x})", v.vfptrOffset) : "");
      std::span<const uint32_t> candidates = m.candidatesOf(v);
      fmt::print("    {} candidate{} ({})\n", candidates.size(), candidates.size() == 1 ? "" : "s", v.narrowing);
      for (size_t i = 0; i < candidates.size() && i < o->maxCandidates; ++i)
        fmt::print("      {:>8}  {}\n", hex(candidates[i]), m.nameFor(*a, candidates[i]));
      if (candidates.size() > o->maxCandidates)
        fmt::print("      ... {} more\n", candidates.size() - o->maxCandidates);
    }
    fmt::print("{} virtual call site{}\n", shown, shown == 1 ? "" : "s");
    return kExitOk;
  }};
}

} // namespace sb::cli
