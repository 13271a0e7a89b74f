// `switchboard eh FILE [FUNC]`: C++ exceptions as control flow: try/catch
// structure and unwind states per function, throw sites with their types,
// and which throw sites can reach each catch.
#include "UnwindFormat.h"

#include "switchboard/eh/EhModel.h"

namespace sb::cli {
namespace {
const char *adjectiveText(uint32_t adj) {
  bool isConst = adj & 1, isRef = adj & 8;
  return isConst && isRef ? "const &" : isRef ? "&" : isConst ? "const" : "";
}
} // namespace

Command ehCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"eh", "C++ exception handling: try/catch, unwind states, throw sites, catch edges", Needs::Code,
          {Arg::Filter, "FUNC", "Only this function (name, RVA or VA)", false}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    std::optional<uint32_t> only = c.rva;
    const eh::EhModel &m = a->ehModel();
    c.phase("render");
    auto name = [&](uint32_t rva) { return rva ? symbolize(*a, rva) : std::string("-"); };
    if (o->json) {
      json fns = json::array();
      for (const auto &fe : m.functions) {
        if (only && fe.rva != *only && fe.parentRva != *only)
          continue;
        json tries = json::array();
        for (const auto &t : fe.tries) {
          json catches = json::array(), ranges = json::array();
          for (const auto &c : t.catches)
            catches.push_back({{"type", c.type}, {"type_descriptor_rva", c.typeDescriptorRva},
                               {"adjectives", c.adjectives}, {"handler_rva", c.handlerRva}, {"name", c.name},
                               {"catch_object_offset", c.catchObjectOffset}, {"continuation_rvas", c.continuations}});
          for (const auto &[b, e] : t.ranges)
            ranges.push_back({{"rva", b}, {"end_rva", e}});
          tries.push_back({{"try_low", t.tryLow}, {"try_high", t.tryHigh}, {"catch_high", t.catchHigh},
                           {"ranges", ranges}, {"catches", catches}});
        }
        json unwind = json::array();
        for (const auto &u : fe.unwind) {
          static const char *types[] = {"none", "dtor_with_object", "dtor_with_pointer", "funclet"};
          json e = {{"state", u.state}, {"to_state", u.toState}, {"action_rva", u.actionRva},
                    {"type", types[int(u.type) & 3]}};
          if (u.destructorRva)
            e["destructor_rva"] = u.destructorRva;
          if (u.frameOffset)
            e["frame_offset"] = *u.frameOffset;
          if (u.heap)
            e["heap"] = true;
          if (u.constructorRva)
            e["constructor_rva"] = u.constructorRva;
          if (!u.name.empty())
            e["name"] = u.name;
          unwind.push_back(e);
        }
        json states = json::array();
        for (const auto &st : fe.ipToState)
          states.push_back({{"rva", st.ipRva}, {"state", st.state}});
        json f = {{"rva", fe.rva}, {"name", symbolize(*a, fe.rva)}, {"func_info_rva", fe.funcInfoRva}, {"states", states},
                  {"format", fe.format == eh::EhFormat::FH4 ? "FH4" : "FH3"}, {"try_blocks", tries},
                  {"unwind_map", unwind}};
        if (fe.format == eh::EhFormat::FH4) {
          f["fh4_flags"] = fe.fh4Flags;
          json segs = json::array();
          for (const auto &[seg, map] : fe.segments)
            segs.push_back({{"rva", seg}, {"ip_map_rva", map}});
          f["segments"] = segs;
        } else {
          f["magic"] = fe.magic;
          f["es_type_list_rva"] = fe.esTypeListRva;
        }
        if (fe.parentRva)
          f["parent_rva"] = fe.parentRva;
        if (!fe.error.empty())
          f["error"] = fe.error;
        fns.push_back(f);
      }
      json throws = json::array();
      for (const auto &t : m.throws) {
        if (only && t.functionRva != *only)
          continue;
        throws.push_back({{"site_rva", t.siteRva}, {"function_rva", t.functionRva}, {"throw_info_rva", t.throwInfoRva},
                          {"type", t.type}, {"rethrow", t.rethrow}, {"catchable", t.catchable},
                          {"copy_constructor_rva", t.copyConstructorRva}, {"destructor_rva", t.destructorRva},
                          {"unresolved", t.unresolved}});
      }
      json edges = json::array();
      for (const auto &e : m.edges)
        if (!only || e.functionRva == *only)
          edges.push_back({{"type", e.type}, {"handler_rva", e.handlerRva}, {"function_rva", e.functionRva},
                           {"throw_sites", e.throwSites}});
      printJson({{"functions", fns}, {"throws", throws}, {"catch_edges", edges}});
      return kExitOk;
    }
    for (const auto &fe : m.functions) {
      if (only && fe.rva != *only && fe.parentRva != *only)
        continue;
      fmt::print("{} ({:x}): {} FuncInfo at {:x}{}\n", symbolize(*a, fe.rva), fe.rva,
                 fe.format == eh::EhFormat::FH4 ? "FH4" : "FH3", fe.funcInfoRva,
                 fe.parentRva ? fmt::format(" (catch funclet of {})", symbolize(*a, fe.parentRva)) : "");
      if (!fe.error.empty())
        fmt::print("  ! {}\n", fe.error);
      for (const auto &t : fe.tries) {
        std::string ranges;
        for (const auto &[b, e] : t.ranges)
          ranges += fmt::format(" [{:x}..{:x})", b, e);
        fmt::print("  try states {}..{}{}\n", t.tryLow, t.tryHigh, ranges);
        for (const auto &c : t.catches)
          fmt::print("    catch ({}{}{}) -> {} ({})\n", c.type, *adjectiveText(c.adjectives) ? " " : "",
                     adjectiveText(c.adjectives), name(c.handlerRva), c.name);
      }
      for (const auto &u : fe.unwind) {
        if (!u.actionRva)
          continue;
        fmt::print("  state {:>3} -> {:>3}: {}", u.state, u.toState, u.name.empty() ? name(u.actionRva) : u.name);
        if (u.destructorRva)
          fmt::print(" calls {}", name(u.destructorRva));
        if (u.frameOffset)
          fmt::print(" on {}[frame{:+#x}]", u.heap ? "*" : "", *u.frameOffset);
        if (u.constructorRva)
          fmt::print(" (built by {})", name(u.constructorRva));
        fmt::print("\n");
      }
    }
    for (const auto &t : m.throws) {
      if (only && t.functionRva != *only)
        continue;
      fmt::print("throw at {}: {}", name(t.siteRva), t.unresolved ? "? (ThrowInfo unresolved)" : t.type);
      if (t.throwInfoRva)
        fmt::print(" (ThrowInfo {:x}, copy {}, dtor {})", t.throwInfoRva, name(t.copyConstructorRva),
                   name(t.destructorRva));
      if (t.catchable.size() > 1) {
        fmt::print("; catchable as");
        for (const auto &c : t.catchable)
          fmt::print(" {}", c);
      }
      fmt::print("\n");
    }
    for (const auto &e : m.edges) {
      if (only && e.functionRva != *only)
        continue;
      fmt::print("catch ({}) at {} receives throws from:", e.type, name(e.handlerRva));
      for (uint32_t s : e.throwSites)
        fmt::print(" {}", name(s));
      fmt::print("{}\n", e.throwSites.empty() ? " none in this image" : "");
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
