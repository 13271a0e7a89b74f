// The framework message maps of an image, each tied to its class:
//  - MFC: maps found by a scan of the data (every pointer pair whose
//    entries have AFX_MSGMAP_ENTRY's shape) and by the vftable slots that
//    return one (GetMessageMap), chained to their bases;
//  - ATL/WTL: ProcessWindowMessage, slot 0 of the vftables serving
//    CMessageMap, where the image has ATL (RTTI naming ATL::CMessageMap,
//    or the "ATL:" prefix CWndClassInfo names window classes with).
// The object model is asked only when a map or ATL is there.
#include "AtlMaps.h"
#include "MfcMaps.h"

#include "code/Decoder.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Thunks.h"
#include "switchboard/cxx/ObjectModel.h"
#include "values/Tracker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <map>
#include <set>

namespace sb::msgmaps {

const MfcMap *MessageMaps::mfcAt(uint32_t rva) const {
  auto it = std::lower_bound(mfc.begin(), mfc.end(), rva, [](const MfcMap &m, uint32_t r) { return m.rva < r; });
  return it != mfc.end() && it->rva == rva ? &*it : nullptr;
}

const AtlMap *MessageMaps::atlAt(uint32_t rva) const {
  auto it = std::lower_bound(atl.begin(), atl.end(), rva, [](const AtlMap &m, uint32_t r) { return m.rva < r; });
  return it != atl.end() && it->rva == rva ? &*it : nullptr;
}

namespace {

class Finder {
public:
  explicit Finder(const Analysis &a) : a_(a), img_(a.image()), mfc_(img_, a.decoder()), atl_(a) {}

  MessageMaps run() {
    scanMfcMaps();
    const bool atl = hasAtl();
    if (!maps_.empty() || atl)
      model_ = &a_.objectModel();
    if (model_ && !maps_.empty())
      tieMfcMaps();
    chainMfcMaps();
    if (model_)
      nameBaseMaps();
    for (auto &[rva, m] : maps_)
      out_.mfc.push_back(std::move(m));
    if (!out_.mfc.empty()) {
      out_.mfcHwndOffset = img_.is64() ? 0x40 : 0x20;
      mfcDialogs();
    }
    if (atl && model_)
      atlMaps();
    return std::move(out_);
  }

private:
  void scanMfcMaps();
  void tieMfcMaps();
  void chainMfcMaps();
  void nameBaseMaps();
  void mfcDialogs();
  bool hasAtl() const;
  void atlMaps();
  // How a map was reached: the data scan believes only maps with entries;
  // a GetMessageMap slot may return an empty one that names its base; a
  // derived map's base may be empty and the root (CCmdTarget's).
  enum class Via { Scan, Slot, Base };
  MfcMap *addMap(uint32_t rva, Via via) {
    if (auto it = maps_.find(rva); it != maps_.end())
      return &it->second;
    auto m = mfc_.mapAt(rva, via == Via::Scan);
    if (!m || (via == Via::Slot && m->entries.empty() && !m->baseMapRva && !m->baseFunctionRva))
      return nullptr;
    if (m->truncated)
      out_.warnings.push_back(
          m->entries.size() >= MfcMapReader::kMaxEntries
              ? fmt::format("MFC message map at {:#x}: no end entry within {} entries; the rest ignored", rva,
                            MfcMapReader::kMaxEntries)
              : fmt::format("MFC message map at {:#x}: entry {} does not read as one (a handler outside the code?); "
                            "the entries before it kept",
                            rva, m->entries.size()));
    return &maps_.emplace(rva, std::move(*m)).first->second;
  }

