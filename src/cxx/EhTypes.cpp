// Class names from the C++ EH data. Even without RTTI (/GR-) every thrown
// type keeps its TypeDescriptor, reached through
//   ThrowInfo {attributes, pmfnUnwind, pForwardCompat, pCatchableTypeArray}
//   CatchableTypeArray {count, CatchableType*[]}   (most-derived type first)
//   CatchableType {properties, pType, PMD, size, copyFunction}
// The copy constructor of a catchable type and the ThrowInfo's destructor
// store the type's vftable: that ties an RTTI-less vftable to a real name
// and tells their structor kind. TypeDescriptors no vftable is tied to
// (catch handler types, non-polymorphic thrown types, typeid) are classes
// without vftables.
#include "Builder.h"

#include "switchboard/eh/FuncInfo.h"

#include <algorithm>

namespace sb::cxx {
namespace {
constexpr uint32_t kMaxCatchableTypes = 64;

// Visits every 4-aligned RVA of the image's non-executable sections.
template <typename Fn>
void forEachDataWord(const image::Image &img, Fn &&fn) {
  // Each address once, however many (damaged, overlapping) sections map it.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;   // [begin, end)
  for (const image::Section &sec : img.mappedSections()) {
    if (sec.executable)
      continue;
    uint64_t n = std::min<uint64_t>(img.bytesFromRva(sec.rva).size(), sec.size);
    if (n >= 16)
      ranges.emplace_back(sec.rva, sec.rva + n);
  }
  std::sort(ranges.begin(), ranges.end());
  uint64_t done = 0;   // every word below this was visited
  for (auto [begin, end] : ranges) {
    uint64_t from = std::max(begin, done);
    from = begin + (from - begin + 3) / 4 * 4;   // word-aligned from the section's start
    for (uint64_t at = from; at + 16 <= end; at += 4)
      fn(uint32_t(at));
    done = std::max(done, end);
  }
}

// A code pointer field, or null.
bool codeOrNull(const image::Image &img, std::optional<uint32_t> p) { return p && (!*p || img.isExecutableRva(*p)); }
} // namespace

void ModelBuilder::readEhTypes() {
  for (const TypeDescriptor &td : findTypeDescriptors(img_))
    typeDescriptors_.emplace(td.rva, td);
  if (typeDescriptors_.empty())
    return;
  findCatchableTypes();
  findThrowInfos();
}

void ModelBuilder::findCatchableTypes() {
  forEachDataWord(img_, [&](uint32_t rva) {
    auto type = eh::readEhPointer(img_, rva + 4);
    // x86 pointers are VAs, so they carry relocations; x64 ones are RVAs.
    if (!type || !typeDescriptors_.count(*type) || (!img_.is64() && !img_.mayHoldAddress(rva + 4)))
      return;
    auto properties = img_.readRva<uint32_t>(rva);
    auto mdisp = img_.readRva<int32_t>(rva + 8);
    auto pdisp = img_.readRva<int32_t>(rva + 12);
    auto size = img_.readRva<int32_t>(rva + 20);
    auto copy = eh::readEhPointer(img_, rva + 24);
    if (!properties || *properties > 0x1f || !mdisp || !pdisp || *pdisp < -1 || !size || *size <= 0 || !codeOrNull(img_, copy))
      return;
    catchableTypes_.emplace(rva, CatchableTypeRef{*type, *copy, *mdisp, *pdisp, *size});
  });
}

void ModelBuilder::findThrowInfos() {
  // Catchable type arrays: a count, then that many catchable types.
  std::unordered_map<uint32_t, std::vector<CatchableTypeRef>> arrays;   // rva -> catchable types
  forEachDataWord(img_, [&](uint32_t rva) {
    auto n = img_.readRva<uint32_t>(rva);
    if (!n || *n == 0 || *n > kMaxCatchableTypes)
      return;
    std::vector<CatchableTypeRef> types;
    for (uint32_t i = 0; i < *n; ++i) {
      auto ct = eh::readEhPointer(img_, rva + 4 + 4 * i);
      auto it = ct ? catchableTypes_.find(*ct) : catchableTypes_.end();
      if (it == catchableTypes_.end())
        return;
      types.push_back(it->second);
    }
    arrays.emplace(rva, std::move(types));
  });
  forEachDataWord(img_, [&](uint32_t rva) {
    auto cta = eh::readEhPointer(img_, rva + 12);
    auto it = cta ? arrays.find(*cta) : arrays.end();
    if (it == arrays.end())
      return;
    auto attributes = img_.readRva<uint32_t>(rva);
    auto unwind = eh::readEhPointer(img_, rva + 4);
    auto forward = eh::readEhPointer(img_, rva + 8);
    if (!attributes || *attributes > 0xff || !codeOrNull(img_, unwind) || !codeOrNull(img_, forward))
      return;
    throwInfos_.push_back({rva, *unwind, it->second});
  });
}

// The vftable a structor installs at offset 0 of its own object: the last
// store for a constructor (base parts come first), the first for a
// destructor (base parts follow). -1 when it stores none.
int ModelBuilder::ownPrimaryVftable(uint32_t fn, bool constructor) const {
  const FunctionFacts *f = factsFor(resolveCallee(fn));
  if (!f)
    return -1;
  const uint32_t thisIndex = values::thisParam(img_.is64());
  int found = -1;
  uint32_t foundSite = 0;
  for (const AddressStore &s : f->stores) {
    int vi = vftableAt(s.valueRva);
    if (vi < 0 || s.dynamicOffset || !s.object.isParam(thisIndex) || s.object.off != 0)
      continue;
    if (found < 0 || (constructor ? s.site > foundSite : s.site < foundSite)) {
      found = vi;
      foundSite = s.site;
    }
  }
  return found;
}

// The EH runtime calls a catchable type's copy function to copy the
// exception object and the ThrowInfo's pmfnUnwind to destroy it: they are
// a constructor and a destructor whatever their shape suggests.
void ModelBuilder::applyEhStructorEvidence() {
  auto settle = [&](uint32_t fn, StructorKind kind, const char *evidence) {
    auto it = structorIndex_.find(resolveCallee(fn));
    if (!fn || it == structorIndex_.end())
      return;
    Structor &st = m_.structors[it->second];
    if (st.kind != StructorKind::Constructor && st.kind != StructorKind::Destructor)
      return;
    if (st.kind != kind) {
      int vi = ownPrimaryVftable(st.rva, kind == StructorKind::Constructor);
      if (vi >= 0 && m_.vftables[vi].classIndex >= 0)
        st.classIndex = m_.vftables[vi].classIndex;
    }
    st.kind = kind;
    st.evidence = evidence;
  };
  for (const auto &[rva, ct] : catchableTypes_)
    settle(ct.copyFunction, StructorKind::Constructor, "copy constructor of a catchable type (EH)");
  for (const ThrowInfoRef &ti : throwInfos_)
    settle(ti.unwind, StructorKind::Destructor, "destroys a thrown object (ThrowInfo)");
}

// Synthetic classes (Class_<RVA>) whose vftable the copy constructor of a
// catchable type installs take that type's name. Then the ThrowInfo
// destructors, for the classes and types still free: weaker evidence, as a
// destructor whose own vftable store is dead (overwritten at once by the
// inlined base destructor's) is the base's destructor, often folded into it.
void ModelBuilder::nameClassesFromEh() {
  std::map<int, std::set<uint32_t>> copyClaims, unwindClaims;   // class -> TypeDescriptors
  auto claim = [&](auto &claims, uint32_t fn, bool constructor, uint32_t td) {
    int vi = fn ? ownPrimaryVftable(fn, constructor) : -1;
    if (vi >= 0 && m_.vftables[vi].classIndex >= 0)
      claims[m_.vftables[vi].classIndex].insert(td);
  };
  for (const auto &[rva, ct] : catchableTypes_)
    claim(copyClaims, ct.copyFunction, true, ct.typeDescriptorRva);
  for (const ThrowInfoRef &ti : throwInfos_)
    claim(unwindClaims, ti.unwind, false, ti.catchable.front().typeDescriptorRva);
  std::set<int> decided;
  std::set<uint32_t> used;
  for (auto *claims : {&copyClaims, &unwindClaims}) {
    std::map<uint32_t, int> claimants;   // TypeDescriptor -> how many classes claim it
    for (const auto &[ci, tds] : *claims)
      for (uint32_t td : tds)
        ++claimants[td];
    for (const auto &[ci, tds] : *claims) {
      uint32_t td = *tds.begin();
      // One name per class and one class per name, else the evidence is mixed.
      bool free = !decided.count(ci) && !used.count(td);
      decided.insert(ci);
      used.insert(tds.begin(), tds.end());
      if (free && tds.size() == 1 && claimants[td] == 1)
        nameClassByTypeDescriptor(ci, td);
    }
  }
  refreshBaseNames();
}

void ModelBuilder::nameClassByTypeDescriptor(int ci, uint32_t td) {
  Class &c = m_.classes[ci];
  if (!c.nameIsSynthetic || classByTd_.count(td))
    return;
  c.name = typeDescriptors_.at(td).name;
  c.nameIsSynthetic = false;
  c.typeDescriptorRva = td;
  classByTd_.emplace(td, ci);
}

void ModelBuilder::refreshBaseNames() {
  for (Class &c : m_.classes) {
    for (BaseRef &b : c.bases)
      b.name = m_.classes[b.classIndex].name;
    for (BaseRef &b : c.allBases)
      b.name = m_.classes[b.classIndex].name;
  }
}

// Class types known only by a TypeDescriptor: classes without vftables.
void ModelBuilder::addTypeDescriptorClasses() {
  for (const auto &[rva, td] : typeDescriptors_)
    if (isClassTypeName(td.rawName) && !classByTd_.count(rva))
      classForTypeDescriptor(rva);
}

// A thrown class's catchable types are itself and its public bases, in
// depth-first pre-order, each with its place (mdisp, size) in the object.
// A base lies inside the base it derives from, so the nearest earlier entry
// whose bytes contain it is its direct derived class: the hierarchy of
// classes without RTTI. Virtual bases (pdisp >= 0) have no fixed place.
void ModelBuilder::linkEhHierarchy() {
  std::set<std::pair<int, int>> linked;
  for (const ThrowInfoRef &ti : throwInfos_) {
    auto isClass = [&](const CatchableTypeRef &ct) {
      auto td = typeDescriptors_.find(ct.typeDescriptorRva);
      return td != typeDescriptors_.end() && isClassTypeName(td->second.rawName) && classByTd_.count(td->first);
    };
    if (ti.catchable.size() < 2 || !std::all_of(ti.catchable.begin(), ti.catchable.end(), isClass))
      continue;
    std::vector<const CatchableTypeRef *> open{&ti.catchable.front()};
    for (size_t i = 1; i < ti.catchable.size(); ++i) {
      const CatchableTypeRef &ct = ti.catchable[i];
      if (ct.pdisp >= 0)
        continue;
      auto contains = [&](const CatchableTypeRef *outer) {
        return outer->mdisp <= ct.mdisp && int64_t(ct.mdisp) + ct.size <= int64_t(outer->mdisp) + outer->size;
      };
      while (!open.empty() && !contains(open.back()))
        open.pop_back();
      if (open.empty())
        break;   // not the layout this reading expects: trust none of the rest
      int derived = classByTd_.at(open.back()->typeDescriptorRva), base = classByTd_.at(ct.typeDescriptorRva);
      if (!m_.classes[derived].hierarchyRva && linked.emplace(derived, base).second)
        addInferredBase(derived, base, ct.mdisp - open.back()->mdisp);
      open.push_back(&ct);
    }
  }
}

} // namespace sb::cxx
