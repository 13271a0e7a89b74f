// `switchboard messages FILE [--dot]`: the window-message flow: window
// classes and their procedures, the messages each procedure handles, the
// send/post sites and which procedures they reach.
#include "Common.h"
#include "MapsFormat.h"

#include "switchboard/messages/Knowledge.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"
#include "switchboard/support/Quote.h"

namespace sb::cli {
namespace {
struct MessagesOptions : CommonOptions {
  bool dot = false;
};
} // namespace

Command messagesCommand() {
  auto o = std::make_shared<MessagesOptions>();
  return {"messages", "Window-message flow: classes, procedures, handled messages, send sites, edges", Needs::Code, {}, o,
          [o](CLI::App &cmd) { cmd.add_flag("--dot", o->dot, "The message graph in Graphviz DOT"); },
          [o](const Context &ctx) -> int {
    Analysis *a = ctx.analysis;
    // The framework maps first, so that --stats times them apart from the
    // flow (which asks for them).
    ctx.phase("message maps");
    a->messageMaps();
    ctx.phase("message flow");
    const messages::MessageFlow &mf = a->messageFlow();
    ctx.phase("render");
    auto name = [&](uint32_t rva) { return a->describe(rva); };
    if (o->json) {
      json classes = json::array(), procs = json::array(), sends = json::array(), windows = json::array();
      for (const auto &c : mf.classes)
        classes.push_back({{"name", c.name}, {"wndproc_rva", c.wndprocRva ? json(c.wndprocRva) : json(nullptr)},
                           {"site_rva", c.siteRva}, {"wnd_extra", c.wndExtra ? json(*c.wndExtra) : json(nullptr)},
                           {"activex_host", c.activexHost}});
      for (const auto &w : mf.windows)
        windows.push_back({{"site_rva", w.siteRva}, {"api", w.api}, {"class", w.className}, {"title", w.title},
                           {"proc_rva", w.procRva ? json(w.procRva) : json(nullptr)},
                           {"handle_global_rva", w.handleGlobal ? json(w.handleGlobal) : json(nullptr)},
                           {"handle_fields", w.handleFields}, {"parent", w.parent}, {"create_param", w.createParam},
                           {"parent_class", w.parentClass.empty() ? json(nullptr) : json(w.parentClass)},
                           {"cxx_class", w.cxxClass.empty() ? json(nullptr) : json(w.cxxClass)},
                           {"activex_host", w.activexHost}});
      for (const auto &p : mf.procedures) {
        json handles = json::array();
        for (const auto &c : p.cases) {
          json h = {{"message", c.message.registeredName.empty() ? json(c.message.id) : json(nullptr)},
                    {"name", c.text}, {"handler_rva", c.handlerRva}, {"calls", c.calls},
                    {"senders", c.senders}, {"chained_from_rva", c.chainedFrom ? json(c.chainedFrom) : json(nullptr)},
                    {"section", c.section}};
          if (!c.message.registeredName.empty())
            h["registered"] = c.message.registeredName;
          json cmds = json::array(), notes = json::array();
          for (const auto &[id, at] : c.commands)
            cmds.push_back({{"id", id}, {"handler_rva", at}, {"source", mf.resources.commandName(id)}});
          for (const auto &[code, at] : c.notifies)
            notes.push_back({{"code", int32_t(code)}, {"handler_rva", at}});
          for (const auto &[id, at] : c.notifyFrom)
            notes.push_back({{"from_id", id}, {"handler_rva", at}});
          json codes = json::array();
          for (const auto &[code, at] : c.commandCodes)
            codes.push_back({{"code", code}, {"names", messages::Knowledge::builtin().commandNotificationNames(code)},
                             {"handler_rva", at}});
          if (!cmds.empty())
            h["commands"] = cmds;
          if (!codes.empty())
            h["command_codes"] = codes;
          if (!notes.empty())
            h["notifications"] = notes;
          handles.push_back(h);
        }
        json proc = {{"rva", p.rva}, {"name", name(p.rva)}, {"kind", messages::procKindName(p.kind)},
                     {"classes", p.classes}, {"handles", handles}, {"forwarded_to", p.forwardedTo},
                     {"defaults", p.defaults}, {"wrapper_classes", p.wrapperClasses},
                     {"previous_proc_global_rva", p.previousProcGlobal ? json(p.previousProcGlobal) : json(nullptr)},
                     {"cxx_class", p.cxxClass.empty() ? json(nullptr) : json(p.cxxClass)}};
        procs.push_back(std::move(proc));
      }
      for (const auto &s : mf.sends)
        sends.push_back({{"site_rva", s.siteRva}, {"function_rva", s.functionRva}, {"api", s.api},
                         {"message", s.message && s.message->registeredName.empty() ? json(s.message->id) : json(nullptr)},
                         {"message_text", s.messageText}, {"target", s.target}, {"target_class", s.targetClass},
                         {"target_origin", s.targetOrigin.empty() ? json(nullptr) : json(s.targetOrigin)},
                         {"exact", s.exact}, {"targets", s.targets},
                         {"command_id", s.commandId ? json(*s.commandId) : json(nullptr)}});
      json installs = json::array();
      for (const auto &i : mf.installations)
        installs.push_back({{"site_rva", i.siteRva}, {"proc_rva", i.procRva}, {"api", i.api},
                            {"field", i.field.empty() ? json(nullptr) : json(i.field)},
                            {"kind", messages::procKindName(i.kind)}});
      printJson({{"window_classes", classes}, {"windows", windows}, {"procedures", procs}, {"installations", installs},
                 {"sends", sends}, {"message_maps", messageMapsJson(a->messageMaps())}});
      return kExitOk;
    }
    if (o->dot) {
      fmt::print("digraph messages {{\n  rankdir=LR;\n  node [shape=box, fontname=monospace];\n");
      // A procedure's label: its name and kind, then a line per class.
      for (const auto &p : mf.procedures) {
        std::string label = fmt::format("{} ({})", name(p.rva), messages::procKindName(p.kind));
        for (const auto &c : p.classes)
          label += "\n" + c;
        if (!p.cxxClass.empty())
          label += "\nclass " + p.cxxClass;
        fmt::print("  p{:x} [label={}];\n", p.rva, dotString(label));
      }
      for (const auto &s : mf.sends)
        for (uint32_t t : s.targets)
          fmt::print("  f{:x} -> p{:x} [label={}{}];\n", s.functionRva, t, dotString(s.messageText),
                     s.exact ? "" : ", style=dashed");
      for (const auto &s : mf.sends)
        if (!s.targets.empty())
          fmt::print("  f{:x} [label={}, shape=ellipse];\n", s.functionRva, dotString(name(s.functionRva)));
      fmt::print("}}\n");
      return kExitOk;
    }
    fmt::print("Window classes\n");
    for (const auto &c : mf.classes)
      fmt::print("  {:<28} wndproc {}{}\n", c.name, c.wndprocRva ? name(c.wndprocRva) : "?",
                 c.activexHost ? " (ActiveX host)" : "");
    fmt::print("\nProcedures\n");
    for (const auto &p : mf.procedures) {
      std::string cls;
      for (const auto &c : p.classes)
        cls += (cls.empty() ? " for " : ", ") + c;
      if (!p.cxxClass.empty())
        cls += " of class " + p.cxxClass;
      fmt::print("  {} ({}){}{}\n", name(p.rva), messages::procKindName(p.kind), cls,
                 p.wrapperClasses.empty() ? "" : fmt::format("; forwards to the C++ handler of {}", fmt::join(p.wrapperClasses, ", ")));
      for (const auto &c : p.cases) {
        std::vector<std::string> senders;
        for (uint32_t site : c.senders)
          senders.push_back(name(site));
        std::string where;
        if (c.section)
          where += fmt::format(" [ALT_MSG_MAP({})]", c.section);
        if (c.chainedFrom) {
          std::string by = name(c.chainedFrom);
          for (const auto &q : mf.procedures)
            if (q.rva == c.chainedFrom && !q.cxxClass.empty())
              by = q.cxxClass;
          where += " (by the map of " + by + ")";
        }
        fmt::print("    handles {:<32} at {}{}{}\n", c.text, name(c.handlerRva), where,
                   senders.empty() ? "" : "; sent from " + fmt::format("{}", fmt::join(senders, ", ")));
        for (const auto &[id, at] : c.commands) {
          std::string what = mf.resources.commandName(id);
          fmt::print("      command id {}{} at {}\n", id, what.empty() ? "" : " (" + what + ")", name(at));
        }
        for (const auto &[code, at] : c.commandCodes) {
          std::string names = messages::Knowledge::builtin().commandNotificationNames(code);
          fmt::print("      command notification {:#06x}{} at {}\n", code, names.empty() ? "" : " (" + names + ")", name(at));
        }
        for (const auto &[code, at] : c.notifies) {
          auto nm = messages::Knowledge::builtin().notification(int32_t(code));
          fmt::print("      notification code {}{} at {}\n", int32_t(code), nm ? " (" + *nm + ")" : "", name(at));
        }
        for (const auto &[id, at] : c.notifyFrom) {
          std::string what = mf.resources.commandName(id);
          fmt::print("      notification from control {}{} at {}\n", id, what.empty() ? "" : " (" + what + ")", name(at));
        }
      }
      if (!p.defaults.empty())
        fmt::print("    default: {}\n", fmt::join(p.defaults, ", "));
      for (const auto &i : mf.installations)
        if (i.procRva == p.rva)
          fmt::print("    installed by {}{} at {}\n", i.api, i.field.empty() ? "" : " (" + i.field + ")", name(i.siteRva));
    }
    if (!mf.windows.empty()) {
      fmt::print("\nWindows and dialogs created\n");
      for (const auto &w : mf.windows)
        fmt::print("  {}: {}({}{}{}){}{}{}{}{}\n", name(w.siteRva), w.api, w.className.empty() ? "" : w.className + ", ", w.title,
                   w.procRva ? ", " + name(w.procRva) : "", w.handleGlobal ? fmt::format(" -> global {:#x}", w.handleGlobal) : "",
                   w.handleFields.empty() ? "" : fmt::format(" -> field +{:#x}", fmt::join(w.handleFields, ", +0x")),
                   w.parentClass.empty() ? "" : ", parent " + w.parentClass,
                   w.cxxClass.empty() ? "" : ", class " + w.cxxClass, w.activexHost ? " (ActiveX host)" : "");
    }
    printMessageMaps(*a, a->messageMaps());
    fmt::print("\nSends\n");

    for (const auto &s : mf.sends) {
      // Both ends: the procedure, and the case that handles this message.
      std::string to;
      for (uint32_t t : s.targets) {
        std::string where;
        for (const auto &p : mf.procedures)
          if (const messages::Case *c = p.rva == t && s.message ? messages::caseFor(p, *s.message) : nullptr)
            where = " case at " + name(messages::handlerFor(*c, s));
        if (where.empty() && s.exact)
          where = " (not handled: its default path)";
        to += (to.empty() ? "" : ", ") + name(t) + where;
      }
      std::string target = s.target;
      if (!s.targetClass.empty())
        target += fmt::format(" {{{}{}}}", s.targetClass, s.targetOrigin.empty() ? "" : " by " + s.targetOrigin);
      fmt::print("  {}: {}({}, {}){}\n", name(s.siteRva), s.api, target, s.messageText,
                 to.empty() ? "" : fmt::format(" -> {}{}", to, s.exact ? "" : messages::isObjectTarget(s) ? " (the class or a derived one)" : " (by message id)"));
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
