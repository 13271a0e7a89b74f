// What the value analysis knows about a register, stack slot or memory
// operand at one instruction: a symbolic value with an added offset.
#pragma once
#include <cstdint>
#include <string>

namespace sb::values {

// Parameter numbering: x64 RCX, RDX, R8, R9 are 0..3 and stack parameters
// follow; x86 stack parameters are 0.., and the register parameters of
// thiscall/fastcall are ECX and EDX.
inline constexpr uint32_t kParamEcx = 0x80;
inline constexpr uint32_t kParamEdx = 0x81;
inline constexpr uint32_t kParamEax = 0x82;   // GCC's regparm (EAX, EDX, ECX) for local functions
// "ecx" for kParamEcx (and EDX, EAX); nullptr for stack parameters.
inline const char *registerParamName(uint32_t param) {
  return param == kParamEcx ? "ecx" : param == kParamEdx ? "edx" : param == kParamEax ? "eax" : nullptr;
}
inline uint32_t thisParam(bool is64) { return is64 ? 0 : kParamEcx; }

enum class Kind : uint8_t {
  Unknown,   // nothing known (entry state, or a merge of different values)
  Const,     // off is the constant
  Image,     // an address in the image: base is its RVA, plus off
  Param,     // incoming parameter `base`, plus off
  Stack,     // the stack pointer at entry plus off
  Return,    // what a call returned: base is the callee RVA (0 unknown), at call site `site`
  Opaque,    // some value defined at instruction `site` we cannot express, plus off
  Load,      // the pointer-sized value stored at the address `address()`, plus off
  Entry,     // the value non-volatile register `base` (a code::Gpr) had at entry, plus off
  Slot,      // the pointer at [[address()] + slot]: a vftable slot read through an object's vfptr
};

struct Value {
  Kind kind = Kind::Unknown;
  Kind addrKind = Kind::Unknown;   // Load: the kind of the address it reads
  uint32_t base = 0;               // Image rva, Param index, Return callee, Load: the address's base
  uint32_t site = 0;               // Return/Opaque: defining instruction; Load: the address's site
  int64_t addrOff = 0;             // Load: the address's offset
  int64_t off = 0;
  int64_t slot = 0;                // Slot: the offset in the vftable

  static Value unknown() { return {}; }
  static Value constant(int64_t c) { return {Kind::Const, Kind::Unknown, 0, 0, 0, c, 0}; }
  static Value image(uint32_t rva) { return {Kind::Image, Kind::Unknown, rva, 0, 0, 0, 0}; }
  static Value param(uint32_t index) { return {Kind::Param, Kind::Unknown, index, 0, 0, 0, 0}; }
  static Value stack(int64_t off) { return {Kind::Stack, Kind::Unknown, 0, 0, 0, off, 0}; }
  static Value returned(uint32_t callee, uint32_t site) { return {Kind::Return, Kind::Unknown, callee, site, 0, 0, 0}; }
  static Value opaque(uint32_t site) { return {Kind::Opaque, Kind::Unknown, 0, site, 0, 0, 0}; }
  static Value entry(uint32_t reg) { return {Kind::Entry, Kind::Unknown, reg, 0, 0, 0, 0}; }
  // The value stored at `address` (nullopt-like Opaque when the address is itself a load).
  static Value loadFrom(const Value &address, uint32_t site);

  bool known() const { return kind != Kind::Unknown; }
  bool isConst() const { return kind == Kind::Const; }
  bool isImage() const { return kind == Kind::Image; }
  bool isParam(uint32_t index) const { return kind == Kind::Param && base == index; }
  // The address a Load reads; for a Slot, the address of the object's vfptr.
  Value address() const { return {addrKind, Kind::Unknown, base, site, 0, addrOff, 0}; }
  // The same value without its added offset (the object a field pointer points into).
  Value withoutOffset() const { Value v = *this; v.off = 0; return v; }
  Value plus(int64_t d) const;
  bool operator==(const Value &) const = default;
  std::string describe() const;
};

// What kind of thing was recovered, as the JSON outputs name it: constant,
// image_address, stack_address, param, nonvolatile, call_result,
// global_load, memory or unknown.
const char *recoveredKind(const Value &v);

// "rbx"/"ebx" for a register index 0..15 (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15),
// "?" otherwise: code::gprName of code::Gpr(index).
const char *registerName(uint32_t index, bool is64);

} // namespace sb::values
