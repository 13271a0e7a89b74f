// vftables: the pointer after each reference to a Complete Object Locator,
// their slots, the subobject each serves and how each slot relates to the
// base class's vftable for the same subobject.
#include "Builder.h"

#include <algorithm>
#include <cstring>

namespace sb::cxx {
namespace {
constexpr size_t kMaxSlots = 4096;
}

void ModelBuilder::findRttiVftables() {
  std::unordered_map<uint64_t, size_t> colByVa;
  for (size_t i = 0; i < cols_.size(); ++i)
    colByVa.emplace(img_.rvaToVa(cols_[i].rva), i);
  if (colByVa.empty())
    return;
  const unsigned ptr = img_.pointerSize();
  std::vector<std::pair<uint32_t, size_t>> found;   // (vftable rva, col index)
  for (const auto &sec : img_.sections()) {
    std::span<const uint8_t> bytes = img_.bytesFromRva(sec.rva);
    size_t n = std::min<size_t>(bytes.size(), sec.mappedSize());
    for (size_t i = 0; i + 2 * ptr <= n; i += ptr) {
      uint64_t v = 0;
      std::memcpy(&v, bytes.data() + i, ptr);
      auto it = colByVa.find(v);
      if (it == colByVa.end())
        continue;
      uint32_t at = sec.rva + uint32_t(i);
      if (!img_.mayHoldAddress(at))
        continue;
      found.emplace_back(at + ptr, it->second);
      colSlots_.insert(at);
    }
  }
  for (const auto &[rva, ci] : found) {
    vftableIndex_.emplace(rva, int(m_.vftables.size()));
    Vftable v;
    v.rva = rva;
    v.colRva = cols_[ci].rva;
    v.classIndex = classByTd_.at(cols_[ci].typeDescriptorRva);
    v.subobjectOffset = cols_[ci].offset;
    m_.vftables.push_back(std::move(v));
  }
  for (Vftable &v : m_.vftables) {
    for (uint32_t t : readSlots(v.rva))
      v.slots.push_back({t, t, SlotKind::Added, false});
    m_.classes[v.classIndex].vftables.push_back(vftableAt(v.rva));
  }
}

// Slots run until a non-code pointer, the COL pointer of the next vftable or
// the start of another vftable.
std::vector<uint32_t> ModelBuilder::readSlots(uint32_t rva) const {
  std::vector<uint32_t> out;
  const unsigned ptr = img_.pointerSize();
  for (size_t i = 0; i < kMaxSlots; ++i) {
    uint32_t p = rva + uint32_t(i * ptr);
    if (i > 0 && (colSlots_.count(p) || vftableIndex_.count(p)))
      break;
    uint32_t target;
    if (!isCodePointerAt(p, &target))
      break;
    out.push_back(target);
  }
  return out;
}

// ... and until the next address code refers to (another object).
void ModelBuilder::trimSlotsAtReferences() {
  const unsigned ptr = img_.pointerSize();
  for (Vftable &v : m_.vftables) {
    auto it = std::upper_bound(dataRefs_.begin(), dataRefs_.end(), v.rva);
    if (it != dataRefs_.end() && *it < v.rva + v.slots.size() * ptr)
      v.slots.resize((*it - v.rva + ptr - 1) / ptr);
  }
}

void ModelBuilder::resolveSlotKinds() {
  // Virtual base offsets by vbtable where known; the remaining subobjects of
  // virtual bases are matched in base-array order.
  for (Class &c : m_.classes) {
    for (BaseRef &b : c.allBases) {
      if (!b.isVirtual || b.offset)
        continue;
      for (const Vbtable &vb : c.vbtables) {
        int64_t vbptr = b.where.mdisp + b.where.pdisp;
        size_t idx = size_t(b.where.vdisp) / 4;
        if (vb.vbptrOffset == vbptr && b.where.vdisp % 4 == 0 && idx < vb.entries.size())
          b.offset = vbptr + vb.entries[idx];
      }
    }
    for (BaseRef &b : c.bases)
      for (const BaseRef &all : c.allBases)
        if (all.descriptorRva == b.descriptorRva)
          b.offset = all.offset;
  }
  auto primaryOf = [&](int classIndex) -> int {
    if (classIndex < 0)
      return -1;
    for (int vi : m_.classes[classIndex].vftables)
      if (m_.vftables[vi].subobjectOffset == 0)
        return vi;
    return -1;
  };
  for (Vftable &v : m_.vftables) {
    if (v.classIndex < 0)
      continue;
    const Class &c = m_.classes[v.classIndex];
    // The first (most-derived) base at this offset that has a vftable of its own.
    for (const BaseRef &b : c.allBases) {
      if (!b.offset || *b.offset != int64_t(v.subobjectOffset) || primaryOf(b.classIndex) < 0)
        continue;
      v.baseVftable = primaryOf(b.classIndex);
      v.forBase = b.name;
      break;
    }
    // MSVC names every vftable of a class with several `{for 'B'}`; the one
    // the class introduces itself is `{for 'C'}`.
    if (c.typeDescriptorRva && c.vftables.size() > 1 && v.forBase.empty() && v.subobjectOffset == 0)
      v.forBase = c.name;
    if (v.baseVftable < 0 && v.subobjectOffset != 0) {
      // A virtual base whose offset no vbtable told: the n-th unexplained
      // subobject is the n-th virtual base with a vftable.
      std::vector<uint32_t> unexplained;
      for (int vi : c.vftables) {
        bool explained = m_.vftables[vi].subobjectOffset == 0;
        for (const BaseRef &b : c.allBases)
          explained |= b.offset && *b.offset == int64_t(m_.vftables[vi].subobjectOffset);
        if (!explained)
          unexplained.push_back(m_.vftables[vi].subobjectOffset);
      }
      std::sort(unexplained.begin(), unexplained.end());
      std::vector<const BaseRef *> vbases;
      for (const BaseRef &b : c.allBases)
        if (b.isVirtual && !b.offset && primaryOf(b.classIndex) >= 0 &&
            std::none_of(vbases.begin(), vbases.end(), [&](const BaseRef *x) { return x->classIndex == b.classIndex; }))
          vbases.push_back(&b);
      auto pos = std::find(unexplained.begin(), unexplained.end(), v.subobjectOffset) - unexplained.begin();
      if (unexplained.size() == vbases.size() && size_t(pos) < vbases.size()) {
        v.forBase = vbases[pos]->name;
        v.baseVftable = primaryOf(vbases[pos]->classIndex);
      }
    }
    if (c.vftables.size() <= 1)
      v.forBase.clear();
    const std::vector<Slot> *base = v.baseVftable >= 0 ? &m_.vftables[v.baseVftable].slots : nullptr;
    for (size_t i = 0; i < v.slots.size(); ++i) {
      Slot &s = v.slots[i];
      s.functionRva = resolveCallee(s.targetRva);
      s.pure = isPureCall(s.functionRva) || isPureCall(s.targetRva);
      if (!base || i >= base->size())
        s.kind = SlotKind::Added;
      else
        s.kind = (*base)[i].targetRva == s.targetRva ? SlotKind::Inherited : SlotKind::Overridden;
    }
  }
}

} // namespace sb::cxx
