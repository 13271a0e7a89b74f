#include "rpc/Ndr.h"

#include "switchboard/support/ByteReader.h"
#include "switchboard/support/Text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace sb::rpc::ndr {
namespace {

// FC_ codes (ndrtypes.h).
enum : uint8_t {
  FC_BYTE = 0x01, FC_CHAR, FC_SMALL, FC_USMALL, FC_WCHAR, FC_SHORT, FC_USHORT, FC_LONG, FC_ULONG, FC_FLOAT,
  FC_HYPER, FC_DOUBLE, FC_ENUM16, FC_ENUM32, FC_IGNORE, FC_ERROR_STATUS_T,
  FC_RP = 0x11, FC_UP, FC_OP, FC_FP,
  FC_STRUCT = 0x15, FC_PSTRUCT, FC_CSTRUCT, FC_CPSTRUCT, FC_CVSTRUCT, FC_BOGUS_STRUCT,
  FC_CARRAY = 0x1b, FC_CVARRAY, FC_SMFARRAY, FC_LGFARRAY, FC_SMVARRAY, FC_LGVARRAY, FC_BOGUS_ARRAY,
  FC_C_CSTRING = 0x22, FC_C_BSTRING, FC_C_SSTRING, FC_C_WSTRING, FC_CSTRING, FC_BSTRING, FC_SSTRING, FC_WSTRING,
  FC_ENCAPSULATED_UNION = 0x2a, FC_NON_ENCAPSULATED_UNION, FC_BYTE_COUNT_POINTER, FC_TRANSMIT_AS,
  FC_REPRESENT_AS, FC_IP, FC_BIND_CONTEXT, FC_BIND_GENERIC, FC_BIND_PRIMITIVE, FC_AUTO_HANDLE, FC_CALLBACK_HANDLE,
  FC_POINTER = 0x36, FC_ALIGNM2, FC_ALIGNM4, FC_ALIGNM8,
  FC_STRUCTPAD1 = 0x3d, FC_STRUCTPAD7 = 0x43,
  FC_NO_REPEAT = 0x46, FC_FIXED_REPEAT, FC_VARIABLE_REPEAT, FC_FIXED_OFFSET, FC_VARIABLE_OFFSET, FC_PP,
  FC_EMBEDDED_COMPLEX = 0x4c,
  FC_CONSTANT_IID = 0x5a, FC_END = 0x5b, FC_PAD = 0x5c,
  FC_HARD_STRUCT = 0xb1, FC_USER_MARSHAL = 0xb4, FC_PIPE = 0xb5, FC_RANGE = 0xb7, FC_INT3264 = 0xb8, FC_UINT3264 = 0xb9,
};

// Oi2 (INTERPRETER_OPT_FLAGS) bits.
constexpr uint8_t kHasExtensions = 0x40;
// INTERPRETER_OPT_FLAGS2 bits.
constexpr uint8_t kHasNewCorrDesc = 0x01;
// Pointer attributes.
constexpr uint8_t kSimplePointer = 0x08;
// Context handle flags.
constexpr uint8_t kContextIn = 0x40, kContextOut = 0x20;

bool isBaseType(uint8_t fc) { return (fc >= FC_BYTE && fc <= FC_ERROR_STATUS_T) || fc == FC_INT3264 || fc == FC_UINT3264; }

unsigned baseTypeSize(uint8_t fc, bool is64) {
  switch (fc) {
  case FC_BYTE: case FC_CHAR: case FC_SMALL: case FC_USMALL: return 1;
  case FC_WCHAR: case FC_SHORT: case FC_USHORT: case FC_ENUM16: return 2;
  case FC_HYPER: case FC_DOUBLE: return 8;
  case FC_INT3264: case FC_UINT3264: return is64 ? 8 : 4;
  default: return 4;
  }
}

} // namespace

const char *baseTypeName(uint8_t fc) {
  switch (fc) {
  case FC_BYTE: return "byte";
  case FC_CHAR: return "char";
  case FC_SMALL: return "small";
  case FC_USMALL: return "unsigned small";
  case FC_WCHAR: return "wchar_t";
  case FC_SHORT: return "short";
  case FC_USHORT: return "unsigned short";
  case FC_LONG: return "long";
  case FC_ULONG: return "unsigned long";
  case FC_FLOAT: return "float";
  case FC_HYPER: return "hyper";
  case FC_DOUBLE: return "double";
  case FC_ENUM16: return "enum16";
  case FC_ENUM32: return "enum32";
  case FC_IGNORE: return "handle_t";
  case FC_ERROR_STATUS_T: return "error_status_t";
  case FC_INT3264: return "__int3264";
  case FC_UINT3264: return "unsigned __int3264";
  default: return nullptr;
  }
}

