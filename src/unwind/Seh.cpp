#include "switchboard/unwind/Seh.h"

#include "switchboard/analysis/Analysis.h"
#include "code/Decoder.h"

#include <fmt/format.h>

namespace sb::unwind {
namespace {

std::vector<FunctionSeh> x64Functions(const Analysis &a) {
  const pe::PeImage &img = a.image();
  const HandlerCatalog &catalog = a.handlerCatalog();
  std::vector<FunctionSeh> out;
  for (const auto &rf : img.runtimeFunctions()) {
    if (rf.isChained() || rf.indirect)
      continue;
    auto u = decodeUnwindInfo(img, rf.unwindRva);
    if (!u || !u->handlerRva)
      continue;
    HandlerData h = decodeHandlerData(a, catalog, *u, rf.begin, rf.end);
    if (h.scopes.empty())
      continue;
    out.push_back({rf.begin, h.name, u->handlerDataRva, std::nullopt, h.scopes, h.gs});
  }
  return out;
}

std::vector<FunctionSeh> x86Functions(const Analysis &a) {
  const pe::PeImage &img = a.image();
  const code::Decoder &dec = a.decoder();
  std::vector<FunctionSeh> out;
  const auto &fns = a.functions();
  for (size_t i = 0; i < fns.size(); ++i) {
    uint32_t limit = i + 1 < fns.size() ? fns[i + 1].rva : 0xFFFFFFFFu;
    auto t = findX86ScopeTable(img, dec, fns[i].rva, limit);
    if (!t)
      continue;
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
  return out;
}

} // namespace

SehModel analyzeSeh(const Analysis &a) {
  return {a.image().is64() ? x64Functions(a) : x86Functions(a)};
}

} // namespace sb::unwind
