// Virtual call sites: an indirect call through [vfptr + slot] where the
// vfptr was read from the object the call passes as `this`; candidate
// targets from every vftable that could serve the receiver, narrowed by
// what the function knows about the receiver's class.
#include "Builder.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

namespace sb::cxx {
using values::Kind;
using values::Value;

// The receiver as a reader would say it: this, arg2, the result of a call, ...
std::string ModelBuilder::describeReceiver(const Value &v) const {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  switch (v.kind) {
  case Kind::Param:
    if (v.base == thisIndex)
      return "this";
    if (const char *r = values::registerParamName(v.base))
      return r;
    return fmt::format("arg{}", v.base);
  case Kind::Return: {
    std::string callee = !v.base ? "an indirect call"
                         : img_.importForIat(v.base) ? img_.importForIat(v.base)->name
                                                     : m_.nameFor(a_, resolveCallee(v.base));
    return fmt::format("the result of {} at {:#x}", callee, v.site);
  }
  case Kind::Image: return fmt::format("the global at {:#x}", v.base);
  case Kind::Stack: return fmt::format("a stack object (entry sp{:+#x})", v.off);
  default: return v.describe();
  }
}

namespace {
// The candidate sets of one model, each distinct set stored once: sites
// refer to them by index. Looked up by a hash of the set; the sets
// themselves are the only copy.
class CandidateSets {
public:
  explicit CandidateSets(std::vector<std::vector<uint32_t>> &sets) : sets_(sets) {}
  // `targets` sorted and unique.
  uint32_t intern(std::vector<uint32_t> &&targets) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t t : targets)
      h = (h ^ t) * 0x100000001b3ull;
    auto [lo, hi] = byHash_.equal_range(h);
    for (auto it = lo; it != hi; ++it)
      if (sets_[it->second] == targets)
        return it->second;
    uint32_t id = uint32_t(sets_.size());
    sets_.push_back(std::move(targets));
    byHash_.emplace(h, id);
    return id;
  }

private:
  std::vector<std::vector<uint32_t>> &sets_;
  std::unordered_multimap<uint64_t, uint32_t> byHash_;
};
} // namespace

