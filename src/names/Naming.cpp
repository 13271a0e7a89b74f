#include "switchboard/names/Naming.h"

#include "switchboard/analysis/Analysis.h"

#include <fmt/format.h>
#include <unordered_set>

namespace sb::names {

void addSymbolNames(const Analysis &a, NameService &n) {
  const pe::PeImage &img = a.image();
  std::unordered_set<uint32_t> exported;
  for (const pe::Export &e : img.exports().exports)
    if (e.rva && !e.name.empty())
      exported.insert(e.rva);
  for (const auto &[rva, name] : a.symbols())
    n.add(rva, {name.second, name.first,
                 a.isPdbSymbol(rva) ? Source::Pdb : exported.count(rva) ? Source::Export : Source::Coff});
  // IAT slots: "user32!SendMessageW".
  auto slots = [&](const std::vector<pe::Import> &imports) {
    for (const pe::Import &imp : imports)
      if (imp.iatRva)
        n.add(imp.iatRva, {fmt::format("{}!{}", imp.dll, imp.name.empty() ? fmt::format("#{}", imp.ordinal) : imp.name),
                           "", Source::Import});
  };
  slots(img.imports());
  slots(img.delayImports());
  if (!img.codeAnalysisSupported())
    return;
  // What function discovery named without a symbol: import thunks, the
  // linker's delay-load helpers.
  for (const code::Function &f : a.functions()) {
    if (f.isImportThunk)
      n.add(f.rva, {f.name, "", Source::Import});
    else if (f.name.rfind("sub_", 0) != 0)
      n.add(f.rva, {f.name, f.rawName, Source::Heuristic});
  }
}

NameService buildNames(const Analysis &a) {
  NameService n;
  addSymbolNames(a, n);
  if (a.image().codeAnalysisSupported()) {
    addMessageMapNames(a, n);   // before the object model's Class::vfunc_N
    addRpcNames(a, n);
    addComNames(a, n);
    addPortNames(a, n);
    addObjectModelNames(a, n);
    addMessageNames(a, n);
    addCallbackNames(a, n);
    addFuncletNames(a, n);   // last: after their parents' names
  }
  return n;
}

} // namespace sb::names
