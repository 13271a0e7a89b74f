#include "MapsFormat.h"

#include "switchboard/api/ApiTable.h"

#include <fmt/format.h>

namespace sb::cli {

namespace {
json nullIfZero(uint32_t v) { return v ? json(v) : json(nullptr); }
json nullIfEmpty(const std::string &s) { return s.empty() ? json(nullptr) : json(s); }

std::string entryText(const Analysis &a, const msgmaps::MfcEntry &e) {
  using K = msgmaps::MfcEntryKind;
  auto msg = [&](uint32_t id) {
    auto n = a.apiTable().messageName(id);
    return n ? *n : fmt::format("{:#06x}", id);
  };
  auto ids = [&] { return e.lastId != e.id ? fmt::format("{}..{}", e.id, e.lastId) : fmt::format("{}", e.id); };
  switch (e.kind) {
  case K::Message: return msg(e.message);
  case K::Registered: return fmt::format("registered message in [{:#x}]", e.registeredGlobal);
  case K::Command: return "WM_COMMAND id " + ids();
  case K::UpdateCommandUi: return "UPDATE_COMMAND_UI id " + ids();
  case K::Control: return fmt::format("WM_COMMAND code {:#x} id {}", e.code, ids());
  case K::Notify: return fmt::format("WM_NOTIFY code {} id {}", int16_t(e.code), ids());
  case K::ControlReflect: return fmt::format("reflected WM_COMMAND code {:#x}", e.code);
  case K::NotifyReflect: return fmt::format("reflected WM_NOTIFY code {}", int16_t(e.code));
  case K::Reflect: return "reflected " + msg(e.message - 0xBC00);
  }
  return "?";
}
} // namespace

json messageMapsJson(const msgmaps::MessageMaps &m) {
  json mfc = json::array(), atl = json::array(), classes = json::array(), dialogs = json::array();
  for (const msgmaps::MfcMap &x : m.mfc) {
    json entries = json::array();
    for (const msgmaps::MfcEntry &e : x.entries)
      entries.push_back({{"rva", e.rva}, {"kind", msgmaps::mfcEntryKindName(e.kind)}, {"message", e.message},
                         {"code", e.code}, {"id", e.id}, {"last_id", e.lastId}, {"sig", e.sig},
                         {"signature", nullIfEmpty(e.signature)}, {"member", nullIfEmpty(e.memberName)},
                         {"handler_rva", e.handlerRva}, {"registered_global_rva", nullIfZero(e.registeredGlobal)}});
    mfc.push_back({{"rva", x.rva}, {"class", nullIfEmpty(x.className)}, {"entries_rva", x.entriesRva},
                   {"layout", x.dllLayout ? "pfnGetBaseMap" : "pBaseMap"}, {"base_map_rva", nullIfZero(x.baseMapRva)},
                   {"base_function_rva", nullIfZero(x.baseFunctionRva)}, {"base_import", nullIfEmpty(x.baseImport)},
                   {"get_message_map_rva", nullIfZero(x.getMessageMapRva)},
                   {"get_this_message_map_rva", nullIfZero(x.getThisMessageMapRva)},
                   {"vftable_slot", x.vftableSlot >= 0 ? json(x.vftableSlot) : json(nullptr)},
                   {"truncated", x.truncated}, {"entries", entries}});
  }
  for (const msgmaps::AtlMap &x : m.atl) {
    json sections = json::array(), forwards = json::array();
    for (const msgmaps::AtlSection &s : x.sections)
      sections.push_back({{"id", s.id}, {"entry_rva", s.entryRva}});
    for (const msgmaps::AtlForward &f : x.forwards)
      forwards.push_back({{"site_rva", f.siteRva}, {"target_rva", f.targetRva}, {"section", f.section},
                          {"kind", msgmaps::atlForwardKindName(f.kind)}, {"target_class", nullIfEmpty(f.targetClass)}});
    atl.push_back({{"rva", x.rva}, {"class", nullIfEmpty(x.className)}, {"vftable_rva", nullIfZero(x.vftableRva)},
                   {"sections", sections}, {"forwards", forwards}});
  }
  for (const msgmaps::AtlWindowClass &c : m.atlClasses)
    classes.push_back({{"wndclass_rva", c.wndClassRva}, {"name", c.name}, {"auto_name", c.autoName},
                       {"start_window_proc_rva", c.startWindowProcRva}});
  for (const msgmaps::FrameworkDialog &d : m.dialogs)
    dialogs.push_back({{"class", d.className}, {"template_id", d.templateId}, {"site_rva", d.siteRva}});
  return {{"mfc", mfc},
          {"atl", atl},
          {"atl_window_classes", classes},
          {"atl_window_proc_rvas", m.atlWindowProcs},
          {"dialogs", dialogs},
          {"mfc_hwnd_offset", m.mfcHwndOffset >= 0 ? json(m.mfcHwndOffset) : json(nullptr)},
          {"atl_hwnd_offset", m.atlHwndOffset >= 0 ? json(m.atlHwndOffset) : json(nullptr)},
          {"warnings", m.warnings}};
}

void printMessageMaps(const Analysis &a, const msgmaps::MessageMaps &m) {
  if (m.mfc.empty() && m.atl.empty() && m.atlClasses.empty())
    return;
  auto name = [&](uint32_t rva) { return a.describe(rva); };
  fmt::print("\nMessage maps\n");
  for (const msgmaps::MfcMap &x : m.mfc) {
    std::string base = !x.baseImport.empty() ? x.baseImport : x.baseMapRva ? name(x.baseMapRva) : "none";
    fmt::print("  MFC {} ({}), {} entries, base {}{}\n", name(x.rva), x.dllLayout ? "pfnGetBaseMap" : "pBaseMap",
               x.entries.size(), base, x.getMessageMapRva ? ", GetMessageMap " + name(x.getMessageMapRva) : "");
    for (const msgmaps::MfcEntry &e : x.entries)
      fmt::print("    {:<44} {:<18} {}\n", entryText(a, e),
                 e.kind == msgmaps::MfcEntryKind::Registered ? std::string()
                 : e.signature.empty()                      ? fmt::format("sig {}", e.sig)
                                                            : e.signature,
                 name(e.handlerRva));
  }
  for (const msgmaps::AtlMap &x : m.atl) {
    fmt::print("  ATL {}{}\n", name(x.rva), x.className.empty() ? "" : " for " + x.className);
    for (const msgmaps::AtlSection &s : x.sections)
      if (s.id)
        fmt::print("    ALT_MSG_MAP({}) at {}\n", s.id, name(s.entryRva));
    for (const msgmaps::AtlForward &f : x.forwards)
      fmt::print("    {} {}{} at {}\n", msgmaps::atlForwardKindName(f.kind), name(f.targetRva),
                 f.targetClass.empty() ? "" : " (" + f.targetClass + ")", name(f.siteRva));
  }
  for (const msgmaps::AtlWindowClass &c : m.atlClasses)
    fmt::print("  ATL window class {:<28} wndproc {} (CWndClassInfo at {})\n", c.name, name(c.startWindowProcRva),
               name(c.wndClassRva));
  for (uint32_t p : m.atlWindowProcs)
    fmt::print("  ATL thunk target {}\n", name(p));
  for (const msgmaps::FrameworkDialog &d : m.dialogs)
    fmt::print("  dialog class {} template {} (at {})\n", d.className, d.templateId, name(d.siteRva));
  for (const std::string &w : m.warnings)
    fmt::print("  warning: {}\n", w);
}

} // namespace sb::cli
