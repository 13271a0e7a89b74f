// The names recognizers recover for addresses no symbol names. Each is
// formed from the model's typed facts, never from another output's text.
#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"
#include "switchboard/calls/Callbacks.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"
#include "switchboard/names/Naming.h"

#include <fmt/format.h>
#include <map>
#include <unordered_set>

namespace sb::names {

void addObjectModelNames(const Analysis &a, NameService &n) {
  const cxx::ObjectModel &m = a.objectModel();
  std::unordered_set<uint32_t> structors;
  for (const cxx::Structor &st : m.structors)
    if (auto it = m.derivedNames.find(st.rva); it != m.derivedNames.end()) {
      n.add(st.rva, {it->second, "", Source::Structor});
      structors.insert(st.rva);
    }
  for (const auto &[rva, name] : m.derivedNames)
    if (!structors.count(rva))
      n.add(rva, {name, "", Source::VirtualMethod});
  for (const cxx::Vftable &v : m.vftables) {
    if (v.classIndex < 0 || size_t(v.classIndex) >= m.classes.size())
      continue;
    const std::string &cls = m.classes[size_t(v.classIndex)].name;
    n.add(v.rva, {v.forBase.empty() ? cls + "::`vftable'" : fmt::format("{}::`vftable'{{for `{}'}}", cls, v.forBase),
                  "", Source::Vftable});
    if (v.colRva)
      n.add(v.colRva, {v.forBase.empty() ? cls + "::`RTTI Complete Object Locator'"
                                         : fmt::format("{}::`RTTI Complete Object Locator'{{for `{}'}}", cls, v.forBase),
                       "", Source::Rtti});
  }
  for (const cxx::Class &c : m.classes) {
    if (c.typeDescriptorRva)
      n.add(c.typeDescriptorRva, {c.name + " `RTTI Type Descriptor'", "", Source::Rtti});
    if (c.hierarchyRva)
      n.add(c.hierarchyRva, {c.name + "::`RTTI Class Hierarchy Descriptor'", "", Source::Rtti});
  }
}

namespace {
// "WM_PAINT", "WM_USER_2", "SwitchboardRefresh", "msg_8001": the part of a
// handler label after its procedure.
std::string messageLabel(const api::ApiTable &table, const messages::MessageId &m) {
  if (!m.registeredName.empty())
    return identifierPart(m.registeredName);
  if (auto name = table.messageName(m.id))
    return identifierPart(*name);
  return fmt::format("msg_{:04X}", m.id);
}

std::string procedureName(const messages::Procedure &p, const messages::MessageFlow &mf, size_t ordinal) {
  switch (p.kind) {
  case messages::ProcKind::Window:
    return p.classes.empty() ? fmt::format("WndProc_{}", ordinal) : "WndProc_" + identifierPart(p.classes.front());
  case messages::ProcKind::Dialog:
    for (const messages::Window &w : mf.windows)
      if (w.procRva == p.rva && !w.dialogTemplate.empty())
        return "DlgProc_" + identifierPart(w.dialogTemplate);
    return fmt::format("DlgProc_{}", ordinal);
  case messages::ProcKind::Subclass: return fmt::format("SubclassProc_{}", ordinal);
  case messages::ProcKind::Hook: return fmt::format("HookProc_{}", ordinal);
  case messages::ProcKind::Callback: return fmt::format("CallbackProc_{}", ordinal);
  case messages::ProcKind::Mfc:
    return p.cxxClass.empty() ? fmt::format("messageMap_{}", ordinal) : p.cxxClass + "::messageMap";
  case messages::ProcKind::Atl:
    return p.cxxClass.empty() ? fmt::format("ProcessWindowMessage_{}", ordinal) : p.cxxClass + "::ProcessWindowMessage";
  }
  return fmt::format("Proc_{}", ordinal);
}

Source procedureSource(messages::ProcKind k) {
  switch (k) {
  case messages::ProcKind::Window: return Source::WindowProc;
  case messages::ProcKind::Dialog: return Source::DialogProc;
  case messages::ProcKind::Subclass: return Source::SubclassProc;
  case messages::ProcKind::Hook: return Source::HookProc;
  case messages::ProcKind::Callback: return Source::Callback;   // a task-dialog callback: an API's code pointer
  case messages::ProcKind::Mfc:
  case messages::ProcKind::Atl: return Source::MessageMap;
  }
  return Source::Heuristic;
}
} // namespace

void addMessageNames(const Analysis &a, NameService &n) {
  const messages::MessageFlow &mf = a.messageFlow();
  std::map<messages::ProcKind, size_t> ordinals;
  for (const messages::Procedure &p : mf.procedures) {
    size_t ordinal = ordinals[p.kind]++;
    n.add(p.rva, {procedureName(p, mf, ordinal), "", procedureSource(p.kind)});
    // Handlers are labels inside the procedure, named after whatever name
    // the procedure ended up with (a symbol wins).
    std::string proc = n.textAt(p.rva).value_or(procedureName(p, mf, ordinal));
    if (p.kind == messages::ProcKind::Mfc)
      continue;   // its handlers are functions, named with the map (addMessageMapNames)
    for (const messages::Case &c : p.cases)
      if (c.handlerRva && c.handlerRva != p.rva && !c.chainedFrom) {
        Name label{proc + "::" + messageLabel(a.apiTable(), c.message), "", Source::MessageHandler};
        label.label = true;
        n.add(c.handlerRva, std::move(label));
      }
  }
}

namespace {
// A handler's member name: what its ON_WM_* macro binds ("OnPaint"), else
// from what the entry dispatches on ("OnCommand_100", "OnNotify_FFFFFFFE_1001").
std::string mfcHandlerMember(const api::ApiTable &table, const msgmaps::MfcEntry &e) {
  using K = msgmaps::MfcEntryKind;
  if (!e.memberName.empty())
    return e.memberName;
  auto range = [&] { return e.lastId != e.id ? fmt::format("{}_{}", e.id, e.lastId) : fmt::format("{}", e.id); };
  switch (e.kind) {
  case K::Command: return "OnCommand_" + range();
  case K::UpdateCommandUi: return "OnUpdateCommandUI_" + range();
  case K::Control: return fmt::format("OnControl_{:X}_{}", e.code, range());
  case K::Notify: return fmt::format("OnNotify_{:X}_{}", e.code, range());
  case K::ControlReflect: return fmt::format("OnControlReflect_{:X}", e.code);
  case K::NotifyReflect: return fmt::format("OnNotifyReflect_{:X}", e.code);
  case K::Registered: return fmt::format("OnRegisteredMessage_{:X}", e.registeredGlobal);
  case K::Message:
  case K::Reflect: break;
  }
  if (auto name = table.messageName(e.message))
    return "On_" + identifierPart(*name);
  return fmt::format("On_msg_{:04X}", e.message);
}
} // namespace

void addMessageMapNames(const Analysis &a, NameService &n) {
  const msgmaps::MessageMaps &mm = a.messageMaps();
  size_t ordinal = 0;
  for (const msgmaps::MfcMap &m : mm.mfc) {
    // `<map>::WM_PAINT` style when the class is not known.
    const std::string owner = m.className.empty() ? fmt::format("messageMap_{}", ordinal) : m.className;
    ++ordinal;
    n.add(m.entriesRva, {owner + "::_messageEntries", "", Source::MessageMap});
    if (m.getMessageMapRva)
      n.add(m.getMessageMapRva, {owner + "::GetMessageMap", "", Source::MessageMap});
    if (m.getThisMessageMapRva)
      n.add(m.getThisMessageMapRva, {owner + "::GetThisMessageMap", "", Source::MessageMap});
    for (const msgmaps::MfcEntry &e : m.entries)
      n.add(e.handlerRva, {owner + "::" + mfcHandlerMember(a.apiTable(), e), "", Source::MessageMap});
  }
  ordinal = 0;
  for (uint32_t proc : mm.atlWindowProcs)
    n.add(proc, {fmt::format("ATL::WindowProc_{}", ordinal++), "", Source::MessageMap});
  ordinal = 0;
  for (const msgmaps::AtlWindowClass &c : mm.atlClasses) {
    n.add(c.wndClassRva, {"CWndClassInfo_" + identifierPart(c.name), "", Source::MessageMap});
    n.add(c.startWindowProcRva, {fmt::format("ATL::StartWindowProc_{}", ordinal++), "", Source::MessageMap});
  }
}

void addFuncletNames(const Analysis &a, NameService &n) {
  for (const eh::FunctionEh &fe : a.ehModel().functions) {
    // The EH model names funclets after the parent's discovery name
    // (sub_1290$catch$0); the parent may have a better name by now
    // (a symbol, a recovered structor or procedure name): use it.
    uint32_t parent = fe.parentRva ? fe.parentRva : fe.rva;
    const code::Function *pf = a.functionAt(parent);
    const Name *pn = n.at(parent);
    auto named = [&](const std::string &name) {
      if (!pf || !pn || pn->label || name.size() <= pf->name.size() || name.compare(0, pf->name.size(), pf->name) != 0 ||
          name[pf->name.size()] != '$')
        return name;
      return pn->text + name.substr(pf->name.size());
    };
    for (const eh::TryInfo &t : fe.tries)
      for (const eh::CatchInfo &c : t.catches)
        if (c.handlerRva && !c.name.empty())
          n.add(c.handlerRva, {named(c.name), "", Source::Funclet});
    for (const eh::UnwindAction &u : fe.unwind)
      if (u.actionRva && !u.name.empty())
        n.add(u.actionRva, {named(u.name), "", Source::Funclet});
  }
}

namespace {
// "ThreadProc" for CreateThread's lpStartAddress, "TimerFunc" for SetTimer's
// lpTimerFunc: what the code pointer is, from the API's own words.
std::string callbackBase(const calls::CallbackRegistration &c) {
  if (c.api.find("Thread") != std::string::npos && c.api.rfind("Enum", 0) != 0)
    return "ThreadProc";
  std::string_view p = c.param;
  for (std::string_view prefix : {"lpfn", "pfn", "lp", "fn"})
    if (p.size() > prefix.size() && p.substr(0, prefix.size()) == prefix && std::isupper((unsigned char)p[prefix.size()])) {
      p.remove_prefix(prefix.size());
      break;
    }
  std::string base(p);
  // A bare prefix ("lpfn" of SetWindowsHookEx) says nothing: name it after
  // the API, without its verb and its Ex/A/W suffix: WindowsHookProc.
  for (std::string_view prefix : {"lpfn", "pfn", "lp", "fn"})
    if (base == prefix)
      base.clear();
  if (base.empty()) {
    std::string_view api = c.api;
    for (std::string_view verb : {"Set", "Create", "Register", "Add", "Install"})
      if (api.size() > verb.size() && api.substr(0, verb.size()) == verb &&
          std::isupper((unsigned char)api[verb.size()])) {
        api.remove_prefix(verb.size());
        break;
      }
    for (std::string_view suffix : {"ExW", "ExA", "Ex", "W", "A"})
      if (api.size() > suffix.size() && api.substr(api.size() - suffix.size()) == suffix) {
        api.remove_suffix(suffix.size());
        break;
      }
    base = api.empty() ? std::string() : std::string(api) + "Proc";
  }
  if (!base.empty())
    base[0] = char(std::toupper((unsigned char)base[0]));
  return base.empty() ? "Callback" : identifierPart(base);
}
} // namespace

void addCallbackNames(const Analysis &a, NameService &n) {
  std::map<std::string, size_t> ordinals;
  std::unordered_set<uint32_t> named;
  for (const calls::CallbackRegistration &c : a.callbacks()) {
    if (!named.insert(c.targetRva).second)
      continue;
    std::string base = callbackBase(c);
    n.add(c.targetRva, {fmt::format("{}_{}", base, ordinals[base]++), "", Source::Callback});
  }
}

} // namespace sb::names
