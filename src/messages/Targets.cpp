// Where messages are sent and who receives them: each send site's message
// and target window, the target's class (from a global, a structure field,
// GetDlgItem, FindWindow, GetParent, the procedure's own window or what its
// callers pass), and the edges to the procedures that receive it.
#include "FlowBuilder.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>

namespace sb::messages {

void FlowBuilder::handleClasses() {
  for (const Window &w : flow_.windows) {
    if (w.handleGlobal && !w.className.empty())
      classOfGlobal_[w.handleGlobal] = w.className;
    classOfSite_[w.siteRva] = w.className;
    if (helperSites_.count(w.siteRva))
      originOfSite_[w.siteRva] = "helper";
  }
  // GetDlgItem(dlg, id): the control's class in the dialog templates.
  for (const calls::CallSite &cs : sitesOf("GetDlgItem"))
    if (const calls::Argument *id = arg(cs, "nIDDlgItem"); id && id->kind == calls::ArgKind::Constant && id->value)
      if (std::string c = controlClass(uint32_t(*id->value)); !c.empty()) {
        classOfSite_[cs.siteRva] = c;
        originOfSite_[cs.siteRva] = "GetDlgItem";
      }
  for (const char *api : {"FindWindowW", "FindWindowA", "FindWindowExW", "FindWindowExA"})
    for (const calls::CallSite &cs : sitesOf(api)) {
      const calls::Argument *c = arg(cs, "lpClassName") ? arg(cs, "lpClassName") : arg(cs, "lpszClass");
      if (c && c->str) {
        classOfSite_[cs.siteRva] = *c->str;
        originOfSite_[cs.siteRva] = "FindWindow";
      }
    }
  parentClasses();
  for (const calls::CallSite &cs : sitesOf("GetParent")) {
    std::set<std::string> parents = parentsOfProcedureWindow(cs);
    if (parents.size() == 1) {
      classOfSite_[cs.siteRva] = *parents.begin();
      originOfSite_[cs.siteRva] = "parent";
    } else if (parents.size() > 1) {
      parentsOfSite_[cs.siteRva] = std::move(parents);   // a window with parents of several classes
    }
  }
  for (const auto &[g, site] : resultGlobals("GetDlgItem"))
    if (auto it = classOfSite_.find(site); it != classOfSite_.end() && !it->second.empty())
      classOfGlobal_[g] = it->second;
}

std::string FlowBuilder::controlClass(uint32_t id) const {
  std::set<std::string> found;
  for (const res::Dialog &d : flow_.resources.dialogs)
    for (const res::DialogControl &c : d.controls)
      if (c.id == id)
        found.insert(Knowledge::builtin().canonicalClass(c.className));
  return found.size() == 1 ? *found.begin() : std::string();
}

std::string FlowBuilder::globalClass(const Value &handle) const {
  if (handle.kind != Kind::Load || handle.addrKind != Kind::Image)
    return {};
  auto it = classOfGlobal_.find(handle.base + uint32_t(handle.addrOff));
  return it == classOfGlobal_.end() ? std::string() : it->second;
}

std::string FlowBuilder::siteClass(const Value &handle) const {
  if (handle.kind != Kind::Return)
    return {};
  auto it = classOfSite_.find(handle.site);
  return it == classOfSite_.end() ? std::string() : it->second;
}

void FlowBuilder::nameByClass(Send &s) {
  if (s.message && s.message->registeredName.empty() && !s.targetClass.empty())
    if (const MessageInfo *m = Knowledge::builtin().controlMessage(s.message->id, s.targetClass))
      s.messageText = fmt::format("{} ({:#06x})", m->name, m->id);
}

// The window a send's handle names: its class and how that is known, or a
// parameter left for parameterTargets.
void FlowBuilder::sends() {
  handleClasses();
  std::vector<PendingSend> pending;
  for (const char *base : {"SendMessage", "PostMessage", "SendMessageTimeout", "SendNotifyMessage",
                           "SendMessageCallback", "PostThreadMessage", "SendDlgItemMessage", "BroadcastSystemMessage",
                           "DispatchMessage"})
    for (const char *suffix : {"W", "A"}) {
      std::string api = std::string(base) + suffix;
      for (const calls::CallSite &merged : sitesOf(api))
        for (const calls::CallSite &cs : perPath(merged)) {
          Send s = sendAt(cs, api);
          std::optional<uint32_t> param = classifyTarget(cs, api, s);
          nameByClass(s);
          link(s);
          const bool mergePaths = merged.paths.size() > 1;
          size_t at = addSend(std::move(s), mergePaths);
          // A send paths merged into may have its caller's parameter already.
          if (param && !(mergePaths && std::any_of(pending.begin(), pending.end(), [&](const PendingSend &p) {
                return p.send == at && p.param == *param;
              })))
            pending.push_back({at, *param});
        }
    }
  parameterTargets(pending);
  std::sort(flow_.sends.begin(), flow_.sends.end(), [](const Send &x, const Send &y) { return x.siteRva < y.siteRva; });
}

// The class of the window a send's handle names, and how that is known
// (on s); the sending function's parameter it is when its callers must
// tell (parameterTargets).
std::optional<uint32_t> FlowBuilder::classifyTarget(const calls::CallSite &cs, const std::string &api, Send &s) {
  // SendDlgItemMessage goes to the item, never to the dialog its hDlg names.
  const calls::Argument *hwnd = arg(cs, "hWnd") ? arg(cs, "hWnd") : arg(cs, "hDlg");
  if (!hwnd || arg(cs, "nIDDlgItem"))
    return std::nullopt;
  const Value &v = hwnd->raw;
  if (objectTarget(cs, v, s)) {
    // the m_hWnd of a framework window object
  } else if (std::string c = globalClass(v); !c.empty()) {
    s.targetClass = c;
    s.targetOrigin = "global";
  } else if (v.kind == Kind::Load && v.off == 0 && v.addrKind != Kind::Unknown && v.addrKind != Kind::Image &&
             v.addrKind != Kind::Stack) {
    s.targetClass = fieldClass(uint32_t(v.addrOff), cs.functionRva, v.address().withoutOffset());
    s.targetOrigin = s.targetClass.empty() ? "" : "field";
  } else if (std::string c = siteClass(v); !c.empty()) {
    s.targetClass = c;
    auto o = originOfSite_.find(v.site);
    s.targetOrigin = o != originOfSite_.end() ? o->second : "CreateWindowEx";
  } else if (auto it = v.kind == Kind::Return ? parentsOfSite_.find(v.site) : parentsOfSite_.end();
             it != parentsOfSite_.end()) {
    s.targetOrigin = "parent";   // one of several classes: link() sends to each
    sendClasses_[s.siteRva] = it->second;
  } else if (v.kind == Kind::Param && v.off == 0 && isParamIndex(v.base) && !isDefaultCall(api)) {
    return v.base;
  }
  return std::nullopt;
}

// Adds a send; where the paths into one call send the same message
// (mergePaths), the paths that differ only in the window add their
// targets to it instead. The index of the send.
size_t FlowBuilder::addSend(Send s, bool mergePaths) {
  auto same = mergePaths ? std::find_if(flow_.sends.begin(), flow_.sends.end(), [&](const Send &o) {
    return o.siteRva == s.siteRva && o.messageText == s.messageText;
  }) : flow_.sends.end();
  if (same == flow_.sends.end()) {
    flow_.sends.push_back(std::move(s));
    return flow_.sends.size() - 1;
  }
  for (uint32_t t : s.targets)
    if (std::find(same->targets.begin(), same->targets.end(), t) == same->targets.end())
      same->targets.push_back(t);
  if (same->target != s.target) {
    same->exact = false;
    same->target += " | " + s.target;
    if (same->targetClass != s.targetClass)
      same->targetClass.clear();
  }
  return size_t(same - flow_.sends.begin());
}

// A send site: its message (a constant or a registered message's global)
// and target text; SendDlgItemMessage's control class from the templates.
Send FlowBuilder::sendAt(const calls::CallSite &cs, const std::string &api) const {
  Send s;
  s.siteRva = cs.siteRva;
  s.functionRva = cs.functionRva;
  s.api = api;
  const calls::Argument *msg = arg(cs, "Msg");
  if (msg && msg->kind == calls::ArgKind::Constant && msg->value) {
    s.message = MessageId{uint32_t(*msg->value), ""};
  } else if (msg && msg->raw.kind == Kind::Load && msg->raw.addrKind == Kind::Image) {
    auto it = registered_.find(msg->raw.base + uint32_t(msg->raw.addrOff));
    if (it != registered_.end())
      s.message = MessageId{0, it->second};
  }
  s.messageText = s.message ? messageText(table_, *s.message) : msg ? msg->text : "the message in *lpMsg";
  if (const calls::Argument *w = arg(cs, "wParam");
      s.message && *s.message == MessageId{0x0111, ""} && w && w->kind == calls::ArgKind::Constant && w->value)
    s.commandId = uint32_t(*w->value) & 0xFFFF;
  const calls::Argument *hwnd = arg(cs, "hWnd") ? arg(cs, "hWnd") : arg(cs, "hDlg");
  if (const calls::Argument *m = arg(cs, "lpMsg"))
    s.target = "MSG at " + m->text;
  if (hwnd)
    s.target = hwnd->text;
  if (const calls::Argument *item = arg(cs, "nIDDlgItem"); item && item->kind == calls::ArgKind::Constant && item->value) {
    s.target = fmt::format("item {} of {}", *item->value, hwnd ? hwnd->text : "?");
    s.targetClass = controlClass(uint32_t(*item->value));
    s.targetOrigin = s.targetClass.empty() ? "" : "dialog item";
  }
  return s;
}

bool FlowBuilder::isDefaultCall(const std::string &api) {
  return api.rfind("CallWindowProc", 0) == 0 || api.rfind("DefWindowProc", 0) == 0;
}

std::optional<size_t> FlowBuilder::argumentIndex(uint32_t param, const calls::CallSite &cs) {
  if (values::registerParamName(param)) {
    auto it = std::find(cs.registerParams.begin(), cs.registerParams.end(), param);
    return it != cs.registerParams.end() ? std::optional<size_t>(it - cs.registerParams.begin()) : std::nullopt;
  }
  return size_t(param) + cs.registerParams.size();
}

bool FlowBuilder::isProcedure(uint32_t rva) const {
  return std::any_of(flow_.procedures.begin(), flow_.procedures.end(), [&](const Procedure &p) { return p.rva == rva; });
}

calls::Target FlowBuilder::functionTarget(uint32_t rva) const {
  calls::Target t;
  t.directTargets.insert(rva);
  t.name = a_.describe(rva);
  return t;
}

std::vector<std::vector<calls::CallSite>> FlowBuilder::callSitesOf(const std::vector<calls::Target> &targets) const {
  std::vector<const calls::Target *> ptrs;
  for (const calls::Target &t : targets)
    ptrs.push_back(&t);
  calls::FindOptions o;
  o.threads = a_.threads();
  o.maxStackArgs = kMaxParam;
  return calls::findCallSitesMany(a_, table_, ptrs, o);
}

void FlowBuilder::prefetchCallers(const std::set<uint32_t> &functions) {
  std::vector<calls::Target> targets;
  std::vector<uint32_t> ids;
  for (uint32_t f : functions)
    if (!callers_.count(f) && !isProcedure(f)) {
      targets.push_back(functionTarget(f));
      ids.push_back(f);
    }
  if (ids.empty())
    return;
  auto lists = callSitesOf(targets);
  for (size_t i = 0; i < ids.size(); ++i)
    callers_[ids[i]] = std::move(lists[i]);
}

const std::vector<calls::CallSite> &FlowBuilder::callersOf(uint32_t function) {
  prefetchCallers({function});
  return callers_[function];
}

const std::set<std::string> &FlowBuilder::subclassedClasses(uint32_t proc) {
  auto [it, fresh] = subclassedClasses_.try_emplace(proc);
  if (!fresh)
    return it->second;
  std::set<std::string> out;
  for (const auto &[p, function, v] : subclassSites_) {
    if (p != proc)
      continue;
    std::string cls = globalClass(v);
    if (cls.empty())
      cls = siteClass(v);
    if (!cls.empty()) {
      out.insert(cls);
    } else if (v.kind == Kind::Param && v.off == 0 && isParamIndex(v.base)) {
      std::set<Recipient> found;
      if (recipientsOfParam(function, v.base, 0, found))
        for (const auto &[c, r] : found)
          if (!c.empty())
            out.insert(c);
    }
  }
  return subclassedClasses_[proc] = std::move(out);
}

uint32_t FlowBuilder::procedureOfClass(const std::string &cls) const {
  for (const WindowClass &c : flow_.classes)
    if (c.name == cls && c.wndprocRva)
      return c.wndprocRva;
  return 0;
}

bool FlowBuilder::recipientsOfParam(uint32_t function, uint32_t param, int depth, std::set<Recipient> &out) {
  for (const Procedure &p : flow_.procedures)
    if (p.rva == function) {
      if (param != 0)
        return false;
      out.insert({p.classes.size() == 1 ? p.classes[0] : std::string(), p.rva});
      return true;
    }
  if (depth >= kCallerDepth)
    return false;
  const std::vector<calls::CallSite> &sites = callersOf(function);
  if (sites.empty() || sites.size() > kMaxCallers)
    return false;
  for (const calls::CallSite &cs : sites) {
    std::optional<size_t> index = argumentIndex(param, cs);
    if (cs.tail || !index || *index >= cs.args.size())
      return false;
    const Value &v = cs.args[*index].raw;
    if (v.kind == Kind::Param && v.off == 0 && isParamIndex(v.base)) {
      if (!recipientsOfParam(cs.functionRva, v.base, depth + 1, out))
        return false;
      continue;
    }
    std::string cls = globalClass(v);
    if (cls.empty())
      cls = siteClass(v);
    if (cls.empty())
      return false;
    out.insert({cls, procedureOfClass(cls)});
  }
  return true;
}

void FlowBuilder::parameterTargets(const std::vector<PendingSend> &pending) {
  // Callers level by level, each level in one pass.
  std::set<uint32_t> level;
  for (const PendingSend &ps : pending)
    level.insert(flow_.sends[ps.send].functionRva);
  for (int depth = 0; depth < kCallerDepth && !level.empty(); ++depth) {
    prefetchCallers(level);
    std::set<uint32_t> next;
    for (uint32_t f : level)
      if (auto it = callers_.find(f); it != callers_.end() && it->second.size() <= kMaxCallers)
        for (const calls::CallSite &cs : it->second)
          if (!callers_.count(cs.functionRva))
            next.insert(cs.functionRva);
    level = std::move(next);
  }
  for (const PendingSend &ps : pending) {
    Send &s = flow_.sends[ps.send];
    std::set<Recipient> found;
    if (!recipientsOfParam(s.functionRva, ps.param, 0, found) || found.size() != 1)
      continue;
    const auto &[cls, proc] = *found.begin();
    s.targetClass = cls;
    s.targetOrigin = proc == s.functionRva ? "own window" : "caller";
    nameByClass(s);
    s.targets.clear();
    s.exact = false;
    if (!s.message)
      continue;
    if (proc && proc == s.functionRva) {
      s.targets.push_back(proc);   // its own window
      s.exact = true;
    } else {
      link(s);   // every procedure the class is registered with, and the subclass procedures of its windows
    }
  }
}

const std::unordered_set<uint32_t> &FlowBuilder::reach(uint32_t root) {
  auto [it, fresh] = reach_.try_emplace(root);
  if (!fresh)
    return it->second;
  std::unordered_set<uint32_t> &seen = it->second;
  std::deque<std::pair<uint32_t, int>> work{{root, 0}};
  seen.insert(root);
  while (!work.empty() && seen.size() < kReachLimit) {
    auto [f, depth] = work.front();
    work.pop_front();
    const code::Function *fn = depth < kReachDepth ? a_.functionAt(f) : nullptr;
    if (!fn)
      continue;
    for (const std::vector<uint32_t> *list : {&fn->callees, &fn->tailCalls})
      for (uint32_t c : *list)
        if (seen.insert(c).second)
          work.emplace_back(c, depth + 1);
  }
  return seen;
}

bool FlowBuilder::related(const FieldStore &st, uint32_t g, const Value &sendBase) {
  if (st.function == g)   // the same base, or both the window's data got by calls (Alloc at WM_CREATE, GetWindowLongPtr later)
    return st.base == sendBase || (st.base.kind == Kind::Return && sendBase.kind == Kind::Return);
  const Kind k = st.base.kind;
  if (reach(st.function).count(g))
    return k == Kind::Param || k == Kind::Return;
  return k == Kind::Return && reach(g).count(st.function);
}

std::string FlowBuilder::fieldClass(uint32_t offset, uint32_t function, const Value &base) {
  std::set<std::string> found;
  for (const FieldStore &st : fieldStores_)
    if (st.offset == offset && related(st, function, base))
      found.insert(st.className);
  return found.size() == 1 && !found.begin()->empty() && found.begin()->find('?') == std::string::npos ? *found.begin()
                                                                                                     : std::string();
}

std::set<std::string> FlowBuilder::ownerClasses(uint32_t f, uint32_t param) {
  std::set<std::string> out;
  for (const Procedure &p : flow_.procedures) {
    if (p.kind != ProcKind::Window)
      continue;
    bool reaches = param == 0 && reach(p.rva).count(f);
    for (size_t i = 0; i < p.forwardedTo.size() && i < p.forwardedWindowParam.size(); ++i)
      reaches |= p.forwardedTo[i] == f && p.forwardedWindowParam[i] == param;
    if (reaches)
      out.insert(p.classes.begin(), p.classes.end());
  }
  return out;
}

void FlowBuilder::parentClasses() {
  for (const ParentArg &pa : parents_) {
    const Value &v = pa.value;
    Window &w = flow_.windows[pa.window];
    if (v.kind == Kind::Load && v.addrKind == Kind::Image) {
      w.parentClass = globalClass(v);
    } else if (v.kind == Kind::Param && v.off == 0) {
      // The hwnd parameter: of every window procedure that reaches here.
      if (auto owners = ownerClasses(pa.function, v.base); owners.size() == 1) {
        w.parentClass = *owners.begin();
      } else if (owners.empty() && isParamIndex(v.base)) {
        // A helper's parameter (createTool(parent, ...)): what its callers pass.
        std::set<Recipient> found;
        if (recipientsOfParam(pa.function, v.base, 0, found) && found.size() == 1 && !found.begin()->first.empty())
          w.parentClass = found.begin()->first;
      }
    }
  }
}

std::set<std::string> FlowBuilder::parentsOfProcedureWindow(const calls::CallSite &cs) {
  const calls::Argument *h = arg(cs, "hWnd");
  if (!h || !h->raw.isParam(0) || h->raw.off != 0)
    return {};
  std::set<std::string> parents;
  bool any = false;
  for (const Procedure &p : flow_.procedures) {
    if (p.rva != cs.functionRva)
      continue;
    any = true;
    if (p.kind == ProcKind::Window)
      for (const std::string &cls : p.classes)
        for (const Window &w : flow_.windows)
          if (w.className == cls && !helperSites_.count(w.siteRva))   // a helper's window: its CreateWindowEx tells
            parents.insert(w.parentClass);
    if (p.kind == ProcKind::Subclass)
      for (const Value &v : subclassed_[p.rva]) {
        const Window *found = nullptr;
        for (const Window &w : flow_.windows)
          if ((v.kind == Kind::Load && v.addrKind == Kind::Image && w.handleGlobal == v.base + uint32_t(v.addrOff)) ||
              (v.kind == Kind::Return && w.siteRva == v.site))
            found = &w;
        parents.insert(found ? found->parentClass : std::string());
      }
    if (p.kind == ProcKind::Dialog)
      parents.insert(std::string());
  }
  if (!any || parents.count(std::string()))
    return {};
  return parents;
}

void FlowBuilder::link(Send &s) {
  if (!s.message || isDefaultCall(s.api))
    return;
  if (linkToObject(s))
    return;
  if (!s.targetClass.empty()) {
    for (const WindowClass &c : flow_.classes)
      if (c.name == s.targetClass && c.wndprocRva) {
        s.targets.push_back(c.wndprocRva);
        s.exact = true;
      }
    // Subclass procedures of windows of this class see it first.
    if (s.exact) {
      for (const Procedure &p : flow_.procedures)
        if (p.kind == ProcKind::Subclass && subclassedClasses(p.rva).count(s.targetClass))
          s.targets.push_back(p.rva);
      return;
    }
  } else if (auto it = sendClasses_.find(s.siteRva); it != sendClasses_.end()) {
    // A window of one of several known classes: each one's procedures.
    for (const std::string &cls : it->second) {
      for (const WindowClass &c : flow_.classes)
        if (c.name == cls && c.wndprocRva && std::find(s.targets.begin(), s.targets.end(), c.wndprocRva) == s.targets.end())
          s.targets.push_back(c.wndprocRva);
      for (const Procedure &p : flow_.procedures)
        if (p.kind == ProcKind::Subclass && subclassedClasses(p.rva).count(cls) &&
            std::find(s.targets.begin(), s.targets.end(), p.rva) == s.targets.end())
          s.targets.push_back(p.rva);
    }
    if (!s.targets.empty())
      return;
  }
  for (const Procedure &p : flow_.procedures)
    for (const Case &c : p.cases)
      if (c.message == *s.message) {
        s.targets.push_back(p.rva);
        break;
      }
}

} // namespace sb::messages
