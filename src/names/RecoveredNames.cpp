// The names recognizers recover for addresses no symbol names. Each is
// formed from the model's typed facts, never from another output's text.
#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"
#include "switchboard/calls/Callbacks.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/messages/MessageFlow.h"
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
    for (const messages::Case &c : p.cases)
      if (c.handlerRva && c.handlerRva != p.rva) {
        Name label{proc + "::" + messageLabel(a.apiTable(), c.message), "", Source::MessageHandler};
        label.label = true;
        n.add(c.handlerRva, std::move(label));
      }
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