std::optional<Procedure> parseProcedure(std::span<const uint8_t> format, bool oif, bool is64) {
  const ByteReader b(format);
  Procedure p;
  size_t at = 0;
  auto u8 = [&](size_t o) { return b.u8(o); };
  auto h = u8(0), flags = u8(1);
  if (!h || !flags)
    return std::nullopt;
  p.handleType = *h;
  p.oiFlags = *flags;
  at = 2;
  if (p.oiFlags & 0x08) {
    auto r = b.u32(at);
    if (!r)
      return std::nullopt;
    p.rpcFlags = *r;
    at += 4;
  }
  auto num = b.u16(at), stack = b.u16(at + 2);
  if (!num || !stack)
    return std::nullopt;
  p.procNum = *num;
  p.stackSize = *stack;
  at += 4;
  if (p.handleType == 0) {
    auto kind = u8(at);
    if (!kind)
      return std::nullopt;
    p.explicitHandle = *kind;
    auto off = b.u16(at + 2);
    if (!off)
      return std::nullopt;
    p.explicitHandleOffset = *off;
    switch (*kind) {
    case FC_BIND_PRIMITIVE: at += 4; break;
    case FC_BIND_GENERIC: case FC_BIND_CONTEXT: at += 6; break;
    default: return std::nullopt;
    }
  } else if (p.handleType != FC_AUTO_HANDLE && p.handleType != FC_CALLBACK_HANDLE && p.handleType != FC_BIND_PRIMITIVE &&
             p.handleType != FC_BIND_GENERIC && p.handleType != FC_BIND_CONTEXT) {
    return std::nullopt;
  }
  if (!oif) {
    p.size = at;
    return p;
  }
  auto client = b.u16(at), server = b.u16(at + 2);
  auto opt = u8(at + 4), count = u8(at + 5);
  if (!client || !server || !opt || !count || *count > kMaxParams)
    return std::nullopt;
  p.oif = true;
  p.optFlags = *opt;
  at += 6;
  if (p.optFlags & kHasExtensions) {
    auto size = u8(at), flags2 = u8(at + 1);
    if (!size || !flags2 || *size < 2 || !b.has(at, *size))
      return std::nullopt;
    p.newCorrDesc = (*flags2 & kHasNewCorrDesc) != 0;
    at += *size;
  }
  for (unsigned i = 0; i < *count; ++i) {
    auto attrs = b.u16(at), off = b.u16(at + 2), type = b.u16(at + 4);
    if (!attrs || !off || !type)
      return std::nullopt;
    Param q;
    q.attributes = *attrs;
    q.stackOffset = *off;
    if (q.attributes & kIsBasetype)
      q.baseType = uint8_t(*type & 0xFF);
    else
      q.typeOffset = *type;
    // Parameters lie in the stack frame the header gives.
    if (q.stackOffset >= p.stackSize + (is64 ? 8u : 4u))
      return std::nullopt;
    p.params.push_back(q);
    at += 6;
  }
  p.size = at;
  return p;
}

std::string joinDecl(const std::vector<std::string> &attrs, const std::string &type, std::string_view name,
                     const std::string &suffix) {
  std::string s;
  if (!attrs.empty())
    s = fmt::format("[{}] ", fmt::join(attrs, ", "));
  s += type;
  if (!name.empty()) {
    if (s.empty() || s.back() != '*')
      s += ' ';
    s += name;
  }
  return s + suffix;
}

std::optional<uint8_t> IdlWriter::u8(size_t o) const { return ByteReader(types_).u8(o); }
std::optional<uint16_t> IdlWriter::u16(size_t o) const { return ByteReader(types_).u16(o); }
std::optional<int16_t> IdlWriter::s16(size_t o) const {
  if (auto v = u16(o))
    return int16_t(*v);
  return std::nullopt;
}
std::optional<uint32_t> IdlWriter::u32(size_t o) const { return ByteReader(types_).u32(o); }

