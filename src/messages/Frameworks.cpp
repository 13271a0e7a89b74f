// Framework message maps as procedures of the flow: an MFC map (its own
// entries, then its base maps' in chain order: the first entry that
// matches wins, as CWnd::OnWndMsg searches) and an ATL ProcessWindowMessage
// (its compare chains, read like a window procedure's switch, with the
// maps it chains to merged after its own cases). A send reaches one when
// its window is a framework object's m_hWnd: the sending method's own
// window (this), a member window of its class, or a global object.
#include "FlowBuilder.h"

#include "msgmaps/AtlMaps.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/msgmaps/MessageMaps.h"

#include <algorithm>
#include <deque>
#include <set>

namespace sb::messages {

namespace {
constexpr uint32_t kWmCommand = 0x0111, kWmNotify = 0x004E;
constexpr uint32_t kMaxRangeIds = 512;   // ids a range entry adds to the flow's case

// A notification code as NMHDR.code holds it: MFC stores (WORD)(int)code.
uint32_t notifyCode(uint32_t code) { return code >= 0x8000 && code <= 0xFFFF ? code | 0xFFFF0000u : code; }

Case &caseOf(Procedure &p, const MessageId &m, uint32_t handler, uint32_t chainedFrom) {
  for (Case &c : p.cases)
    if (c.message == m)
      return c;
  Case c;
  c.message = m;
  c.handlerRva = handler;
  c.chainedFrom = chainedFrom;
  p.cases.push_back(std::move(c));
  return p.cases.back();
}

template <typename Pairs>
bool hasKey(const Pairs &v, uint32_t key) {
  return std::any_of(v.begin(), v.end(), [&](const auto &x) { return x.first == key; });
}
} // namespace

MessageParams FlowBuilder::paramsOf(const Procedure &p) const {
  if (p.kind != ProcKind::Atl)
    return {};
  msgmaps::AtlParams ap = msgmaps::AtlParams::of(a_.image().is64());
  MessageParams mp;
  mp.msg = ap.msg;
  mp.wParam = ap.wParam;
  mp.lParam = ap.lParam;
  mp.hwnd = ap.hwnd;
  return mp;
}

// One MFC entry into the flow's case of its message: ids and codes go to
// the WM_COMMAND / WM_NOTIFY case (an id a derived map already handles
// stays the derived map's).
void FlowBuilder::addMfcEntry(Procedure &p, const msgmaps::MfcEntry &e, uint32_t chainedFrom) {
  using K = msgmaps::MfcEntryKind;
  auto ids = [&](auto &&add) {
    for (uint32_t id = e.id; id <= e.lastId && id - e.id < kMaxRangeIds; ++id)
      add(id);
  };
  switch (e.kind) {
  case K::UpdateCommandUi: return;   // asked at idle time (CN_UPDATE_COMMAND_UI), not by a message
  case K::Registered: {
    auto it = registered_.find(e.registeredGlobal);
    if (it != registered_.end())
      caseOf(p, {0, it->second}, e.handlerRva, chainedFrom);
    return;
  }
  case K::Message:
  case K::Reflect: caseOf(p, {e.message, ""}, e.handlerRva, chainedFrom); return;
  case K::Command:
  case K::Control:
  case K::ControlReflect: {
    Case &c = caseOf(p, {e.kind == K::ControlReflect ? e.message : kWmCommand, ""}, e.handlerRva, chainedFrom);
    if (e.kind == K::ControlReflect) {
      if (!hasKey(c.commandCodes, e.code))
        c.commandCodes.emplace_back(e.code, e.handlerRva);
      return;
    }
    ids([&](uint32_t id) {
      if (!hasKey(c.commands, id))
        c.commands.emplace_back(id, e.handlerRva);
    });
    if (e.kind == K::Control && !hasKey(c.commandCodes, e.code))
      c.commandCodes.emplace_back(e.code, e.handlerRva);
    return;
  }
  case K::Notify:
  case K::NotifyReflect: {
    Case &c = caseOf(p, {e.kind == K::NotifyReflect ? e.message : kWmNotify, ""}, e.handlerRva, chainedFrom);
    if (!hasKey(c.notifies, notifyCode(e.code)))
      c.notifies.emplace_back(notifyCode(e.code), e.handlerRva);
    if (e.kind == K::Notify)
      ids([&](uint32_t id) {
        if (!hasKey(c.notifyFrom, id))
          c.notifyFrom.emplace_back(id, e.handlerRva);
      });
    return;
  }
  }
}

void FlowBuilder::frameworkProcedures() {
  // ActiveX hosts: CAxWindow's class (AtlAxWin140, AtlAxWinLic140, ...
  // registered by AtlAxWinInit) and the windows created with it.
  auto axHost = [](const std::string &cls) { return cls.rfind("AtlAxWin", 0) == 0; };
  for (WindowClass &c : flow_.classes)
    c.activexHost = axHost(c.name);
  for (Window &w : flow_.windows)
    w.activexHost = axHost(w.className);
  const msgmaps::MessageMaps &maps = a_.messageMaps();
  maps_ = &maps;
  for (const msgmaps::MfcMap &m : maps.mfc) {
    Procedure &p = procedure(m.rva, ProcKind::Mfc);
    p.cxxClass = m.className;
    // Its own entries, then each base map's (the model cut the chain's
    // cycles; the bound holds for any chain).
    uint32_t chainedFrom = 0;
    size_t steps = 0;
    for (const msgmaps::MfcMap *at = &m; at && steps++ <= maps.mfc.size();
         at = at->baseMapRva ? maps.mfcAt(at->baseMapRva) : nullptr) {
      for (const msgmaps::MfcEntry &e : at->entries)
        addMfcEntry(p, e, chainedFrom);
      chainedFrom = at->baseMapRva;
    }
    if (!m.className.empty())
      frameworkProcOfClass_.emplace(m.className, m.rva);
  }
  for (const msgmaps::AtlMap &m : maps.atl) {
    Procedure &p = procedure(m.rva, ProcKind::Atl);
    p.cxxClass = m.className;
    if (!m.className.empty())
      frameworkProcOfClass_.emplace(m.className, m.rva);
  }
  frameworkMethods();
}

// The functions that are methods of a framework class (their `this` is an
// object of it): the handlers of its map, ProcessWindowMessage and what its
// cases call, and the slots its own vftables override or add.
void FlowBuilder::frameworkMethods() {
  if (frameworkProcOfClass_.empty())
    return;
  const cxx::ObjectModel &model = a_.objectModel();
  for (const msgmaps::MfcMap &m : maps_->mfc)
    if (!m.className.empty()) {
      for (const msgmaps::MfcEntry &e : m.entries)
        methodClass_.emplace(e.handlerRva, m.className);
      if (m.getMessageMapRva)
        methodClass_.emplace(m.getMessageMapRva, m.className);
    }
  for (const msgmaps::AtlMap &m : maps_->atl)
    if (!m.className.empty())
      methodClass_.emplace(m.rva, m.className);
  for (const auto &[name, proc] : frameworkProcOfClass_) {
    int ci = model.findClass(name);
    if (ci < 0)
      continue;
    for (int vi : model.classes[size_t(ci)].vftables)
      for (const cxx::Slot &sl : model.vftables[size_t(vi)].slots)
        if (sl.kind != cxx::SlotKind::Inherited && !sl.pure)
          methodClass_.emplace(sl.functionRva, name);
  }
  // Global objects of framework classes: what their dynamic initializers
  // construct, and the objects whose constructors are inlined (the most
  // derived class that stores its vftable there).
  auto derives = [&](int d, int b) {
    if (d == b)
      return true;
    for (const cxx::BaseRef &r : model.classes[size_t(d)].allBases)
      if (r.classIndex == b || r.name == model.classes[size_t(b)].name)
        return true;
    return false;
  };
  std::map<uint32_t, int> objectClass;
  auto object = [&](uint32_t rva, int ci) {
    auto [it, fresh] = objectClass.emplace(rva, ci);
    if (!fresh && derives(ci, it->second))
      it->second = ci;
  };
  for (const cxx::StaticInitializer &si : model.initializers)
    if (si.objectRva && si.classIndex >= 0)
      object(si.objectRva, si.classIndex);
  for (size_t ci = 0; ci < model.classes.size(); ++ci)
    for (const cxx::InlinedStructor &is : model.classes[ci].inlined)
      if (is.globalRva && is.objectOffset == 0)
        object(is.globalRva, int(ci));
  for (const auto &[rva, ci] : objectClass)
    if (frameworkProcOfClass_.count(model.classes[size_t(ci)].name))
      objectClassAt_.emplace(rva, model.classes[size_t(ci)].name);
  memberWindows(model);
}

// The member window objects of a framework class: the members its
// constructor constructs (by call), and, where the constructor is inlined,
// the framework objects whose vftables are stored into the same new or
// global object at an offset past the class's own.
void FlowBuilder::memberWindows(const cxx::ObjectModel &model) {
  for (const auto &[name, proc] : frameworkProcOfClass_) {
    int ci = model.findClass(name);
    if (ci < 0)
      continue;
    const cxx::Class &c = model.classes[size_t(ci)];
    auto add = [&](int64_t offset, int memberClass) {
      const std::string &member = model.classes[size_t(memberClass)].name;
      if (frameworkProcOfClass_.count(member) && member != name)
        members_[name].emplace(offset, member);
    };
    for (const cxx::Field &fd : c.fields)
      if (fd.memberClass >= 0)
        add(fd.offset, fd.memberClass);
    std::set<uint32_t> ownRvas, primary;   // the class's vftables; the one at offset 0
    for (int vi : c.vftables) {
      ownRvas.insert(model.vftables[size_t(vi)].rva);
      if (model.vftables[size_t(vi)].subobjectOffset == 0)
        primary.insert(model.vftables[size_t(vi)].rva);
    }
    // A local object's neighbour in the frame reads as a member too; but a
    // method only reaches this + offset inside its own object, so a
    // neighbour past the object's end is never asked for.
    for (const cxx::InlinedStructor &is : c.inlined) {
      if ((!is.resultSite && !is.globalRva && !is.onStack) || !primary.count(is.vftableRva))
        continue;
      for (size_t mi = 0; mi < model.classes.size(); ++mi)
        for (const cxx::InlinedStructor &m : model.classes[mi].inlined)
          if (m.functionRva == is.functionRva && m.resultSite == is.resultSite && m.globalRva == is.globalRva &&
              m.onStack == is.onStack && m.objectOffset > is.objectOffset && !ownRvas.count(m.vftableRva))
            add(m.objectOffset - is.objectOffset, int(mi));
    }
  }
}

// After the switch analysis of an ATL map: each case's ALT_MSG_MAP section
// (the section entry whose code reaches its handler first), the map that
// handles it when a chained one does, and the handlers' callees as the
// class's methods.
void FlowBuilder::frameworkCases(const code::Function &f, Procedure &p) {
  const msgmaps::AtlMap *m = maps_ ? maps_->atlAt(p.rva) : nullptr;
  if (!m)
    return;
  const std::unordered_map<uint32_t, uint32_t> sectionOfBlock = msgmaps::sectionOfBlocks(f, m->sections);
  // REFLECT_NOTIFICATIONS sends the message on to the control it concerns
  // (another window, whose own map handles it), DEFAULT_REFLECTION_HANDLER
  // returns reflected ones to DefWindowProc: what their helpers test is not
  // this map's. The map's forwards say it reflects.
  std::set<uint32_t> reflection;
  for (const msgmaps::AtlForward &fw : m->forwards)
    if (fw.kind != msgmaps::AtlForwardKind::Chain && fw.targetRva)
      reflection.insert(fw.targetRva);
  auto inReflection = [&](uint32_t rva) {
    const code::Function *g = a_.functionContaining(rva);
    return g && reflection.count(g->rva);
  };
  std::erase_if(p.cases, [&](const Case &c) { return inReflection(c.handlerRva); });
  for (Case &c : p.cases)
    std::erase_if(c.commands, [&](const auto &x) { return inReflection(x.second); });
  std::erase_if(p.forwardedTo, [&](uint32_t t) { return reflection.count(t) != 0; });
  for (Case &c : p.cases) {
    if (f.contains(c.handlerRva)) {
      for (const code::BasicBlock &b : f.blocks)
        if (c.handlerRva >= b.rva && c.handlerRva < b.end)
          if (auto it = sectionOfBlock.find(b.rva); it != sectionOfBlock.end())
            c.section = it->second;
    } else if (const code::Function *g = a_.functionContaining(c.handlerRva)) {
      c.chainedFrom = g->rva;
    }
    std::vector<uint32_t> functions;
    for (uint32_t callee : c.calls)
      if (a_.functionAt(callee))
        functions.push_back(callee);
    if (functions.size() == 1 && c.commands.empty() && c.commandCodes.empty() && c.notifies.empty() && c.notifyFrom.empty())
      c.handlerFunction = functions.front();
    if (!p.cxxClass.empty() && c.section == 0 && !c.chainedFrom)
      for (uint32_t callee : functions)
        methodClass_.emplace(callee, p.cxxClass);
  }
}

// The framework class of the window a send's handle is the m_hWnd of:
// [this + m_hWnd] in a method of the class, [this + member + m_hWnd] for a
// member window object, [global object + m_hWnd].
bool FlowBuilder::objectTarget(const calls::CallSite &cs, const Value &v, Send &s) {
  if (!maps_ || frameworkProcOfClass_.empty() || v.kind != Kind::Load || v.off != 0)
    return false;
  auto hwndOffset = [&](const std::string &cls) -> int64_t {
    auto it = frameworkProcOfClass_.find(cls);
    bool atl = it != frameworkProcOfClass_.end() && maps_->atlAt(it->second);
    return atl ? maps_->atlHwndOffset : maps_->mfcHwndOffset;
  };
  const uint32_t self = a_.image().is64() ? 0 : values::kParamEcx;
  if (v.addrKind == Kind::Param && v.base == self) {
    auto it = methodClass_.find(cs.functionRva);
    if (it == methodClass_.end())
      return false;
    if (v.addrOff == hwndOffset(it->second)) {
      s.targetClass = it->second;
      s.targetOrigin = "this";
      return true;
    }
    if (auto m = members_.find(it->second); m != members_.end())
      for (const auto &[offset, member] : m->second)
        if (v.addrOff == offset + hwndOffset(member)) {
          s.targetClass = member;
          s.targetOrigin = "member";
          return true;
        }
    return false;
  }
  if (v.addrKind == Kind::Image) {
    const int64_t at = int64_t(v.base) + v.addrOff;
    for (const auto &[object, cls] : objectClassAt_)
      if (at == int64_t(object) + hwndOffset(cls)) {
        s.targetClass = cls;
        s.targetOrigin = "global object";
        return true;
      }
  }
  return false;
}

// A send to a framework object's window: its class's map, and the maps of
// classes derived from it (the object may be one of them: then not exact).
bool FlowBuilder::linkToObject(Send &s) {
  if (!isObjectTarget(s))
    return false;
  auto own = frameworkProcOfClass_.find(s.targetClass);
  if (own == frameworkProcOfClass_.end())
    return false;
  s.targets.push_back(own->second);
  s.exact = true;
  const cxx::ObjectModel &model = a_.objectModel();
  int ci = model.findClass(s.targetClass);
  std::deque<int> work;
  if (ci >= 0)
    work.assign(model.classes[size_t(ci)].derived.begin(), model.classes[size_t(ci)].derived.end());
  std::set<int> seen;
  while (!work.empty() && seen.size() < 256) {
    int d = work.front();
    work.pop_front();
    if (!seen.insert(d).second)
      continue;
    const cxx::Class &dc = model.classes[size_t(d)];
    if (auto it = frameworkProcOfClass_.find(dc.name); it != frameworkProcOfClass_.end()) {
      s.targets.push_back(it->second);
      s.exact = false;
    }
    work.insert(work.end(), dc.derived.begin(), dc.derived.end());
  }
  return true;
}

// A dialog an ATL CDialogImpl runs: the DialogBox / CreateDialog call is in
// a method of the class, or in a function that builds an object of it, or
// in one (DoModal) that only such functions call.
void FlowBuilder::frameworkDialogs() {
  if (frameworkProcOfClass_.empty())
    return;
  const cxx::ObjectModel &model = a_.objectModel();
  std::unordered_map<uint32_t, std::set<std::string>> builtIn;   // function -> framework classes built inline there
  for (const auto &[name, proc] : frameworkProcOfClass_)
    if (int ci = model.findClass(name); ci >= 0)
      for (const cxx::InlinedStructor &is : model.classes[size_t(ci)].inlined)
        builtIn[is.functionRva].insert(name);
  // The object a function builds is the dialog it shows, rather than the
  // `this` of the method it is (a handler that runs an about box).
  auto classIn = [&](uint32_t fn) -> std::string {
    if (auto it = builtIn.find(fn); it != builtIn.end())
      return it->second.size() == 1 ? *it->second.begin() : std::string();
    auto it = methodClass_.find(fn);
    return it != methodClass_.end() ? it->second : std::string();
  };
  for (Window &w : flow_.windows) {
    if (w.dialogTemplate.empty() || !w.cxxClass.empty())
      continue;
    const code::Function *f = a_.functionContaining(w.siteRva);
    if (!f)
      continue;
    w.cxxClass = classIn(f->rva);
    if (!w.cxxClass.empty())
      continue;
    std::set<std::string> callers;
    for (const calls::IndexedSite *site : a_.callIndex().callersOf(f->rva))
      callers.insert(classIn(site->functionRva));
    if (callers.size() == 1)
      w.cxxClass = *callers.begin();
  }
}

} // namespace sb::messages
