#include "switchboard/messages/MessageFlow.h"

#include "Switches.h"
#include "switchboard/calls/CallSites.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/messages/Knowledge.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <unordered_set>

namespace sb::messages {
using values::Kind;
using values::Value;

const char *procKindName(ProcKind k) {
  switch (k) {
  case ProcKind::Window: return "window";
  case ProcKind::Dialog: return "dialog";
  case ProcKind::Subclass: return "subclass";
  }
  return "?";
}

std::string messageText(const api::ApiTable &table, const MessageId &m) {
  if (!m.registeredName.empty())
    return fmt::format("registered \"{}\"", m.registeredName);
  if (auto n = table.messageName(m.id))
    return fmt::format("{} ({:#06x})", *n, m.id);
  return fmt::format("{:#06x}", m.id);
}

namespace {

// "L\"name\"" / "\"name\"" -> name.
std::string unquote(const std::string &t) {
  size_t b = t.find('"'), e = t.rfind('"');
  return b != std::string::npos && e > b ? t.substr(b + 1, e - b - 1) : t;
}

class Builder {
public:
  Builder(const Analysis &a, const api::ApiTable &table) : a_(a), table_(table), conv_(a, table) {}

  MessageFlow build() {
    prefetch();
    flow_.resources = res::readResources(a_.image());
    for (const std::string &w : flow_.resources.warnings)
      flow_.warnings.push_back(w);
    registeredMessages();
    windowClasses();
    windows();
    subclasses();
    // Virtual calls that pass the message on (C++ window wrappers): their
    // targets from the object model, computed once when first needed.
    std::optional<cxx::ObjectModel> model;
    std::vector<uint32_t> virtualTargets;
    // Only images with RTTI get the (whole-image) object model: C window code
    // calls through plain function pointers.
    const bool hasRtti = !cxx::findCompleteObjectLocators(a_.image()).empty();
    auto indirect = [&](uint32_t site) {
      if (!hasRtti)
        return std::vector<uint32_t>{};
      if (!model) {
        cxx::ObjectModelOptions mo;
        mo.layouts = false;
        model = cxx::analyzeObjectModel(a_, mo);
      }
      std::vector<uint32_t> out;
      for (const cxx::VirtualCall &v : model->vcalls)
        if (v.siteRva == site)
          out = v.candidates;
      virtualTargets.insert(virtualTargets.end(), out.begin(), out.end());
      return out;
    };
    SwitchAnalyzer sw(a_, conv_, registered_, indirect);
    for (Procedure &p : flow_.procedures)
      if (const code::Function *f = a_.functionAt(p.rva)) {
        virtualTargets.clear();
        sw.analyze(*f, 1, p);
        defaults(*f, p);
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
    sends();
    return std::move(flow_);
  }

private:
  // Every API the recognizers read, resolved and searched in one pass.
  void prefetch() {
    procGlobals_ = calls::procAddressGlobals(a_, table_, a_.threads());
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
    names.push_back("GetDlgItem");
    names.push_back("GetParent");
    std::vector<calls::Target> targets;
    std::vector<std::string> found;
    for (const std::string &n : names)
      if (auto t = calls::resolveTarget(a_, table_, n, &procGlobals_); t && t->api) {
        targets.push_back(*t);
        found.push_back(n);
      }
    std::vector<const calls::Target *> ptrs;
    for (const calls::Target &t : targets)
      ptrs.push_back(&t);
    calls::FindOptions o;
    o.threads = a_.threads();
    auto lists = calls::findCallSitesMany(a_, table_, ptrs, o);
    for (size_t i = 0; i < found.size(); ++i)
      sites_[found[i]] = std::move(lists[i]);
    for (size_t i = 0; i < found.size(); ++i)
      targets_.emplace(found[i], targets[i]);
  }
  std::vector<calls::CallSite> sitesOf(const std::string &api) {
    auto it = sites_.find(api);
    return it == sites_.end() ? std::vector<calls::CallSite>{} : it->second;
  }
  std::unordered_map<uint32_t, uint32_t> resultGlobals(const std::string &api) {
    auto it = targets_.find(api);
    if (it == targets_.end() || sites_[api].empty())
      return {};
    return calls::callResultGlobals(a_, table_, it->second, a_.threads());
  }
  static const calls::Argument *arg(const calls::CallSite &cs, std::string_view name) {
    for (const calls::Argument &x : cs.args)
      if (x.name == name)
        return &x;
    return nullptr;
  }
  Procedure &procedure(uint32_t rva, ProcKind kind) {
    for (Procedure &p : flow_.procedures)
      if (p.rva == rva)
        return p;
    Procedure p;
    p.rva = rva;
    p.kind = kind;
    flow_.procedures.push_back(p);
    return flow_.procedures.back();
  }
  static std::optional<uint32_t> codeAddress(const calls::Argument *x) {
    if (x && x->kind == "image_address" && x->value)
      return uint32_t(*x->value);
    return std::nullopt;
  }

  void registeredMessages() {
    for (const char *api : {"RegisterWindowMessageW", "RegisterWindowMessageA"}) {
      std::map<uint32_t, std::string> bySite;
      for (const calls::CallSite &cs : sitesOf(api))
        if (const calls::Argument *x = arg(cs, "lpString"); x && x->kind == "string")
          bySite[cs.siteRva] = unquote(x->text);
      for (const auto &[global, site] : resultGlobals(api))
        if (auto it = bySite.find(site); it != bySite.end())
          registered_[global] = it->second;
    }
  }

  void windowClasses() {
    for (const char *api : {"RegisterClassExW", "RegisterClassExA", "RegisterClassW", "RegisterClassA"})
      for (const calls::CallSite &cs : sitesOf(api)) {
        const calls::Argument &wc = cs.args[0];
        WindowClass c;
        c.siteRva = cs.siteRva;
        for (size_t i = 0; i < wc.fields.size() && i < wc.fieldValues.size(); ++i) {
          const auto &[name, text] = wc.fields[i];
          if (name == "lpfnWndProc" && wc.fieldValues[i] && a_.image().isExecutableRva(uint32_t(*wc.fieldValues[i])))
            c.wndprocRva = uint32_t(*wc.fieldValues[i]);
          else if (name == "lpszClassName" && text != "?")
            c.name = text.find('"') != std::string::npos ? unquote(text) : text;
          else if (name == "cbWndExtra")
            c.wndExtra = wc.fieldValues[i];
        }
        if (c.name.empty())
          c.name = fmt::format("class@{:#x}", cs.siteRva);
        if (c.wndprocRva)
          procedure(c.wndprocRva, ProcKind::Window).classes.push_back(c.name);
        flow_.classes.push_back(c);
      }
    // SetClassLongPtr(hwnd, GCLP_WNDPROC, proc).
    for (const char *api : {"SetClassLongPtrW", "SetClassLongPtrA", "SetClassLongW", "SetClassLongA"})
      for (const calls::CallSite &cs : sitesOf(api))
        if (const calls::Argument *i = arg(cs, "nIndex"); i && i->value && *i->value == -24)
          if (auto proc = codeAddress(arg(cs, "dwNewLong")))
            procedure(*proc, ProcKind::Window);
  }

  void windows() {
    for (const char *api : {"CreateWindowExW", "CreateWindowExA"}) {
      std::vector<calls::ResultStore> stores;
      if (auto t = targets_.find(api); t != targets_.end() && !sites_[api].empty())
        stores = calls::callResultStores(a_, table_, t->second, a_.threads());
      for (const calls::CallSite &cs : sitesOf(api)) {
        Window w;
        w.siteRva = cs.siteRva;
        w.api = api;
        if (const calls::Argument *x = arg(cs, "lpClassName"))
          w.className = x->kind == "string" ? unquote(x->text) : x->text;
        if (const calls::Argument *x = arg(cs, "lpWindowName"))
          w.title = x->kind == "string" ? unquote(x->text) : x->text;
        if (const calls::Argument *x = arg(cs, "lpClassName"); x && x->kind == "string")
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
          if (x->kind == "constant" && x->value)
            if (const res::Dialog *d = flow_.resources.dialog(uint32_t(*x->value)))
              w.title = fmt::format("dialog {} \"{}\"", d->name, d->caption);
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

  // Where the window's handle is kept: a global, or structure fields.
  void keepHandle(Window &w, const std::vector<calls::ResultStore> &stores) {
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

  // Helpers that return the window they create (COMCTL32_CreateToolTip): a
  // function whose every return value is the result of its CreateWindowEx
  // calls of one class (or 0). Each call of it creates a window of that class.
  void factories() {
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
    std::vector<calls::Target> targets(found.size());
    std::vector<const calls::Target *> ptrs;
    for (size_t i = 0; i < found.size(); ++i) {
      targets[i].directTargets.insert(found[i].first);
      targets[i].name = a_.describe(found[i].first);
      ptrs.push_back(&targets[i]);
    }
    calls::FindOptions o;
    o.threads = a_.threads();
    auto lists = calls::findCallSitesMany(a_, table_, ptrs, o);
    for (size_t i = 0; i < found.size(); ++i) {
      if (lists[i].empty())
        continue;
      std::vector<calls::ResultStore> stores = calls::callResultStores(a_, table_, targets[i], a_.threads());
      for (const calls::CallSite &cs : lists[i]) {
        Window w;
        w.siteRva = cs.siteRva;
        w.api = targets[i].name;
        w.className = found[i].second;
        keepHandle(w, stores);
        flow_.windows.push_back(w);
      }
    }
  }

  void subclasses() {
    for (const char *api : {"SetWindowLongPtrW", "SetWindowLongPtrA", "SetWindowLongW", "SetWindowLongA"}) {
      auto globals = resultGlobals(api);
      for (const calls::CallSite &cs : sitesOf(api)) {
        const calls::Argument *i = arg(cs, "nIndex");
        auto proc = codeAddress(arg(cs, "dwNewLong"));
        if (!i || !i->value || *i->value != -4 || !proc)
          continue;
        Procedure &p = procedure(*proc, ProcKind::Subclass);
        if (const calls::Argument *h = arg(cs, "hWnd"))
          subclassed_[*proc].push_back(h->raw);
        for (const auto &[g, site] : globals)
          if (site == cs.siteRva)
            p.previousProcGlobal = g;
      }
    }
    for (const calls::CallSite &cs : sitesOf("SetWindowSubclass"))
      if (auto proc = codeAddress(arg(cs, "pfnSubclass")))
        procedure(*proc, ProcKind::Subclass);
  }

  void defaults(const code::Function &f, Procedure &p) {
    static const std::set<std::string> names = {"DefWindowProcW", "DefWindowProcA", "CallWindowProcW", "CallWindowProcA",
                                                "DefDlgProcW",    "DefDlgProcA",    "DefSubclassProc", "DefFrameProcW",
                                                "DefFrameProcA",  "DefMDIChildProcW", "DefMDIChildProcA"};
    code::Decoder dec(a_.image().is64(), a_.image().imageBase());
    std::vector<const code::Function *> fns{&f};
    for (uint32_t h : p.forwardedTo)
      if (const code::Function *g = a_.functionAt(h))
        fns.push_back(g);
    for (const code::Function *g : fns)
      for (const code::BasicBlock &b : g->blocks) {
        code::DecodedInsn in;
        for (uint32_t pc = b.rva; pc < b.end && dec.decode(a_.image().bytesFromRva(pc), pc, in); pc = in.next()) {
          std::optional<std::string> n;
          if (in.memTarget)
            if (const pe::Import *imp = a_.image().importForIat(*in.memTarget))
              n = imp->name;
          if (!n && in.target)
            n = a_.importThunkAt(*in.target);
          if (n && names.count(*n) && std::find(p.defaults.begin(), p.defaults.end(), *n) == p.defaults.end())
            p.defaults.push_back(*n);
        }
      }
  }

  void sends() {
    std::map<uint32_t, std::string> classOfGlobal;
    std::map<uint32_t, std::string> classOfSite, originOfSite;
    std::vector<PendingSend> pending;
    for (const Window &w : flow_.windows) {
      if (w.handleGlobal && !w.className.empty())
        classOfGlobal[w.handleGlobal] = w.className;
      classOfSite[w.siteRva] = w.className;
      if (w.api.rfind("CreateWindowEx", 0) != 0 && w.api.find("Dialog") == std::string::npos)
        originOfSite[w.siteRva] = "helper";   // a function that returns the window it creates
    }
    // Handles from GetDlgItem(dlg, id) (the control's class from the dialog
    // templates) and FindWindow(class).
    // The id's class in the dialog templates; empty when templates give the
    // same id to controls of different classes.
    auto controlClass = [&](uint32_t id) -> std::string {
      std::set<std::string> found;
      for (const res::Dialog &d : flow_.resources.dialogs)
        for (const res::DialogControl &c : d.controls)
          if (c.id == id)
            found.insert(Knowledge::builtin().canonicalClass(c.className));
      return found.size() == 1 ? *found.begin() : std::string();
    };
    for (const char *api : {"GetDlgItem"})
      for (const calls::CallSite &cs : sitesOf(api))
        if (const calls::Argument *id = arg(cs, "nIDDlgItem"); id && id->kind == "constant" && id->value)
          if (std::string c = controlClass(uint32_t(*id->value)); !c.empty()) {
            classOfSite[cs.siteRva] = c;
            originOfSite[cs.siteRva] = "GetDlgItem";
          }
    for (const char *api : {"FindWindowW", "FindWindowA", "FindWindowExW", "FindWindowExA"})
      for (const calls::CallSite &cs : sitesOf(api)) {
        const calls::Argument *c = arg(cs, "lpClassName") ? arg(cs, "lpClassName") : arg(cs, "lpszClass");
        if (c && c->kind == "string") {
          classOfSite[cs.siteRva] = unquote(c->text);
          originOfSite[cs.siteRva] = "FindWindow";
        }
      }
    parentClasses(classOfGlobal);
    for (const calls::CallSite &cs : sitesOf("GetParent"))
      if (std::string c = parentOfProcedureWindow(cs); !c.empty()) {
        classOfSite[cs.siteRva] = c;
        originOfSite[cs.siteRva] = "parent";
      }
    for (const auto &[g, site] : resultGlobals("GetDlgItem"))
      if (auto it = classOfSite.find(site); it != classOfSite.end() && !it->second.empty())
        classOfGlobal[g] = it->second;
    for (const char *base : {"SendMessage", "PostMessage", "SendMessageTimeout", "SendNotifyMessage",
                             "SendMessageCallback", "PostThreadMessage", "SendDlgItemMessage", "BroadcastSystemMessage",
                             "CallWindowProc", "DefWindowProc", "DispatchMessage"})
      for (const char *suffix : {"W", "A"}) {
        std::string api = std::string(base) + suffix;
        for (const calls::CallSite &cs : sitesOf(api)) {
          Send s;
          s.siteRva = cs.siteRva;
          s.functionRva = cs.functionRva;
          s.api = api;
          const calls::Argument *msg = arg(cs, "Msg");
          if (msg && msg->kind == "constant" && msg->value) {
            s.message = MessageId{uint32_t(*msg->value), ""};
          } else if (msg && msg->raw.kind == Kind::Load && msg->raw.addrKind == Kind::Image) {
            auto it = registered_.find(msg->raw.base + uint32_t(msg->raw.addrOff));
            if (it != registered_.end())
              s.message = MessageId{0, it->second};
          }
          s.messageText = s.message ? messageText(table_, *s.message) : msg ? msg->text : "the message in *lpMsg";
          const calls::Argument *hwnd = arg(cs, "hWnd") ? arg(cs, "hWnd") : arg(cs, "hDlg");
          if (const calls::Argument *m = arg(cs, "lpMsg"))
            s.target = "MSG at " + m->text;
          if (const calls::Argument *item = arg(cs, "nIDDlgItem"); item && item->kind == "constant" && item->value) {
            // SendDlgItemMessage: the control with that id.
            s.target = fmt::format("item {} of {}", *item->value, hwnd ? hwnd->text : "?");
            s.targetClass = controlClass(uint32_t(*item->value));
            s.targetOrigin = s.targetClass.empty() ? "" : "dialog item";
            hwnd = nullptr;
          }
          if (hwnd) {
            s.target = hwnd->text;
            const Value &v = hwnd->raw;
            if (v.kind == Kind::Load && v.addrKind == Kind::Image) {
              auto it = classOfGlobal.find(v.base + uint32_t(v.addrOff));
              if (it != classOfGlobal.end()) {
                s.targetClass = it->second;
                s.targetOrigin = "global";
              }
            } else if (v.kind == Kind::Load && v.off == 0 && v.addrKind != Kind::Unknown && v.addrKind != Kind::Stack) {
              s.targetClass = fieldClass(uint32_t(v.addrOff), cs.functionRva, v.address().withoutOffset());
              s.targetOrigin = s.targetClass.empty() ? "" : "field";
            } else if (v.kind == Kind::Return) {
              auto it = classOfSite.find(v.site);
              if (it != classOfSite.end() && !it->second.empty()) {
                s.targetClass = it->second;
                auto o = originOfSite.find(v.site);
                s.targetOrigin = o != originOfSite.end() ? o->second : "CreateWindowEx";
              }
            } else if (v.kind == Kind::Param && v.off == 0 && isParamIndex(v.base) && !isDefaultCall(api)) {
              pending.push_back({flow_.sends.size(), v.base});
            }
          }
          // A control's own messages are named by its class.
          if (s.message && s.message->registeredName.empty() && !s.targetClass.empty())
            if (const MessageInfo *m = Knowledge::builtin().controlMessage(s.message->id, s.targetClass))
              s.messageText = fmt::format("{} ({:#06x})", m->name, m->id);
          link(s);
          flow_.sends.push_back(std::move(s));
        }
      }
    parameterTargets(pending, classOfGlobal, classOfSite);
    std::sort(flow_.sends.begin(), flow_.sends.end(), [](const Send &x, const Send &y) { return x.siteRva < y.siteRva; });
  }

  // A window handle that is a parameter of the sending function: the
  // procedure's own window (its hwnd parameter), or what every direct caller
  // passes there (followed up to kCallerDepth callers). A recipient is a
  // class and its procedure in this image, when there is one.
  using Recipient = std::pair<std::string, uint32_t>;
  struct PendingSend {
    size_t send = 0;
    uint32_t param = 0;
  };
  static constexpr uint32_t kMaxParam = 16;
  // DefWindowProc and CallWindowProc run a procedure on the message; they
  // do not send it to a window.
  static bool isDefaultCall(const std::string &api) {
    return api.rfind("CallWindowProc", 0) == 0 || api.rfind("DefWindowProc", 0) == 0;
  }
  static bool isParamIndex(uint32_t p) { return p < kMaxParam || p == values::kParamEcx || p == values::kParamEdx; }
  // Where a callee's parameter sits in a call site's arguments.
  static std::optional<size_t> argumentIndex(uint32_t param, const calls::CallSite &cs) {
    if (param == values::kParamEcx || param == values::kParamEdx) {
      size_t i = param == values::kParamEcx ? 0 : 1;
      return i < cs.registerArgs ? std::optional<size_t>(i) : std::nullopt;
    }
    return size_t(param) + cs.registerArgs;
  }
  static constexpr int kCallerDepth = 3;
  static constexpr size_t kMaxCallers = 32;

  bool isProcedure(uint32_t rva) const {
    return std::any_of(flow_.procedures.begin(), flow_.procedures.end(), [&](const Procedure &p) { return p.rva == rva; });
  }
  // The call sites of these functions, found in one pass over the code.
  void prefetchCallers(const std::set<uint32_t> &functions) {
    std::vector<calls::Target> targets;
    std::vector<uint32_t> ids;
    for (uint32_t f : functions)
      if (!callers_.count(f) && !isProcedure(f)) {
        calls::Target t;
        t.directTargets.insert(f);
        targets.push_back(std::move(t));
        ids.push_back(f);
      }
    if (ids.empty())
      return;
    std::vector<const calls::Target *> ptrs;
    for (const calls::Target &t : targets)
      ptrs.push_back(&t);
    calls::FindOptions o;
    o.threads = a_.threads();
    o.maxStackArgs = kMaxParam;
    auto lists = calls::findCallSitesMany(a_, table_, ptrs, o);
    for (size_t i = 0; i < ids.size(); ++i)
      callers_[ids[i]] = std::move(lists[i]);
  }
  const std::vector<calls::CallSite> &callersOf(uint32_t function) {
    prefetchCallers({function});
    return callers_[function];
  }
  uint32_t procedureOfClass(const std::string &cls) const {
    for (const WindowClass &c : flow_.classes)
      if (c.name == cls && c.wndprocRva)
        return c.wndprocRva;
    return 0;
  }
  // False when some path gives no recipient (then nothing is claimed).
  bool recipientsOfParam(uint32_t function, uint32_t param, int depth, std::set<Recipient> &out,
                         const std::map<uint32_t, std::string> &classOfGlobal,
                         const std::map<uint32_t, std::string> &classOfSite) {
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
      std::string cls;
      if (v.kind == Kind::Param && v.off == 0 && isParamIndex(v.base)) {
        if (!recipientsOfParam(cs.functionRva, v.base, depth + 1, out, classOfGlobal, classOfSite))
          return false;
        continue;
      }
      if (v.kind == Kind::Load && v.addrKind == Kind::Image) {
        auto it = classOfGlobal.find(v.base + uint32_t(v.addrOff));
        cls = it == classOfGlobal.end() ? "" : it->second;
      } else if (v.kind == Kind::Return) {
        auto it = classOfSite.find(v.site);
        cls = it == classOfSite.end() ? "" : it->second;
      }
      if (cls.empty())
        return false;
      out.insert({cls, procedureOfClass(cls)});
    }
    return true;
  }
  void parameterTargets(const std::vector<PendingSend> &pending, const std::map<uint32_t, std::string> &classOfGlobal,
                        const std::map<uint32_t, std::string> &classOfSite) {
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
      if (!recipientsOfParam(s.functionRva, ps.param, 0, found, classOfGlobal, classOfSite) || found.size() != 1)
        continue;
      const auto &[cls, proc] = *found.begin();
      bool own = proc == s.functionRva;
      s.targetClass = cls;
      s.targetOrigin = own ? "own window" : "caller";
      if (s.message && s.message->registeredName.empty() && !cls.empty())
        if (const MessageInfo *m = Knowledge::builtin().controlMessage(s.message->id, cls))
          s.messageText = fmt::format("{} ({:#06x})", m->name, m->id);
      s.targets.clear();
      s.exact = false;
      if (!s.message)
        continue;
      if (proc) {
        s.targets.push_back(proc);
        s.exact = true;
      } else {
        link(s);
      }
    }
  }

  struct FieldStore {
    uint32_t offset = 0, function = 0;
    std::string className;
    Value base;   // the structure's address in the store's function
  };
  // Functions reachable from `root` by direct calls and tail jumps, breadth
  // first and bounded: the code that works on the same window's data.
  const std::unordered_set<uint32_t> &reach(uint32_t root) {
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
  // The store in f and the send in g use the same structure: the same
  // function and the same base, or g is reached from f (the creator hands a
  // structure it was given or obtained down), or f is reached from g and
  // obtained the structure by a call of its own
  // (GetWindowLongPtr, GetProp, an allocation): the window's instance data.
  // Not when f got it as a parameter (a caller may point into another
  // structure: &child->left) or loaded it from memory (an array element),
  // and not for siblings under one window procedure, which often hold
  // different structures whose fields share an offset (winefile's
  // Pane.hwndHeader and ChildWnd.left.hwnd).
  bool related(const FieldStore &st, uint32_t g, const Value &sendBase) {
    if (st.function == g)   // the same base, or both the window's data got by calls (Alloc at WM_CREATE, GetWindowLongPtr later)
      return st.base == sendBase || (st.base.kind == Kind::Return && sendBase.kind == Kind::Return);
    const Kind k = st.base.kind;
    if (reach(st.function).count(g))
      return k == Kind::Param || k == Kind::Return;
    return k == Kind::Return && reach(g).count(st.function);
  }
  // The class of the window whose handle related code stored at this field
  // offset with CreateWindowEx; empty when none or when they disagree.
  std::string fieldClass(uint32_t offset, uint32_t function, const Value &base) {
    std::set<std::string> found;
    for (const FieldStore &st : fieldStores_)
      if (st.offset == offset && related(st, function, base))
        found.insert(st.className);
    return found.size() == 1 && !found.begin()->empty() && found.begin()->find('?') == std::string::npos ? *found.begin()
                                                                                                       : std::string();
  }
  // The window procedures (their classes) whose code reaches function f.
  std::set<std::string> ownerClasses(uint32_t f) {
    std::set<std::string> out;
    for (const Procedure &p : flow_.procedures)
      if (p.kind == ProcKind::Window && reach(p.rva).count(f))
        out.insert(p.classes.begin(), p.classes.end());
    return out;
  }
  // Window.parentClass: the parent handle is a global of a known class, or
  // the window of the procedure whose code creates the child.
  void parentClasses(const std::map<uint32_t, std::string> &classOfGlobal) {
    for (const ParentArg &pa : parents_) {
      const Value &v = pa.value;
      Window &w = flow_.windows[pa.window];
      if (v.kind == Kind::Load && v.addrKind == Kind::Image) {
        auto it = classOfGlobal.find(v.base + uint32_t(v.addrOff));
        if (it != classOfGlobal.end())
          w.parentClass = it->second;
      } else if (v.isParam(0) && v.off == 0) {
        // The hwnd parameter: of every window procedure that reaches here.
        if (auto owners = ownerClasses(pa.function); owners.size() == 1)
          w.parentClass = *owners.begin();
      }
    }
  }
  // GetParent(hwnd) where hwnd is a window procedure's own window: the parent
  // class every window of that procedure's classes is created with.
  // A subclass procedure's windows: those whose handle was subclassed.
  std::string parentOfProcedureWindow(const calls::CallSite &cs) {
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
            if (w.className == cls)
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
    return any && parents.size() == 1 ? *parents.begin() : std::string();
  }

  // Which procedures can receive the message sent at s.
  void link(Send &s) {
    if (!s.message || isDefaultCall(s.api))
      return;
    if (!s.targetClass.empty()) {
      for (const WindowClass &c : flow_.classes)
        if (c.name == s.targetClass && c.wndprocRva) {
          s.targets.push_back(c.wndprocRva);
          s.exact = true;
        }
      // Subclass procedures of windows of this class see it first.
      if (s.exact)
        return;
    }
    for (const Procedure &p : flow_.procedures)
      for (const Case &c : p.cases)
        if (c.message == *s.message) {
          s.targets.push_back(p.rva);
          break;
        }
  }

  const Analysis &a_;
  const api::ApiTable &table_;
  calls::CallConventions conv_;
  std::map<uint32_t, std::string> registered_;
  std::unordered_map<uint32_t, std::string> procGlobals_;
  std::map<std::string, std::vector<calls::CallSite>> sites_;
  std::map<std::string, calls::Target> targets_;
  std::vector<FieldStore> fieldStores_;
  std::map<uint32_t, std::pair<uint32_t, std::string>> literalClassSites_;   // CreateWindowEx site -> (function, class)
  struct ParentArg {
    size_t window = 0;
    uint32_t function = 0;
    Value value;
  };
  std::vector<ParentArg> parents_;
  std::map<uint32_t, std::vector<Value>> subclassed_;   // subclass procedure -> the windows' handles
  static constexpr size_t kReachLimit = 4096;
  static constexpr int kReachDepth = 6;
  std::unordered_map<uint32_t, std::unordered_set<uint32_t>> reach_;
  std::map<uint32_t, std::vector<calls::CallSite>> callers_;
  MessageFlow flow_;
};
} // namespace

MessageFlow analyzeMessages(const Analysis &a, const api::ApiTable &table) {
  if (!a.image().codeAnalysisSupported())
    return {};
  return Builder(a, table).build();
}

} // namespace sb::messages
