#include "switchboard/messages/Knowledge.h"
#include "switchboard/support/Text.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

namespace sb::messages {

extern const char *const kMessageKnowledgeJson;   // KnowledgeData.cpp, generated from data/api/messages.json

namespace {
using json = nlohmann::json;

std::optional<uint32_t> parseId(const json &j) {
  if (j.is_number_unsigned())
    return j.get<uint32_t>();
  if (!j.is_string())
    return std::nullopt;
  std::string s = j.get<std::string>();
  char *end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 0);
  if (!end || *end || v > 0xFFFF)
    return std::nullopt;
  return uint32_t(v);
}

// Messages (CCM_) that every common control answers.
constexpr const char *kCommonControls = "CommonControls";

} // namespace

const Knowledge &Knowledge::builtin() {
  static const Knowledge k = [] {
    Knowledge x;
    auto r = x.merge(kMessageKnowledgeJson);
    (void)r;   // tested; a broken built-in table stays empty
    return x;
  }();
  return k;
}

Expected<bool> Knowledge::merge(std::string_view text) {
  json j = json::parse(text, nullptr, false, true);
  if (j.is_discarded() || !j.is_object())
    return makeError("message knowledge: not a JSON object");
  auto readInfo = [](const json &e, MessageInfo &m) -> bool {
    auto id = e.contains("id") ? parseId(e["id"]) : std::nullopt;
    if (!id || !e.contains("name") || !e["name"].is_string())
      return false;
    m.id = *id;
    m.name = e["name"].get<std::string>();
    m.wParam = e.value("wParam", "");
    m.lParam = e.value("lParam", "");
    m.delivery = e.value("delivery", "plain");
    return true;
  };
  if (j.contains("messages") && j["messages"].is_array())
    for (const json &e : j["messages"]) {
      MessageInfo m;
      if (!e.is_object() || !readInfo(e, m))
        return makeError("message knowledge: a message without id or name");
      messages_[m.id] = m;
    }
  if (j.contains("controls") && j["controls"].is_object())
    for (const auto &[cls, list] : j["controls"].items()) {
      if (!list.is_array())
        return makeError("message knowledge: control " + cls + " is not a list");
      for (const json &e : list) {
        MessageInfo m;
        if (!e.is_object() || !readInfo(e, m))
          return makeError("message knowledge: a " + cls + " message without id or name");
        m.controlClass = cls;
        controls_[cls][m.id] = m;
      }
      classNames_.emplace(toLower(cls), cls);   // an alias of the same spelling wins
    }
  if (j.contains("class_aliases") && j["class_aliases"].is_object())
    for (const auto &[alias, cls] : j["class_aliases"].items())
      if (cls.is_string())
        classNames_[toLower(alias)] = cls.get<std::string>();
  if (j.contains("notifications") && j["notifications"].is_array())
    for (const json &e : j["notifications"])
      if (e.is_object() && e.contains("code") && e["code"].is_number_integer() && e.contains("name") && e["name"].is_string()) {
        const int32_t code = e["code"].get<int32_t>();
        const std::string names = e["name"].get<std::string>();
        notifications_[code] = names;
        // "UDN_DELTAPOS or TBN_SAVE": two controls share the code.
        for (size_t start = 0; start <= names.size();) {
          size_t end = std::min(names.find(" or ", start), names.size());
          notificationCodes_.emplace(names.substr(start, end - start), code);
          start = end + 4;
        }
      }
  if (j.contains("command_notifications") && j["command_notifications"].is_object())
    for (const auto &[cls, list] : j["command_notifications"].items())
      if (list.is_array())
        for (const json &e : list)
          if (e.is_object() && e.contains("code") && e["code"].is_number_unsigned() && e["code"].get<uint64_t>() <= 0xFFFF &&
              e.contains("name") && e["name"].is_string())
            commandNotifications_[cls][e["code"].get<uint32_t>()] = e["name"].get<std::string>();
  if (j.contains("class_bases") && j["class_bases"].is_object())
    for (const auto &[cls, base] : j["class_bases"].items())
      if (base.is_string())
        bases_[cls] = base.get<std::string>();
  if (j.contains("delivery") && j["delivery"].is_object())
    for (const auto &[kind, textValue] : j["delivery"].items())
      if (textValue.is_string())
        delivery_[kind] = textValue.get<std::string>();
  return true;
}

