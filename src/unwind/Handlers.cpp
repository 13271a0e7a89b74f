// Handler data layouts:
//   __C_specific_handler:   ULONG Count; { Begin, End, Handler, JumpTarget }[Count]
//   __GSHandlerCheck:       ULONG CookieOffset (low 3 bits are flags), then
//                           AlignedBaseOffset, Alignment when flag 4 is set
//   __GSHandlerCheck_SEH:   the scope table, then the GS data
//   __GSHandlerCheck_EH/4:  FuncInfo (FuncInfo4) RVA, then the GS data
//   __CxxFrameHandler3/4:   FuncInfo (FuncInfo4) RVA
//   _GCC_specific_handler:  personality routine RVA, LSDA RVA
#include "switchboard/unwind/Handlers.h"

#include "code/Decoder.h"
#include "switchboard/code/Thunks.h"
#include "switchboard/eh/FuncInfo.h"

#include <fmt/format.h>

namespace sb::unwind {
namespace {
constexpr uint32_t kMaxScopes = 4096;

HandlerKind kindFromName(const std::string &n) {
  std::string s = undecorate(n);
  if (s == "__C_specific_handler" || s == "_C_specific_handler")
    return HandlerKind::CSpecific;
  if (s == "__CxxFrameHandler3" || s == "_CxxFrameHandler3")
    return HandlerKind::CxxFrameHandler3;
  if (s == "__CxxFrameHandler4" || s == "_CxxFrameHandler4")
    return HandlerKind::CxxFrameHandler4;
  if (s == "__CxxFrameHandler" || s == "__CxxFrameHandler2" || s == "_CxxFrameHandler")
    return HandlerKind::CxxFrameHandler;
  if (s == "__GSHandlerCheck")
    return HandlerKind::GSHandlerCheck;
  if (s == "__GSHandlerCheck_SEH")
    return HandlerKind::GSHandlerCheckSEH;
  if (s == "__GSHandlerCheck_EH")
    return HandlerKind::GSHandlerCheckEH;
  if (s == "__GSHandlerCheck_EH4")
    return HandlerKind::GSHandlerCheckEH4;
  if (s == "_GCC_specific_handler" || s == "GCC_specific_handler")
    return HandlerKind::GCCSpecific;
  if (s == "__gxx_personality_seh0" || s == "__gcc_personality_seh0" || s == "_gxx_personality_seh0" ||
      s == "_gcc_personality_seh0")
    return HandlerKind::GccPersonality;
  return HandlerKind::Unknown;
}
} // namespace

const char *handlerKindName(HandlerKind k) {
  switch (k) {
  case HandlerKind::Unknown: return "unknown";
  case HandlerKind::CSpecific: return "__C_specific_handler";
  case HandlerKind::CxxFrameHandler: return "__CxxFrameHandler";
  case HandlerKind::CxxFrameHandler3: return "__CxxFrameHandler3";
  case HandlerKind::CxxFrameHandler4: return "__CxxFrameHandler4";
  case HandlerKind::GSHandlerCheck: return "__GSHandlerCheck";
  case HandlerKind::GSHandlerCheckSEH: return "__GSHandlerCheck_SEH";
  case HandlerKind::GSHandlerCheckEH: return "__GSHandlerCheck_EH";
  case HandlerKind::GSHandlerCheckEH4: return "__GSHandlerCheck_EH4";
  case HandlerKind::GCCSpecific: return "_GCC_specific_handler";
  case HandlerKind::GccPersonality: return "__gxx_personality_seh0";
  }
  return "unknown";
}

namespace {
// What a handler's code does, read straight from its start (conditional
// branches fall through, the walk ends at the first return or jump).
struct HandlerShape {
  bool readsHandlerData = false;   // DISPATCHER_CONTEXT.HandlerData ([r9+0x38] on x64)
  bool returnsOne = false;         // ExceptionContinueSearch
  std::vector<uint32_t> callees;   // direct call and jump targets, distinct, in order
  HandlerKind forwardsTo = HandlerKind::Unknown;   // the first named handler it calls or jumps to
};

std::string calleeName(const Analysis &a, const code::DecodedInsn &d) {
  const pe::PeImage &img = a.image();
  if ((d.flow == code::Flow::Call || d.flow == code::Flow::Jump) && d.target)
    return a.symbolAt(*d.target).value_or(a.importThunkAt(*d.target).value_or(""));
  if ((d.flow == code::Flow::IndirectCall || d.flow == code::Flow::IndirectJump) && d.memTarget)
    if (const pe::Import *imp = img.importForIat(*d.memTarget))
      return imp->name;
  return {};
}

HandlerShape inspectHandler(const Analysis &a, uint32_t handlerRva) {
  const pe::PeImage &img = a.image();
  code::Decoder dec(img.is64(), img.imageBase());
  code::DecodedInsn d;
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  HandlerShape shape;
  uint32_t pc = handlerRva;
  for (int i = 0; i < 64; ++i) {
    if (!dec.decode(img.bytesFromRva(pc), pc, d) || !dec.decodeFull(img.bytesFromRva(pc), pc, in, ops))
      break;
    for (unsigned k = 0; k < in.operand_count_visible; ++k)
      if (ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[k].mem.base == ZYDIS_REGISTER_R9 &&
          ops[k].mem.disp.value == 0x38)
        shape.readsHandlerData = true;
    if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ops[0].reg.value == ZYDIS_REGISTER_EAX && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
      shape.returnsOne = ops[1].imm.value.u == 1;
    if ((d.flow == code::Flow::Call || d.flow == code::Flow::Jump) && d.target &&
        std::find(shape.callees.begin(), shape.callees.end(), *d.target) == shape.callees.end())
      shape.callees.push_back(*d.target);
    if (shape.forwardsTo == HandlerKind::Unknown)
      if (std::string n = calleeName(a, d); !n.empty())
        shape.forwardsTo = kindFromName(n);
    if (d.flow == code::Flow::Return || d.flow == code::Flow::Jump || d.flow == code::Flow::IndirectJump ||
        d.flow == code::Flow::Stop)
      break;
    pc = d.next();
  }
  return shape;
}

// A handler that forwards to one of kind `target`: a GS wrapper when it reads
// the handler data itself (to find the cookie that follows the target's
// data), else a variant with the target's own data layout
// (__C_specific_handler_noexcept passes everything on to __C_specific_handler).
HandlerKind wrapperOf(HandlerKind target, bool readsHandlerData) {
  if (!readsHandlerData)
    return target;
  switch (target) {
  case HandlerKind::CSpecific: return HandlerKind::GSHandlerCheckSEH;
  case HandlerKind::CxxFrameHandler3: return HandlerKind::GSHandlerCheckEH;
  case HandlerKind::CxxFrameHandler4: return HandlerKind::GSHandlerCheckEH4;
  default: return target;
  }
}

// Plain __GSHandlerCheck: reads its data, calls the cookie check and nothing
// else, returns ExceptionContinueSearch. A GS wrapper calls a second routine
// (the handler it wraps), so it is not this, even when that routine has no name.
bool isPlainGsCheck(const HandlerShape &s) { return s.readsHandlerData && s.returnsOne && s.callees.size() == 1; }
} // namespace

HandlerKind classifyHandler(const Analysis &a, uint32_t handlerRva, std::string &name) {
  name = a.symbolAt(handlerRva).value_or(a.importThunkAt(handlerRva).value_or(""));
  if (HandlerKind k = kindFromName(name); k != HandlerKind::Unknown) {
    if (k != HandlerKind::GccPersonality)
      name = handlerKindName(k);
    return k;
  }
  if (name.empty())
    name = fmt::format("sub_{:X}", handlerRva);
  // Statically linked handlers have no name: classify by what the code
  // forwards to, and only then by its own shape.
  HandlerShape shape = inspectHandler(a, handlerRva);
  HandlerKind k = HandlerKind::Unknown;
  if (shape.forwardsTo != HandlerKind::Unknown && shape.forwardsTo != HandlerKind::GccPersonality)
    k = wrapperOf(shape.forwardsTo, shape.readsHandlerData);
  else if (isPlainGsCheck(shape))
    k = HandlerKind::GSHandlerCheck;
  if (k != HandlerKind::Unknown)
    name = handlerKindName(k);
  return k;
}

namespace {
// Does the handler data of this entry look like an FH3 FuncInfo reference?
bool looksLikeFh3(const image::Image &img, uint32_t dataRva) {
  auto fi = img.readRva<uint32_t>(dataRva);
  auto magic = fi ? img.readRva<uint32_t>(*fi) : std::nullopt;
  return magic && eh::isFuncInfoMagic(*magic);
}
// ... or like an FH4 FuncInfo4 reference? FuncInfo4 starts with a flags
// byte (isCatch 1, isSeparated 2, BBT 4, UnwindMap 8, TryBlockMap 0x10,
// EHs 0x20, NoExcept 0x40, bit 7 reserved), then the BBT flags as a
// compressed integer, then RVAs of the unwind map, try-block map and
// IP-to-state map, all in data.
bool looksLikeFh4(const image::Image &img, uint32_t dataRva) {
  auto fi = img.readRva<uint32_t>(dataRva);
  if (!fi || img.isExecutableRva(*fi) || !img.isMappedRva(*fi))
    return false;
  auto header = img.readRva<uint8_t>(*fi);
  if (!header || (*header & 0x80))
    return false;
  uint32_t pos = *fi + 1;
  if (*header & 4) {   // compressed unsigned: the low bits of the first byte give its length
    auto b = img.readRva<uint8_t>(pos);
    if (!b)
      return false;
    pos += (*b & 1) == 0 ? 1 : (*b & 3) == 1 ? 2 : (*b & 7) == 3 ? 3 : (*b & 15) == 7 ? 4 : 5;
  }
  auto dataRvaOk = [&](uint32_t at) {
    auto r = img.readRva<uint32_t>(at);
    return r && *r && img.isMappedRva(*r) && !img.isExecutableRva(*r);
  };
  if ((*header & 8) && !dataRvaOk(pos))
    return false;
  pos += (*header & 8) ? 4 : 0;
  if ((*header & 0x10) && !dataRvaOk(pos))
    return false;
  pos += (*header & 0x10) ? 4 : 0;
  return dataRvaOk(pos);   // the IP-to-state map is always there
}
// The handlers a handler's code calls or jumps to, straight from its start.
std::vector<uint32_t> forwardsTo(const image::Image &img, uint32_t rva) {
  code::Decoder dec(img.is64(), img.imageBase());
  code::DecodedInsn d;
  std::vector<uint32_t> out;
  for (int i = 0; i < 64; ++i) {
    if (!dec.decode(img.bytesFromRva(rva), rva, d))
      break;
    if ((d.flow == code::Flow::Call || d.flow == code::Flow::Jump) && d.target)
      out.push_back(*d.target);
    if (d.flow == code::Flow::Return || d.flow == code::Flow::Jump || d.flow == code::Flow::IndirectJump ||
        d.flow == code::Flow::Stop)
      break;
    rva = d.next();
  }
  return out;
}
} // namespace

HandlerCatalog::HandlerCatalog(const Analysis &a) : a_(a) {
  const pe::PeImage &img = a.image();
  code::Decoder dec(img.is64(), img.imageBase());
  // An incremental-linking stub (`jmp target`) stands for its target.
  auto throughJumpStubs = [&](uint32_t rva) { return code::followJumpStubs(img, dec, rva); };
  std::map<uint32_t, std::vector<uint32_t>> dataOf;   // handler -> handler data RVAs of its users
  for (const pe::RuntimeFunction &rf : img.runtimeFunctions()) {
    if (rf.isChained() || rf.indirect || !rf.unwindValid || !(rf.unwindFlags & (kFlagEHandler | kFlagUHandler)))
      continue;
    auto u = decodeUnwindInfo(img, rf.unwindRva);
    if (!u || !u->handlerRva)
      continue;
    Handler &h = handlers_[*u->handlerRva];
    ++h.users;
    auto &v = dataOf[*u->handlerRva];
    if (v.size() < 256)
      v.push_back(u->handlerDataRva);
  }
  // By name and code first (through incremental-linking stubs).
  for (auto &[rva, h] : handlers_) {
    h.kind = classifyHandler(a, throughJumpStubs(rva), h.name);
  }
  // Unnamed: by the shape of the data all their users give them.
  std::map<uint32_t, HandlerKind> byData;
  for (auto &[rva, h] : handlers_) {
    if (h.kind != HandlerKind::Unknown)
      continue;
    const auto &data = dataOf[rva];
    size_t fh3 = 0, fh4 = 0, scopes = 0;
    for (uint32_t d : data) {
      fh3 += looksLikeFh3(img, d);
      fh4 += looksLikeFh4(img, d);
      scopes += readScopeTable(img, d).has_value();
    }
    if (!data.empty() && fh3 == data.size())
      byData[rva] = HandlerKind::CxxFrameHandler3;
    else if (!data.empty() && scopes == data.size())
      byData[rva] = HandlerKind::CSpecific;
    else if (data.size() >= 2 && fh4 == data.size())
      byData[rva] = HandlerKind::CxxFrameHandler4;
  }
  // A handler that forwards to another known handler is its GS wrapper;
  // otherwise its data says what it is.
  for (auto &[rva, h] : handlers_) {
    if (h.kind != HandlerKind::Unknown)
      continue;
    HandlerKind target = HandlerKind::Unknown;
    for (uint32_t t : forwardsTo(img, throughJumpStubs(rva))) {
      t = throughJumpStubs(t);
      if (t == rva)
        continue;
      if (auto it = handlers_.find(t); it != handlers_.end() && it->second.kind != HandlerKind::Unknown)
        target = it->second.kind;
      else if (auto bd = byData.find(t); bd != byData.end())
        target = bd->second;
      else if (auto viaStub = std::find_if(handlers_.begin(), handlers_.end(),
                                           [&](const auto &e) { return throughJumpStubs(e.first) == t; });
               viaStub != handlers_.end() && byData.count(viaStub->first))
        target = byData[viaStub->first];
      else if (HandlerKind k = kindFromName(a.symbolAt(t).value_or(a.importThunkAt(t).value_or("")));
               k != HandlerKind::Unknown)
        target = k;
    }
    HandlerShape shape = inspectHandler(a, throughJumpStubs(rva));
    if (target != HandlerKind::Unknown)
      h.kind = wrapperOf(target, shape.readsHandlerData);
    else if (auto bd = byData.find(rva); bd != byData.end())
      // The data all users give it starts with a FuncInfo or scope table; a
      // handler that reads that data itself and calls more than the cookie
      // check wraps the handler the data is for.
      h.kind = wrapperOf(bd->second, shape.readsHandlerData && shape.callees.size() >= 2);
    else if (isPlainGsCheck(shape))
      h.kind = HandlerKind::GSHandlerCheck;
    if (h.kind != HandlerKind::Unknown)
      h.name = handlerKindName(h.kind);
  }
}

const HandlerCatalog::Handler &HandlerCatalog::of(uint32_t handlerRva) const {
  static const Handler none;
  auto it = handlers_.find(handlerRva);
  return it == handlers_.end() ? none : it->second;
}

HandlerData decodeHandlerData(const Analysis &a, const HandlerCatalog &catalog, const UnwindInfo &info,
                              uint32_t functionBegin, uint32_t functionEnd) {
  HandlerData h;
  if (!info.handlerRva)
    return h;
  const pe::PeImage &img = a.image();
  const HandlerCatalog::Handler &known = catalog.of(*info.handlerRva);
  h.kind = known.kind;
  h.name = known.name;
  if (h.name.empty())
    h.kind = classifyHandler(a, *info.handlerRva, h.name);
  uint32_t at = info.handlerDataRva;
  auto warn = [&](std::string w) { h.warnings.push_back(std::move(w)); };
  auto readScopes = [&]() {
    auto count = img.readRva<uint32_t>(at);
    if (!count) {
      warn("scope table count is unreadable");
      return;
    }
    if (*count > kMaxScopes) {
      warn(fmt::format("scope table claims {} entries", *count));
      return;
    }
    for (uint32_t i = 0; i < *count; ++i) {
      uint32_t r = at + 4 + 16 * i;
      auto b = img.readRva<uint32_t>(r), e = img.readRva<uint32_t>(r + 4), hd = img.readRva<uint32_t>(r + 8),
           t = img.readRva<uint32_t>(r + 12);
      if (!b || !e || !hd || !t) {
        warn(fmt::format("scope record {} is unreadable", i));
        return;
      }
      ScopeRecord s{*b, *e, *hd, *t};
      if (s.begin >= s.end || !img.isExecutableRva(s.begin))
        warn(fmt::format("scope record {}: range [0x{:x}, 0x{:x}) is not code", i, s.begin, s.end));
      if ((s.isFinally() || !s.constantFilter()) && !img.isExecutableRva(s.handler))
        warn(fmt::format("scope record {}: handler 0x{:x} is not code", i, s.handler));
      if (functionEnd > functionBegin && (s.begin < functionBegin || s.end > functionEnd))
        warn(fmt::format("scope record {}: range [0x{:x}, 0x{:x}) lies outside its function", i, s.begin, s.end));
      h.scopes.push_back(s);
    }
    at += 4 + 16 * *count;
  };
  auto readGs = [&]() {
    auto v = img.readRva<uint32_t>(at);
    if (!v) {
      warn("GS data is unreadable");
      return;
    }
    GsData g;
    g.rva = at;
    g.flags = *v & 7;
    g.cookieOffset = *v & ~7u;
    if (g.flags & 4) {
      g.alignedBaseOffset = img.readRva<int32_t>(at + 4).value_or(0);
      g.alignment = img.readRva<int32_t>(at + 8).value_or(0);
    }
    h.gs = g;
  };
  switch (h.kind) {
  case HandlerKind::CSpecific:
    readScopes();
    break;
  case HandlerKind::GSHandlerCheck:
    readGs();
    break;
  case HandlerKind::GSHandlerCheckSEH:
    readScopes();
    readGs();
    break;
  case HandlerKind::GSHandlerCheckEH:
  case HandlerKind::GSHandlerCheckEH4:
    h.funcInfoRva = img.readRva<uint32_t>(at);
    at += 4;
    readGs();
    break;
  case HandlerKind::CxxFrameHandler:
  case HandlerKind::CxxFrameHandler3:
  case HandlerKind::CxxFrameHandler4:
    h.funcInfoRva = img.readRva<uint32_t>(at);
    break;
  case HandlerKind::GCCSpecific:
    h.personalityRva = img.readRva<uint32_t>(at);
    h.lsdaRva = img.readRva<uint32_t>(at + 4);
    break;
  case HandlerKind::GccPersonality:
    h.lsdaRva = img.readRva<uint32_t>(at);
    break;
  case HandlerKind::Unknown:
    break;
  }
  return h;
}

} // namespace sb::unwind
