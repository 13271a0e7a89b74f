#include "switchboard/calls/CallSites.h"

#include "code/Decoder.h"
#include "code/ZydisRegisters.h"
#include "switchboard/code/Thunks.h"

#include <algorithm>
#include <charconv>

namespace sb::calls {

CallConventions::CallConventions(const Analysis &a, const api::ApiTable &table)
    : a_(a), table_(table), dec_(a.decoder()) {}

std::optional<int> CallConventions::importPops(const pe::Import &imp) const {
  if (table_.isCdeclDll(imp.dll))
    return 0;
  if (const api::Api *api = table_.find(imp.name))
    return api->cdecl ? 0 : int(4 * api->params.size());
  // A decorated stdcall name says it: Name@12.
  if (size_t at = imp.name.rfind('@'); at != std::string::npos && at + 1 < imp.name.size()) {
    int n = 0;
    auto [p, ec] = std::from_chars(imp.name.data() + at + 1, imp.name.data() + imp.name.size(), n);
    if (ec == std::errc() && p == imp.name.data() + imp.name.size())
      return n;
  }
  return std::nullopt;
}

std::optional<int> CallConventions::stackBytesPopped(uint32_t callee, bool viaIat) const {
  const pe::PeImage &img = a_.image();
  if (img.is64())
    return 0;
  if (viaIat) {
    const pe::Import *imp = img.importForIat(callee);
    return imp ? importPops(*imp) : std::nullopt;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache_.find(callee); it != cache_.end())
      return it->second;
  }
  std::optional<int> pops;
  if (const pe::Import *imp = code::importThunkAt(img, dec_, callee)) {
    pops = importPops(*imp);
  } else if (const code::Function *f = a_.functionAt(code::followJumpStubs(img, dec_, callee))) {
    // The function's own `ret N` (every return of a function pops the same).
    for (const code::BasicBlock &b : f->blocks) {
      code::DecodedInsn in;
      for (uint32_t pc = b.rva; pc < b.end && dec_.decode(img.bytesFromRva(pc), pc, in); pc = in.next())
        if (in.flow == code::Flow::Return && pc + in.insn.length == b.end) {
          pops = in.insn.raw.imm[0].size ? int(in.insn.raw.imm[0].value.u) : 0;
          break;
        }
      if (pops)
        break;
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  cache_[callee] = pops;
  return pops;
}

bool CallConventions::isFrameHelper(uint32_t callee) const {
  // __EH_prolog: push -1; push eax; mov eax, fs:[0]
  static const uint8_t shape[] = {0x6A, 0xFF, 0x50, 0x64, 0xA1, 0x00, 0x00, 0x00, 0x00};
  auto b = a_.image().bytesFromRva(callee);
  return !a_.image().is64() && b.size() >= sizeof shape && std::equal(shape, shape + sizeof shape, b.begin());
}

uint32_t CallConventions::registersKept(uint32_t callee) const {
  const uint32_t volatileRegs = a_.image().is64() ? 0x0F07u : 0x0007u;   // RAX RCX RDX R8-R11 / EAX ECX EDX
  uint32_t w = registersWritten(callee, 0);
  return w == UINT32_MAX ? 0 : volatileRegs & ~w & ~1u;   // RAX: the result
}

// Every register the function (and what it calls) may write; UINT32_MAX
// when that cannot be known (imports, indirect calls or jumps, recursion).
uint32_t CallConventions::registersWritten(uint32_t callee, int depth) const {
  const pe::PeImage &img = a_.image();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = written_.find(callee); it != written_.end())
      return it->second;
  }
  const code::Function *f = a_.functionAt(callee);
  if (!f || f->isImportThunk || depth > 3 || f->blocks.size() > 64)
    return UINT32_MAX;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    written_[callee] = UINT32_MAX;   // while it is computed: recursion is unknown
  }
  uint32_t written = 0;
  ZydisDecodedInstruction d;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (const code::BasicBlock &b : f->blocks) {
    for (uint32_t pc = b.rva; pc < b.end && written != UINT32_MAX; pc += d.length) {
      if (!dec_.decodeFull(img.bytesFromRva(pc), pc, d, ops)) {
        written = UINT32_MAX;
        break;
      }
      for (unsigned i = 0; i < d.operand_count; ++i)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
          if (int r = code::gprIndex(ops[i].reg.value); r >= 0)
            written |= 1u << r;
      const bool call = d.mnemonic == ZYDIS_MNEMONIC_CALL;
      const bool jump = d.meta.category == ZYDIS_CATEGORY_UNCOND_BR;
      if (!call && !jump)
        continue;
      if (ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        bool table = std::any_of(f->jumpTables.begin(), f->jumpTables.end(),
                                 [&](const code::JumpTable &jt) { return jt.jumpRva == pc; });
        if (call || !table)
          written = UINT32_MAX;
        continue;
      }
      uint32_t target = uint32_t(int64_t(pc) + d.length + ops[0].imm.value.s);
      if (!call && f->contains(target))
        continue;
      uint32_t inner = registersWritten(target, depth + 1);
      written = inner == UINT32_MAX ? UINT32_MAX : written | inner;
    }
    if (written == UINT32_MAX)
      break;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  written_[callee] = written;
  return written;
}

} // namespace sb::calls
