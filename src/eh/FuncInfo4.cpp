// FuncInfo4, the compressed C++ EH data of __CxxFrameHandler4 (vcruntime's
// ehdata4_export.h). Integers are "compressed unsigned": the low bits of the
// first byte give the length (x0: 1 byte, value >> 1; x01: 2 bytes, >> 2;
// x011: 3 bytes, >> 3; 0111: 4 bytes, >> 4; 1111: a 4-byte value follows).
// RVAs are plain 32-bit integers.
//   header byte; [BBT flags]; [unwind map RVA]; [try-block map RVA];
//   IP-to-state map RVA; [catch funclet: frame offset]
//   unwind map:  count; per entry: (nextOffset << 2 | type); [action RVA];
//                [object offset for Dtor* types]. nextOffset counts bytes
//                back from the entry's start to the entry of the next state.
//   try-block map: count; per try: tryLow, tryHigh, catchHigh, handler map RVA
//   handler map: count; per handler: flags byte (adjectives 1, type 2,
//                catch object 4, continuations are RVAs 8, continuation count
//                0x30); [adjectives]; [type RVA]; [catch object offset];
//                handler RVA; continuations (RVAs or offsets from the function)
//   IP-to-state: count; per entry: IP delta, state + 1
//   separated:   count; per segment: segment RVA, its IP-to-state map RVA
#include "switchboard/eh/FuncInfo.h"

#include <fmt/format.h>
#include <map>

namespace sb::eh {
namespace {
constexpr uint32_t kMaxCount = 1 << 16;

class Reader {
public:
  Reader(const image::Image &img, uint32_t rva) : img_(img), pos_(rva) {}
  uint32_t pos() const { return pos_; }
  bool ok() const { return ok_; }

  uint32_t u() {   // compressed unsigned
    auto b = img_.readRva<uint8_t>(pos_);
    if (!b)
      return fail();
    uint32_t len = (*b & 1) == 0 ? 1 : (*b & 3) == 1 ? 2 : (*b & 7) == 3 ? 3 : (*b & 15) == 7 ? 4 : 5;
    uint64_t raw = 0;
    for (uint32_t i = 0; i < len; ++i) {
      auto x = img_.readRva<uint8_t>(pos_ + i);
      if (!x)
        return fail();
      raw |= uint64_t(*x) << (8 * i);
    }
    pos_ += len;
    if (len == 5)
      return uint32_t(raw >> 8);
    return uint32_t(raw >> len);
  }
  int32_t i32() {   // a plain 32-bit integer (RVAs)
    auto v = img_.readRva<int32_t>(pos_);
    if (!v)
      return int32_t(fail());
    pos_ += 4;
    return *v;
  }
  uint8_t byte() {
    auto v = img_.readRva<uint8_t>(pos_);
    if (!v)
      return uint8_t(fail());
    pos_ += 1;
    return *v;
  }

private:
  uint32_t fail() {
    ok_ = false;
    return 0;
  }
  const image::Image &img_;
  uint32_t pos_;
  bool ok_ = true;
};

std::optional<Error> readIpMap(const image::Image &img, uint32_t rva, uint32_t start, FuncInfo &fi) {
  Reader r(img, rva);
  uint32_t n = r.u();
  if (!r.ok() || n > kMaxCount)
    return makeError(fmt::format("FuncInfo4 0x{:x}: IP-to-state map at 0x{:x} is unreadable", fi.rva, rva));
  uint32_t ip = start;
  for (uint32_t i = 0; i < n; ++i) {
    ip += r.u();
    int32_t state = int32_t(r.u()) - 1;
    if (!r.ok())
      return makeError(fmt::format("FuncInfo4 0x{:x}: IP-to-state entry {} is unreadable", fi.rva, i));
    fi.ipToState.push_back({ip, state});
  }
  return std::nullopt;
}
} // namespace

Expected<FuncInfo> readFuncInfo4(const image::Image &img, uint32_t rva, uint32_t functionBegin) {
  FuncInfo fi;
  fi.format = EhFormat::FH4;
  fi.rva = rva;
  Reader r(img, rva);
  fi.fh4Flags = r.byte();
  if (!r.ok())
    return makeError(fmt::format("FuncInfo4 at 0x{:x} is unreadable", rva));
  if (fi.fh4Flags & 0x80)
    return makeError(fmt::format("FuncInfo4 at 0x{:x} has the reserved header bit set", rva));
  if (fi.fh4Flags & 4)
    (void)r.u();   // BBT flags
  int32_t unwindMap = (fi.fh4Flags & 8) ? r.i32() : 0;
  int32_t tryMap = (fi.fh4Flags & 0x10) ? r.i32() : 0;
  int32_t ipMap = r.i32();
  if (fi.fh4Flags & 1)
    fi.fh4Frame = r.u();
  if (!r.ok())
    return makeError(fmt::format("FuncInfo4 at 0x{:x} is truncated", rva));

  if (unwindMap) {
    Reader u(img, uint32_t(unwindMap));
    uint32_t n = u.u();
    if (!u.ok() || n > kMaxCount)
      return makeError(fmt::format("FuncInfo4 0x{:x}: unwind map is unreadable", rva));
    // Entry offsets are counted from the first entry; an entry's next state
    // is the entry nextOffset bytes before its own start, and pointing before
    // the first entry means state -1.
    uint32_t first = u.pos();
    std::map<uint32_t, int32_t> stateAt;   // entry offset -> state
    std::vector<std::pair<uint32_t, uint32_t>> next;   // (entry offset, nextOffset)
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t at = u.pos() - first;
      uint32_t packed = u.u();
      UnwindMapEntry e;
      e.type = UnwindType(packed & 3);
      uint32_t nextOffset = packed >> 2;
      if (e.type != UnwindType::NoUnwind)
        e.actionRva = uint32_t(u.i32());
      if (e.type == UnwindType::DtorWithObj || e.type == UnwindType::DtorWithPtrToObj)
        e.objectOffset = int32_t(u.u());
      if (!u.ok())
        return makeError(fmt::format("FuncInfo4 0x{:x}: unwind entry {} is unreadable", rva, i));
      if (e.actionRva && !img.isExecutableRva(e.actionRva))
        return makeError(fmt::format("FuncInfo4 0x{:x}: unwind action {} at 0x{:x} is not code", rva, i, e.actionRva));
      stateAt[at] = int32_t(i);
      next.emplace_back(at, nextOffset);
      fi.unwindMap.push_back(e);
    }
    for (uint32_t i = 0; i < n; ++i) {
      auto [at, back] = next[i];
      if (back > at) {
        fi.unwindMap[i].toState = -1;
        continue;
      }
      auto it = stateAt.find(at - back);
      if (back == 0 || it == stateAt.end())
        return makeError(fmt::format("FuncInfo4 0x{:x}: unwind entry {} points to no earlier entry", rva, i));
      fi.unwindMap[i].toState = it->second;
    }
    fi.maxState = int32_t(n);
  }

