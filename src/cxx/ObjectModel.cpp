#include "Builder.h"

#include "../code/Parallel.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/code/Thunks.h"

#include <algorithm>
#include <span>

namespace sb::cxx {

const char *slotKindName(SlotKind k) {
  switch (k) {
  case SlotKind::Added: return "added";
  case SlotKind::Overridden: return "overridden";
  case SlotKind::Inherited: return "inherited";
  }
  return "?";
}

const char *structorKindName(StructorKind k) {
  switch (k) {
  case StructorKind::Constructor: return "constructor";
  case StructorKind::Destructor: return "destructor";
  case StructorKind::ScalarDeletingDestructor: return "scalar deleting destructor";
  case StructorKind::VectorDeletingDestructor: return "vector deleting destructor";
  }
  return "?";
}

int ObjectModel::findClass(std::string_view name) const {
  for (size_t i = 0; i < classes.size(); ++i)
    if (classes[i].name == name)
      return int(i);
  return -1;
}

const Structor *ObjectModel::structorAt(uint32_t rva) const {
  for (const Structor &s : structors)
    if (s.rva == rva)
      return &s;
  return nullptr;
}

std::string ObjectModel::nameFor(const Analysis &a, uint32_t rva) const {
  if (auto s = a.symbolAt(rva))
    return *s;
  if (auto t = a.importThunkAt(rva))
    return *t;
  if (auto it = derivedNames.find(rva); it != derivedNames.end())
    return it->second;
  return a.describe(rva);
}

std::string classLeafName(std::string_view q) {
  size_t depth = 0, cut = 0;
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i] == '<')
      ++depth;
    else if (q[i] == '>' && depth)
      --depth;
    else if (!depth && q[i] == ':' && i + 1 < q.size() && q[i + 1] == ':')
      cut = i + 2;
  }
  std::string_view leaf = q.substr(cut);
  return std::string(leaf.substr(0, leaf.find('<')));
}

// A deleting destructor that is a this-adjusting thunk: it adjusts `this`
// and jumps to another deleting destructor, or it serves only vftables of
// non-virtual bases away from offset 0, whose entries must adjust `this`
// (clang may emit a whole body there instead of a jump). (Vftables of
// virtual bases hold the destructor itself, or a vtordisp thunk this does
// not tell apart.)
bool ModelBuilder::isAdjustorThunk(const Structor &st,
                                   const std::unordered_map<uint32_t, std::vector<int>> &slotHolders) const {
  if (st.adjustorTargetRva)
    return true;
  bool slot = false, adjusting = true;
  if (auto holders = slotHolders.find(st.rva); holders != slotHolders.end())
    for (int vi : holders->second) {
      const Vftable &v = m_.vftables[size_t(vi)];
      slot = true;
      bool virtualBase = false, nonVirtualBase = false;
      if (v.classIndex >= 0 && v.subobjectOffset != 0)
        for (const BaseRef &b : m_.classes[size_t(v.classIndex)].allBases)
          if (b.offset && *b.offset == int64_t(v.subobjectOffset))
            (b.isVirtual ? virtualBase : nonVirtualBase) = true;
      adjusting &= nonVirtualBase && !virtualBase;
    }
  if (slot && adjusting)
    return true;
  uint32_t target = adjustorTarget(st.rva);
  auto it = target && target != st.rva ? structorIndex_.find(target) : structorIndex_.end();
  return it != structorIndex_.end() && (m_.structors[it->second].kind == StructorKind::ScalarDeletingDestructor ||
                                        m_.structors[it->second].kind == StructorKind::VectorDeletingDestructor);
}

void ModelBuilder::nameFunctions() {
  std::unordered_map<uint32_t, std::vector<int>> slotHolders;
  for (size_t vi = 0; vi < m_.vftables.size(); ++vi)
    for (const Slot &sl : m_.vftables[vi].slots)
      for (uint32_t f : {sl.targetRva, resolveCallee(sl.targetRva)}) {
        std::vector<int> &h = slotHolders[f];
        if (h.empty() || h.back() != int(vi))
          h.push_back(int(vi));
      }
  for (const Structor &st : m_.structors) {
    if (st.classIndex < 0)
      continue;
    const std::string &c = m_.classes[st.classIndex].name;
    std::string leaf = classLeafName(c);
    switch (st.kind) {
    case StructorKind::Constructor: m_.derivedNames.emplace(st.rva, c + "::" + leaf); break;
    case StructorKind::Destructor: m_.derivedNames.emplace(st.rva, c + "::~" + leaf); break;
    case StructorKind::ScalarDeletingDestructor:
      // The MSVC ABI names a vftable's deleting-destructor entry the vector
      // deleting destructor (??_E); a this-adjusting thunk is only ever such
      // an entry (??_EWidget@@W7EAAPEAXI@Z).
      m_.derivedNames.emplace(st.rva, c + (isAdjustorThunk(st, slotHolders) ? "::`vector deleting destructor'"
                                                              : "::`scalar deleting destructor'"));
      break;
    case StructorKind::VectorDeletingDestructor: m_.derivedNames.emplace(st.rva, c + "::`vector deleting destructor'"); break;
    }
  }
  for (const Vftable &v : m_.vftables) {
    if (v.classIndex < 0)
      continue;
    for (size_t i = 0; i < v.slots.size(); ++i)
      if (v.slots[i].kind != SlotKind::Inherited && !v.slots[i].pure)
        m_.derivedNames.emplace(v.slots[i].functionRva,
                                fmt::format("{}::vfunc_{}", m_.classes[v.classIndex].name, i));
  }
}

