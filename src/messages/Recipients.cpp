// Who receives messages: window classes and the windows created (also by
// helpers that return the window they create), dialogs, subclass
// procedures, registered messages, and each procedure's default path.
#include "FlowBuilder.h"

#include "switchboard/support/Quote.h"

#include <fmt/format.h>

#include <algorithm>

namespace sb::messages {

void FlowBuilder::registeredMessages() {
  for (const char *api : {"RegisterWindowMessageW", "RegisterWindowMessageA"}) {
    std::map<uint32_t, std::string> bySite;
    for (const calls::CallSite &cs : sitesOf(api))
      if (const calls::Argument *x = arg(cs, "lpString"); x && x->str)
        bySite[cs.siteRva] = *x->str;
    for (const auto &[global, site] : resultGlobals(api))
      if (auto it = bySite.find(site); it != bySite.end())
        registered_[global] = it->second;
  }
}

void FlowBuilder::windowClasses() {
  for (const char *api : {"RegisterClassExW", "RegisterClassExA", "RegisterClassW", "RegisterClassA"})
    for (const calls::CallSite &merged : sitesOf(api))
      for (const calls::CallSite &cs : perPath(merged))
        registerClassAt(cs);
  // SetClassLongPtr(hwnd, GCLP_WNDPROC, proc).
  for (const char *api : {"SetClassLongPtrW", "SetClassLongPtrA", "SetClassLongW", "SetClassLongA"})
    for (const calls::CallSite &cs : sitesOf(api))
      if (const calls::Argument *i = arg(cs, "nIndex"); i && i->value && *i->value == -24)
        if (auto proc = codeAddress(arg(cs, "dwNewLong")))
          procedure(*proc, ProcKind::Window);
}

// One RegisterClass call, as one path into it sees the WNDCLASS.
void FlowBuilder::registerClassAt(const calls::CallSite &cs) {
  const calls::Argument &wc = cs.args[0];
  WindowClass c;
  c.siteRva = cs.siteRva;
  std::optional<uint32_t> procParam, nameParam;   // fields the registering helper's caller gives
  for (size_t i = 0; i < wc.fields.size() && i < wc.fieldValues.size(); ++i) {
    const auto &[name, text] = wc.fields[i];
    const Value raw = i < wc.fieldRaw.size() ? wc.fieldRaw[i] : Value{};
    const std::optional<std::string> str = i < wc.fieldStrings.size() ? wc.fieldStrings[i] : std::nullopt;
    bool param = raw.kind == Kind::Param && raw.off == 0;
    if (name == "lpfnWndProc" && wc.fieldValues[i] && a_.image().isExecutableRva(uint32_t(*wc.fieldValues[i])))
      c.wndprocRva = uint32_t(*wc.fieldValues[i]);
    else if (name == "lpfnWndProc" && param)
      procParam = raw.base;
    else if (name == "lpszClassName" && param)
      nameParam = raw.base;
    else if (name == "lpszClassName" && str)
      c.name = *str;
    else if (name == "lpszClassName" && wc.fieldValues[i] && *wc.fieldValues[i] > 0 && *wc.fieldValues[i] < 0x10000)
      c.name = fmt::format("#{}", *wc.fieldValues[i]);   // MAKEINTATOM(atom)
    else if (name == "lpszClassName" && (raw.kind == Kind::Image || raw.kind == Kind::Load))
      c.name = text;   // a name built at run time in a global ("ATL:%p"): CreateWindowEx names it alike
    else if (name == "cbWndExtra")
      c.wndExtra = wc.fieldValues[i];
  }
  if ((procParam || nameParam) && registerThroughCallers(cs, c, procParam, nameParam))
    return;
  // A class whose name is not known is no class to report (nothing can
  // name it); its procedure still is one.
  if (c.wndprocRva)
    procedure(c.wndprocRva, ProcKind::Window);
  if (c.name.empty())
    return;
  bool seen = std::any_of(flow_.classes.begin(), flow_.classes.end(), [&](const WindowClass &o) {
    return o.siteRva == c.siteRva && o.name == c.name && o.wndprocRva == c.wndprocRva;
  });
  if (seen)
    return;   // paths that differ only in other fields
  if (c.wndprocRva)
    procedure(c.wndprocRva, ProcKind::Window).classes.push_back(c.name);
  flow_.classes.push_back(c);
}

// A helper that registers the class its caller names (`registerClass(L"X",
// XProc)`): a class per call of the helper, from that call's arguments.
bool FlowBuilder::registerThroughCallers(const calls::CallSite &cs, const WindowClass &proto,
                                         std::optional<uint32_t> procParam, std::optional<uint32_t> nameParam) {
  auto lists = callSitesOf({functionTarget(cs.functionRva)});
  bool any = false;
  for (const calls::CallSite &caller : lists[0]) {
    WindowClass c = proto;
    c.siteRva = caller.siteRva;
    auto argAt = [&](uint32_t param) -> const calls::Argument * {
      auto i = argumentIndex(param, caller);
      return i && *i < caller.args.size() ? &caller.args[*i] : nullptr;
    };
    if (procParam)
      if (auto proc = codeAddress(argAt(*procParam)))
        c.wndprocRva = *proc;
    if (nameParam)
      if (const calls::Argument *x = argAt(*nameParam); x && x->str)
        c.name = *x->str;
    if (!c.wndprocRva || c.name.empty())
      continue;
    procedure(c.wndprocRva, ProcKind::Window).classes.push_back(c.name);
    flow_.classes.push_back(c);
    any = true;
  }
  return any;
}

void FlowBuilder::windows() {
  for (const char *api : {"CreateWindowExW", "CreateWindowExA"}) {
    std::vector<calls::ResultStore> stores = resultStores(api);
    for (const calls::CallSite &cs : sitesOf(api)) {
      Window w;
      w.siteRva = cs.siteRva;
      w.api = api;
      if (const calls::Argument *x = arg(cs, "lpClassName"))
        w.className = x->str.value_or(x->text);
      if (const calls::Argument *x = arg(cs, "lpWindowName"))
        w.title = x->str.value_or(x->text);
      if (const calls::Argument *x = arg(cs, "lpClassName"); x && x->str)
        literalClassSites_[cs.siteRva] = std::make_pair(cs.functionRva, w.className);
      keepHandle(w, stores);
      if (const calls::Argument *x = arg(cs, "hWndParent")) {
        parents_.push_back({flow_.windows.size(), cs.functionRva, x->raw});
        w.parent = x->text;
      }
      if (const calls::Argument *x = arg(cs, "lpParam"))
        w.createParam = x->text;
      flow_.windows.push_back(w);
    }
  }
  factories();
  for (const char *api : {"DialogBoxParamW", "DialogBoxParamA", "CreateDialogParamW", "CreateDialogParamA",
                          "DialogBoxIndirectParamW", "DialogBoxIndirectParamA", "CreateDialogIndirectParamW",
                          "CreateDialogIndirectParamA"})
    for (const calls::CallSite &cs : sitesOf(api)) {
      Window w;
      w.siteRva = cs.siteRva;
      w.api = api;
      if (const calls::Argument *x = arg(cs, "lpTemplateName")) {
        w.title = x->text;
        // MAKEINTRESOURCE(id): the template's caption.
        if (x->kind == calls::ArgKind::Constant && x->value)
          if (const res::Dialog *d = flow_.resources.dialog(uint32_t(*x->value)))
            w.title = fmt::format("dialog {} {}", d->name, cLiteral(d->caption));
      }
      if (const calls::Argument *x = arg(cs, "lpTemplateName"); x && x->raw.isConst()) {
        const res::Dialog *d = flow_.resources.dialog(uint32_t(x->raw.off));
        w.dialogTemplate = d ? d->name : std::to_string(x->raw.off);
      }
      if (auto proc = codeAddress(arg(cs, "lpDialogFunc"))) {
        w.procRva = *proc;
        procedure(*proc, ProcKind::Dialog);
      }
      if (const calls::Argument *x = arg(cs, "hWndParent"))
        w.parent = x->text;
      if (const calls::Argument *x = arg(cs, "dwInitParam"))
        w.createParam = x->text;
      flow_.windows.push_back(w);
    }
}

void FlowBuilder::keepHandle(Window &w, const std::vector<calls::ResultStore> &stores) {
  for (const calls::ResultStore &st : stores) {
    if (st.siteRva != w.siteRva)
      continue;
    if (st.address.isImage()) {
      if (!w.handleGlobal)
        w.handleGlobal = st.address.base + uint32_t(st.address.off);
    } else if (st.address.off >= 0 && st.address.off < 0x10000) {
      w.handleFields.push_back(uint32_t(st.address.off));
      fieldStores_.push_back({uint32_t(st.address.off), st.functionRva, w.className, st.address.withoutOffset()});
    }
  }
}

void FlowBuilder::factories() {
  std::map<uint32_t, std::set<uint32_t>> sitesIn;   // function -> its CreateWindowEx sites with a literal class
  for (const auto &[site, fnClass] : literalClassSites_)
    sitesIn[fnClass.first].insert(site);
  code::Decoder dec(a_.image().is64(), a_.image().imageBase());
  std::vector<std::pair<uint32_t, std::string>> found;
  for (const auto &[fn, sites] : sitesIn) {
    const code::Function *f = a_.functionAt(fn);
    if (!f || isProcedure(fn))
      continue;
    std::set<std::string> classes;
    bool ok = true, any = false;
    values::Tracker tr(a_.image(), dec, *f, 8, &conv_);
    tr.forEach([&](const values::Insn &in, const values::State &st) {
      if (in.insn->mnemonic != ZYDIS_MNEMONIC_RET)
        return;
      Value v = st.reg(ZYDIS_REGISTER_RAX);
      if (v.kind == Kind::Return && v.off == 0 && sites.count(v.site)) {
        classes.insert(literalClassSites_[v.site].second);
        any = true;
      } else if (!(v.isConst() && v.off == 0)) {
        ok = false;
      }
    });
    if (ok && any && classes.size() == 1)
      found.emplace_back(fn, *classes.begin());
  }
  if (found.empty())
    return;
  std::vector<calls::Target> targets;
  for (const auto &[fn, cls] : found)
    targets.push_back(functionTarget(fn));
  auto lists = callSitesOf(targets);
  for (size_t i = 0; i < found.size(); ++i) {
    if (lists[i].empty())
      continue;
    std::vector<calls::ResultStore> stores = calls::callResultStores(a_, table_, targets[i], a_.threads());
    for (const calls::CallSite &cs : lists[i]) {
      Window w;
      w.siteRva = cs.siteRva;
      w.api = targets[i].name;
      w.viaHelper = true;
      w.className = found[i].second;
      keepHandle(w, stores);
      helperSites_.insert(w.siteRva);
      flow_.windows.push_back(w);
    }
  }
}

namespace {
// "ppsp[1]->pfnDlgProc" as "ppsp->pfnDlgProc".
std::string withoutIndices(const std::string &path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '[') {
      size_t close = path.find(']', i);
      if (close != std::string::npos) {
        i = close;
        continue;
      }
    }
    out += path[i];
  }
  return out;
}
} // namespace

