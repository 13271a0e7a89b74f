// Rendering one recovered value as an argument of a known kind.
#include "switchboard/calls/CallSites.h"

#include "switchboard/support/Quote.h"
#include "switchboard/support/Text.h"
#include "values/Tracker.h"

#include <fmt/format.h>

namespace sb::calls {
using values::Kind;
using values::Value;

namespace {

std::optional<std::string> wideString(const image::Image &img, uint32_t rva, size_t max = 512) {
  return img.wideStringAtRva(rva, max);
}

// A NUL-terminated string built in the frame (`wchar_t name[] = L"..."`:
// immediate stores or copies of constant data): the constant bytes the
// caller stored from `off` on; nullopt when one is unknown or no NUL comes.
std::optional<std::string> stackString(const values::State &s, int64_t off, bool wide, bool is64) {
  std::u16string w;
  std::string n;
  const unsigned unit = wide ? 2 : 1;
  for (size_t i = 0; i < 256; ++i) {
    Value c = s.field(off + int64_t(i * unit), unit, is64);
    if (!c.isConst())
      return std::nullopt;
    uint32_t ch = uint32_t(c.off) & (wide ? 0xFFFF : 0xFF);
    if (ch == 0)
      return i ? std::optional(wide ? utf16ToUtf8(w) : n) : std::nullopt;
    if (wide)
      w += char16_t(ch);
    else
      n += char(ch);
  }
  return std::nullopt;
}

// A structure's field, and the fields of a structure it points to (as
// "ppsp->pfnDlgProc").
void addField(Argument &out, const std::string &name, const Argument &field) {
  out.fields.emplace_back(name, field.text);
  out.fieldValues.push_back(field.value);
  out.fieldStrings.push_back(field.str);
  out.fieldRaw.push_back(field.raw);
  for (size_t i = 0; i < field.fields.size() && i < field.fieldValues.size() && i < field.fieldRaw.size() &&
                     i < field.fieldStrings.size();
       ++i) {
    out.fields.emplace_back(name + "->" + field.fields[i].first, field.fields[i].second);
    out.fieldValues.push_back(field.fieldValues[i]);
    out.fieldStrings.push_back(field.fieldStrings[i]);
    out.fieldRaw.push_back(field.fieldRaw[i]);
  }
}

// The argument is this string (UTF-8; wide: a UTF-16 one converted).
void setString(Argument &out, std::string str, bool wide) {
  out.kind = ArgKind::String;
  out.text = cLiteral(str, wide);
  out.str = std::move(str);
}

bool printable(const std::string &s) {
  if (s.size() < 2)
    return false;
  for (unsigned char c : s)
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t')
      return false;
  return true;
}

std::string guidText(const image::Image &img, uint32_t rva) {
  uint8_t g[16];
  if (!img.copyFromRva(rva, g, 16))
    return fmt::format("image:{:#x}", rva);
  return formatGuid(g);
}

std::string valueText(const Analysis &a, const Value &v, bool is64);

std::string addressText(const Analysis &a, const Value &v, bool is64) {
  switch (v.kind) {
  case Kind::Image: {
    uint32_t rva = v.base + uint32_t(v.off);
    if (auto n = a.nameAt(rva))
      return *n;
    return fmt::format("{}+{:#x}", a.moduleName(), rva);
  }
  default: return valueText(a, v, is64);
  }
}

std::string valueText(const Analysis &a, const Value &v, bool is64) {
  auto plus = [](std::string s, int64_t off) {
    return off ? fmt::format("{}{}{:#x}", s, off < 0 ? "-" : "+", off < 0 ? 0 - uint64_t(off) : uint64_t(off)) : s;
  };
  switch (v.kind) {
  case Kind::Const:
    return v.off < 0 ? fmt::format("-{:#x}", 0 - uint64_t(v.off)) : v.off < 10 ? fmt::format("{}", v.off) : fmt::format("{:#x}", v.off);
  case Kind::Image: return plus(addressText(a, Value::image(v.base), is64), v.off);
  case Kind::Param:
    if (const char *r = values::registerParamName(v.base))
      return plus(fmt::format("{}@entry", r), v.off);
    return plus(fmt::format("arg{}", v.base), v.off);
  case Kind::Stack:
    return v.off < 0 ? fmt::format("&stack[entry-{:#x}]", 0 - uint64_t(v.off)) : fmt::format("&stack[entry+{:#x}]", v.off);
  case Kind::Entry: return plus(fmt::format("{}@entry", values::registerName(v.base, is64)), v.off);
  case Kind::Return: {
    std::string callee = "?";
    if (const pe::Import *imp = a.image().importForIat(v.base))
      callee = imp->name;
    else if (v.base)
      callee = a.describe(v.base);
    return plus(fmt::format("{}()", callee), v.off);
  }
  case Kind::Load: return plus(fmt::format("[{}]", addressText(a, v.address(), is64)), v.off);
  default: return "?";
  }
}


// The value a structure field holds in the image.
Value imageField(const pe::PeImage &img, uint32_t rva, unsigned size) {
  if (size == img.pointerSize()) {
    auto p = img.readPointer(rva);
    if (!p)
      return {};
    if (img.hasRelocationAt(rva) || (img.relocations().empty() && img.vaToRva(*p)))
      if (auto t = img.vaToRva(*p))
        return Value::image(*t);
    return Value::constant(int64_t(*p));
  }
  auto v = size == 2 ? std::optional<uint32_t>(img.readRva<uint16_t>(rva).value_or(0)) : img.readRva<uint32_t>(rva);
  return v ? Value::constant(int64_t(*v)) : Value{};
}
} // namespace

const char *argKindName(ArgKind k) {
  switch (k) {
  case ArgKind::Constant: return "constant";
  case ArgKind::String: return "string";
  case ArgKind::Guid: return "guid";
  case ArgKind::ImageAddress: return "image_address";
  case ArgKind::StackAddress: return "stack_address";
  case ArgKind::Param: return "param";
  case ArgKind::NonVolatile: return "nonvolatile";
  case ArgKind::CallResult: return "call_result";
  case ArgKind::GlobalLoad: return "global_load";
  case ArgKind::Memory: return "memory";
  case ArgKind::Unknown: return "unknown";
  }
  return "unknown";
}

// As values::recoveredKind names them.
ArgKind argKindOf(const Value &v) {
  switch (v.kind) {
  case Kind::Const: return ArgKind::Constant;
  case Kind::Image: return ArgKind::ImageAddress;
  case Kind::Stack: return ArgKind::StackAddress;
  case Kind::Param: return ArgKind::Param;
  case Kind::Entry: return ArgKind::NonVolatile;
  case Kind::Return: return ArgKind::CallResult;
  case Kind::Load: return v.addrKind == Kind::Image ? ArgKind::GlobalLoad : ArgKind::Memory;
  default: return ArgKind::Unknown;
  }
}

// The elements after the first of an array field ("ppsp[1]->pfnDlgProc"),
// as many as its count field says, each as long as its first field says.
static void addArrayElements(const Analysis &a, const api::ApiTable &table, const values::State &s, Argument &out,
                      const api::Field &f, const Value &first, const Argument &element0, bool is64) {
  if (f.countField.empty() || element0.fieldValues.empty() || (first.kind != Kind::Stack && first.kind != Kind::Image))
    return;
  std::optional<int64_t> count;
  for (size_t i = 0; i < out.fields.size() && i < out.fieldValues.size(); ++i)
    if (out.fields[i].first == f.countField)
      count = out.fieldValues[i];
  constexpr int64_t kMaxElements = 16, kMaxStride = 0x1000;
  Value at = first;
  std::optional<int64_t> stride = element0.fieldValues[0];
  api::Param ep{f.name, api::Kind::Struct, "", f.structName, ""};
  for (int64_t k = 1; count && k < std::min(*count, kMaxElements); ++k) {
    if (!stride || *stride <= 0 || *stride > kMaxStride)
      return;
    at = at.plus(*stride);
    Argument e = renderArgument(a, table, s, at, ep, is64);
    addField(out, fmt::format("{}[{}]", f.name, k), e);
    stride = e.fieldValues.empty() ? std::nullopt : e.fieldValues[0];
  }
}

// The fields of the structure param points to, each read by fieldValue
// (from the image or from the caller's frame).
static void addStructFields(const Analysis &a, const api::ApiTable &table, const values::State &s,
                            const api::Param &param, bool is64, Argument &out,
                            const std::function<Value(const api::Field &)> &fieldValue) {
  for (const api::Field &f : table.layout(param.structName, is64)) {
    api::Param fp{f.name, f.kind, f.enumName, f.structName, f.countField};
    Value fv = fieldValue(f);
    Argument fa = renderArgument(a, table, s, fv, fp, is64);
    addField(out, f.name, fa);
    addArrayElements(a, table, s, out, f, fv, fa, is64);
  }
}

Argument renderArgument(const Analysis &a, const api::ApiTable &table, const values::State &s, const Value &v,
                        const api::Param &param, bool is64) {
  const pe::PeImage &img = a.image();
  Argument out;
  out.raw = v;
  out.name = param.name;
  out.kind = argKindOf(v);
  out.text = valueText(a, v, is64);
  if (v.kind == Kind::Const) {
    out.value = v.off;
    uint64_t u = uint64_t(v.off);
    switch (param.kind) {
    case api::Kind::Message:
      if (auto n = table.messageName(uint32_t(u)))
        out.text = fmt::format("{} ({:#06x})", *n, uint32_t(u));
      else
        out.text = fmt::format("{:#06x}", uint32_t(u));
      break;
    case api::Kind::Enum:
      if (auto n = table.enumText(param.enumName, int32_t(u)))
        out.text = fmt::format("{} ({})", *n, int32_t(u));
      break;
    case api::Kind::Ioctl: out.text = fmt::format("{:#010x} {}", uint32_t(u), api::ioctlText(uint32_t(u))); break;
    case api::Kind::ClassA:
    case api::Kind::ClassW:
      if (u && u < 0x10000)
        out.text = fmt::format("atom {:#x}", u);
      break;
    case api::Kind::ResourceA:
    case api::Kind::ResourceW:
      if (u && u < 0x10000)
        out.text = fmt::format("MAKEINTRESOURCE({})", u);
      break;
    case api::Kind::Hwnd:
    case api::Kind::Handle:
    case api::Kind::Ptr:
    case api::Kind::Callback:
    case api::Kind::StringA:
    case api::Kind::StringW:
    case api::Kind::Guid:
    case api::Kind::Struct:
      if (!u)
        out.text = "NULL";
      break;
    default: break;
    }
    return out;
  }
  if (v.kind == Kind::Image) {
    uint32_t rva = v.base + uint32_t(v.off);
    out.value = rva;
    auto ascii = [&]() -> bool {
      if (auto str = img.cstringAtRva(rva, 4096)) {
        setString(out, *str, false);
        return true;
      }
      return false;
    };
    auto wide = [&]() -> bool {
      if (auto str = wideString(img, rva)) {
        setString(out, *str, true);
        return true;
      }
      return false;
    };
    switch (param.kind) {
    case api::Kind::StringA:
    case api::Kind::ClassA:
    case api::Kind::ResourceA: ascii(); break;
    case api::Kind::StringW:
    case api::Kind::ClassW:
    case api::Kind::ResourceW: wide(); break;
    case api::Kind::Guid:
      out.kind = ArgKind::Guid;
      out.text = guidText(img, rva);
      break;
    case api::Kind::UnicodeString: {
      Value buf = imageField(img, rva + (is64 ? 8 : 4), img.pointerSize());
      if (buf.isImage())
        if (auto str = wideString(img, buf.base))
          setString(out, *str, true);
      break;
    }
    case api::Kind::Struct:
      addStructFields(a, table, s, param, is64, out,
                      [&](const api::Field &f) { return imageField(img, rva + f.offset, f.size); });
      break;
    case api::Kind::Callback: break;
    default:
      // Untyped pointers (LPARAM, pointer arguments): a string if it reads as one.
      if (!img.isExecutableRva(rva)) {
        auto w = wideString(img, rva, 256);
        if (w && printable(*w))
          wide();
        else if (auto c = img.cstringAtRva(rva, 256); c && printable(*c))
          ascii();
      }
      break;
    }
    return out;
  }
  if (v.kind == Kind::Stack && param.kind != api::Kind::Struct) {
    const bool wide = param.kind == api::Kind::StringW || param.kind == api::Kind::ClassW || param.kind == api::Kind::ResourceW;
    const bool narrow = param.kind == api::Kind::StringA || param.kind == api::Kind::ClassA || param.kind == api::Kind::ResourceA;
    if (wide || narrow)
      if (auto str = stackString(s, v.off, wide, is64))
        setString(out, *str, wide);
  }
  if (v.kind == Kind::Stack && param.kind == api::Kind::Struct)
    // A structure built on the stack: its fields as the caller wrote them.
    addStructFields(a, table, s, param, is64, out,
                    [&](const api::Field &f) { return s.field(v.off + f.offset, f.size, is64); });
  return out;
}

} // namespace sb::calls