ModelBuilder::ModelBuilder(const Analysis &a, ObjectModelOptions options)
    : a_(a), img_(a.image()), options_(options), dec_(a.image().is64(), a.image().imageBase()) {}

int ModelBuilder::classForTypeDescriptor(uint32_t tdRva) {
  if (auto it = classByTd_.find(tdRva); it != classByTd_.end())
    return it->second;
  Class c;
  c.typeDescriptorRva = tdRva;
  c.name = typeDescriptorName(img_, tdRva);
  m_.classes.push_back(std::move(c));
  int index = int(m_.classes.size() - 1);
  classByTd_.emplace(tdRva, index);
  return index;
}

void ModelBuilder::readRtti() {
  cols_ = findCompleteObjectLocators(img_);
  m_.completeObjectLocators = cols_.size();
  for (const CompleteObjectLocator &col : cols_) {
    int ci = classForTypeDescriptor(col.typeDescriptorRva);
    if (!m_.classes[ci].hierarchyRva)
      m_.classes[ci].hierarchyRva = col.hierarchyRva;
    else if (m_.classes[ci].hierarchyRva != col.hierarchyRva)
      m_.warnings.push_back(fmt::format("COL {:#x}: class {} has a second hierarchy descriptor {:#x}", col.rva,
                                        m_.classes[ci].name, col.hierarchyRva));
  }
}

void ModelBuilder::linkHierarchy() {
  // Bases without a COL of their own become classes too, so iterate by index.
  for (size_t ci = 0; ci < m_.classes.size(); ++ci) {
    if (!m_.classes[ci].hierarchyRva)
      continue;
    auto h = readClassHierarchy(img_, m_.classes[ci].hierarchyRva);
    if (!h) {
      m_.warnings.push_back(fmt::format("class {}: {}", m_.classes[ci].name, h.error()));
      continue;
    }
    m_.classes[ci].hierarchyAttributes = h->attributes;
    if (h->bases.empty() || h->bases[0].typeDescriptorRva != m_.classes[ci].typeDescriptorRva)
      m_.warnings.push_back(fmt::format("class {}: hierarchy {:#x} does not start with the class", m_.classes[ci].name,
                                        h->rva));
    std::vector<BaseRef> all;
    for (size_t i = 1; i < h->bases.size(); ++i) {
      const BaseClassDescriptor &d = h->bases[i];
      BaseRef b;
      b.classIndex = classForTypeDescriptor(d.typeDescriptorRva);
      b.name = m_.classes[b.classIndex].name;
      b.isVirtual = d.where.isVirtual();
      if (!b.isVirtual)
        b.offset = d.where.mdisp;
      b.where = d.where;
      b.attributes = d.attributes;
      b.descriptorRva = d.rva;
      all.push_back(b);
    }
    Class &c = m_.classes[ci];
    c.allBases = all;
    for (size_t i : h->directBases())
      c.bases.push_back(all[i - 1]);
  }
  for (size_t ci = 0; ci < m_.classes.size(); ++ci)
    for (const BaseRef &b : m_.classes[ci].bases)
      m_.classes[b.classIndex].derived.push_back(int(ci));
}

uint32_t ModelBuilder::resolveCallee(uint32_t rva) const { return code::followJumpStubs(img_, dec_, rva); }

std::string ModelBuilder::calleeName(const CallFact &c) const {
  if (!c.callee)
    return {};
  if (c.viaIat) {
    if (const pe::Import *imp = img_.importForIat(c.callee))
      return imp->name;
    return {};
  }
  uint32_t target = resolveCallee(c.callee);
  if (auto thunk = a_.importThunkAt(target))
    return *thunk;
  if (auto n = a_.symbolAt(target))
    return *n;
  return {};
}

bool ModelBuilder::isPureCall(uint32_t target) const {
  if (auto thunk = a_.importThunkAt(target))
    return *thunk == "_purecall";
  if (auto n = a_.symbolAt(target))
    return *n == "_purecall" || *n == "__purecall";
  return false;
}

int64_t ModelBuilder::baseOffset(const Class &c, int baseClass) const {
  for (const BaseRef &b : c.allBases)
    if (b.classIndex == baseClass)
      return b.offset ? *b.offset : -1;
  return -1;
}

