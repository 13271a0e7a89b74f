#include "FlowBuilder.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/messages/Knowledge.h"
#include "switchboard/support/Quote.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace sb::messages {

const char *procKindName(ProcKind k) {
  switch (k) {
  case ProcKind::Window: return "window";
  case ProcKind::Dialog: return "dialog";
  case ProcKind::Subclass: return "subclass";
  case ProcKind::Hook: return "hook";
  case ProcKind::Callback: return "callback";
  case ProcKind::Mfc: return "mfc";
  case ProcKind::Atl: return "atl";
  }
  return "?";
}

std::string messageText(const api::ApiTable &table, const MessageId &m) {
  if (!m.registeredName.empty())
    return "registered " + cLiteral(m.registeredName);
  if (auto n = table.messageName(m.id))
    return fmt::format("{} ({:#06x})", *n, m.id);
  return fmt::format("{:#06x}", m.id);
}

MessageFlow FlowBuilder::build() {
  prefetch();
  flow_.resources = res::readResources(a_.image());
  for (const std::string &w : flow_.resources.warnings)
    flow_.warnings.push_back(w);
  registeredMessages();
  windowClasses();
  windows();
  subclasses();
  structureProcedures();
  frameworkProcedures();
  // Virtual calls that pass the message on (C++ window wrappers): their
  // targets from the session's object model, asked for when first needed.
  const cxx::ObjectModel *model = nullptr;
  std::vector<uint32_t> virtualTargets;
  // Only images with RTTI get the (whole-image) object model: C window code
  // calls through plain function pointers.
  const bool hasRtti = !cxx::findCompleteObjectLocators(a_.image()).empty();
  auto indirect = [&](uint32_t site) {
    if (!hasRtti)
      return std::vector<uint32_t>{};
    if (!model)
      model = &a_.objectModel();
    std::vector<uint32_t> out;
    // vcalls are sorted by site.
    auto it = std::lower_bound(model->vcalls.begin(), model->vcalls.end(), site,
                               [](const cxx::VirtualCall &v, uint32_t s) { return v.siteRva < s; });
    if (it != model->vcalls.end() && it->siteRva == site) {
      std::span<const uint32_t> c = model->candidatesOf(*it);
      out.assign(c.begin(), c.end());
    }
    virtualTargets.insert(virtualTargets.end(), out.begin(), out.end());
    return out;
  };
  SwitchAnalyzer sw(a_, conv_, registered_, indirect);
  for (Procedure &p : flow_.procedures)
    if (const code::Function *f = a_.functionAt(p.rva)) {
      virtualTargets.clear();
      sw.analyze(*f, paramsOf(p), p);
      defaults(*f, p);
      frameworkCases(*f, p);
      // The classes whose handler a wrapper forwards to: the owners of the
      // vftables holding the targets (overrides, not inherited slots).
      if (model)
        for (uint32_t t : virtualTargets)
          for (const cxx::Vftable &v : model->vftables)
            for (const cxx::Slot &sl : v.slots)
              if (sl.targetRva == t && sl.kind != cxx::SlotKind::Inherited && v.classIndex >= 0 &&
                  std::find(p.wrapperClasses.begin(), p.wrapperClasses.end(), model->classes[v.classIndex].name) ==
                      p.wrapperClasses.end())
                p.wrapperClasses.push_back(model->classes[v.classIndex].name);
    }
  frameworkDialogs();
  sends();
  nameCasesAndLinkSenders();
  return std::move(flow_);
}

// The joins every output shows, made once in the model: each case's name
// (a control class names its own messages) and the sends that reach it.
void FlowBuilder::nameCasesAndLinkSenders() {
  for (Procedure &p : flow_.procedures)
    for (Case &c : p.cases) {
      c.text = messageText(table_, c.message);
      // MFC's reflected messages: the parent's message + WM_REFLECT_BASE.
      if (p.kind == ProcKind::Mfc && c.message.registeredName.empty() && c.message.id > 0xBC00 && c.message.id < 0xC000)
        if (auto n = table_.messageName(c.message.id - 0xBC00))
          c.text = fmt::format("reflected {} ({:#06x})", *n, c.message.id);
      // ATL's reflected messages: OCM__BASE (0x2000) + the parent's message.
      if (p.kind == ProcKind::Atl && c.message.registeredName.empty() && c.message.id >= 0x2000 && c.message.id < 0x2400)
        if (auto n = table_.messageName(c.message.id - 0x2000); n && n->rfind("WM_", 0) == 0)
          c.text = fmt::format("OCM_{} ({:#06x})", n->substr(3), c.message.id);
      if (c.message.registeredName.empty())
        for (const std::string &cls : p.classes)
          if (const auto *m = Knowledge::builtin().controlMessage(c.message.id, cls)) {
            c.text = fmt::format("{} ({:#06x})", m->name, m->id);
            break;
          }
    }
  std::unordered_map<uint32_t, Procedure *> byRva;
  for (Procedure &p : flow_.procedures)
    byRva.emplace(p.rva, &p);
  for (const Send &s : flow_.sends) {
    if (!s.message)
      continue;
    for (uint32_t t : s.targets)
      if (auto it = byRva.find(t); it != byRva.end())
        for (Case &c : it->second->cases)
          if (c.message == *s.message)
            c.senders.push_back(s.siteRva);
  }
  for (Procedure &p : flow_.procedures)
    for (Case &c : p.cases) {
      std::sort(c.senders.begin(), c.senders.end());
      c.senders.erase(std::unique(c.senders.begin(), c.senders.end()), c.senders.end());
    }
}

