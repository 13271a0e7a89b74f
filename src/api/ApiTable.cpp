#include "switchboard/api/ApiTable.h"
#include "switchboard/support/Text.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace sb::api {

extern const char *const kBuiltinTableJson;   // ApiTableData.cpp, generated from data/api/win32.json

namespace {
using json = nlohmann::json;

struct KindName {
  const char *name;
  Kind kind;
};
// `_t` kinds are the A/W-neutral spellings "aw" entries use.
const KindName kKinds[] = {
    {"int", Kind::Int},           {"uint", Kind::Uint},         {"flags", Kind::Flags},
    {"long_ptr", Kind::LongPtr},  {"handle", Kind::Handle},     {"hwnd", Kind::Hwnd},
    {"message", Kind::Message},   {"wparam", Kind::WParam},     {"lparam", Kind::LParam},
    {"ptr", Kind::Ptr},           {"string_a", Kind::StringA},  {"string_w", Kind::StringW},
    {"class_a", Kind::ClassA},    {"class_w", Kind::ClassW},    {"resource_a", Kind::ResourceA},
    {"resource_w", Kind::ResourceW}, {"callback", Kind::Callback}, {"guid", Kind::Guid},
    {"ioctl", Kind::Ioctl},       {"unicode_string", Kind::UnicodeString},
    {"UINT", Kind::Uint},         {"DWORD", Kind::Uint},        {"WORD", Kind::Uint},
};

// Kind of a type name; `wide` resolves the A/W-neutral `_t` spellings.
std::optional<Param> parseKind(const std::string &type, bool wide) {
  Param p;
  std::string t = type;
  if (t.size() > 2 && t.compare(t.size() - 2, 2, "_t") == 0 && t.rfind("struct:", 0) != 0)
    t = t.substr(0, t.size() - 2) + (wide ? "_w" : "_a");
  if (t.rfind("enum:", 0) == 0) {
    p.kind = Kind::Enum;
    p.enumName = t.substr(5);
    return p;
  }
  if (t.rfind("struct:", 0) == 0) {
    p.kind = Kind::Struct;
    p.structName = t.substr(7);
    if (size_t open = p.structName.find('['); open != std::string::npos && p.structName.back() == ']') {
      p.countField = p.structName.substr(open + 1, p.structName.size() - open - 2);
      p.structName.resize(open);
      if (p.countField.empty())
        return std::nullopt;
    }
    if (p.structName.size() > 2 && p.structName.compare(p.structName.size() - 2, 2, "_T") == 0)
      p.structName = p.structName.substr(0, p.structName.size() - 2) + (wide ? "W" : "A");
    return p;
  }
  for (const KindName &k : kKinds)
    if (t == k.name) {
      p.kind = k.kind;
      return p;
    }
  return std::nullopt;
}

unsigned sizeOf(const std::string &type, bool is64) {
  if (type == "UINT" || type == "DWORD" || type == "int" || type == "uint" || type == "message" || type == "flags")
    return 4;
  if (type == "WORD")
    return 2;
  return is64 ? 8 : 4;   // pointers, handles, WPARAM/LPARAM
}
} // namespace

const char *kindName(Kind k) {
  for (const KindName &n : kKinds)
    if (n.kind == k)
      return n.name;
  return k == Kind::Enum ? "enum" : k == Kind::Struct ? "struct" : "?";
}

const ApiTable &ApiTable::builtin() {
  static const ApiTable table = [] {
    ApiTable t;
    auto r = t.merge(kBuiltinTableJson);
    (void)r;   // the built-in table is tested; a broken one stays empty
    return t;
  }();
  return table;
}

