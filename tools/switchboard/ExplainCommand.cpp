// `switchboard explain MESSAGE [--class CLASS]`: what a window message is:
// its id, parameters, and how the system delivers it across processes;
// control messages (WM_USER range) resolved by the window class.
#include "Common.h"

#include "switchboard/messages/Knowledge.h"

namespace sb::cli {
namespace {
struct ExplainOptions : CommonOptions {
  std::string cls;
};

json infoJson(const messages::Knowledge &k, const messages::MessageInfo &m) {
  return {{"id", m.id}, {"name", m.name}, {"wParam", m.wParam}, {"lParam", m.lParam}, {"delivery", m.delivery},
          {"delivery_text", k.deliveryText(m.delivery)},
          {"class", m.controlClass.empty() ? json(nullptr) : json(m.controlClass)}};
}

void printInfo(const messages::Knowledge &k, const messages::MessageInfo &m) {
  fmt::print("{} = {:#06x} ({}){}\n", m.name, m.id, messages::messageRange(m.id),
             m.controlClass.empty() ? "" : fmt::format(", a message of the {} control", m.controlClass));
  fmt::print("  wParam: {}\n  lParam: {}\n", m.wParam.empty() ? "-" : m.wParam, m.lParam.empty() ? "-" : m.lParam);
  fmt::print("  delivery: {}: {}\n", m.delivery, k.deliveryText(m.delivery));
}
// A notification name rather than a message: a WM_NOTIFY code (NMHDR.code) or
// a WM_COMMAND notification (HIWORD(wParam)) of a control class.
std::optional<int> explainNotification(const messages::Knowledge &k, const std::string &name, bool asJson) {
  if (std::optional<int32_t> code = k.notificationCode(name)) {
    if (asJson)
      printJson({{"query", name}, {"notification", {{"carrier", "WM_NOTIFY"}, {"code", *code}, {"names", *k.notification(*code)}}}});
    else
      fmt::print("{} = {} ({:#010x}): a WM_NOTIFY code (NMHDR.code); names for this code: {}\n"
                 "  WM_NOTIFY (0x004e) carries a pointer to NMHDR: delivered only within the process (pointer_not_marshalled)\n",
                 name, *code, uint32_t(*code), *k.notification(*code));
    return kExitOk;
  }
  if (auto c = k.findCommandNotification(name)) {
    if (asJson)
      printJson({{"query", name}, {"notification", {{"carrier", "WM_COMMAND"}, {"code", c->code}, {"class", c->controlClass}}}});
    else
      fmt::print("{} = {:#06x}: a WM_COMMAND notification of the {} control, in HIWORD(wParam); LOWORD(wParam) is the\n"
                 "  control id, lParam its HWND; WM_COMMAND (0x0111) is plain: numbers only\n",
                 name, c->code, c->controlClass);
    return kExitOk;
  }
  return std::nullopt;
}
} // namespace

Command explainCommand() {
  auto o = std::make_shared<ExplainOptions>();
  return {"explain", "What a window message is: id, parameters, delivery across processes", Needs::Nothing,
          {Arg::Text, "MESSAGE", "A message name (WM_DRAWITEM, LVM_INSERTITEMW), notification (LVN_ITEMCHANGED, BN_CLICKED) or id (0x402)"},
          o,
          [o](CLI::App &cmd) {
            cmd.add_option("--class", o->cls, "The receiving window's class, for control messages (Button, SysListView32)");
          },
          [o](const Context &c) -> int {
    const std::string &message = c.arg;
    const messages::Knowledge &k = messages::Knowledge::builtin();
    std::vector<const messages::MessageInfo *> found;
    std::optional<uint32_t> id;
    if (!k.find(message))
      if (std::optional<int> shown = explainNotification(k, message, o->json))
        return *shown;
    if (const messages::MessageInfo *m = k.find(message)) {
      found.push_back(m);
    } else {
      char *end = nullptr;
      unsigned long v = std::strtoul(message.c_str(), &end, 0);
      if (!end || *end || message.empty() || v > 0xFFFF) {
        reportError("unknown message '{}'", message);
        return kExitUsage;
      }
      id = uint32_t(v);
      if (!o->cls.empty()) {
        if (const messages::MessageInfo *m = k.controlMessage(*id, o->cls))
          found.push_back(m);
      } else {
        if (const messages::MessageInfo *m = k.message(*id))
          found.push_back(m);
        for (const messages::MessageInfo *m : k.controlMessages(*id))
          found.push_back(m);
      }
    }
    if (o->json) {
      json list = json::array();
      for (const messages::MessageInfo *m : found)
        list.push_back(infoJson(k, *m));
      printJson({{"query", message}, {"range", id ? json(messages::messageRange(*id)) : json(nullptr)}, {"messages", list}});
      return kExitOk;
    }
    if (found.empty()) {
      fmt::print("{:#06x}: {}; no {}message with this id in the knowledge base\n", *id, messages::messageRange(*id),
                 o->cls.empty() ? "" : k.canonicalClass(o->cls) + " ");
      return kExitOk;
    }
    if (found.size() > 1)
      fmt::print("{:#06x} means different things to different window classes:\n\n", found.front()->id);
    for (size_t i = 0; i < found.size(); ++i) {
      if (i)
        fmt::print("\n");
      printInfo(k, *found[i]);
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
