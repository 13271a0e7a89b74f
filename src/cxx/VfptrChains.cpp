// Where a constructor or destructor stores its vfptrs, and what the order of
// the stores says: which class the function belongs to (the vftable it
// leaves at the start of its object) and, for classes without RTTI, the
// direct bases (inlined base constructors store the base-most vftable
// first, so each vftable a location receives derives from the one before;
// destructors reset them in the opposite order).
//
// A virtual base's vfptr is stored through a vbtable displacement
// (`mov rax,[rcx+P]; movsxd rdx,[rax+K]; mov [rdx+rcx+P], vft`); where the
// function installs that vbtable itself, its entry gives the location.
#include "Builder.h"

namespace sb::cxx {
using values::Kind;
using values::Value;

namespace {
// Keys of stores whose location is not known: after every real offset.
constexpr int64_t kUnlocated = int64_t(1) << 40;

bool located(int64_t offset) { return offset < kUnlocated; }

// One key per vbtable entry a store goes through (vbptr offsets and entry
// offsets are small; -1: no entry known).
int64_t unlocatedKey(const AddressStore &s) {
  return kUnlocated + ((s.vbptrOffset & 0xfffff) << 12) + (s.vbEntryOffset & 0xfff);
}

std::string objectText(const Value &obj, const std::string &calleeName) {
  switch (obj.kind) {
  case Kind::Stack: return "stack object";
  case Kind::Return: return calleeName.empty() ? "call result" : "result of " + calleeName;
  case Kind::Image: return fmt::format("global at {:#x}", obj.base);
  case Kind::Param: return obj.base >= values::kParamEcx ? "register argument" : fmt::format("argument {}", obj.base);
  case Kind::Load: return "object loaded from memory";
  default: return "object";
  }
}
} // namespace

std::optional<int64_t> ModelBuilder::vbaseLocation(const FunctionFacts &f, const AddressStore &s) const {
  if (s.vbptrOffset < 0 || s.vbEntryOffset < 4 || s.vbEntryOffset % 4)
    return std::nullopt;
  const uint32_t thisIndex = values::thisParam(img_.is64());
  const AddressStore *vbptr = nullptr;   // the last vbtable installed there before s
  for (const AddressStore &x : f.stores)
    if (x.site < s.site && !x.dynamicOffset && x.object.isParam(thisIndex) && x.object.off == s.vbptrOffset &&
        vftableAt(x.valueRva) < 0)
      vbptr = &x;
  if (!vbptr)
    return std::nullopt;
  auto first = img_.readRva<int32_t>(vbptr->valueRva);
  auto entry = img_.readRva<int32_t>(vbptr->valueRva + uint32_t(s.vbEntryOffset));
  if (!first || *first > 0 || *first < -s.vbptrOffset || !entry || *entry <= 0 || *entry > 0x100000)
    return std::nullopt;
  return s.object.off + s.displacement + *entry;
}

std::vector<VfptrStore> ModelBuilder::ownVfptrStores(const FunctionFacts &f) {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  std::vector<VfptrStore> own;
  for (const AddressStore &s : f.stores) {
    int vi = vftableAt(s.valueRva);
    if (vi < 0)
      continue;
    const Vftable &v = m_.vftables[vi];
    if (s.object.isParam(thisIndex)) {
      if (!s.dynamicOffset)
        own.push_back({s.site, vi, s.object.off});
      else if (auto at = vbaseLocation(f, s))
        own.push_back({s.site, vi, *at});
      else if (v.colRva)   // RTTI tells the subobject the vftable serves
        own.push_back({s.site, vi, int64_t(v.subobjectOffset)});
      else
        own.push_back({s.site, vi, unlocatedKey(s)});
      continue;
    }
    if (s.dynamicOffset)
      continue;
    // Someone else's object: an inlined constructor or destructor.
    std::string callee;
    if (s.object.kind == Kind::Return)
      for (const CallFact &c : f.calls)
        if (c.site == s.object.site)
          callee = calleeName(c);
    if (v.classIndex >= 0)
      m_.classes[v.classIndex].inlined.push_back({s.site, f.rva, s.valueRva, s.object.off, objectText(s.object, callee),
                                                  s.object.kind == Kind::Image ? s.object.base : 0,
                                                  s.object.kind == Kind::Return ? s.object.site : 0,
                                                  s.object.kind == Kind::Stack});
  }
  std::sort(own.begin(), own.end(), [](const VfptrStore &a, const VfptrStore &b) { return a.site < b.site; });
  return own;
}

void ModelBuilder::classifyStructorShape(const FunctionFacts &f, const std::vector<VfptrStore> &own, bool inSlot,
                                         Structor &st) const {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  uint32_t firstStore = own.empty() ? UINT32_MAX : own.front().site;
  bool callBefore = false, callsDelete = false;
  for (const CallFact &c : f.calls) {
    std::string name = calleeName(c);
    callsDelete |= isDeleteName(name);
    if (c.thisCall && c.thisArg.isParam(thisIndex) && c.site < firstStore && name.empty())
      callBefore = true;
  }
  if ((f.flagBitsTested & 1) && (inSlot || callsDelete)) {
    st.kind = (f.flagBitsTested & 2) ? StructorKind::VectorDeletingDestructor : StructorKind::ScalarDeletingDestructor;
    st.evidence = (f.flagBitsTested & 2) ? "in a vftable; tests flags & 2 (array) and flags & 1 (delete)"
                                         : "in a vftable; tests the delete flag";
  } else if (f.returnsThis) {
    st.kind = StructorKind::Constructor;
    st.evidence = (f.flagBitsTested & 1) ? "sets vfptrs, tests the most-derived flag (virtual bases), returns this"
                                         : "sets vfptrs and returns this";
  } else if (callBefore) {
    st.kind = StructorKind::Constructor;
    st.evidence = "calls base constructors before setting vfptrs";
  } else {
    st.kind = StructorKind::Destructor;
    st.evidence = "sets vfptrs first and does not return this";
  }
}

// Constructors end with the class's own vftables (base constructors set
// theirs first); destructors start with them (base destructors follow).
std::map<int64_t, int> ModelBuilder::finalVftables(const StructorDraft &d) const {
  const bool ctor = d.st.kind == StructorKind::Constructor;
  std::map<int64_t, int> finalAt;
  for (const VfptrStore &s : d.own)
    if (ctor || !finalAt.count(s.offset))
      finalAt[s.offset] = s.vftable;
  return finalAt;
}

void ModelBuilder::assignStructorClass(StructorDraft &d) {
  const bool ctor = d.st.kind == StructorKind::Constructor;
  std::map<int64_t, int> finalAt = finalVftables(d);
  for (const VfptrStore &s : d.own) {
    d.st.vfptrStores.push_back(s.site);
    const Vftable &v = m_.vftables[s.vftable];
    if (finalAt[s.offset] != s.vftable && v.classIndex >= 0)
      m_.classes[v.classIndex].inlined.push_back({s.site, d.st.rva, v.rva, located(s.offset) ? s.offset : 0,
                                                  ctor ? "base part of this (constructor)" : "base part of this (destructor)"});
  }
  if (finalAt.empty())
    return;
  // The class is named by the first location whose vftable is its own: one
  // no other class owns, or one RTTI (or another structor) puts right
  // there. A vftable owned elsewhere at another offset is an embedded
  // object's (a member or base constructed inline).
  auto primary = finalAt.begin();
  for (auto it = finalAt.begin(); it != finalAt.end(); ++it) {
    const Vftable &v = m_.vftables[it->second];
    if (v.classIndex < 0 || (located(it->first) && int64_t(v.subobjectOffset) == it->first)) {
      primary = it;
      break;
    }
  }
  auto subobjectAt = [&](int64_t key, int vi) {
    return located(key) ? uint32_t(key) : m_.vftables[vi].subobjectOffset;
  };
  if (m_.vftables[primary->second].classIndex < 0)
    classOfVftable(primary->second, subobjectAt(primary->first, primary->second));
  d.st.classIndex = m_.vftables[primary->second].classIndex;
  // Other located vftables serve its subobjects. One stored through a
  // vbtable this function does not install may as well be a virtual base's
  // own (a sibling base writes the same vfptr): left to its own structors.
  for (const auto &[off, vi] : finalAt)
    if (m_.vftables[vi].classIndex < 0 && located(off)) {
      m_.vftables[vi].classIndex = d.st.classIndex;
      m_.vftables[vi].subobjectOffset = subobjectAt(off, vi);
      m_.classes[d.st.classIndex].vftables.push_back(vi);
    }
}

// Without RTTI, consecutive vftables at one location are derived and direct
// base: the later derives from the earlier in a constructor, the earlier
// from the later in a destructor.
void ModelBuilder::addChainBases(const StructorDraft &d) {
  if (d.st.classIndex < 0)
    return;
  const bool ctor = d.st.kind == StructorKind::Constructor;
  std::map<int64_t, std::vector<int>> chains;
  for (const VfptrStore &s : d.own) {
    std::vector<int> &c = chains[s.offset];
    if (c.empty() || c.back() != s.vftable)
      c.push_back(s.vftable);
  }
  auto classOf = [&](int vi) {
    return m_.vftables[vi].classIndex >= 0 ? m_.vftables[vi].classIndex : classOfVftable(vi, 0);
  };
  for (const auto &[offset, chain] : chains)
    for (size_t i = 1; i < chain.size(); ++i) {
      int derived = classOf(ctor ? chain[i] : chain[i - 1]);
      int base = classOf(ctor ? chain[i - 1] : chain[i]);
      if (derived == base || m_.classes[derived].typeDescriptorRva)
        continue;   // RTTI tells the bases of classes that have it
      const std::vector<BaseRef> &ofBase = m_.classes[base].allBases;
      if (std::any_of(ofBase.begin(), ofBase.end(), [&](const BaseRef &b) { return b.classIndex == derived; }))
        continue;   // never a cycle
      std::optional<int64_t> at;
      if (derived == d.st.classIndex && located(offset))
        at = offset;
      addInferredBase(derived, base, at);
    }
}

} // namespace sb::cxx