bool ModelBuilder::isCodePointerAt(uint32_t rva, uint32_t *target) const {
  if (!img_.mayHoldAddress(rva))
    return false;
  auto p = img_.readPointer(rva);
  if (!p || !*p)
    return false;
  auto t = img_.vaToRva(*p);
  if (!t || !img_.isExecutableRva(*t))
    return false;
  if (target)
    *target = *t;
  return true;
}

void ModelBuilder::scanCode() {
  const auto &fns = a_.functions();
  // The data each function names, from the session's one decode of the code.
  const calls::CallIndex &index = a_.callIndex();
  for (size_t i = 0; i < fns.size(); ++i) {
    std::span<const uint32_t> refs = index.dataRefsOf(i);
    dataRefs_.insert(dataRefs_.end(), refs.begin(), refs.end());
  }
  std::sort(dataRefs_.begin(), dataRefs_.end());
  dataRefs_.erase(std::unique(dataRefs_.begin(), dataRefs_.end()), dataRefs_.end());

  // Which functions to replay with the value tracker.
  std::vector<bool> want(fns.size(), false);
  std::unordered_set<uint32_t> storers;
  const unsigned ptr = img_.pointerSize();
  for (size_t i = 0; i < fns.size(); ++i) {
    for (uint32_t ref : index.dataRefsOf(i)) {
      // A known vftable, or a relocated code pointer that might be one.
      bool vftableLike = vftableAt(ref) >= 0 || (!colSlots_.count(ref) && isCodePointerAt(ref, nullptr));
      if (vftableLike) {
        want[i] = true;
        storers.insert(fns[i].rva);
        break;
      }
    }
    if (options_.virtualCalls && index.makesIndirectCalls(i))
      want[i] = true;
  }
  // Callers of vftable storers (deleting destructors call the destructor
  // that stores; constructors call base constructors) and vftable slots
  // (deleting destructors that inline nothing) are structors to classify,
  // whatever else was asked.
  for (size_t i = 0; i < fns.size(); ++i) {
    if (want[i])
      continue;
    for (uint32_t c : fns[i].callees)
      if (storers.count(resolveCallee(c))) {
        want[i] = true;
        break;
      }
  }
  for (const Vftable &v : m_.vftables)
    for (const Slot &s : v.slots)
      if (const code::Function *f = a_.functionAt(s.targetRva))
        want[size_t(f - fns.data())] = true;
  // Initializer tables: functions naming two addresses of one pointer table.
  for (size_t i = 0; i < fns.size(); ++i) {
    const std::span<const uint32_t> refs = index.dataRefsOf(i);
    for (size_t k = 0; k + 1 < refs.size() && !want[i]; ++k) {
      uint32_t lo = refs[k], hi = refs[k + 1];
      if (hi - lo > 0x4000 || (hi - lo) % ptr)
        continue;
      bool table = true, any = false;
      for (uint32_t p = lo; p < hi && table; p += ptr) {
        auto v = img_.readPointer(p);
        table = v && (*v == 0 || isCodePointerAt(p, nullptr));
        any |= v && *v;
      }
      want[i] = table && any;
    }
  }
  std::vector<size_t> chosen;
  for (size_t i = 0; i < fns.size(); ++i)
    if (want[i] && !fns[i].isImportThunk)
      chosen.push_back(i);
  facts_.resize(chosen.size());
  code::parallelFor(chosen.size(), a_.threads(),
                    [&](size_t k) { facts_[k] = gatherFacts(a_, dec_, fns[chosen[k]]); });
  for (size_t k = 0; k < facts_.size(); ++k)
    factsIndex_.emplace(facts_[k].rva, k);
  for (const FunctionFacts &f : facts_)
    for (auto [site, target] : f.resolvedCalls)
      m_.resolvedCalls.push_back({site, f.rva, target});
  std::sort(m_.resolvedCalls.begin(), m_.resolvedCalls.end(),
            [](const ResolvedCall &x, const ResolvedCall &y) { return x.siteRva < y.siteRva; });
}

ObjectModel ModelBuilder::build() {
  if (!img_.codeAnalysisSupported())
    return std::move(m_);
  readRtti();
  linkHierarchy();
  readEhTypes();
  findRttiVftables();
  scanCode();
  trimSlotsAtReferences();
  findVftablesWithoutRtti();
  classifyStructors();
  nameClassesFromEh();
  addTypeDescriptorClasses();
  linkEhHierarchy();
  resolveSlotKinds();
  if (options_.layouts)
    recoverLayouts();
  nameFunctions();
  if (options_.virtualCalls)
    findVirtualCalls();
  findStaticInitializers();
  return std::move(m_);
}

ObjectModel analyzeObjectModel(const Analysis &a, ObjectModelOptions options) {
  return ModelBuilder(a, options).build();
}

} // namespace sb::cxx