// A correlation descriptor (conformance, variance, switch_is): its type byte
// says where the value lives: a top-level parameter (by stack offset), a
// field of the enclosing structure, or a constant.
std::string IdlWriter::correlation(size_t offset, const char *attr) const {
  auto type = u8(offset), op = u8(offset + 1);
  auto off = u16(offset + 2);
  if (!type || !op || !off)
    return {};
  const uint8_t where = *type & 0xF0;
  std::string what;
  if (where == 0x20 || where == 0x40) {   // FC_TOP_LEVEL_CONFORMANCE, FC_TOP_LEVEL_MULTID_CONFORMANCE
    auto it = paramNames_.find(*off);
    what = it != paramNames_.end() ? it->second : fmt::format("stack_0x{:x}", *off);
  } else if (where == 0x30) {             // FC_CONSTANT_CONFORMANCE: a 24-bit constant
    what = std::to_string(uint32_t(*op) << 16 | *off);
  } else {                                // a field of the structure (relative offset)
    what = fmt::format("field_{}", int16_t(*off));
  }
  if (where != 0x30) {
    switch (*op) {
    case 0x00: break;
    case 0x01: what = "*" + what; break;             // FC_DEREFERENCE
    case 0x02: what = what + "/2"; break;            // FC_DIV_2
    case 0x03: what = what + "*2"; break;            // FC_MULT_2
    case 0x04: what = what + "-1"; break;            // FC_SUB_1
    case 0x05: what = what + "+1"; break;            // FC_ADD_1
    default: what = fmt::format("{} /* op 0x{:02x} */", what, *op); break;
    }
  }
  return fmt::format("{}({})", attr, what);
}

IdlWriter::Decl IdlWriter::render(size_t offset, unsigned depth) {
  auto fc = u8(offset);
  if (!fc || depth > kMaxDepth)
    return {{}, fmt::format("/* bad type at {} */ void", offset), {}};
  if (const char *base = baseTypeName(*fc))
    return {{}, base, {}};
  switch (*fc) {
  case FC_RP: case FC_UP: case FC_OP: case FC_FP:
    return renderPointer(offset, depth);
  case FC_C_CSTRING: case FC_C_WSTRING: case FC_C_BSTRING: case FC_C_SSTRING:
    return {{"string"}, *fc == FC_C_WSTRING ? "wchar_t" : "char", {}};
  case FC_CSTRING: case FC_WSTRING: case FC_BSTRING: case FC_SSTRING: {
    auto n = u16(offset + 2);
    return {{"string"}, *fc == FC_WSTRING ? "wchar_t" : "char", n ? fmt::format("[{}]", *n) : "[]"};
  }
  case FC_STRUCT: case FC_PSTRUCT: case FC_CSTRUCT: case FC_CPSTRUCT: case FC_CVSTRUCT: case FC_BOGUS_STRUCT:
  case FC_HARD_STRUCT:
    return renderStruct(offset, depth);
  case FC_CARRAY: case FC_CVARRAY: case FC_SMFARRAY: case FC_LGFARRAY: case FC_SMVARRAY: case FC_LGVARRAY:
  case FC_BOGUS_ARRAY:
    return renderArray(offset, depth);
  case FC_ENCAPSULATED_UNION: case FC_NON_ENCAPSULATED_UNION:
    return renderUnion(offset, depth);
  case FC_IP: {
    // FC_IP FC_CONSTANT_IID <GUID>, or FC_IP FC_PAD <iid_is correlation>.
    if (u8(offset + 1) == FC_CONSTANT_IID && offset + 18 <= types_.size()) {
      const std::string iid = formatGuid(std::span<const uint8_t, 16>(types_.data() + offset + 2, 16));
      return {{}, fmt::format("IUnknown /* {} */ *", iid), {}};
    }
    return {{correlation(offset + 2, "iid_is")}, "IUnknown *", {}};
  }
  case FC_BIND_CONTEXT: {
    std::vector<std::string> attrs{"context_handle"};
    return {attrs, "void *", {}};
  }
  case FC_RANGE: {
    auto type = u8(offset + 1);
    auto lo = u32(offset + 2), hi = u32(offset + 6);
    const char *base = type ? baseTypeName(*type & 0x0F) : nullptr;
    if (!base || !lo || !hi)
      break;
    return {{fmt::format("range({}, {})", int32_t(*lo), int32_t(*hi))}, base, {}};
  }
  case FC_USER_MARSHAL: return {{}, fmt::format("user_marshal_{}", offset), {}};
  case FC_TRANSMIT_AS: case FC_REPRESENT_AS: return {{}, fmt::format("transmit_as_{}", offset), {}};
  case FC_PIPE: return {{}, fmt::format("pipe_{}", offset), {}};
  case FC_BIND_PRIMITIVE: return {{}, "handle_t", {}};
  default: break;
  }
  return {{}, fmt::format("/* FC 0x{:02x} */ void", *fc), {}};
}

