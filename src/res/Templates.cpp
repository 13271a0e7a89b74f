#include "switchboard/res/Templates.h"

#include "switchboard/support/ByteReader.h"
#include "switchboard/support/Text.h"

#include <fmt/format.h>

#include <map>

namespace sb::res {
namespace {

constexpr size_t kMaxItems = 4096;

// A NUL-terminated UTF-16 string at pos; pos moves past it.
std::optional<std::string> wstr(const ByteReader &r, uint64_t &pos) {
  std::u16string s;
  for (size_t i = 0; i < 4096; ++i) {
    auto c = r.u16(pos);
    if (!c)
      return std::nullopt;
    pos += 2;
    if (*c == 0)
      return utf16ToUtf8(s);
    s += char16_t(*c);
  }
  return std::nullopt;
}

// sz_Or_Ord: 0 (none), 0xFFFF + ordinal, or a string.
std::optional<std::pair<std::string, std::optional<uint16_t>>> szOrOrd(const ByteReader &r, uint64_t &pos) {
  auto w = r.u16(pos);
  if (!w)
    return std::nullopt;
  if (*w == 0) {
    pos += 2;
    return std::make_pair(std::string(), std::optional<uint16_t>());
  }
  if (*w == 0xFFFF) {
    auto ord = r.u16(pos + 2);
    if (!ord)
      return std::nullopt;
    pos += 4;
    return std::make_pair(std::string(), std::optional<uint16_t>(*ord));
  }
  auto s = wstr(r, pos);
  if (!s)
    return std::nullopt;
  return std::make_pair(*s, std::optional<uint16_t>());
}

std::string controlClass(const std::pair<std::string, std::optional<uint16_t>> &c) {
  if (!c.second)
    return c.first;
  switch (*c.second) {
  case 0x80: return "Button";
  case 0x81: return "Edit";
  case 0x82: return "Static";
  case 0x83: return "ListBox";
  case 0x84: return "ScrollBar";
  case 0x85: return "ComboBox";
  default: return fmt::format("#{:#x}", *c.second);
  }
}

uint64_t align4(uint64_t p) { return (p + 3) & ~uint64_t(3); }
} // namespace

Expected<Dialog> parseDialog(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  Dialog d;
  auto ver = r.u16(0);
  auto sig = r.u16(2);
  if (!ver || !sig)
    return makeError("dialog template is too short");
  d.extended = *ver == 1 && *sig == 0xFFFF;
  uint64_t pos;
  uint16_t count;
  if (d.extended) {
    auto style = r.u32(12);
    auto n = r.u16(16);
    if (!style || !n)
      return makeError("DIALOGEX header is cut");
    d.style = *style;
    count = *n;
    pos = 26;
  } else {
    auto style = r.u32(0);
    auto n = r.u16(8);
    if (!style || !n)
      return makeError("DIALOG header is cut");
    d.style = *style;
    count = *n;
    pos = 18;
  }
  auto menu = szOrOrd(r, pos);
  auto cls = menu ? szOrOrd(r, pos) : std::nullopt;
  auto title = cls ? wstr(r, pos) : std::nullopt;
  if (!title)
    return makeError("dialog header strings are cut");
  d.className = cls->first;
  d.caption = *title;
  if (d.style & 0x40) {   // DS_SETFONT (DS_SHELLFONT includes it)
    pos += d.extended ? 6 : 2;
    auto face = wstr(r, pos);
    if (!face)
      return makeError("dialog font is cut");
    d.font = *face;
  }
  for (size_t i = 0; i < count && i < kMaxItems; ++i) {
    pos = align4(pos);
    DialogControl c;
    if (d.extended) {
      auto style = r.u32(pos + 8);
      auto id = r.u32(pos + 20);
      if (!style || !id)
        return d;   // a partial template: the controls read so far
      c.style = *style;
      c.id = *id;
      pos += 24;
    } else {
      auto style = r.u32(pos);
      auto id = r.u16(pos + 16);
      if (!style || !id)
        return d;
      c.style = *style;
      c.id = *id;
      pos += 18;
    }
    auto ccls = szOrOrd(r, pos);
    auto text = ccls ? szOrOrd(r, pos) : std::nullopt;
    auto extra = text ? r.u16(pos) : std::nullopt;
    if (!extra)
      return d;
    pos += 2 + *extra;
    c.className = controlClass(*ccls);
    c.text = text->second ? fmt::format("#{}", *text->second) : text->first;
    d.controls.push_back(std::move(c));
  }
  return d;
}

namespace {
// The items of one menu level up to the one flagged as its end; a popup's
// items follow it as the next level.
bool readMenuLevel(const ByteReader &r, uint64_t &pos, bool extended, unsigned depth, Menu &m) {
  if (depth > 16)
    return false;
  while (m.items.size() < kMaxItems) {
    MenuItem it;
    it.depth = depth;
    bool end = false;
    if (extended) {
      pos = align4(pos);
      auto id = r.u32(pos + 8);
      auto info = r.u16(pos + 12);
      if (!id || !info)
        return false;
      pos += 14;
      auto text = wstr(r, pos);
      if (!text)
        return false;
      it.id = *id;
      it.text = *text;
      it.popup = *info & 0x01;
      end = *info & 0x80;
      if (it.popup)
        pos = align4(pos) + 4;   // dwHelpId
    } else {
      auto flags = r.u16(pos);
      if (!flags)
        return false;
      pos += 2;
      it.popup = *flags & 0x10;
      end = *flags & 0x80;
      if (!it.popup) {
        auto id = r.u16(pos);
        if (!id)
          return false;
        it.id = *id;
        pos += 2;
      }
      auto text = wstr(r, pos);
      if (!text)
        return false;
      it.text = *text;
    }
    m.items.push_back(it);
    if (it.popup && !readMenuLevel(r, pos, extended, depth + 1, m))
      return false;
    if (end)
      return true;
  }
  return false;
}
} // namespace

Expected<Menu> parseMenu(std::span<const uint8_t> bytes) {
  ByteReader r(bytes);
  Menu m;
  auto ver = r.u16(0);
  auto off = r.u16(2);
  if (!ver || !off)
    return makeError("menu template is too short");
  m.extended = *ver == 1;
  uint64_t pos = m.extended ? 4 + *off : 4;
  readMenuLevel(r, pos, m.extended, 0, m);   // a cut template keeps the items read
  return m;
}

std::vector<StringEntry> parseStringBundle(uint32_t bundleId, std::span<const uint8_t> bytes) {
  std::vector<StringEntry> out;
  if (bundleId == 0)
    return out;
  ByteReader r(bytes);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < 16; ++i) {
    auto len = r.u16(pos);
    if (!len)
      break;
    pos += 2;
    if (*len == 0)
      continue;
    std::u16string s;
    for (uint32_t k = 0; k < *len; ++k) {
      auto c = r.u16(pos + 2 * k);
      if (!c)
        return out;
      s += char16_t(*c);
    }
    pos += 2ull * *len;
    out.push_back({(bundleId - 1) * 16 + i, utf16ToUtf8(s)});
  }
  return out;
}