  const Analysis &a_;
  const pe::PeImage &img_;
  MfcMapReader mfc_;
  AtlMapReader atl_;
  const cxx::ObjectModel *model_ = nullptr;
  std::map<uint32_t, MfcMap> maps_;
  MessageMaps out_;
};

void Finder::scanMfcMaps() {
  const unsigned ptr = img_.pointerSize();
  for (const image::Section &sec : img_.mappedSections()) {
    if (sec.executable || sec.code || sec.size < 2 * ptr)
      continue;
    std::span<const uint8_t> bytes = img_.bytesFromRva(sec.rva);
    const uint64_t lo = img_.imageBase(), hi = lo + img_.imageSize();
    for (size_t off = 0; off + 2 * ptr <= bytes.size() && off + 2 * ptr <= sec.size; off += ptr) {
      // Cheap first: both fields inside the image (the base may be null).
      uint64_t base = 0, entries = 0;
      std::memcpy(&base, bytes.data() + off, ptr);
      std::memcpy(&entries, bytes.data() + off + ptr, ptr);
      if (entries < lo || entries >= hi || (base && (base < lo || base >= hi)))
        continue;
      addMap(sec.rva + uint32_t(off), Via::Scan);
    }
  }
}

// The class of each map: the vftable whose GetMessageMap slot returns it.
// Derived classes without a map of their own inherit the slot; the class
// that overrides (or adds) it owns the map.
void Finder::tieMfcMaps() {
  std::map<uint32_t, std::optional<uint32_t>> returned;   // slot function -> what it returns
  std::set<uint32_t> owned;                                 // maps tied by an overriding slot
  for (const cxx::Vftable &v : model_->vftables) {
    for (size_t si = 0; si < v.slots.size(); ++si) {
      const cxx::Slot &sl = v.slots[si];
      auto [it, fresh] = returned.emplace(sl.functionRva, std::nullopt);
      if (fresh)
        it->second = returnedAddress(img_, a_.decoder(), sl.functionRva);
      if (!it->second)
        continue;
      MfcMap *m = addMap(*it->second, Via::Slot);
      const bool owner = sl.kind != cxx::SlotKind::Inherited;
      if (!m || owned.count(m->rva) || (m->getMessageMapRva && !owner))
        continue;
      m->getMessageMapRva = sl.functionRva;
      m->vftableSlot = int(si);
      m->classIndex = v.classIndex;
      m->className = v.classIndex >= 0 ? model_->classes[size_t(v.classIndex)].name : std::string();
      if (owner)
        owned.insert(m->rva);
    }
  }
}

// Each map's base: a map the base field points at (pBaseMap), or the one
// the base function returns (pfnGetBaseMap); an import thunk means the base
// map lies in the MFC DLL. Cycles are cut and reported.
void Finder::chainMfcMaps() {
  std::vector<uint32_t> work;
  for (const auto &[rva, m] : maps_)
    work.push_back(rva);
  while (!work.empty()) {
    uint32_t rva = work.back();
    work.pop_back();
    MfcMap &m = maps_.at(rva);
    uint32_t base = m.baseMapRva;
    if (m.baseFunctionRva) {
      if (const pe::Import *imp = code::importThunkAt(img_, a_.decoder(), m.baseFunctionRva)) {
        m.baseImport = imp->qualifiedName();
        continue;
      }
      auto r = returnedAddress(img_, a_.decoder(), m.baseFunctionRva);
      base = r ? *r : 0;
    }
    if (!base)
      continue;
    const bool known = maps_.count(base) != 0;
    MfcMap *b = addMap(base, Via::Base);   // std::map: `m` stays valid
    if (!b) {
      out_.warnings.push_back(fmt::format("MFC message map at {:#x}: its base at {:#x} is not a message map", rva, base));
      m.baseMapRva = 0;
      continue;
    }
    m.baseMapRva = base;
    if (m.baseFunctionRva && !b->getThisMessageMapRva)
      b->getThisMessageMapRva = m.baseFunctionRva;
    if (!known)
      work.push_back(base);
  }
  // A cycle in the base chains: cut at the map that closes it.
  for (auto &[rva, m] : maps_) {
    std::set<uint32_t> seen{rva};
    for (MfcMap *p = &m; p->baseMapRva; p = &maps_.at(p->baseMapRva))
      if (!seen.insert(p->baseMapRva).second) {
        out_.warnings.push_back(
            fmt::format("MFC message map at {:#x}: its base chain loops back to {:#x}; cut there", p->rva, p->baseMapRva));
        p->baseMapRva = 0;
        break;
      }
  }
}

// A map no vftable returns (a class never instantiated: CCmdTarget's) that
// derived maps name as their base: the map of the nearest class all of
// their classes derive from.
void Finder::nameBaseMaps() {
  for (auto &[rva, m] : maps_) {
    if (m.classIndex >= 0)
      continue;
    std::optional<std::set<int>> common;
    for (const auto &[drva, d] : maps_) {
      if (d.baseMapRva != rva || d.classIndex < 0)
        continue;
      std::set<int> ancestors;
      for (const cxx::BaseRef &b : model_->classes[size_t(d.classIndex)].allBases)
        if (b.classIndex >= 0 && !b.isVirtual)
          ancestors.insert(b.classIndex);
      if (!common) {
        common = std::move(ancestors);
      } else {
        std::set<int> both;
        std::set_intersection(common->begin(), common->end(), ancestors.begin(), ancestors.end(),
                              std::inserter(both, both.end()));
        common = std::move(both);
      }
    }
    if (!common || common->empty())
      continue;
    // The deepest common ancestor: the one with the most bases of its own.
    int best = *std::max_element(common->begin(), common->end(), [&](int x, int y) {
      return model_->classes[size_t(x)].allBases.size() < model_->classes[size_t(y)].allBases.size();
    });
    m.classIndex = best;
    m.className = model_->classes[size_t(best)].name;
  }
}

// CDialog(IDD, pParent), CFormView(IDD), CPropertyPage(IDD): a class with a
// message map whose constructor passes a constant template id to its base.
void Finder::mfcDialogs() {
  if (!model_)
    return;
  const unsigned idArg = img_.is64() ? 1 : 0;   // x86 thiscall: `this` in ECX, the id the first stack argument
  std::set<int> classes;
  for (const MfcMap &m : out_.mfc)
    if (m.classIndex >= 0)
      classes.insert(m.classIndex);
  for (int ci : classes) {
    const cxx::Class &c = model_->classes[size_t(ci)];
    for (uint32_t ctor : c.constructors) {
      const cxx::Structor *s = model_->structorAt(ctor);
      const code::Function *f = a_.functionAt(ctor);
      if (!s || !f)
        continue;
      // The base constructor: known as one, or (MFC in a DLL) an import
      // called on this before the class's vftable is stored.
      const uint32_t firstStore = s->vfptrStores.empty() ? UINT32_MAX : s->vfptrStores.front();
      for (const cxx::SubobjectCall &call : s->calls) {
        const bool base = call.role == cxx::SubobjectRole::BaseCtor ||
                          (call.role == cxx::SubobjectRole::Call && call.siteRva < firstStore &&
                           code::importThunkAt(img_, a_.decoder(), call.calleeRva));
        if (!base || call.thisOffset != 0)
          continue;
        std::shared_ptr<const values::Tracker> tr = a_.valueFacts(*f);
        std::optional<int64_t> id;
        tr->forEach([&](const values::Insn &in, const values::State &st) {
          if (in.rva == call.siteRva) {
            values::Value v = tr->argument(st, idArg);
            if (v.isConst())
              id = v.off;
          }
        });
        if (id && *id > 0 && *id <= 0xFFFF &&
            std::none_of(out_.dialogs.begin(), out_.dialogs.end(), [&](const FrameworkDialog &d) { return d.className == c.name; }))
          out_.dialogs.push_back({c.name, uint32_t(*id), call.siteRva});
      }
    }
  }
}

bool Finder::hasAtl() const {
  // RTTI type names of ATL's window classes, or CWndClassInfo's class-name
  // prefix (UTF-16 "ATL:").
  static const char16_t kPrefix[] = u"ATL:";
  static const char kRtti[] = "CMessageMap@ATL@@";
  for (const image::Section &sec : img_.mappedSections()) {
    if (sec.executable || sec.code)
      continue;
    std::span<const uint8_t> b = img_.bytesFromRva(sec.rva);
    auto has = [&](const void *needle, size_t n) {
      return std::search(b.begin(), b.end(), static_cast<const uint8_t *>(needle),
                         static_cast<const uint8_t *>(needle) + n) != b.end();
    };
    if (has(kPrefix, 8) || has(kRtti, sizeof kRtti - 1))
      return true;
  }
  return false;
}

void Finder::atlMaps() {
  // Slot 0 of every vftable: CMessageMap's only virtual is
  // ProcessWindowMessage, so it is slot 0 of the vftable serving that base.
  std::map<uint32_t, size_t> byRva;   // function -> index into out_.atl
  std::set<uint32_t> rejected;
  for (const cxx::Vftable &v : model_->vftables) {
    if (v.slots.empty() || v.slots[0].pure)
      continue;
    uint32_t fn = v.slots[0].functionRva;
    const code::Function *f = a_.functionAt(fn);
    if (!f || rejected.count(fn))
      continue;
    auto it = byRva.find(fn);
    if (it == byRva.end()) {
      auto m = atl_.read(*f);
      if (!m) {
        rejected.insert(fn);
        continue;
      }
      it = byRva.emplace(fn, out_.atl.size()).first;
      out_.atl.push_back(std::move(*m));
    }
    AtlMap &m = out_.atl[it->second];
    // The class that overrides the slot owns the map.
    if (m.classIndex < 0 || v.slots[0].kind != cxx::SlotKind::Inherited) {
      if (m.classIndex >= 0 && v.slots[0].kind == cxx::SlotKind::Inherited)
        continue;
      if (v.classIndex >= 0 || m.vftableRva == 0) {
        m.classIndex = v.classIndex;
        m.className = v.classIndex >= 0 ? model_->classes[size_t(v.classIndex)].name : std::string();
        m.vftableRva = v.rva;
      }
    }
  }
  // Chained maps need not have a vftable of their own in the image (a base
  // called by name): read what the forwards reach too.
  for (size_t i = 0; i < out_.atl.size(); ++i)
    for (const AtlForward &fw : std::vector<AtlForward>(out_.atl[i].forwards))
      if (!byRva.count(fw.targetRva))
        if (const code::Function *g = a_.functionAt(fw.targetRva))
          if (auto m = atl_.read(*g)) {
            byRva.emplace(fw.targetRva, out_.atl.size());
            out_.atl.push_back(std::move(*m));
          }
  for (AtlMap &m : out_.atl)
    atl_.classifyForwards(m, out_.atl);
  std::sort(out_.atl.begin(), out_.atl.end(), [](const AtlMap &x, const AtlMap &y) { return x.rva < y.rva; });
  // Where the thunks land: what a slot of an ATL class's vftable returns as
  // code (CWindowImplBaseT::GetWindowProc returns WindowProc).
  std::set<uint32_t> procs;
  for (const cxx::Vftable &v : model_->vftables)
    if (!v.slots.empty() && out_.atlAt(v.slots[0].functionRva))
      for (const cxx::Slot &sl : v.slots)
        if (auto r = returnedAddress(img_, a_.decoder(), sl.functionRva); r && img_.isExecutableRva(*r))
          procs.insert(*r);
  out_.atlWindowProcs.assign(procs.begin(), procs.end());
  out_.atlClasses = atl_.windowClasses();
  if (!out_.atl.empty())
    out_.atlHwndOffset = int(img_.pointerSize());
}

} // namespace

MessageMaps findMessageMaps(const Analysis &a) {
  if (!a.image().codeAnalysisSupported())
    return {};
  return Finder(a).run();
}

} // namespace sb::msgmaps
