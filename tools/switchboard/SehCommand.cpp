// `switchboard seh FILE [FUNC]`: structured exception handling regions:
// x64 __C_specific_handler scope tables, x86 _except_handler3/4 scope
// tables, and the SafeSEH handler table.
#include "UnwindFormat.h"

#include "switchboard/unwind/ScopeTable.h"

namespace sb::cli {
namespace {
struct FunctionSeh {
  uint32_t rva = 0;
  std::string handler;
  uint32_t tableRva = 0;
  std::optional<unwind::X86ScopeTable> x86;
  std::vector<unwind::ScopeRecord> x64;
  std::optional<unwind::GsData> gs;
};

std::vector<FunctionSeh> collect(const Analysis &a) {
  const pe::PeImage &img = a.image();
  std::vector<FunctionSeh> out;
  const code::Decoder &dec = a.decoder();
  if (img.is64()) {
    const unwind::HandlerCatalog &catalog = a.handlerCatalog();
    for (const auto &rf : img.runtimeFunctions()) {
      if (rf.isChained() || rf.indirect)
        continue;
      auto u = unwind::decodeUnwindInfo(img, rf.unwindRva);
      if (!u || !u->handlerRva)
        continue;
      unwind::HandlerData h = unwind::decodeHandlerData(a, catalog, *u, rf.begin, rf.end);
      if (h.scopes.empty())
        continue;
      out.push_back({rf.begin, h.name, u->handlerDataRva, std::nullopt, h.scopes, h.gs});
    }
  } else {
    const auto &fns = a.functions();
    for (size_t i = 0; i < fns.size(); ++i) {
      uint32_t limit = i + 1 < fns.size() ? fns[i + 1].rva : 0xFFFFFFFFu;
      if (auto t = unwind::findX86ScopeTable(img, dec, fns[i].rva, limit)) {
        FunctionSeh f;
        f.rva = fns[i].rva;
        f.tableRva = t->rva;
        // Statically linked handlers have no name; the table's layout says
        // which one it is.
        const char *byLayout = t->eh4 ? "_except_handler4" : "_except_handler3";
        std::string named = t->handlerRva ? a.nameAt(*t->handlerRva).value_or("") : "";
        if (named.rfind("sub_", 0) == 0)
          named.clear();
        f.handler = !named.empty() ? named : t->handlerRva ? byLayout : fmt::format("__SEH_prolog ({})", byLayout);
        f.x86 = std::move(t);
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}
} // namespace

Command sehCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"seh", "__try/__except/__finally regions (x64 scope tables, x86 EH3/EH4) and SafeSEH", Needs::Code,
          {Arg::Filter, "FUNC", "Only this function (name, RVA or VA)", false}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const pe::PeImage &img = a->image();
    std::optional<uint32_t> only = c.rva;
    std::vector<FunctionSeh> all = collect(*a);
    c.phase("render");
    json arr = json::array();
    for (const FunctionSeh &f : all) {
      if (only && f.rva != *only)
        continue;
      if (o->json) {
        json scopes = json::array();
        for (const auto &r : f.x64) {
          json e = {{"begin_rva", r.begin}, {"end_rva", r.end}, {"type", r.isFinally() ? "finally" : "except"}};
          if (r.isFinally())
            e["handler_rva"] = r.handler;
          else {
            if (r.constantFilter())
              e["filter"] = r.handler;
            else
              e["filter_rva"] = r.handler;
            e["target_rva"] = r.target;
          }
          scopes.push_back(e);
        }
        if (f.x86)
          for (const auto &r : f.x86->records) {
            json e = {{"enclosing_level", r.enclosingLevel}, {"type", r.isFinally() ? "finally" : "except"},
                      {"handler_rva", r.handler}};
            if (!r.isFinally())
              e["filter_rva"] = r.filter;
            scopes.push_back(e);
          }
        json j = {{"rva", f.rva}, {"name", symbolize(*a, f.rva)}, {"handler", f.handler}, {"scope_table_rva", f.tableRva},
                  {"scopes", scopes}};
        if (f.x86) {
          j["eh4"] = f.x86->eh4;
          if (f.x86->eh4)
            j["gs_cookie_offset"] = f.x86->gsCookieOffset, j["eh_cookie_offset"] = f.x86->ehCookieOffset;
        }
        if (f.gs)
          j["gs_cookie_offset"] = f.gs->cookieOffset;
        arr.push_back(j);
        continue;
      }
      fmt::print("{} ({:x}): {}, scope table {:x}{}\n", symbolize(*a, f.rva), f.rva, f.handler, f.tableRva,
                 f.x86 && f.x86->eh4 ? fmt::format(" (EH4: GS cookie {}, EH cookie {})", f.x86->gsCookieOffset,
                                                   f.x86->ehCookieOffset)
                                     : "");
      for (const auto &r : f.x64) {
        if (r.isFinally())
          fmt::print("  __try [{:x}, {:x}) __finally {}\n", r.begin, r.end, symbolize(*a, r.handler));
        else if (r.constantFilter())
          fmt::print("  __try [{:x}, {:x}) __except({}) -> {}\n", r.begin, r.end, r.handler, symbolize(*a, r.target));
        else
          fmt::print("  __try [{:x}, {:x}) __except({}) -> {}\n", r.begin, r.end, symbolize(*a, r.handler),
                     symbolize(*a, r.target));
      }
      if (f.x86)
        for (size_t i = 0; i < f.x86->records.size(); ++i) {
          const auto &r = f.x86->records[i];
          if (r.isFinally())
            fmt::print("  state {} (in {}): __finally {}\n", i, r.enclosingLevel, symbolize(*a, r.handler));
          else
            fmt::print("  state {} (in {}): __except({}) -> {}\n", i, r.enclosingLevel, symbolize(*a, r.filter),
                       symbolize(*a, r.handler));
        }
    }
    const auto &lc = img.loadConfig();
    if (o->json) {
      json j = {{"functions", arr}};
      if (lc && !img.is64())
        j["safeseh_rvas"] = lc->safeSehHandlers;
      printJson(j);
    } else if (lc && !img.is64() && !lc->safeSehHandlers.empty() && !only) {
      fmt::print("SafeSEH handlers ({}):\n", lc->safeSehHandlers.size());
      for (uint32_t h : lc->safeSehHandlers)
        fmt::print("  {:08x}  {}\n", h, symbolize(*a, h));
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