Expected<bool> ApiTable::merge(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded() || !j.is_object())
    return makeError("API table: not a JSON object");
  if (j.contains("apis") && j["apis"].is_array())
    for (const json &e : j["apis"]) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string())
        return makeError("API table: an entry without a name");
      std::string base = e["name"].get<std::string>();
      bool aw = e.value("aw", false);
      for (int variant = 0; variant < (aw ? 2 : 1); ++variant) {
        bool wide = !aw || variant == 1;
        Api api;
        api.name = aw ? base + (wide ? "W" : "A") : base;
        api.dll = e.value("dll", "");
        api.cdecl = e.value("cc", "stdcall") == "cdecl";
        if (e.contains("params") && e["params"].is_array())
          for (const json &p : e["params"]) {
            if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string())
              return makeError("API table: " + api.name + ": a parameter is not [name, kind]");
            auto param = parseKind(p[1].get<std::string>(), wide);
            if (!param)
              return makeError("API table: " + api.name + ": unknown kind " + p[1].get<std::string>());
            param->name = p[0].get<std::string>();
            api.params.push_back(*param);
          }
        apis_[api.name] = std::move(api);
      }
    }
  if (j.contains("structs") && j["structs"].is_object())
    for (const auto &[name, fields] : j["structs"].items()) {
      if (!fields.is_array())
        return makeError("API table: struct " + name + " is not a list");
      // `_T` structures come in A and W forms.
      bool aw = name.size() > 2 && name.compare(name.size() - 2, 2, "_T") == 0;
      for (int variant = 0; variant < (aw ? 2 : 1); ++variant) {
        bool wide = !aw || variant == 1;
        std::vector<std::pair<std::string, std::string>> list;
        const std::string key = aw ? name.substr(0, name.size() - 2) + (wide ? "W" : "A") : name;
        for (const json &f : fields) {
          if (!f.is_array() || f.size() != 2 || !f[0].is_string() || !f[1].is_string())
            return makeError("API table: struct " + name + ": a field is not [name, type]");
          std::string type = f[1].get<std::string>();
          // ["#pack", "1"]: #pragma pack(1); "#pack32": on x86 only (commdlg.h).
          if (f[0] == "#pack" || f[0] == "#pack32") {
            unsigned n = 0;
            auto [end, ec] = std::from_chars(type.data(), type.data() + type.size(), n);
            if (ec != std::errc() || end != type.data() + type.size() || (n != 1 && n != 2 && n != 4 && n != 8))
              return makeError("API table: struct " + name + ": packing must be 1, 2, 4 or 8");
            (f[0] == "#pack" ? packing_ : packing32_)[key] = n;
            continue;
          }
          if (!parseKind(type, wide))
            return makeError("API table: struct " + name + ": unknown type " + type);
          if (type.size() > 2 && type.compare(type.size() - 2, 2, "_t") == 0)
            type = type.substr(0, type.size() - 2) + (wide ? "_w" : "_a");
          list.emplace_back(f[0].get<std::string>(), type);
        }
        structs_[key] = std::move(list);
      }
    }
  if (j.contains("enums") && j["enums"].is_object())
    for (const auto &[name, values] : j["enums"].items()) {
      if (!values.is_object())
        return makeError("API table: enum " + name + " is not an object");
      for (const auto &[key, v] : values.items()) {
        if (!v.is_string())
          return makeError("API table: enum " + name + ": " + key + " has no name");
        char *end = nullptr;
        long long n = std::strtoll(key.c_str(), &end, 0);
        if (!end || *end)
          return makeError("API table: enum " + name + ": bad value " + key);
        enums_[name][n] = v.get<std::string>();
      }
    }
  if (j.contains("message_ranges") && j["message_ranges"].is_array())
    for (const json &r : j["message_ranges"])
      if (r.is_array() && r.size() == 3 && r[0].is_number_unsigned() && r[1].is_number_unsigned() && r[2].is_string())
        messageRanges_.emplace_back(r[0].get<uint32_t>(), r[1].get<uint32_t>(), r[2].get<std::string>());
  if (j.contains("procedure_fields") && j["procedure_fields"].is_object())
    for (const auto &[api, list] : j["procedure_fields"].items()) {
      if (!list.is_array())
        continue;   // "comment"
      for (const json &e : list) {
        if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_string())
          return makeError("API table: procedure_fields of " + api + ": expected [field path, kind]");
        std::string kind = e[1].get<std::string>();
        if (kind != "dialog" && kind != "hook" && kind != "callback" && kind != "window")
          return makeError("API table: procedure_fields of " + api + ": unknown kind " + kind);
        procedureFields_.push_back({api, e[0].get<std::string>(), kind});
      }
    }
  if (j.contains("ordinals") && j["ordinals"].is_object())
    for (const auto &[dll, byOrdinal] : j["ordinals"].items()) {
      if (!byOrdinal.is_object())
        continue;   // "comment"
      const std::string lower = toLower(dll);
      for (const auto &[ordinal, name] : byOrdinal.items()) {
        unsigned n = 0;
        auto [end, ec] = std::from_chars(ordinal.data(), ordinal.data() + ordinal.size(), n);
        if (ec != std::errc() || end != ordinal.data() + ordinal.size() || n == 0 || n > 0xFFFF || !name.is_string())
          return makeError(fmt::format("ordinal '{}' of {}: expected a number 1..65535 and a name", ordinal, dll));
        ordinals_[{lower, uint16_t(n)}] = name.get<std::string>();
      }
    }
  if (j.contains("cdecl_dlls") && j["cdecl_dlls"].is_array())
    for (const json &d : j["cdecl_dlls"])
      if (d.is_string())
        cdeclDlls_.push_back(d.get<std::string>());
  return true;
}