// Procedures passed inside structures (property-sheet pages, common-dialog
// hooks, the task-dialog callback): the API table's procedure_fields.
void FlowBuilder::structureProcedures() {
  for (const api::ProcedureField &pf : table_.procedureFields()) {
    size_t arrow = pf.path.find("->");
    std::string param = pf.path.substr(0, arrow);
    std::string field = arrow == std::string::npos ? "" : pf.path.substr(arrow + 2);
    ProcKind kind = pf.kind == "hook"       ? ProcKind::Hook
                    : pf.kind == "callback" ? ProcKind::Callback
                    : pf.kind == "window"   ? ProcKind::Window
                                            : ProcKind::Dialog;
    for (const char *suffix : {"", "W", "A"})
      for (const calls::CallSite &merged : sitesOf(pf.api + suffix))
        for (const calls::CallSite &cs : perPath(merged))
          if (const calls::Argument *x = arg(cs, param))
            procedureInArgument(cs, pf.api + suffix, *x, pf.path, field, kind);
  }
}

void FlowBuilder::installed(uint32_t site, uint32_t proc, std::string api, std::string field, ProcKind kind) {
  for (const Installation &i : flow_.installations)
    if (i.siteRva == site && i.procRva == proc && i.field == field)
      return;   // another path into the same call
  flow_.installations.push_back({site, proc, std::move(api), std::move(field), kind});
}

