// Constructors and destructors: functions that store vftables into their
// own object, classified by their shape (the flags test of deleting
// destructors, `return this` of MS-ABI constructors, base constructor calls
// before the vfptr stores); vftables of classes without RTTI; the vbtables
// constructors install.
#include "Builder.h"

#include <algorithm>
#include <map>

namespace sb::cxx {
using values::Kind;
using values::Value;

const char *subobjectRoleName(SubobjectRole r) {
  switch (r) {
  case SubobjectRole::None: return "";
  case SubobjectRole::Call: return "call";
  case SubobjectRole::OperatorDelete: return "operator delete";
  case SubobjectRole::Ctor: return "ctor";
  case SubobjectRole::Dtor: return "dtor";
  case SubobjectRole::BaseCtor: return "base ctor";
  case SubobjectRole::BaseDtor: return "base dtor";
  case SubobjectRole::MemberCtor: return "member ctor";
  case SubobjectRole::MemberDtor: return "member dtor";
  }
  return "";
}

bool isDeleteName(const std::string &n) {
  return n.rfind("??3@", 0) == 0 || n.rfind("??_V@", 0) == 0 || n == "free" || n == "_free" || n == "_free_base" ||
         n.rfind("operator delete", 0) == 0;
}

namespace {
bool isDeleting(StructorKind k) {
  return k == StructorKind::ScalarDeletingDestructor || k == StructorKind::VectorDeletingDestructor;
}


// In a deleting destructor, a call on `this` that also passes a small
// constant is the sized `operator delete(this, sizeof(T))` (or the vector
// destructor iterator, which passes the element size): never a destructor,
// which takes `this` alone. Unnamed in stripped binaries, so known by shape.
bool freesObject(const CallFact &c) {
  const values::Value &size = c.args[1];
  return size.isConst() && size.off > 0 && size.off < (1 << 24);
}


// Whether a later call of f gets the stack slot s stored into, or a member
// just above it, as `this`: an object built in the frame (`mov [rsp+60h],
// offset vft; lea rcx, [rsp+90h]; call`, a member's constructor).
bool passedAsThis(const FunctionFacts &f, const AddressStore &s) {
  constexpr int64_t kMemberReach = 0x100;
  return std::any_of(f.calls.begin(), f.calls.end(), [&](const CallFact &c) {
    return c.site > s.site && c.thisCall && c.thisArg.kind == Kind::Stack && c.thisArg.off >= s.object.off &&
           c.thisArg.off < s.object.off + kMemberReach;
  });
}

} // namespace

// vftables of classes without RTTI: relocated code-pointer arrays a function
// stores into its own object.
void ModelBuilder::findVftablesWithoutRtti() {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  std::map<uint32_t, int64_t> candidates;   // table -> offset of the vfptr in the object
  for (const FunctionFacts &f : facts_)
    for (const AddressStore &s : f.stores) {
      // Into the function's own object, a global, or a fresh allocation.
      // (For objects other than `this`, only a vfptr at offset 0: a
      // pointer to a function table in some struct field is no vftable.)
      // A stack object counts once its address is then passed as `this`.
      bool object = s.object.isParam(thisIndex) ||
                    ((s.object.isImage() || s.object.kind == Kind::Return) && s.object.off == 0) ||
                    (s.object.kind == Kind::Stack && passedAsThis(f, s));
      bool offset = s.object.kind == Kind::Stack || (s.object.off >= 0 && s.object.off < 0x10000);
      if (object && offset && vftableAt(s.valueRva) < 0 &&
          !colSlots_.count(s.valueRva - img_.pointerSize()) && isCodePointerAt(s.valueRva, nullptr))
        candidates.emplace(s.valueRva, s.object.isParam(thisIndex) ? s.object.off : 0);
    }
  const unsigned ptr = img_.pointerSize();
  for (const auto &[rva, offset] : candidates) {
    const pe::Section *sec = img_.sectionForRva(rva);
    if (!sec || sec->writable())
      continue;   // vftables are read-only data
    Vftable v;
    v.rva = rva;
    for (uint32_t t : readSlots(rva))
      v.slots.push_back({t, t, SlotKind::Added, false});
    auto it = std::upper_bound(dataRefs_.begin(), dataRefs_.end(), rva);
    if (it != dataRefs_.end() && *it < rva + v.slots.size() * ptr)
      v.slots.resize((*it - rva + ptr - 1) / ptr);
    if (v.slots.empty())
      continue;
    v.subobjectOffset = uint32_t(offset);
    vftableIndex_.emplace(rva, int(m_.vftables.size()));
    m_.vftables.push_back(std::move(v));
  }
}

void ModelBuilder::classifyStructors() {
  std::unordered_set<uint32_t> slotTargets;
  for (const Vftable &v : m_.vftables)
    for (const Slot &sl : v.slots)
      slotTargets.insert(resolveCallee(sl.targetRva));
  // 1. Functions that set vfptrs in their own object: their kind first (it
  //    decides which store names the class), then their classes, primary
  //    vftables before the rest, then the base chains their stores show.
  std::vector<StructorDraft> drafts;
  for (const FunctionFacts &f : facts_) {
    std::vector<VfptrStore> own = ownVfptrStores(f);
    bool inSlot = slotTargets.count(f.rva) > 0;
    if (own.empty() && !((f.flagBitsTested & 1) && inSlot))
      continue;
    StructorDraft d;
    d.st.rva = f.rva;
    classifyStructorShape(f, own, inSlot, d.st);
    d.own = std::move(own);
    drafts.push_back(std::move(d));
  }
  for (int pass = 0; pass < 2; ++pass)
    for (StructorDraft &d : drafts)
      if ((pass == 0) == d.startsWithVfptr())
        assignStructorClass(d);
  for (const StructorDraft &d : drafts)
    addChainBases(d);
  for (StructorDraft &d : drafts) {
    const FunctionFacts *f = factsFor(d.st.rva);
    d.st.calls = callsOnThis(*f, isDeleting(d.st.kind));
    structorIndex_.emplace(d.st.rva, int(m_.structors.size()));
    m_.structors.push_back(std::move(d.st));
  }
  // vftables without RTTI that no constructor of their own installs (all
  // inlined): a class each.
  for (size_t vi = 0; vi < m_.vftables.size(); ++vi) {
    if (m_.vftables[vi].classIndex < 0)
      classOfVftable(int(vi), m_.vftables[vi].subobjectOffset);
  }
  applyEhStructorEvidence();
  // 2. Deleting destructors in vftable slots belong to the vftable's class;
  //    the destructor they call first on `this` is the class's destructor.
  for (const Vftable &v : m_.vftables)
    for (const Slot &s : v.slots) {
      auto it = structorIndex_.find(resolveCallee(s.targetRva));
      if (it != structorIndex_.end() && m_.structors[it->second].classIndex < 0)
        m_.structors[it->second].classIndex = v.classIndex;
    }
  std::vector<Structor> pending;
  for (Structor &st : m_.structors) {
    if (!isDeleting(st.kind))
      continue;
    for (const SubobjectCall &c : st.calls) {
      if (c.thisOffset != 0)
        continue;
      CallFact probe;
      probe.callee = c.calleeRva;
      if (c.role == SubobjectRole::OperatorDelete || isDeleteName(calleeName(probe)))
        break;
      auto it = structorIndex_.find(c.calleeRva);
      if (it == structorIndex_.end()) {
        // A destructor that sets no vfptr (an empty body, or a class whose
        // vfptr needs no reset): known only from this call.
        if (!a_.functionAt(c.calleeRva))
          break;
        Structor d;
        d.rva = c.calleeRva;
        d.kind = StructorKind::Destructor;
        d.classIndex = st.classIndex;
        d.evidence = "called by the deleting destructor";
        structorIndex_.emplace(d.rva, int(m_.structors.size() + pending.size()));
        pending.push_back(std::move(d));
        break;
      }
      if (size_t(it->second) >= m_.structors.size())
        break;   // already pending
      Structor &d = m_.structors[it->second];
      if (d.kind == StructorKind::Constructor || d.kind == StructorKind::Destructor) {
        d.kind = StructorKind::Destructor;
        d.evidence = "called by the deleting destructor";
      }
      break;
    }
  }
  // Destructors known only from this call were not replayed: their own
  // calls on `this` (base and member destructors) are needed too.
  for (Structor &d : pending) {
    if (const code::Function *fn = a_.functionAt(d.rva); fn && !factsFor(d.rva) && !fn->isImportThunk) {
      factsIndex_.emplace(d.rva, facts_.size());
      facts_.push_back(gatherFacts(a_, dec_, *fn));
    }
    if (const FunctionFacts *f = factsFor(d.rva))
      d.calls = callsOnThis(*f, false);
    m_.structors.push_back(std::move(d));
  }
  // Bases first: the trap of an abstract base is found through its derived
  // classes' vftables.
  inferBasesFromConstructorCalls();
  classifyTailCalledBaseDestructors();
  classifyTrappingDeletingDestructors();
  classifyAdjustorThunks();
  // 3. Label the calls each makes on its object, and file them by class.
  for (Structor &st : m_.structors) {
    for (SubobjectCall &c : st.calls) {
      auto it = structorIndex_.find(c.calleeRva);
      CallFact probe;
      probe.callee = c.calleeRva;
      std::string name = calleeName(probe);
      if (c.role == SubobjectRole::OperatorDelete || isDeleteName(name) ||
          isDeleteName(a_.nameAt(c.calleeRva).value_or(""))) {
        c.role = SubobjectRole::OperatorDelete;
        continue;
      }
      if (it == structorIndex_.end()) {
        c.role = SubobjectRole::Call;
        continue;
      }
      const Structor &callee = m_.structors[it->second];
      c.classIndex = callee.classIndex;
      bool isBase = false;
      if (st.classIndex >= 0)
        for (const BaseRef &b : m_.classes[st.classIndex].allBases)
          isBase |= b.classIndex == callee.classIndex && (!b.offset || *b.offset == c.thisOffset);
      bool ctor = callee.kind == StructorKind::Constructor;
      const bool own = callee.classIndex == st.classIndex;
      c.role = isBase ? (ctor ? SubobjectRole::BaseCtor : SubobjectRole::BaseDtor)
               : own  ? (ctor ? SubobjectRole::Ctor : SubobjectRole::Dtor)
                      : (ctor ? SubobjectRole::MemberCtor : SubobjectRole::MemberDtor);
    }
    if (st.classIndex < 0)
      continue;
    Class &c = m_.classes[st.classIndex];
    switch (st.kind) {
    case StructorKind::Constructor: c.constructors.push_back(st.rva); break;
    case StructorKind::Destructor: c.destructors.push_back(st.rva); break;
    default: c.deletingDestructors.push_back(st.rva); break;
    }
  }
  findVbtables();
}

// The calls a structor makes on its own object (this+k).
std::vector<SubobjectCall> ModelBuilder::callsOnThis(const FunctionFacts &f, bool deleting) const {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  std::vector<SubobjectCall> out;
  for (const CallFact &c : f.calls)
    if (c.thisCall && c.thisArg.kind == Kind::Param && c.thisArg.base == thisIndex && c.callee)
      out.push_back({c.site, c.viaIat ? c.callee : resolveCallee(c.callee), c.thisArg.off,
                     deleting && freesObject(c) ? SubobjectRole::OperatorDelete : SubobjectRole::None, -1});
  return out;
}

// Without RTTI: MSVC constructs base subobjects, then sets the object's
// vfptrs, then constructs members; destructors run the other way round.
// So a structor of class B run on this+k is the base part B of D when
//   - a constructor of D calls it before the vfptr store at k, or
//   - k is 0 and D has its vfptr at 0 (no member shares offset 0 with the
//     vfptr): this finds bases whose own vfptr store the inliner removed;
// and, for constructors inlined into other code, when B's constructor runs
// on an object and the next vfptr store into that object is D's.
void ModelBuilder::inferBasesFromConstructorCalls() {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  auto addBase = [&](int derived, int base, int64_t offset) {
    if (derived < 0 || base < 0 || derived == base || m_.classes[derived].hierarchyRva)
      return;
    const Class &b = m_.classes[base];
    if (std::none_of(b.allBases.begin(), b.allBases.end(), [&](const BaseRef &r) { return r.classIndex == derived; }))
      addInferredBase(derived, base, offset);
  };
  auto structorOf = [&](uint32_t rva) -> const Structor * {
    auto it = structorIndex_.find(rva);
    return it == structorIndex_.end() || size_t(it->second) >= m_.structors.size() ? nullptr : &m_.structors[it->second];
  };
  auto vfptrAtZero = [&](int ci) {
    return std::any_of(m_.classes[ci].vftables.begin(), m_.classes[ci].vftables.end(),
                       [&](int vi) { return m_.vftables[vi].subobjectOffset == 0; });
  };
  for (const Structor &st : m_.structors) {
    bool ctor = st.kind == StructorKind::Constructor, dtor = st.kind == StructorKind::Destructor;
    if ((!ctor && !dtor) || st.classIndex < 0)
      continue;
    const FunctionFacts *f = factsFor(st.rva);
    if (!f)
      continue;
    std::map<int64_t, uint32_t> firstStoreAt;   // vfptr offset -> first store site
    for (const AddressStore &s : f->stores)
      if (vftableAt(s.valueRva) >= 0 && !s.dynamicOffset && s.object.isParam(thisIndex))
        if (auto [it, fresh] = firstStoreAt.emplace(s.object.off, s.site); !fresh)
          it->second = std::min(it->second, s.site);
    for (const SubobjectCall &c : st.calls) {
      const Structor *callee = structorOf(c.calleeRva);
      if (!callee || callee->kind != st.kind)
        continue;
      auto store = firstStoreAt.find(c.thisOffset);
      bool beforeStore = ctor && store != firstStoreAt.end() && c.siteRva < store->second;
      if (beforeStore || (c.thisOffset == 0 && vfptrAtZero(st.classIndex)))
        addBase(st.classIndex, callee->classIndex, c.thisOffset);
    }
  }
  for (const FunctionFacts &f : facts_) {
    if (structorOf(f.rva))
      continue;   // its own object was handled above
    for (const CallFact &c : f.calls) {
      const Structor *callee = c.callee && !c.viaIat ? structorOf(resolveCallee(c.callee)) : nullptr;
      if (!callee || callee->kind != StructorKind::Constructor || !c.thisArg.known() || c.thisArg.isConst())
        continue;
      const AddressStore *next = nullptr;
      for (const AddressStore &s : f.stores)
        if (s.site > c.site && !s.dynamicOffset && s.object == c.thisArg && vftableAt(s.valueRva) >= 0 &&
            (!next || s.site < next->site))
          next = &s;
      if (next)
        addBase(m_.vftables[vftableAt(next->valueRva)].classIndex, callee->classIndex, 0);
    }
  }
}

// An abstract class's deleting destructor cannot run: compilers emit a trap
// (ud2) for it. It sits in the slot where derived classes' vftables hold
// their deleting destructors.
void ModelBuilder::classifyTrappingDeletingDestructors() {
  // ud2/int3, after an optional `push ebp; mov ebp, esp`.
  auto traps = [&](uint32_t rva) {
    code::DecodedInsn in;
    for (int i = 0; i < 3 && dec_.decode(img_.bytesFromRva(rva), rva, in); ++i, rva = in.next()) {
      if (in.flow == code::Flow::Stop)
        return true;
      bool prolog = in.insn.mnemonic == ZYDIS_MNEMONIC_PUSH || in.insn.mnemonic == ZYDIS_MNEMONIC_MOV;
      if (!prolog || in.insn.length > 3)
        return false;
    }
    return false;
  };
  auto vftableAtOffset = [&](int ci, int64_t off) -> const Vftable * {
    for (int vi : m_.classes[ci].vftables)
      if (m_.vftables[vi].subobjectOffset == off)
        return &m_.vftables[vi];
    return nullptr;
  };
  for (size_t di = 0; di < m_.classes.size(); ++di)
    for (const BaseRef &b : m_.classes[di].allBases) {
      const Vftable *vb = b.offset ? vftableAtOffset(b.classIndex, 0) : nullptr;
      const Vftable *vd = b.offset ? vftableAtOffset(int(di), *b.offset) : nullptr;
      if (!vb || !vd)
        continue;
      for (size_t i = 0; i < vb->slots.size() && i < vd->slots.size(); ++i) {
        auto it = structorIndex_.find(resolveCallee(vd->slots[i].targetRva));
        uint32_t target = resolveCallee(vb->slots[i].targetRva);
        if (it == structorIndex_.end() || structorIndex_.count(target) || !traps(target))
          continue;
        StructorKind k = m_.structors[it->second].kind;
        if (isDeleting(k))
          addStructor(target, k, b.classIndex,
                      "traps; derived classes hold their deleting destructor in this slot (abstract class)");
      }
    }
}

// A destructor that ends in a jump to its base's destructor, when nothing
// else calls that one, holds it as a chunk: a chunk of a destructor that
// sets a base class's vfptr is that base's destructor.
void ModelBuilder::classifyTailCalledBaseDestructors() {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  size_t n = m_.structors.size();
  for (size_t i = 0; i < n; ++i) {
    if (m_.structors[i].kind != StructorKind::Destructor || m_.structors[i].classIndex < 0)
      continue;
    const code::Function *f = a_.functionAt(m_.structors[i].rva);
    const FunctionFacts *facts = factsFor(m_.structors[i].rva);
    if (!f || !facts)
      continue;
    for (const AddressStore &s : facts->stores) {
      int vi = vftableAt(s.valueRva);
      if (vi < 0 || !s.object.isParam(thisIndex) || m_.vftables[vi].classIndex == m_.structors[i].classIndex ||
          m_.vftables[vi].classIndex < 0)
        continue;
      for (const code::Range &c : f->chunks) {
        if (!c.contains(s.site) || c.contains(f->rva) ||
            std::find(f->funclets.begin(), f->funclets.end(), c.rva) != f->funclets.end() || structorIndex_.count(c.rva))
          continue;
        addStructor(c.rva, StructorKind::Destructor, m_.vftables[vi].classIndex,
                    fmt::format("tail-called by the destructor at {:#x}", f->rva))
            .vfptrStores.push_back(s.site);
      }
    }
  }
}

// `add rcx, -16; jmp X` / `sub ecx, 8; jmp X` (also vtordisp forms that end
// in a jump): the target of a this-adjusting thunk, or 0.
uint32_t ModelBuilder::adjustorTarget(uint32_t rva) const {
  code::DecodedInsn in;
  for (int i = 0; i < 6 && dec_.decode(img_.bytesFromRva(rva), rva, in); ++i, rva = in.next()) {
    if (in.flow == code::Flow::Jump && in.target)
      return resolveCallee(*in.target);
    if (in.flow != code::Flow::Normal)
      return 0;
  }
  return 0;
}

void ModelBuilder::classifyAdjustorThunks() {
  for (const Vftable &v : m_.vftables)
    for (const Slot &sl : v.slots) {
      uint32_t thunk = resolveCallee(sl.targetRva);
      if (structorIndex_.count(thunk) || v.classIndex < 0)
        continue;
      uint32_t target = adjustorTarget(thunk);
      auto it = target ? structorIndex_.find(target) : structorIndex_.end();
      if (it == structorIndex_.end())
        continue;
      StructorKind k = m_.structors[it->second].kind;
      if (isDeleting(k))
        addStructor(thunk, k, v.classIndex, fmt::format("this-adjusting thunk to the deleting destructor at {:#x}", target))
            .adjustorTargetRva = target;
    }
}

// A class without RTTI, named after the vftable that makes it (Class_<RVA>).
int ModelBuilder::classOfVftable(int vftable, uint32_t subobjectOffset) {
  Class c;
  c.name = fmt::format("Class_{:X}", m_.vftables[vftable].rva);
  c.nameIsSynthetic = true;
  c.vftables.push_back(vftable);
  m_.classes.push_back(std::move(c));
  m_.vftables[vftable].classIndex = int(m_.classes.size() - 1);
  m_.vftables[vftable].subobjectOffset = subobjectOffset;
  return m_.vftables[vftable].classIndex;
}

Structor &ModelBuilder::addStructor(uint32_t rva, StructorKind kind, int classIndex, std::string evidence) {
  Structor st;
  st.rva = rva;
  st.kind = kind;
  st.classIndex = classIndex;
  st.evidence = std::move(evidence);
  structorIndex_.emplace(rva, int(m_.structors.size()));
  m_.structors.push_back(std::move(st));
  return m_.structors.back();
}

// A base edge learned from constructor stores (classes without RTTI).
void ModelBuilder::addInferredBase(int derived, int base, std::optional<int64_t> offset) {
  Class &cls = m_.classes[derived];
  if (derived == base ||
      std::any_of(cls.allBases.begin(), cls.allBases.end(), [&](const BaseRef &b) { return b.classIndex == base; }))
    return;
  BaseRef b;
  b.classIndex = base;
  b.name = m_.classes[base].name;
  b.offset = offset;
  b.where.mdisp = int32_t(offset.value_or(0));
  cls.allBases.push_back(b);
  cls.bases.push_back(b);
  m_.classes[base].derived.push_back(derived);
}

// vbtables: a constructor stores into [this+k] the address of an int32 array
// whose first entry is the offset back to the subobject start (0 or -k') and
// whose further entries are the displacements of the virtual bases.
void ModelBuilder::findVbtables() {
  const uint32_t thisIndex = values::thisParam(img_.is64());
  for (const Structor &st : m_.structors) {
    if (st.classIndex < 0 || st.kind != StructorKind::Constructor)
      continue;
    const FunctionFacts *f = factsFor(st.rva);
    Class &c = m_.classes[st.classIndex];
    size_t vbases = 0;
    for (const BaseRef &b : c.allBases)
      vbases += b.isVirtual;
    if (!f || !vbases)
      continue;
    for (const AddressStore &s : f->stores) {
      if (!s.object.isParam(thisIndex) || vftableAt(s.valueRva) >= 0 || s.object.off < 0)
        continue;
      auto first = img_.readRva<int32_t>(s.valueRva);
      if (!first || *first > 0 || *first < -s.object.off)
        continue;
      Vbtable vb;
      vb.rva = s.valueRva;
      vb.vbptrOffset = s.object.off;
      vb.entries.push_back(*first);
      for (size_t i = 1; i <= vbases; ++i) {
        auto e = img_.readRva<int32_t>(s.valueRva + uint32_t(4 * i));
        if (!e || *e <= 0 || *e > 0x100000)
          break;
        vb.entries.push_back(*e);
      }
      if (vb.entries.size() < 2)
        continue;
      bool known = false;
      for (const Vbtable &x : c.vbtables)
        known |= x.vbptrOffset == vb.vbptrOffset;
      if (!known)
        c.vbtables.push_back(std::move(vb));
    }
  }
}

} // namespace sb::cxx