void FlowBuilder::prefetch() {
  procGlobals_ = &table_ == &a_.apiTable() ? a_.procAddressGlobals() : calls::procAddressGlobals(a_, table_, a_.threads());
  std::vector<std::string> names;
  for (const char *base : {"RegisterWindowMessage", "RegisterClassEx", "RegisterClass", "SetClassLongPtr", "SetClassLong",
                           "CreateWindowEx", "DialogBoxParam", "CreateDialogParam", "DialogBoxIndirectParam",
                           "CreateDialogIndirectParam", "SetWindowLongPtr", "SetWindowLong", "FindWindow", "FindWindowEx",
                           "SendMessage", "PostMessage", "SendMessageTimeout", "SendNotifyMessage", "SendMessageCallback",
                           "PostThreadMessage", "SendDlgItemMessage", "BroadcastSystemMessage", "CallWindowProc",
                           "DefWindowProc", "DispatchMessage"})
    for (const char *suffix : {"W", "A"})
      names.push_back(std::string(base) + suffix);
  names.push_back("SetWindowSubclass");
  for (const api::ProcedureField &pf : table_.procedureFields())
    for (const char *suffix : {"", "W", "A"})
      if (std::find(names.begin(), names.end(), pf.api + suffix) == names.end())
        names.push_back(pf.api + suffix);
  names.push_back("GetDlgItem");
  names.push_back("GetParent");
  std::vector<calls::Target> targets;
  std::vector<std::string> found;
  for (const std::string &n : names)
    if (auto t = calls::resolveTarget(a_, table_, n, &procGlobals_); t && t->api) {
      targets.push_back(*t);
      found.push_back(n);
    }
  auto lists = callSitesOf(targets);
  for (size_t i = 0; i < found.size(); ++i) {
    sites_[found[i]] = std::move(lists[i]);
    targets_.emplace(found[i], targets[i]);
  }
}

const std::vector<calls::CallSite> &FlowBuilder::sitesOf(const std::string &api) const {
  static const std::vector<calls::CallSite> none;
  auto it = sites_.find(api);
  return it == sites_.end() ? none : it->second;
}

std::vector<calls::CallSite> FlowBuilder::perPath(const calls::CallSite &cs) {
  if (cs.paths.empty())
    return {cs};
  std::vector<calls::CallSite> out;
  for (const std::vector<calls::Argument> &args : cs.paths) {
    calls::CallSite one = cs;
    one.args = args;
    one.paths.clear();
    out.push_back(std::move(one));
  }
  return out;
}

std::vector<calls::ResultStore> FlowBuilder::resultStores(const std::string &api) const {
  auto it = targets_.find(api);
  if (it == targets_.end() || sitesOf(api).empty())
    return {};
  return calls::callResultStores(a_, table_, it->second, a_.threads());
}

std::unordered_map<uint32_t, uint32_t> FlowBuilder::resultGlobals(const std::string &api) const {
  std::unordered_map<uint32_t, uint32_t> out;
  for (const calls::ResultStore &r : resultStores(api))
    if (r.address.isImage())
      out.emplace(r.address.base + uint32_t(r.address.off), r.siteRva);
  return out;
}

const calls::Argument *FlowBuilder::arg(const calls::CallSite &cs, std::string_view name) {
  for (const calls::Argument &x : cs.args)
    if (x.name == name)
      return &x;
  return nullptr;
}

Procedure &FlowBuilder::procedure(uint32_t rva, ProcKind kind) {
  for (Procedure &p : flow_.procedures)
    if (p.rva == rva)
      return p;
  Procedure p;
  p.rva = rva;
  p.kind = kind;
  flow_.procedures.push_back(p);
  return flow_.procedures.back();
}

std::optional<uint32_t> FlowBuilder::codeAddress(const calls::Argument *x) {
  if (x && x->kind == calls::ArgKind::ImageAddress && x->value)
    return uint32_t(*x->value);
  return std::nullopt;
}

const Case *caseFor(const Procedure &p, const MessageId &m) {
  for (const Case &c : p.cases)
    if (c.message == m && c.section == 0)
      return &c;
  return nullptr;
}

bool isObjectTarget(const Send &s) {
  return s.targetOrigin == "this" || s.targetOrigin == "member" || s.targetOrigin == "global object";
}

uint32_t handlerFor(const Case &c, const Send &s) {
  if (s.commandId)
    for (const auto &[id, handler] : c.commands)
      if (id == *s.commandId)
        return handler;
  return c.handlerFunction ? c.handlerFunction : c.handlerRva;
}

MessageFlow analyzeMessages(const Analysis &a, const api::ApiTable &table) {
  if (!a.image().codeAnalysisSupported())
    return {};
  return FlowBuilder(a, table).build();
}

} // namespace sb::messages