IdlWriter::Decl IdlWriter::renderPointer(size_t offset, unsigned depth) {
  const uint8_t kind = *u8(offset);
  auto attrs = u8(offset + 1);
  if (!attrs)
    return {{}, "void *", {}};
  Decl d;
  if (*attrs & kSimplePointer) {
    auto t = u8(offset + 2);
    if (t && (*t == FC_C_CSTRING || *t == FC_C_WSTRING))
      d = {{"string"}, *t == FC_C_WSTRING ? "wchar_t" : "char", {}};
    else if (const char *base = t ? baseTypeName(*t) : nullptr)
      d.type = base;
    else
      d.type = "void";
  } else {
    auto rel = s16(offset + 2);
    if (!rel)
      return {{}, "void *", {}};
    d = render(size_t(int64_t(offset) + 2 + *rel), depth + 1);
  }
  if (kind == FC_UP)
    d.attrs.insert(d.attrs.begin(), "unique");
  else if (kind == FC_FP)
    d.attrs.insert(d.attrs.begin(), "ptr");
  d.type += d.type.ends_with('*') ? "*" : " *";
  return d;
}

IdlWriter::Decl IdlWriter::renderStruct(size_t offset, unsigned depth) {
  if (auto it = named_.find(offset); it != named_.end())
    return {{}, it->second, {}};
  const uint8_t fc = *u8(offset);
  const std::string name = fmt::format("struct_{}", offset);
  named_[offset] = name;
  // Header: FC, alignment, memory size (2); conformant ones an offset to
  // their array (2); FC_BOGUS_STRUCT also an offset to its pointer layout.
  size_t at = offset + 4;
  std::optional<size_t> conformant, pointers;
  if (fc == FC_CSTRUCT || fc == FC_CPSTRUCT || fc == FC_CVSTRUCT || fc == FC_BOGUS_STRUCT) {
    auto rel = s16(at);
    if (rel && *rel)
      conformant = size_t(int64_t(at) + *rel);
    at += 2;
  }
  if (fc == FC_BOGUS_STRUCT) {
    auto rel = s16(at);
    if (rel && *rel)
      pointers = size_t(int64_t(at) + *rel);
    at += 2;
  }
  if (fc == FC_HARD_STRUCT)
    at = offset + 16;
  // FC_PSTRUCT / FC_CPSTRUCT: a pointer layout (FC_PP ... FC_END) first.
  if (u8(at) == FC_PP) {
    for (unsigned n = 0; n < kMaxMembers * 8 && at < types_.size() && u8(at) != FC_END; ++n)
      ++at;
    ++at;
  }
  std::vector<std::string> fields;
  unsigned index = 0;
  for (unsigned n = 0; n < kMaxMembers; ++n, ++at) {
    auto m = u8(at);
    if (!m || *m == FC_END)
      break;
    const std::string field = fmt::format("f{}", index);
    if (const char *base = baseTypeName(*m)) {
      fields.push_back(fmt::format("{} {};", base, field));
      ++index;
    } else if (*m == FC_EMBEDDED_COMPLEX) {
      auto rel = s16(at + 2);
      if (rel) {
        Decl e = render(size_t(int64_t(at) + 2 + *rel), depth + 1);
        fields.push_back(joinDecl(e.attrs, e.type, field, e.suffix) + ";");
        ++index;
      }
      at += 3;
    } else if (*m == FC_POINTER) {
      Decl e{{}, "void *", {}};
      if (pointers) {
        e = renderPointer(*pointers, depth + 1);
        *pointers += 4;
      }
      fields.push_back(joinDecl(e.attrs, e.type, field, e.suffix) + ";");
      ++index;
    } else if (*m == FC_ALIGNM2 || *m == FC_ALIGNM4 || *m == FC_ALIGNM8 || *m == FC_PAD ||
               (*m >= FC_STRUCTPAD1 && *m <= FC_STRUCTPAD7)) {
      continue;
    } else {
      break;   // not a member layout: stop rather than guess
    }
  }
  if (conformant) {
    Decl e = render(*conformant, depth + 1);
    fields.push_back(joinDecl(e.attrs, e.type, fmt::format("f{}", index), "[]") + ";");
  }
  std::string body;
  for (const std::string &f : fields)
    body += "    " + f + "\n";
  typedefs_.push_back(fmt::format("typedef struct {{\n{}}} {};", body, name));
  return {{}, name, {}};
}