void ModelBuilder::findVirtualCalls() {
  const bool is64 = img_.is64();
  const unsigned ptr = img_.pointerSize();
  const uint32_t thisIndex = values::thisParam(is64);
  // Which class a function is a method of, and where its `this` points.
  std::unordered_map<uint32_t, std::pair<int, int64_t>> methodOf;
  for (const Vftable &v : m_.vftables)
    for (const Slot &s : v.slots)
      if (s.kind != SlotKind::Inherited && v.classIndex >= 0)
        methodOf.emplace(resolveCallee(s.targetRva), std::make_pair(v.classIndex, int64_t(v.subobjectOffset)));
  for (const Structor &st : m_.structors)
    if (st.classIndex >= 0)
      methodOf[st.rva] = {st.classIndex, 0};

  auto vftableOfAt = [&](int ci, int64_t offset) -> int {
    for (int vi : m_.classes[ci].vftables)
      if (int64_t(m_.vftables[vi].subobjectOffset) == offset)
        return vi;
    return -1;
  };
  // The vftables that can serve `this` of a method of class ci whose this
  // points at `subobject`: the class's and those of its derived classes.
  std::map<std::pair<int, int64_t>, std::vector<int>> methodTables;
  auto tablesOfMethod = [&](int ci, int64_t subobject) -> const std::vector<int> & {
    auto [it, fresh] = methodTables.try_emplace({ci, subobject});
    if (!fresh)
      return it->second;
    std::vector<int> todo{ci};
    std::set<int> seen;
    while (!todo.empty()) {
      int d = todo.back();
      todo.pop_back();
      if (!seen.insert(d).second)
        continue;
      int64_t at = d == ci ? subobject : baseOffset(m_.classes[d], ci);
      if (at >= 0 && d != ci)
        at += subobject;
      if (int vi = at >= 0 ? vftableOfAt(d, at) : -1; vi >= 0)
        it->second.push_back(vi);
      for (int x : m_.classes[d].derived)
        todo.push_back(x);
    }
    return it->second;
  };
  CandidateSets sets(m_.candidateSets);
  // The vftable the vfptr at `vfptr` (object + offset) holds at `site` of
  // function f, when f makes it known: (1) a vftable stored into the object
  // earlier, (2) a constructor called on the object, (3) the object is what
  // a call returned whose callee returns objects of one known class.
  std::function<int(const FunctionFacts &, const Value &, uint32_t, std::string *, int)> knownTable;
  knownTable = [&](const FunctionFacts &f, const Value &vfptr, uint32_t site, std::string *why, int depth) -> int {
    int table = -1;
    for (const AddressStore &s : f.stores)
      if (s.site < site && s.object == vfptr && vftableAt(s.valueRva) >= 0) {
        table = vftableAt(s.valueRva);
        if (why)
          *why = fmt::format("vftable stored at {:#x}", s.site);
      }
    if (table < 0)
      for (const CallFact &c : f.calls) {
        if (c.site >= site || !c.callee || c.viaIat || !(c.thisArg == vfptr.withoutOffset()))
          continue;
        auto it = structorIndex_.find(resolveCallee(c.callee));
        if (it == structorIndex_.end() || m_.structors[it->second].kind != StructorKind::Constructor ||
            m_.structors[it->second].classIndex < 0)
          continue;
        int vi = vftableOfAt(m_.structors[it->second].classIndex, vfptr.off);
        if (vi >= 0) {
          table = vi;
          if (why)
            *why = fmt::format("constructed by {} at {:#x}", m_.nameFor(a_, resolveCallee(c.callee)), c.site);
        }
      }
    if (table < 0 && depth < 2 && vfptr.kind == Kind::Return)
      for (const CallFact &c : f.calls) {
        if (c.site != vfptr.site || !c.callee || c.viaIat)
          continue;
        const FunctionFacts *g = factsFor(resolveCallee(c.callee));
        if (!g || g->returns.empty())
          break;
        int common = -1;
        for (const auto &[ret, value] : g->returns) {
          Value at = value;
          at.off += vfptr.off;
          int t = value.isConst() && value.off == 0 ? common : knownTable(*g, at, ret, nullptr, depth + 1);
          if (t < 0 || (common >= 0 && t != common)) {
            common = -1;
            break;
          }
          common = t;
        }
        if (common >= 0) {
          table = common;
          if (why)
            *why = fmt::format("returned by {} at {:#x}", m_.nameFor(a_, resolveCallee(c.callee)), c.site);
        }
        break;
      }
    return table;
  };
  // Direct callers of each function, for receivers that are parameters;
  // only of functions whose address is not taken (vftable slots, stored or
  // passed code addresses, exports), which nothing else can call.
  std::unordered_map<uint32_t, std::vector<std::pair<const FunctionFacts *, const CallFact *>>> callersOf;
  std::set<uint32_t> addressTaken;
  for (const Vftable &v : m_.vftables)
    for (const Slot &s : v.slots) {
      addressTaken.insert(s.targetRva);
      addressTaken.insert(resolveCallee(s.targetRva));
    }
  for (const pe::Export &e : img_.exports().exports)
    addressTaken.insert(e.rva);
  addressTaken.insert(img_.headers().entryPointRva);
  auto taken = [&](const Value &v) {
    if (v.isImage() && v.off == 0)
      addressTaken.insert(v.base);
  };
  for (const FunctionFacts &f : facts_) {
    for (const AddressStore &s : f.stores)
      addressTaken.insert(s.valueRva);
    for (const CallFact &c : f.calls) {
      if (c.callee && !c.viaIat)
        callersOf[resolveCallee(c.callee)].emplace_back(&f, &c);
      taken(c.thisArg);
      for (const Value &v : c.args)
        taken(v);
    }
  }
  // The set of slot targets over some vftables (iterated by `each`).
  auto slotTargets = [&](unsigned slot, auto &&each) {
    std::vector<uint32_t> targets;
    each([&](int vi) {
      if (slot < m_.vftables[vi].slots.size())
        targets.push_back(m_.vftables[vi].slots[slot].targetRva);
    });
    std::sort(targets.begin(), targets.end());
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    return sets.intern(std::move(targets));
  };
  // Sets already computed, by what they were computed from: the slot of
  // every vftable, or the slot of a method's this (class, subobject).
  std::unordered_map<unsigned, uint32_t> everyVftable;
  std::map<std::tuple<int, int64_t, unsigned>, uint32_t> ofMethod;
  for (const FunctionFacts &f : facts_) {
    for (const IndirectCall &ic : f.indirectCalls) {
      bool thisMatches = ic.thisArg == ic.vfptr || (!is64 && ic.stackArg0 == ic.vfptr);
      if (!thisMatches || !ic.vfptr.known() || ic.slotOffset < 0 || ic.slotOffset % ptr)
        continue;
      VirtualCall vc;
      vc.siteRva = ic.site;
      vc.functionRva = f.rva;
      vc.slotOffset = ic.slotOffset;
      vc.slot = unsigned(ic.slotOffset / ptr);
      vc.vfptrOffset = ic.vfptr.off;
      vc.receiver = describeReceiver(ic.vfptr.withoutOffset());
      int table = knownTable(f, ic.vfptr, ic.site, &vc.narrowing, 0);
      if (table >= 0) {
        vc.receiverClass = m_.vftables[table].classIndex;
        vc.candidateSet = slotTargets(vc.slot, [&](auto &&visit) { visit(table); });
        m_.vcalls.push_back(std::move(vc));
        continue;
      }
      // (4) A receiver that is a parameter: the vftables every direct caller
      //     passes, when each caller makes its object's class known.
      if (ic.vfptr.kind == Kind::Param && !addressTaken.count(f.rva)) {
        auto callers = callersOf.find(f.rva);
        std::set<int> tables;
        bool all = callers != callersOf.end() && !callers->second.empty();
        if (all)
          for (const auto &[cf, c] : callers->second) {
            uint32_t p = ic.vfptr.base;
            Value arg = p == thisIndex ? c->thisArg : p < 5 ? c->args[p] : Value{};
            if (!arg.known()) {
              all = false;
              break;
            }
            arg.off += ic.vfptr.off;
            int t = knownTable(*cf, arg, c->site, nullptr, 0);
            if (t < 0) {
              all = false;
              break;
            }
            tables.insert(t);
          }
        if (all && !tables.empty()) {
          std::set<int> classes;
          for (int t : tables)
            classes.insert(m_.vftables[t].classIndex);
          vc.receiverClass = classes.size() == 1 ? *classes.begin() : -1;
          vc.candidateSet = slotTargets(vc.slot, [&](auto &&visit) {
            for (int t : tables)
              visit(t);
          });
          vc.narrowing = fmt::format("what its {} caller(s) pass", callers->second.size());
          m_.vcalls.push_back(std::move(vc));
          continue;
        }
      }
      // (3) A call on `this` in a method: the method's class and every class
      //     derived from it.
      if (ic.vfptr.kind == Kind::Param && ic.vfptr.base == thisIndex) {
        if (auto it = methodOf.find(f.rva); it != methodOf.end()) {
          int ci = it->second.first;
          int64_t subobject = it->second.second + ic.vfptr.off;
          auto [at, fresh] = ofMethod.try_emplace({ci, subobject, vc.slot});
          if (fresh) {
            const std::vector<int> &tables = tablesOfMethod(ci, subobject);
            at->second = slotTargets(vc.slot, [&](auto &&visit) {
              for (int vi : tables)
                visit(vi);
            });
          }
          vc.candidateSet = at->second;
          vc.receiverClass = ci;
          vc.narrowing = fmt::format("this of a method of {} (and its derived classes)", m_.classes[ci].name);
        }
      }
      if (vc.narrowing.empty()) {
        auto [at, fresh] = everyVftable.try_emplace(vc.slot);
        if (fresh)
          at->second = slotTargets(vc.slot, [&](auto &&visit) {
            for (size_t vi = 0; vi < m_.vftables.size(); ++vi)
              visit(int(vi));
          });
        vc.candidateSet = at->second;
        vc.narrowing = "all vftables with this slot";
      }
      m_.vcalls.push_back(std::move(vc));
    }
  }
  std::sort(m_.vcalls.begin(), m_.vcalls.end(), [](const VirtualCall &a, const VirtualCall &b) { return a.siteRva < b.siteRva; });
  // Number the sets in the order of their first site.
  std::vector<uint32_t> renumber(m_.candidateSets.size(), UINT32_MAX);
  std::vector<std::vector<uint32_t>> ordered;
  ordered.reserve(m_.candidateSets.size());
  for (VirtualCall &v : m_.vcalls) {
    uint32_t &to = renumber[v.candidateSet];
    if (to == UINT32_MAX) {
      to = uint32_t(ordered.size());
      ordered.push_back(std::move(m_.candidateSets[v.candidateSet]));
    }
    v.candidateSet = to;
  }
  m_.candidateSets = std::move(ordered);
}

} // namespace sb::cxx