// The procedure an argument is (field empty) or holds in `field`, also in
// every element of an array field ("ppsp[1]->pfnDlgProc").
void FlowBuilder::procedureInArgument(const calls::CallSite &cs, const std::string &api, const calls::Argument &x,
                                      const std::string &path, const std::string &field, ProcKind kind) {
  if (field.empty()) {
    if (auto proc = codeAddress(&x)) {
      procedure(*proc, kind);
      installed(cs.siteRva, *proc, api, path, kind);
    }
    return;
  }
  for (size_t i = 0; i < x.fields.size() && i < x.fieldValues.size(); ++i)
    if (withoutIndices(x.fields[i].first) == field && x.fieldValues[i] &&
        a_.image().isExecutableRva(uint32_t(*x.fieldValues[i]))) {
      procedure(uint32_t(*x.fieldValues[i]), kind);
      installed(cs.siteRva, uint32_t(*x.fieldValues[i]), api, path, kind);
    }
}

void FlowBuilder::subclasses() {
  for (const char *api : {"SetWindowLongPtrW", "SetWindowLongPtrA", "SetWindowLongW", "SetWindowLongA"}) {
    auto globals = resultGlobals(api);
    for (const calls::CallSite &cs : sitesOf(api)) {
      const calls::Argument *i = arg(cs, "nIndex");
      auto proc = codeAddress(arg(cs, "dwNewLong"));
      if (!i || !i->value || *i->value != -4 || !proc)
        continue;
      Procedure &p = procedure(*proc, ProcKind::Subclass);
      installed(cs.siteRva, *proc, api, "", ProcKind::Subclass);
      if (const calls::Argument *h = arg(cs, "hWnd")) {
        subclassed_[*proc].push_back(h->raw);
        subclassSites_.emplace_back(*proc, cs.functionRva, h->raw);
      }
      for (const auto &[g, site] : globals)
        if (site == cs.siteRva)
          p.previousProcGlobal = g;
    }
  }
  for (const calls::CallSite &cs : sitesOf("SetWindowSubclass"))
    if (auto proc = codeAddress(arg(cs, "pfnSubclass"))) {
      procedure(*proc, ProcKind::Subclass);
      installed(cs.siteRva, *proc, "SetWindowSubclass", "", ProcKind::Subclass);
      if (const calls::Argument *h = arg(cs, "hWnd"))
        subclassSites_.emplace_back(*proc, cs.functionRva, h->raw);
    }
}

void FlowBuilder::defaults(const code::Function &f, Procedure &p) {
  code::Decoder dec(a_.image().is64(), a_.image().imageBase());
  std::vector<const code::Function *> fns{&f};
  for (uint32_t h : p.forwardedTo)
    if (const code::Function *g = a_.functionAt(h))
      fns.push_back(g);
  for (const code::Function *g : fns)
    for (const code::BasicBlock &b : g->blocks) {
      code::DecodedInsn in;
      for (uint32_t pc = b.rva; pc < b.end && dec.decode(a_.image().bytesFromRva(pc), pc, in); pc = in.next()) {
        std::optional<std::string> n = importCalled(a_, in);
        if (n && isDefaultProcedureName(*n) && std::find(p.defaults.begin(), p.defaults.end(), *n) == p.defaults.end())
          p.defaults.push_back(*n);
      }
    }
}

} // namespace sb::messages
