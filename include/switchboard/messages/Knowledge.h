// The message knowledge base (data/api/messages.json, compiled in): window
// messages with their parameters and how the system delivers them across
// processes, control messages by window class, notification codes.
#pragma once
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::messages {

struct MessageInfo {
  uint32_t id = 0;
  std::string name, wParam, lParam;
  std::string delivery;       // "plain", "in_string:lParam", "in_struct:DRAWITEMSTRUCT", ...
  std::string controlClass;   // for control messages
};

class Knowledge {
public:
  static const Knowledge &builtin();
  Expected<bool> merge(std::string_view json);

  const MessageInfo *message(uint32_t id) const;
  // A control class's message; `cls` may be an alias ("BUTTON", "EDIT").
  const MessageInfo *controlMessage(uint32_t id, std::string_view cls) const;
  // Every control class that defines this id.
  std::vector<const MessageInfo *> controlMessages(uint32_t id) const;
  // By name, window or control message.
  const MessageInfo *find(std::string_view name) const;
  // A WM_NOTIFY code's name ("LVN_ITEMCHANGED"; two names joined by " or "
  // where two controls share a code).
  std::optional<std::string> notification(int32_t code) const;
  // A WM_NOTIFY code by name.
  std::optional<int32_t> notificationCode(std::string_view name) const;
  // A WM_COMMAND notification (HIWORD(wParam)) of a control class ("BN_CLICKED").
  std::optional<std::string> commandNotification(uint32_t code, std::string_view cls) const;
  // Every control class's name for a WM_COMMAND notification code, joined
  // by " or " ("CBN_SELCHANGE or LBN_SELCHANGE"); empty when none.
  std::string commandNotificationNames(uint32_t code) const;
  struct CommandNotification {
    std::string controlClass;
    uint32_t code = 0;
  };
  std::optional<CommandNotification> findCommandNotification(std::string_view name) const;
  // The explanation of a delivery kind ("in_struct:X" -> the in_struct text).
  std::string deliveryText(const std::string &delivery) const;
  std::string canonicalClass(std::string_view cls) const;

private:
  std::map<uint32_t, MessageInfo> messages_;
  std::map<std::string, std::map<uint32_t, MessageInfo>> controls_;
  // The class and the bases it inherits messages from (RichEdit20W, Edit).
  std::vector<std::string> classAndBases(std::string_view cls) const;

  std::map<std::string, std::string> classNames_;   // lower-case alias or class name -> class
  std::map<int32_t, std::string> notifications_;
  std::map<std::string, int32_t> notificationCodes_;   // each name of a code -> the code
  std::map<std::string, std::map<uint32_t, std::string>> commandNotifications_;
  std::map<std::string, std::string> bases_;   // RichEdit20W -> Edit
  std::map<std::string, std::string> delivery_;
};

// Where an id lies: "system", "WM_USER+N (private to the window class)", ...
std::string messageRange(uint32_t id);

} // namespace sb::messages
