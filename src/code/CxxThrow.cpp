#include "switchboard/code/CxxThrow.h"

#include "code/Decoder.h"
#include "switchboard/code/Thunks.h"

#include <string_view>

namespace sb::code {
namespace {
constexpr uint32_t kCxxExceptionCode = 0xE06D7363u;   // 'msc' | 0xE0000000

bool namesRaiseException(const pe::Import *imp) {
  if (!imp)
    return false;
  std::string_view n = imp->name;
  if (auto at = n.find('@'); at != std::string_view::npos)   // x86 "_RaiseException@16"
    n = n.substr(0, at);
  return n.ends_with("RaiseException");
}

bool callsRaiseException(const pe::PeImage &img, const Decoder &dec, const DecodedInsn &d) {
  if (d.flow == Flow::IndirectCall && d.memTarget)
    return namesRaiseException(img.importForIat(*d.memTarget));
  if (d.flow == Flow::Call && d.target)
    return namesRaiseException(importThunkAt(img, dec, *d.target));
  return false;
}

// Whether the instruction puts the C++ code into a record: as an immediate it
// stores (not compares), or as the first dword of a template it points at.
bool makesCxxRecord(const image::Image &img, const DecodedInsn &d, const ZydisDecodedInstruction &in,
                    const ZydisDecodedOperand *ops) {
  if (in.mnemonic == ZYDIS_MNEMONIC_CMP || in.mnemonic == ZYDIS_MNEMONIC_TEST)
    return false;
  for (unsigned k = 0; k < in.operand_count_visible; ++k) {
    if (ops[k].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      uint64_t v = ops[k].imm.value.u;
      if (uint32_t(v) == kCxxExceptionCode)
        return true;
      // x86: a relocated absolute address of a record template.
      if (!img.is64())
        if (auto rva = img.vaToRva(v); rva && !img.isExecutableRva(*rva) &&
                                       img.readRva<uint32_t>(*rva) == kCxxExceptionCode)
          return true;
    }
    if (img.is64() && in.mnemonic == ZYDIS_MNEMONIC_LEA && ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY &&
        ops[k].mem.base == ZYDIS_REGISTER_RIP &&
        img.readRva<uint32_t>(uint32_t(int64_t(d.next()) + ops[k].mem.disp.value)) == kCxxExceptionCode)
      return true;
  }
  return false;
}
} // namespace

bool raisesCxxException(const pe::PeImage &img, const Decoder &dec, const Function &f) {
  if (f.isImportThunk || f.blocks.empty() || f.end() - f.rva > 0x200)
    return false;
  // First the cheap question (does it call RaiseException?), then, for the
  // few that do, the operands.
  auto anyInstruction = [&](auto &&test) {
    for (const BasicBlock &b : f.blocks)
      for (uint32_t pc = b.rva; pc < b.end;) {
        DecodedInsn d;
        if (!dec.decode(img.bytesFromRva(pc), pc, d))
          break;
        if (test(d))
          return true;
        pc = d.next();
      }
    return false;
  };
  if (!anyInstruction([&](const DecodedInsn &d) { return callsRaiseException(img, dec, d); }))
    return false;
  return anyInstruction([&](const DecodedInsn &d) {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    return dec.decodeFull(img.bytesFromRva(d.rva), d.rva, in, ops) && makesCxxRecord(img, d, in, ops);
  });
}

} // namespace sb::code
