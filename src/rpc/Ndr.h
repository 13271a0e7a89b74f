// The NDR format strings MIDL (and widl) compile an interface to, read back:
// the -Oi/-Oif procedure header with its parameter descriptors, and the type
// format string those parameters point into, rendered as IDL. The grammar is
// Microsoft's "MIDL format strings" (ndrtypes.h names the FC_ codes). Every
// read is bounded by the span given; nesting is bounded by kMaxDepth and
// member lists by kMaxMembers, so a hostile format string cannot loop.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sb::rpc::ndr {

inline constexpr unsigned kMaxDepth = 12;
inline constexpr unsigned kMaxMembers = 256;
inline constexpr unsigned kMaxParams = 128;

// PARAM_ATTRIBUTES bits.
inline constexpr uint16_t kMustSize = 0x0001, kIsIn = 0x0008, kIsOut = 0x0010, kIsReturn = 0x0020,
                          kIsBasetype = 0x0040, kIsByValue = 0x0080, kIsSimpleRef = 0x0100;

struct Param {
  uint16_t attributes = 0;
  uint16_t stackOffset = 0;
  uint8_t baseType = 0;      // with kIsBasetype
  uint16_t typeOffset = 0;   // otherwise: into the type format string
};

struct Procedure {
  uint8_t handleType = 0;    // 0: an explicit handle description follows
  uint8_t oiFlags = 0;
  uint32_t rpcFlags = 0;
  uint16_t procNum = 0;
  uint16_t stackSize = 0;
  uint8_t explicitHandle = 0;          // FC_BIND_PRIMITIVE / _GENERIC / _CONTEXT, with handleType 0
  uint16_t explicitHandleOffset = 0;   // its stack offset
  bool oif = false;                    // the -Oif (Oi2) header and parameter descriptors follow
  uint8_t optFlags = 0;
  bool newCorrDesc = false;            // correlation descriptors are 6 bytes (/robust), not 4
  std::vector<Param> params;
  size_t size = 0;                     // bytes of the header and descriptors
};

// The procedure at the start of `format`. oif: whether the interpreter that
// reads it expects the -Oif header (NdrClientCall2/3/4, NdrServerCall2, the
// async forms); -Oi headers carry no parameter descriptors. nullopt when the
// header does not fit or does not make sense.
std::optional<Procedure> parseProcedure(std::span<const uint8_t> format, bool oif, bool is64);

// "unsigned long", "hyper", ... for an FC_ base type; nullptr when it is not one.
const char *baseTypeName(uint8_t fc);

// Renders procedures as IDL against one type format string; the structures
// and unions they use become typedefs (named struct_<offset> / union_<offset>),
// each once.
class IdlWriter {
public:
  IdlWriter(std::span<const uint8_t> types, bool is64) : types_(types), is64_(is64) {}
  // "long Proc1([in] handle_t IDL_handle, [in, string] wchar_t *arg1, [out] long *arg2)".
  std::string procedure(const Procedure &p, std::string_view name);
  // In order of first use.
  const std::vector<std::string> &typedefs() const { return typedefs_; }

private:
  struct Decl {
    std::vector<std::string> attrs;
    std::string type;        // "long", "wchar_t *", "struct_18"
    std::string suffix;      // "[4]" for fixed arrays
  };
  Decl render(size_t offset, unsigned depth);
  Decl renderPointer(size_t offset, unsigned depth);
  Decl renderStruct(size_t offset, unsigned depth);
  Decl renderArray(size_t offset, unsigned depth);
  Decl renderUnion(size_t offset, unsigned depth);
  std::string correlation(size_t offset, const char *attr) const;
  size_t correlationSize() const { return newCorrDesc_ ? 6 : 4; }
  std::optional<uint8_t> u8(size_t o) const;
  std::optional<uint16_t> u16(size_t o) const;
  std::optional<int16_t> s16(size_t o) const;
  std::optional<uint32_t> u32(size_t o) const;

  std::span<const uint8_t> types_;
  bool is64_;
  bool newCorrDesc_ = false;
  std::map<uint16_t, std::string> paramNames_;   // stack offset -> name, for the procedure being written
  std::map<size_t, std::string> named_;          // type offset -> typedef name (set before its body: cycles stop)
  std::vector<std::string> typedefs_;
};

std::string joinDecl(const std::vector<std::string> &attrs, const std::string &type, std::string_view name,
                     const std::string &suffix);

} // namespace sb::rpc::ndr
