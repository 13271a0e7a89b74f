#include "switchboard/calls/CallSites.h"

#include "switchboard/code/Thunks.h"

#include <algorithm>
#include <charconv>

namespace sb::calls {

CallConventions::CallConventions(const Analysis &a, const api::ApiTable &table)
    : a_(a), table_(table), dec_(a.image().is64(), a.image().imageBase()) {}

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

} // namespace sb::calls