  if (tryMap) {
    Reader t(img, uint32_t(tryMap));
    uint32_t n = t.u();
    if (!t.ok() || n > kMaxCount)
      return makeError(fmt::format("FuncInfo4 0x{:x}: try-block map is unreadable", rva));
    for (uint32_t i = 0; i < n; ++i) {
      TryBlock tb;
      tb.tryLow = int32_t(t.u());
      tb.tryHigh = int32_t(t.u());
      tb.catchHigh = int32_t(t.u());
      int32_t handlers = t.i32();
      if (!t.ok())
        return makeError(fmt::format("FuncInfo4 0x{:x}: try block {} is unreadable", rva, i));
      Reader h(img, uint32_t(handlers));
      uint32_t hn = h.u();
      if (!h.ok() || hn > 1024)
        return makeError(fmt::format("FuncInfo4 0x{:x}: handler map of try block {} is unreadable", rva, i));
      for (uint32_t k = 0; k < hn; ++k) {
        CatchHandler c;
        uint8_t flags = h.byte();
        if (flags & 1)
          c.adjectives = h.u();
        if (flags & 2)
          c.typeDescriptorRva = uint32_t(h.i32());
        if (flags & 4)
          c.catchObjectOffset = int32_t(h.u());
        c.handlerRva = uint32_t(h.i32());
        uint32_t conts = (flags >> 4) & 3;
        for (uint32_t j = 0; j < conts; ++j)
          c.continuations.push_back((flags & 8) ? uint32_t(h.i32()) : functionBegin + h.u());
        if (!h.ok())
          return makeError(fmt::format("FuncInfo4 0x{:x}: handler {}/{} is unreadable", rva, i, k));
        if (!img.isExecutableRva(c.handlerRva))
          return makeError(fmt::format("FuncInfo4 0x{:x}: catch handler {}/{} at 0x{:x} is not code", rva, i, k,
                                       c.handlerRva));
        tb.handlers.push_back(c);
      }
      if (tb.tryLow > tb.tryHigh || tb.tryHigh > tb.catchHigh || (fi.maxState && tb.catchHigh >= fi.maxState))
        return makeError(fmt::format("FuncInfo4 0x{:x}: try block {} has states [{}, {}] / {}", rva, i, tb.tryLow,
                                     tb.tryHigh, tb.catchHigh));
      fi.tryBlocks.push_back(std::move(tb));
    }
  }

  if (ipMap) {
    if (fi.fh4Flags & 2) {   // separated code: a map per segment
      Reader s(img, uint32_t(ipMap));
      uint32_t n = s.u();
      if (!s.ok() || n > 1024)
        return makeError(fmt::format("FuncInfo4 0x{:x}: segment list is unreadable", rva));
      for (uint32_t i = 0; i < n; ++i) {
        uint32_t segment = uint32_t(s.i32()), map = uint32_t(s.i32());
        if (!s.ok())
          return makeError(fmt::format("FuncInfo4 0x{:x}: segment {} is unreadable", rva, i));
        fi.segments.emplace_back(segment, map);
        if (auto e = readIpMap(img, map, segment, fi))
          return *e;
      }
    } else if (auto e = readIpMap(img, uint32_t(ipMap), functionBegin, fi)) {
      return *e;
    }
  }
  for (const IpToState &m : fi.ipToState)
    if (m.state < -1 || m.state >= std::max<int32_t>(fi.maxState, 1))
      return makeError(fmt::format("FuncInfo4 0x{:x}: IP 0x{:x} maps to state {}", rva, m.ipRva, m.state));
  return fi;
}

} // namespace sb::eh
