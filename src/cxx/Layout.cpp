// Object sizes and layouts: `operator new(N)` whose result reaches a
// constructor (or an inlined vfptr store), `vector constructor iterator`
// arrays, and the `this`-relative accesses of a class's constructors,
// destructors and own virtual methods.
#include "Builder.h"

#include <algorithm>
#include <map>

namespace sb::cxx {
using values::Kind;
using values::Value;

void ModelBuilder::recoverLayouts() {
  auto sizeArgOf = [](const FunctionFacts &f, uint32_t allocSite) -> std::optional<uint32_t> {
    for (const CallFact &c : f.calls)
      if (c.site == allocSite && c.args[0].isConst() && c.args[0].off > 0 && c.args[0].off < (1 << 24))
        return uint32_t(c.args[0].off);
    return std::nullopt;
  };
  std::map<int, std::map<uint32_t, std::vector<uint32_t>>> sizes;   // class -> size -> sites
  for (const FunctionFacts &f : facts_) {
    for (const CallFact &c : f.calls) {
      if (!c.callee || c.viaIat)
        continue;
      auto it = structorIndex_.find(resolveCallee(c.callee));
      if (it != structorIndex_.end()) {
        const Structor &st = m_.structors[it->second];
        if (st.kind == StructorKind::Constructor && st.classIndex >= 0 && c.thisArg.kind == Kind::Return &&
            c.thisArg.off == 0)
          if (auto n = sizeArgOf(f, c.thisArg.site))
            sizes[st.classIndex][*n].push_back(c.site);
      }
      // vector constructor iterator(array, element size, count, ctor[, dtor]).
      for (unsigned k = 1; k + 2 < 5; ++k) {
        const Value &fn = c.args[k + 2];
        if (!fn.isImage() || !c.args[k].isConst() || !c.args[k + 1].isConst())
          continue;
        auto ct = structorIndex_.find(resolveCallee(fn.base + uint32_t(fn.off)));
        if (ct == structorIndex_.end() || m_.structors[ct->second].kind != StructorKind::Constructor ||
            m_.structors[ct->second].classIndex < 0)
          continue;
        int64_t elem = c.args[k].off, count = c.args[k + 1].off;
        if (elem <= 0 || elem >= (1 << 24) || count <= 0 || count >= (1 << 24))
          continue;
        Class &cls = m_.classes[m_.structors[ct->second].classIndex];
        cls.arrays.push_back({c.site, f.rva, uint32_t(elem), uint32_t(count)});
        sizes[m_.structors[ct->second].classIndex][uint32_t(elem)].push_back(c.site);
        break;
      }
    }
    // An inlined constructor on the result of an allocation.
    for (const AddressStore &s : f.stores) {
      int vi = vftableAt(s.valueRva);
      if (vi < 0 || m_.vftables[vi].classIndex < 0 || s.object.kind != Kind::Return ||
          s.object.off != int64_t(m_.vftables[vi].subobjectOffset))
        continue;
      // Only the complete object's vftables (the last store wins; the class
      // that owns the primary vftable is the allocated one).
      if (auto n = sizeArgOf(f, s.object.site))
        sizes[m_.vftables[vi].classIndex][*n].push_back(s.site);
    }
  }
  for (auto &[ci, bySize] : sizes) {
    // The size most allocation sites agree on.
    auto best = std::max_element(bySize.begin(), bySize.end(),
                                 [](const auto &a, const auto &b) { return a.second.size() < b.second.size(); });
    m_.classes[ci].size = best->first;
    m_.classes[ci].sizeSites = best->second;
    std::sort(m_.classes[ci].sizeSites.begin(), m_.classes[ci].sizeSites.end());
    m_.classes[ci].sizeSites.erase(std::unique(m_.classes[ci].sizeSites.begin(), m_.classes[ci].sizeSites.end()),
                                   m_.classes[ci].sizeSites.end());
    if (bySize.size() > 1)
      m_.warnings.push_back(fmt::format("class {}: allocations disagree on its size", m_.classes[ci].name));
  }

  // Fields from `this`-relative accesses.
  for (size_t ci = 0; ci < m_.classes.size(); ++ci) {
    Class &c = m_.classes[ci];
    std::map<int64_t, Field> fields;
    auto note = [&](int64_t off, unsigned size, int member, const std::string &what) {
      if (off < 0 || (c.size && off >= int64_t(*c.size)))
        return;
      Field &f = fields[off];
      f.offset = off;
      f.size = std::max(f.size, size);
      if (member >= 0)
        f.memberClass = member;
      if (!what.empty())
        f.note = what;
    };
    std::vector<std::pair<uint32_t, int64_t>> methods;   // function, where its `this` points
    for (uint32_t s : c.constructors)
      methods.emplace_back(s, 0);
    for (uint32_t s : c.destructors)
      methods.emplace_back(s, 0);
    for (int vi : c.vftables)
      for (const Slot &s : m_.vftables[vi].slots)
        if (s.kind != SlotKind::Inherited && !s.pure)
          methods.emplace_back(resolveCallee(s.targetRva), m_.vftables[vi].subobjectOffset);
    std::sort(methods.begin(), methods.end());
    methods.erase(std::unique(methods.begin(), methods.end()), methods.end());
    for (const auto &[fn, adjust] : methods)
      if (const FunctionFacts *f = factsFor(fn))
        for (const MemAccess &acc : f->thisAccesses)
          note(acc.offset + adjust, acc.size, -1, "");
    for (uint32_t s : c.constructors)
      if (auto it = structorIndex_.find(s); it != structorIndex_.end())
        for (const SubobjectCall &call : m_.structors[it->second].calls)
          if (call.role == SubobjectRole::MemberCtor && call.classIndex >= 0)
            note(call.thisOffset, 0, call.classIndex, "member " + m_.classes[call.classIndex].name);
    for (int vi : c.vftables)
      note(m_.vftables[vi].subobjectOffset, img_.pointerSize(), -1, "vfptr");
    for (const Vbtable &vb : c.vbtables)
      note(vb.vbptrOffset, img_.pointerSize(), -1, "vbptr");
    for (auto &[off, f] : fields)
      c.fields.push_back(f);
  }
}

} // namespace sb::cxx
