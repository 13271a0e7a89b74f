#include "switchboard/values/Value.h"

#include "switchboard/code/Registers.h"

#include <fmt/format.h>

namespace sb::values {

Value Value::loadFrom(const Value &address, uint32_t site) {
  if (address.kind == Kind::Load && address.addrKind != Kind::Unknown) {
    // [[object] + slot]: a vftable slot.
    Value v = address;
    v.kind = Kind::Slot;
    v.slot = address.off;
    v.off = 0;
    return v;
  }
  if (address.kind == Kind::Unknown || address.kind == Kind::Load || address.kind == Kind::Slot ||
      address.kind == Kind::Const)
    return opaque(site);
  Value v;
  v.kind = Kind::Load;
  v.addrKind = address.kind;
  v.base = address.base;
  v.site = address.site;
  v.addrOff = address.off;
  return v;
}

Value Value::plus(int64_t d) const {
  if (kind == Kind::Unknown)
    return *this;
  Value v = *this;
  v.off = int64_t(uint64_t(v.off) + uint64_t(d));   // wraps like the machine does
  // Stack offsets stay small, so slot arithmetic cannot overflow: a stack
  // pointer moved by more than a terabyte is no stack pointer we track.
  if (v.kind == Kind::Stack && (v.off > (int64_t(1) << 40) || v.off < -(int64_t(1) << 40)))
    return {};
  return v;
}

static std::string withOffset(std::string s, int64_t off) {
  if (off > 0)
    return fmt::format("{}+0x{:x}", s, off);
  if (off < 0)
    return fmt::format("{}-0x{:x}", s, 0 - uint64_t(off));
  return s;
}

std::string Value::describe() const {
  switch (kind) {
  case Kind::Unknown: return "?";
  case Kind::Const: return off < 0 ? fmt::format("-0x{:x}", 0 - uint64_t(off)) : fmt::format("0x{:x}", off);
  case Kind::Image: return withOffset(fmt::format("image:0x{:x}", base), off);
  case Kind::Param:
    return withOffset(registerParamName(base) ? fmt::format("{}@entry", registerParamName(base)) : fmt::format("arg{}", base), off);
  case Kind::Stack: return withOffset("sp@entry", off);
  case Kind::Return: return withOffset(fmt::format("ret(0x{:x}@0x{:x})", base, site), off);
  case Kind::Opaque: return withOffset(fmt::format("def@0x{:x}", site), off);
  case Kind::Load: return withOffset(fmt::format("[{}]", address().describe()), off);
  case Kind::Entry: return withOffset(fmt::format("{}@entry", registerName(base, true)), off);
  case Kind::Slot: return withOffset(fmt::format("[[{}]+0x{:x}]", address().describe(), slot), off);
  }
  return "?";
}

const char *recoveredKind(const Value &v) {
  switch (v.kind) {
  case Kind::Const: return "constant";
  case Kind::Image: return "image_address";
  case Kind::Stack: return "stack_address";
  case Kind::Param: return "param";
  case Kind::Entry: return "nonvolatile";
  case Kind::Return: return "call_result";
  case Kind::Load: return v.addrKind == Kind::Image ? "global_load" : "memory";
  default: return "unknown";
  }
}

const char *registerName(uint32_t index, bool is64) {
  auto r = code::gprFromIndex(index);
  return r ? code::gprName(*r, is64) : "?";
}

} // namespace sb::values
