// FuncInfo layouts (vcruntime's ehdata.h):
//   x64: magic, maxState, dispUnwindMap, nTryBlocks, dispTryBlockMap, nIPMapEntries,
//        dispIPtoStateMap, dispUnwindHelp, dispESTypeList, EHFlags        (RVAs)
//   x86: magic, maxState, pUnwindMap, nTryBlocks, pTryBlockMap, nIPMapEntries,
//        pIPtoStateMap, pESTypeList, EHFlags                               (VAs)
// UnwindMapEntry {toState, action}; TryBlockMapEntry {tryLow, tryHigh, catchHigh,
// nCatches, pHandlerArray}; HandlerType {adjectives, pType, dispCatchObj,
// addressOfHandler[, dispFrame on x64]}; IptoStateMapEntry {ip, state}.
#include "switchboard/eh/FuncInfo.h"

#include <algorithm>
#include <fmt/format.h>

namespace sb::eh {
namespace {
constexpr int32_t kMaxStates = 1 << 16;
constexpr uint32_t kMaxTryBlocks = 1 << 12;
constexpr uint32_t kMaxCatches = 256;
constexpr uint32_t kMaxIpEntries = 1 << 20;

struct Reader {
  const image::Image &img;
  bool is64;
  std::optional<uint32_t> ptr(uint32_t at) const { return readEhPointer(img, at); }
  std::optional<uint32_t> u32(uint32_t at) const { return img.readRva<uint32_t>(at); }
  std::optional<int32_t> i32(uint32_t at) const { return img.readRva<int32_t>(at); }
};
} // namespace

std::optional<uint32_t> readEhPointer(const image::Image &img, uint32_t rva) {
  auto v = img.readRva<uint32_t>(rva);
  if (!v)
    return std::nullopt;
  if (*v == 0 || img.is64())
    return *v;
  return img.vaToRva(*v);
}

bool isFuncInfoMagic(uint32_t magic) { return magic >= 0x19930520u && magic <= 0x19930522u; }

std::vector<uint32_t> FuncInfo::funclets() const {
  std::vector<uint32_t> out;
  for (const auto &u : unwindMap)
    if (u.actionRva)
      out.push_back(u.actionRva);
  for (const auto &t : tryBlocks)
    for (const auto &h : t.handlers)
      if (h.handlerRva)
        out.push_back(h.handlerRva);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Expected<FuncInfo> readFuncInfo(const image::Image &img, uint32_t rva) {
  Reader r{img, img.is64()};
  FuncInfo fi;
  fi.rva = rva;
  auto magic = r.u32(rva);
  if (!magic)
    return makeError(fmt::format("FuncInfo at 0x{:x} is unreadable", rva));
  fi.magic = *magic & 0x1FFFFFFFu;   // the top bits of EHFlags-era magics are flags on x86
  if (!isFuncInfoMagic(fi.magic))
    return makeError(fmt::format("no FuncInfo magic at 0x{:x} (0x{:08x})", rva, *magic));
  auto maxState = r.i32(rva + 4);
  auto unwindMap = r.ptr(rva + 8);
  auto nTry = r.u32(rva + 12);
  auto tryMap = r.ptr(rva + 16);
  auto nIp = r.u32(rva + 20);
  auto ipMap = r.ptr(rva + 24);
  if (!maxState || !unwindMap || !nTry || !tryMap || !nIp || !ipMap)
    return makeError(fmt::format("FuncInfo at 0x{:x} is truncated", rva));
  if (*maxState < 0 || *maxState > kMaxStates || *nTry > kMaxTryBlocks || *nIp > kMaxIpEntries)
    return makeError(fmt::format("FuncInfo at 0x{:x} has implausible counts", rva));
  fi.maxState = *maxState;
  uint32_t tail = rva + 28;
  if (img.is64()) {
    fi.unwindHelpOffset = r.i32(tail).value_or(0);
    tail += 4;
  }
  if (fi.magic >= 0x19930521u)
    fi.esTypeListRva = r.ptr(tail).value_or(0);
  if (fi.magic >= 0x19930522u)
    fi.flags = r.u32(tail + 4).value_or(0);

  for (int32_t s = 0; s < fi.maxState; ++s) {
    auto to = r.i32(*unwindMap + 8 * s);
    auto action = r.ptr(*unwindMap + 8 * s + 4);
    if (!to || !action)
      return makeError(fmt::format("FuncInfo 0x{:x}: unwind map entry {} is unreadable", rva, s));
    if (*to < -1 || *to >= fi.maxState)
      return makeError(fmt::format("FuncInfo 0x{:x}: unwind map entry {} goes to state {}", rva, s, *to));
    if (*action && !img.isExecutableRva(*action))
      return makeError(fmt::format("FuncInfo 0x{:x}: unwind action {} is not code", rva, s));
    fi.unwindMap.push_back({*to, *action, *action ? UnwindType::Rva : UnwindType::NoUnwind, std::nullopt});
  }
  const uint32_t handlerSize = img.is64() ? 20 : 16;
  for (uint32_t t = 0; t < *nTry; ++t) {
    uint32_t at = *tryMap + 20 * t;
    auto lo = r.i32(at), hi = r.i32(at + 4), ch = r.i32(at + 8);
    auto n = r.u32(at + 12);
    auto arr = r.ptr(at + 16);
    if (!lo || !hi || !ch || !n || !arr)
      return makeError(fmt::format("FuncInfo 0x{:x}: try block {} is unreadable", rva, t));
    if (*n > kMaxCatches)
      return makeError(fmt::format("FuncInfo 0x{:x}: try block {} has {} catches", rva, t, *n));
    TryBlock tb{*lo, *hi, *ch, {}};
    for (uint32_t h = 0; h < *n; ++h) {
      uint32_t hat = *arr + handlerSize * h;
      CatchHandler c;
      auto adj = r.u32(hat);
      auto type = r.ptr(hat + 4);
      auto obj = r.i32(hat + 8);
      auto handler = r.ptr(hat + 12);
      if (!adj || !type || !obj || !handler)
        return makeError(fmt::format("FuncInfo 0x{:x}: handler {}/{} is unreadable", rva, t, h));
      if (!img.isExecutableRva(*handler))
        return makeError(fmt::format("FuncInfo 0x{:x}: catch handler {}/{} is not code", rva, t, h));
      c.adjectives = *adj;
      c.typeDescriptorRva = *type;
      c.catchObjectOffset = *obj;
      c.handlerRva = *handler;
      if (img.is64())
        c.frameOffset = r.u32(hat + 16).value_or(0);
      tb.handlers.push_back(c);
    }
    fi.tryBlocks.push_back(std::move(tb));
  }
  if (*ipMap)
    for (uint32_t i = 0; i < *nIp; ++i) {
      auto ip = r.ptr(*ipMap + 8 * i);
      auto st = r.i32(*ipMap + 8 * i + 4);
      if (!ip || !st)
        return makeError(fmt::format("FuncInfo 0x{:x}: IP-to-state entry {} is unreadable", rva, i));
      fi.ipToState.push_back({*ip, *st});
    }
  return fi;
}

} // namespace sb::eh