std::string Knowledge::canonicalClass(std::string_view cls) const {
  auto it = classNames_.find(toLower(cls));
  return it != classNames_.end() ? it->second : std::string(cls);
}

std::vector<std::string> Knowledge::classAndBases(std::string_view cls) const {
  // Bounded: the data could name a cycle.
  std::vector<std::string> out{canonicalClass(cls)};
  for (auto b = bases_.find(out.back()); b != bases_.end() && out.size() < 4; b = bases_.find(out.back()))
    out.push_back(b->second);
  return out;
}

const MessageInfo *Knowledge::message(uint32_t id) const {
  auto it = messages_.find(id);
  return it == messages_.end() ? nullptr : &it->second;
}

const MessageInfo *Knowledge::controlMessage(uint32_t id, std::string_view cls) const {
  // The class itself, then its base (a rich edit is an edit control), then the
  // CCM_ messages every common control answers.
  std::vector<std::string> chain = classAndBases(cls);
  if (controls_.count(chain.front()))
    chain.push_back(kCommonControls);
  for (const std::string &name : chain)
    if (auto c = controls_.find(name); c != controls_.end())
      if (auto it = c->second.find(id); it != c->second.end())
        return &it->second;
  return nullptr;
}

std::vector<const MessageInfo *> Knowledge::controlMessages(uint32_t id) const {
  std::vector<const MessageInfo *> out;
  for (const auto &[cls, list] : controls_)
    if (auto it = list.find(id); it != list.end())
      out.push_back(&it->second);
  return out;
}

const MessageInfo *Knowledge::find(std::string_view name) const {
  for (const auto &[id, m] : messages_)
    if (m.name == name)
      return &m;
  for (const auto &[cls, list] : controls_)
    for (const auto &[id, m] : list)
      if (m.name == name)
        return &m;
  return nullptr;
}

std::optional<std::string> Knowledge::notification(int32_t code) const {
  auto it = notifications_.find(code);
  return it == notifications_.end() ? std::nullopt : std::optional<std::string>(it->second);
}

std::optional<int32_t> Knowledge::notificationCode(std::string_view name) const {
  auto it = notificationCodes_.find(std::string(name));
  return it == notificationCodes_.end() ? std::nullopt : std::optional<int32_t>(it->second);
}

std::optional<std::string> Knowledge::commandNotification(uint32_t code, std::string_view cls) const {
  for (const std::string &name : classAndBases(cls))
    if (auto c = commandNotifications_.find(name); c != commandNotifications_.end())
      if (auto it = c->second.find(code); it != c->second.end())
        return it->second;
  return std::nullopt;
}

std::string Knowledge::commandNotificationNames(uint32_t code) const {
  std::string out;
  for (const auto &[cls, list] : commandNotifications_)
    if (auto it = list.find(code); it != list.end())
      out += (out.empty() ? "" : " or ") + it->second;
  return out;
}

std::optional<Knowledge::CommandNotification> Knowledge::findCommandNotification(std::string_view name) const {
  for (const auto &[cls, list] : commandNotifications_)
    for (const auto &[code, n] : list)
      if (n == name)
        return CommandNotification{cls, code};
  return std::nullopt;
}

std::string Knowledge::deliveryText(const std::string &delivery) const {
  std::string kind = delivery.substr(0, delivery.find(':'));
  auto it = delivery_.find(kind);
  return it == delivery_.end() ? delivery : it->second;
}

std::string messageRange(uint32_t id) {
  if (id < 0x0400)
    return "system message";
  if (id < 0x8000)
    return fmt::format("WM_USER+{} (private to the window class; pointers are not marshalled)", id - 0x0400);
  if (id < 0xC000)
    return fmt::format("WM_APP+{} (private to the application; pointers are not marshalled)", id - 0x8000);
  if (id <= 0xFFFF)
    return "registered with RegisterWindowMessage (its value differs per session)";
  return "reserved by the system";
}

} // namespace sb::messages