const Api *ApiTable::find(std::string_view name) const {
  auto it = apis_.find(std::string(name));
  // ntdll's Zw* entry points are the same system-call stubs as its Nt* ones.
  if (it == apis_.end() && name.size() > 2 && name.substr(0, 2) == "Zw")
    it = apis_.find("Nt" + std::string(name.substr(2)));
  return it == apis_.end() ? nullptr : &it->second;
}

std::vector<Field> ApiTable::layout(const std::string &structName, bool is64) const {
  std::vector<Field> out;
  auto it = structs_.find(structName);
  if (it == structs_.end())
    return out;
  unsigned pack = 8;
  if (auto p = packing_.find(structName); p != packing_.end())
    pack = p->second;
  if (auto p = packing32_.find(structName); p != packing32_.end() && !is64)
    pack = p->second;
  unsigned off = 0;
  for (const auto &[name, type] : it->second) {
    unsigned size = sizeOf(type, is64);
    unsigned align = std::min(size, pack);
    off = (off + align - 1) / align * align;
    Field f;
    f.name = name;
    auto p = parseKind(type, true);
    f.kind = p ? p->kind : Kind::Int;
    f.enumName = p ? p->enumName : "";
    f.structName = p ? p->structName : "";
    f.countField = p ? p->countField : "";
    f.offset = off;
    f.size = size;
    out.push_back(f);
    off += size;
  }
  return out;
}

std::optional<std::string> ApiTable::enumText(const std::string &enumName, int64_t value) const {
  auto e = enums_.find(enumName);
  if (e == enums_.end())
    return std::nullopt;
  auto v = e->second.find(value);
  if (v == e->second.end())
    return std::nullopt;
  return v->second;
}

std::optional<std::string> ApiTable::messageName(uint32_t msg) const {
  if (auto n = enumText("message", msg))
    return n;
  for (const auto &[lo, hi, name] : messageRanges_)
    if (msg >= lo && msg <= hi)
      return msg == lo ? name : fmt::format("{}+{}", name, msg - lo);
  return std::nullopt;
}

std::optional<std::string> ApiTable::ordinalName(std::string_view dll, uint16_t ordinal) const {
  const std::string lower = toLower(dll);
  auto it = ordinals_.find({lower, ordinal});
  return it == ordinals_.end() ? std::nullopt : std::optional(it->second);
}

bool ApiTable::isCdeclDll(std::string_view dll) const {
  const std::string lower = toLower(dll);
  for (const std::string &d : cdeclDlls_)
    if (lower == d || (d.back() == '-' && lower.rfind(d, 0) == 0))
      return true;
  return false;
}

std::string ioctlText(uint32_t code) {
  static const char *methods[] = {"METHOD_BUFFERED", "METHOD_IN_DIRECT", "METHOD_OUT_DIRECT", "METHOD_NEITHER"};
  static const char *access[] = {"FILE_ANY_ACCESS", "FILE_READ_ACCESS", "FILE_WRITE_ACCESS",
                                 "FILE_READ_ACCESS|FILE_WRITE_ACCESS"};
  uint32_t device = code >> 16, function = (code >> 2) & 0xFFF;
  std::string dev;
  switch (device) {
  case 0x07: dev = "FILE_DEVICE_DISK"; break;
  case 0x09: dev = "FILE_DEVICE_FILE_SYSTEM"; break;
  case 0x12: dev = "FILE_DEVICE_NETWORK"; break;
  case 0x22: dev = "FILE_DEVICE_UNKNOWN"; break;
  case 0x2D: dev = "FILE_DEVICE_MASS_STORAGE"; break;
  case 0x56: dev = "FILE_DEVICE_KSEC"; break;
  default: dev = fmt::format("{:#x}", device);
  }
  return fmt::format("CTL_CODE({}, {:#x}, {}, {})", dev, function, methods[code & 3], access[(code >> 14) & 3]);
}

std::vector<const Api *> ApiTable::withParamKind(Kind k) const {
  std::vector<const Api *> out;
  for (const auto &[name, api] : apis_)
    if (std::any_of(api.params.begin(), api.params.end(), [&](const Param &p) { return p.kind == k; }))
      out.push_back(&api);
  std::sort(out.begin(), out.end(), [](const Api *x, const Api *y) { return x->name < y->name; });
  return out;
}

} // namespace sb::api