IdlWriter::Decl IdlWriter::renderArray(size_t offset, unsigned depth) {
  const uint8_t fc = *u8(offset);
  size_t at = offset + 2;
  std::vector<std::string> attrs;
  std::string suffix;
  auto element = [&](size_t from) -> Decl {
    size_t e = from;
    if (u8(e) == FC_PP)   // a pointer layout precedes the element
      for (unsigned n = 0; n < kMaxMembers * 8 && e < types_.size() && u8(e) != FC_END; ++n)
        ++e;
    if (u8(e) == FC_END)
      ++e;
    if (u8(e) == FC_EMBEDDED_COMPLEX) {
      auto rel = s16(e + 2);
      return rel ? render(size_t(int64_t(e) + 2 + *rel), depth + 1) : Decl{{}, "void", {}};
    }
    auto b = u8(e);
    const char *base = b ? baseTypeName(*b) : nullptr;
    return {{}, base ? base : "byte", {}};
  };
  Decl elem;
  switch (fc) {
  case FC_CARRAY:   // alignment, element size (2), conformance, element
    attrs.push_back(correlation(at + 2, "size_is"));
    elem = element(at + 2 + correlationSize());
    break;
  case FC_CVARRAY:  // alignment, element size (2), conformance, variance, element
    attrs.push_back(correlation(at + 2, "size_is"));
    attrs.push_back(correlation(at + 2 + correlationSize(), "length_is"));
    elem = element(at + 2 + 2 * correlationSize());
    break;
  case FC_SMFARRAY: case FC_LGFARRAY: {   // alignment, total size (2 or 4), element
    const size_t width = fc == FC_SMFARRAY ? 2 : 4;
    elem = element(at + width);
    auto total = width == 2 ? std::optional<uint32_t>(u16(at).value_or(0)) : u32(at);
    auto b = u8(at + width);
    const unsigned size = b && isBaseType(*b) ? baseTypeSize(*b, is64_) : 0;
    suffix = size && total ? fmt::format("[{}]", *total / size) : "[]";
    break;
  }
  case FC_SMVARRAY: case FC_LGVARRAY: {   // alignment, total size, count, element size (2), variance, element
    const size_t width = fc == FC_SMVARRAY ? 2 : 4;
    auto count = width == 2 ? std::optional<uint32_t>(u16(at + 2).value_or(0)) : u32(at + 4);
    const size_t variance = at + 2 * width + 2;
    attrs.push_back(correlation(variance, "length_is"));
    elem = element(variance + correlationSize());
    suffix = count ? fmt::format("[{}]", *count) : "[]";
    break;
  }
  case FC_BOGUS_ARRAY: {   // alignment, count (2), conformance, variance, element
    auto count = u16(at);
    if (u32(at + 2) != 0xFFFFFFFFu)
      attrs.push_back(correlation(at + 2, "size_is"));
    if (u32(at + 2 + correlationSize()) != 0xFFFFFFFFu)
      attrs.push_back(correlation(at + 2 + correlationSize(), "length_is"));
    elem = element(at + 2 + 2 * correlationSize());
    if (count && *count)
      suffix = fmt::format("[{}]", *count);
    break;
  }
  default: break;
  }
  std::erase(attrs, std::string());
  elem.attrs.insert(elem.attrs.end(), attrs.begin(), attrs.end());
  elem.suffix = suffix + elem.suffix;
  return elem;
}

