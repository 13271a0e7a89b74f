// Static initializers: the `_initterm(first, last)` tables (the .CRT$XC*
// sections; the x86 `_cinit` form calls a local _initterm the same way),
// each dynamic initializer with the global it constructs, its constructor,
// and the function it registers with atexit that destroys the global.
#include "Builder.h"

#include <algorithm>
#include <deque>
#include <set>

namespace sb::cxx {
using values::Kind;
using values::Value;

void ModelBuilder::findStaticInitializers() {
  const unsigned ptr = img_.pointerSize();
  std::deque<FunctionFacts> extra;   // facts gathered on demand (stable addresses)
  auto facts = [&](uint32_t fn) -> const FunctionFacts * {
    if (const FunctionFacts *f = factsFor(fn))
      return f;
    for (const FunctionFacts &f : extra)
      if (f.rva == fn)
        return &f;
    const code::Function *cf = a_.functionAt(fn);
    if (!cf || extra.size() > 4096)
      return nullptr;
    extra.push_back(gatherFacts(a_, dec_, *cf));
    return &extra.back();
  };
  auto isTable = [&](uint32_t lo, uint32_t hi) {
    if (hi <= lo || hi - lo > 0x4000 || (hi - lo) % ptr)
      return false;
    bool any = false;
    for (uint32_t p = lo; p < hi; p += ptr) {
      auto v = img_.readPointer(p);
      if (!v || (*v && !isCodePointerAt(p, nullptr)))
        return false;
      any |= *v != 0;
    }
    return any;
  };
  std::set<uint32_t> seenTables;
  std::vector<std::pair<uint32_t, uint32_t>> tables;
  for (const FunctionFacts &f : facts_)
    for (const CallFact &c : f.calls)
      if (c.args[0].isImage() && c.args[1].isImage() && c.args[0].off == 0 && c.args[1].off == 0 &&
          isTable(c.args[0].base, c.args[1].base) && seenTables.insert(c.args[0].base).second)
        tables.emplace_back(c.args[0].base, c.args[1].base);
  std::sort(tables.begin(), tables.end());
  for (const auto &[lo, hi] : tables) {
    for (uint32_t p = lo; p < hi; p += ptr) {
      uint32_t target;
      if (!isCodePointerAt(p, &target))
        continue;
      StaticInitializer si;
      si.tableRva = lo;
      si.entryRva = p;
      si.functionRva = resolveCallee(target);
      const FunctionFacts *init = facts(si.functionRva);
      if (init) {
        // The global it constructs: a call on an image address, or an inlined vfptr store.
        auto isGlobal = [&](const Value &v) {
          const pe::Section *sec = v.isImage() ? img_.sectionForRva(v.base + uint32_t(v.off)) : nullptr;
          return sec && sec->writable() && !sec->executable();
        };
        for (const CallFact &c : init->calls) {
          if (!isGlobal(c.thisArg) || !c.thisCall || !c.callee || c.viaIat)
            continue;
          si.objectRva = c.thisArg.base + uint32_t(c.thisArg.off);
          si.constructorRva = resolveCallee(c.callee);
          if (auto it = structorIndex_.find(si.constructorRva); it != structorIndex_.end())
            si.classIndex = m_.structors[it->second].classIndex;
          break;
        }
        if (!si.objectRva)
          for (const AddressStore &s : init->stores)
            if (isGlobal(s.object) && vftableAt(s.valueRva) >= 0) {
              si.objectRva = s.object.base + uint32_t(s.object.off) - m_.vftables[vftableAt(s.valueRva)].subobjectOffset;
              si.classIndex = m_.vftables[vftableAt(s.valueRva)].classIndex;
              break;
            }
        // The function it registers with atexit: one passed by address that
        // calls (or tail-calls) a function on a global: the destructor.
        for (size_t ci = 0; ci < init->calls.size() && !si.atexitRva; ++ci) {
          const CallFact &c = init->calls[ci];
          for (const Value &arg : c.args) {
            if (!arg.isImage() || arg.off != 0 || !img_.isExecutableRva(arg.base))
              continue;
            const FunctionFacts *fn = facts(resolveCallee(arg.base));
            if (!fn)
              continue;
            for (const CallFact &d : fn->calls)
              if (isGlobal(d.thisArg) && d.thisCall && d.callee && !d.viaIat &&
                  (!si.objectRva || d.thisArg.base + uint32_t(d.thisArg.off) == si.objectRva)) {
                si.atexitRva = resolveCallee(arg.base);
                si.destructorRva = resolveCallee(d.callee);
                if (!si.objectRva)
                  si.objectRva = d.thisArg.base + uint32_t(d.thisArg.off);
                break;
              }
            if (si.atexitRva)
              break;
          }
        }
        // Otherwise the destructor was inlined into the registered function:
        // the code address the initializer hands to its last call.
        for (auto it = init->calls.rbegin(); it != init->calls.rend() && !si.atexitRva; ++it)
          for (const Value &arg : it->args)
            if (arg.isImage() && arg.off == 0 && img_.isExecutableRva(arg.base) && a_.functionAt(resolveCallee(arg.base)) &&
                resolveCallee(arg.base) != si.functionRva) {
              si.atexitRva = resolveCallee(arg.base);
              break;
            }
        if (si.classIndex < 0 && si.destructorRva)
          if (auto it = structorIndex_.find(si.destructorRva); it != structorIndex_.end())
            si.classIndex = m_.structors[it->second].classIndex;
      }
      m_.initializers.push_back(si);
    }
  }
}

} // namespace sb::cxx