std::vector<Accelerator> parseAccelerators(std::span<const uint8_t> bytes) {
  std::vector<Accelerator> out;
  ByteReader r(bytes);
  for (uint64_t pos = 0; out.size() < kMaxItems; pos += 8) {
    auto flags = r.u16(pos);
    auto key = r.u16(pos + 2);
    auto id = r.u16(pos + 4);
    if (!flags || !key || !id)
      break;
    out.push_back({uint16_t(*flags & 0x7F), *key, *id});
    if (*flags & 0x80)
      break;
  }
  return out;
}

const Dialog *Resources::dialog(uint32_t id) const {
  for (const Dialog &d : dialogs)
    if (d.id == id)
      return &d;
  return nullptr;
}

std::string Resources::commandName(uint32_t id) const {
  for (const Menu &m : menus)
    for (const MenuItem &it : m.items)
      if (!it.popup && it.id == id)
        return fmt::format("menu \"{}\"", it.text);
  for (const Dialog &d : dialogs)
    for (const DialogControl &c : d.controls)
      if (c.id == id)
        return fmt::format("{} \"{}\" in dialog {}", c.className, c.text, d.name);
  return {};
}

namespace {
// A parsed template named by its resource, or a warning saying why not.
template <class T>
void keep(Expected<T> parsed, const char *what, const std::string &name, uint32_t id, std::vector<T> &into,
          std::vector<std::string> &warnings) {
  if (!parsed) {
    warnings.push_back(fmt::format("{} {}: {}", what, name, parsed.error()));
    return;
  }
  parsed->name = name;
  parsed->id = id;
  into.push_back(parsed.take());
}
} // namespace

Resources readResources(const pe::PeImage &img) {
  Resources out;
  // One language per resource: US English, then neutral, then the first.
  auto rank = [](const pe::ResourceEntry &e) {
    uint32_t lang = e.language.isName ? 0xFFFF : e.language.id;
    return lang == 0x409 ? 0 : lang == 0 ? 1 : (lang & 0x3FF) == 0x09 ? 2 : 3;
  };
  std::map<std::pair<uint32_t, std::string>, const pe::ResourceEntry *> chosen;
  for (const pe::ResourceEntry &e : img.resources()) {
    if (e.type.isName)
      continue;
    auto key = std::make_pair(e.type.id, e.name.text());
    auto it = chosen.find(key);
    if (it == chosen.end() || rank(e) < rank(*it->second))
      chosen[key] = &e;
  }
  for (const auto &[key, ep] : chosen) {
    const pe::ResourceEntry &e = *ep;
    std::span<const uint8_t> bytes = img.bytesFromRva(e.dataRva);
    bytes = bytes.subspan(0, std::min<size_t>(bytes.size(), e.size));
    std::string name = e.name.text();
    uint32_t id = e.name.isName ? 0 : e.name.id;
    switch (e.type.id) {
    case 5:   // RT_DIALOG
      keep(parseDialog(bytes), "dialog", name, id, out.dialogs, out.warnings);
      break;
    case 4:   // RT_MENU
      keep(parseMenu(bytes), "menu", name, id, out.menus, out.warnings);
      break;
    case 6:   // RT_STRING
      for (StringEntry &s : parseStringBundle(id, bytes))
        out.strings.push_back(std::move(s));
      break;
    case 9:   // RT_ACCELERATOR
      for (const Accelerator &a : parseAccelerators(bytes))
        out.accelerators.push_back(a);
      break;
    default: break;
    }
  }
  return out;
}

} // namespace sb::res