IdlWriter::Decl IdlWriter::renderUnion(size_t offset, unsigned depth) {
  if (auto it = named_.find(offset); it != named_.end())
    return {{}, it->second, {}};
  const uint8_t fc = *u8(offset);
  const std::string name = fmt::format("union_{}", offset);
  named_[offset] = name;
  auto switchType = u8(offset + 1);
  const char *sw = switchType ? baseTypeName(*switchType & 0x0F) : nullptr;
  std::vector<std::string> attrs;
  size_t arms = 0;
  if (fc == FC_NON_ENCAPSULATED_UNION) {
    // switch type, switch_is correlation, offset to the size and arms (2).
    attrs.push_back(correlation(offset + 2, "switch_is"));
    const size_t rel = offset + 2 + correlationSize();
    auto r = s16(rel);
    arms = r ? size_t(int64_t(rel) + *r) : 0;
  } else {
    arms = offset + 2;
  }
  std::string body;
  auto size = u16(arms), count = u16(arms + 2);
  size_t at = arms + 4;
  const unsigned n = count ? std::min<unsigned>(*count & 0x0FFF, kMaxMembers) : 0;
  for (unsigned i = 0; size && i < n; ++i, at += 6) {
    auto value = u32(at);
    auto arm = u16(at + 4);
    if (!value || !arm)
      break;
    std::string decl;
    if ((*arm & 0xFF00) == 0x8000) {
      const char *base = baseTypeName(uint8_t(*arm & 0xFF));
      decl = fmt::format("{} f{};", base ? base : "byte", i);
    } else if (*arm == 0) {
      decl = ";";
    } else {
      Decl e = render(size_t(int64_t(at + 4) + int16_t(*arm)), depth + 1);
      decl = joinDecl(e.attrs, e.type, fmt::format("f{}", i), e.suffix) + ";";
    }
    body += fmt::format("    [case({})] {}\n", int32_t(*value), decl);
  }
  if (auto def = u16(at); def && *def != 0xFFFF) {
    if (*def == 0)
      body += "    [default] ;\n";
    else if ((*def & 0xFF00) == 0x8000)
      body += fmt::format("    [default] {} f{};\n", baseTypeName(uint8_t(*def & 0xFF)) ? baseTypeName(uint8_t(*def & 0xFF)) : "byte", n);
  }
  typedefs_.push_back(fmt::format("typedef [switch_type({})] union {{\n{}}} {};", sw ? sw : "long", body, name));
  std::erase(attrs, std::string());
  return {attrs, name, {}};
}

std::string IdlWriter::procedure(const Procedure &p, std::string_view name) {
  newCorrDesc_ = p.newCorrDesc;
  paramNames_.clear();
  std::vector<std::string> params;
  std::string returns = "void";
  unsigned index = 0;
  // Names first: size_is / switch_is name parameters by stack offset.
  for (const Param &q : p.params)
    if (!(q.attributes & kIsReturn))
      paramNames_[q.stackOffset] = fmt::format("arg{}", index++);
  const bool primitiveHandle = p.handleType == 0 && p.explicitHandle == FC_BIND_PRIMITIVE;
  bool handleListed = false;
  for (const Param &q : p.params) {
    Decl d;
    if (primitiveHandle && q.stackOffset == p.explicitHandleOffset) {
      d.type = "handle_t";
      handleListed = true;
    } else if (q.attributes & kIsBasetype) {
      const char *base = baseTypeName(q.baseType);
      d.type = base ? base : fmt::format("/* FC 0x{:02x} */ long", q.baseType);
    } else {
      d = render(q.typeOffset, 0);
      if ((q.attributes & kIsSimpleRef) && !d.type.ends_with('*'))
        d.type += " *";
      else if (q.attributes & kIsSimpleRef)
        d.type += "*";
    }
    if (q.attributes & kIsReturn) {
      returns = d.type;
      continue;
    }
    std::vector<std::string> attrs;
    if (q.attributes & kIsIn)
      attrs.push_back("in");
    if (q.attributes & kIsOut)
      attrs.push_back("out");
    attrs.insert(attrs.end(), d.attrs.begin(), d.attrs.end());
    params.push_back(joinDecl(attrs, d.type, paramNames_[q.stackOffset], d.suffix));
  }
  if (primitiveHandle && !handleListed)
    params.insert(params.begin(), "[in] handle_t IDL_handle");
  return fmt::format("{} {}({})", returns, name, fmt::join(params, ", "));
}

} // namespace sb::rpc::ndr
