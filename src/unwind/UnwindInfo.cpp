// UNWIND_INFO layout (x64):
//   byte 0: version (3 bits) | flags (5 bits); byte 1: prolog size;
//   byte 2: count of code slots; byte 3: frame register (4) | scaled offset (4)
//   USHORT slots[count], padded to an even count, then either the handler RVA
//   and its language-specific data, or a chained RUNTIME_FUNCTION.
// Slots per op: PUSH_NONVOL 1, ALLOC_LARGE 2 (info 0: size/8) or 3 (info 1:
// size), ALLOC_SMALL 1 (size = info*8+8), SET_FPREG 1, SAVE_NONVOL 2 (offset/8),
// SAVE_NONVOL_FAR 3, version 2 EPILOG 1, SAVE_XMM128 2 (offset/16),
// SAVE_XMM128_FAR 3, PUSH_MACHFRAME 1; version 1 ops 6/7 (SAVE_XMM,
// SAVE_XMM_FAR) take 2 and 3.
#include "switchboard/unwind/UnwindInfo.h"

#include "switchboard/code/Registers.h"

#include <fmt/format.h>

namespace sb::unwind {

const char *registerName(uint32_t reg) {
  auto r = code::gprFromIndex(reg);
  return r ? code::gprName(*r, true) : "?";
}

const char *unwindOpName(uint8_t op, uint8_t version) {
  switch (op) {
  case kPushNonvol: return "UWOP_PUSH_NONVOL";
  case kAllocLarge: return "UWOP_ALLOC_LARGE";
  case kAllocSmall: return "UWOP_ALLOC_SMALL";
  case kSetFpreg: return "UWOP_SET_FPREG";
  case kSaveNonvol: return "UWOP_SAVE_NONVOL";
  case kSaveNonvolFar: return "UWOP_SAVE_NONVOL_FAR";
  case kEpilog: return version >= 2 ? "UWOP_EPILOG" : "UWOP_SAVE_XMM";
  case kSpareCode: return version >= 2 ? "UWOP_SPARE_CODE" : "UWOP_SAVE_XMM_FAR";
  case kSaveXmm128: return "UWOP_SAVE_XMM128";
  case kSaveXmm128Far: return "UWOP_SAVE_XMM128_FAR";
  case kPushMachframe: return "UWOP_PUSH_MACHFRAME";
  default: return "UWOP_UNKNOWN";
  }
}

std::string describeCode(const UnwindCode &c, uint8_t version) {
  switch (c.op) {
  case kPushNonvol: return fmt::format("UWOP_PUSH_NONVOL reg: {}.", registerName(c.reg));
  case kAllocLarge: return fmt::format("UWOP_ALLOC_LARGE size: 0x{:x}.", c.value);
  case kAllocSmall: return fmt::format("UWOP_ALLOC_SMALL size: 0x{:x}.", c.value);
  case kSetFpreg: return fmt::format("UWOP_SET_FPREG reg: {}, offset: 0x{:x}.", registerName(c.reg), c.value);
  case kSaveNonvol:
  case kSaveNonvolFar:
    return fmt::format("{} FrameOffset: {:x} reg: {}.", unwindOpName(c.op, version), c.value, registerName(c.reg));
  case kSaveXmm128:
  case kSaveXmm128Far:
    return fmt::format("{} FrameOffset: {:x} reg: xmm{}.", unwindOpName(c.op, version), c.value, c.reg);
  case kEpilog:
    if (version >= 2)
      return c.slot == 0 ? fmt::format("UWOP_EPILOG size: 0x{:x}, flags: {}.", c.prologOffset, c.info)
                                       : fmt::format("UWOP_EPILOG offset from end: 0x{:x}.", c.value);
    return fmt::format("UWOP_SAVE_XMM FrameOffset: {:x} reg: xmm{}.", c.value, c.reg);
  case kSpareCode:
    return version >= 2 ? "UWOP_SPARE_CODE." : fmt::format("UWOP_SAVE_XMM_FAR FrameOffset: {:x} reg: xmm{}.", c.value, c.reg);
  case kPushMachframe: return fmt::format("UWOP_PUSH_MACHFRAME{}.", c.info ? " with error code" : "");
  default: return fmt::format("UWOP_UNKNOWN op {} info {}.", c.op, c.info);
  }
}

Expected<UnwindInfo> decodeUnwindInfo(const image::Image &img, uint32_t rva) {
  auto hdr = img.readRva<uint32_t>(rva);
  if (!hdr)
    return makeError(fmt::format("UNWIND_INFO at 0x{:x} is unreadable", rva));
  UnwindInfo u;
  u.rva = rva;
  u.version = *hdr & 7;
  u.flags = (*hdr >> 3) & 0x1F;
  u.prologSize = (*hdr >> 8) & 0xFF;
  u.codeCount = (*hdr >> 16) & 0xFF;
  u.frameRegister = (*hdr >> 24) & 0x0F;
  u.frameOffset = (*hdr >> 28) & 0x0F;
  auto warn = [&](std::string w) { u.warnings.push_back(std::move(w)); };
  if (u.version != 1 && u.version != 2)
    warn(fmt::format("unknown UNWIND_INFO version {}", u.version));
  if ((u.flags & kFlagChainInfo) && (u.flags & (kFlagEHandler | kFlagUHandler)))
    warn("UNW_FLAG_CHAININFO together with a handler flag");
  if (u.frameRegister == 4)
    warn("frame register is rsp");
  if (u.frameRegister == 0 && u.frameOffset != 0)
    warn("frame offset without a frame register");

  auto slot = [&](unsigned i) -> std::optional<uint16_t> { return img.readRva<uint16_t>(rva + 4 + 2 * i); };
  bool inEpilogs = u.version >= 2;   // v2 epilog descriptors come first
  for (unsigned i = 0; i < u.codeCount;) {
    auto raw = slot(i);
    if (!raw) {
      warn(fmt::format("unwind code {} lies outside the image", i));
      break;
    }
    UnwindCode c;
    c.slot = uint8_t(i);
    c.prologOffset = uint8_t(*raw & 0xFF);
    c.op = uint8_t((*raw >> 8) & 0x0F);
    c.info = uint8_t(*raw >> 12);
    auto need = [&](unsigned n) {
      c.slots = uint8_t(n);
      if (i + n > u.codeCount) {
        warn(fmt::format("unwind code {} ({}) needs {} slots, runs past the {} codes", i,
                         unwindOpName(c.op, u.version), n, u.codeCount));
        return false;
      }
      return true;
    };
    auto next16 = [&](unsigned k) { return slot(i + k).value_or(0); };
    bool ok = true;
    // The two operand forms: one slot scaled, or two slots unscaled.
    auto scaled = [&](uint32_t scale) {
      ok = need(2);
      c.reg = c.info;
      c.value = uint32_t(next16(1)) * scale;
    };
    auto far = [&]() {
      ok = need(3);
      c.reg = c.info;
      c.value = uint32_t(next16(1)) | uint32_t(next16(2)) << 16;
    };
    if (c.op != kEpilog)
      inEpilogs = false;
    switch (c.op) {
    case kPushNonvol:
      c.reg = c.info;
      break;
    case kAllocLarge:
      if (c.info == 0) {
        ok = need(2);
        c.value = uint32_t(next16(1)) * 8;
      } else if (c.info == 1) {
        ok = need(3);
        c.value = uint32_t(next16(1)) | uint32_t(next16(2)) << 16;
      } else {
        warn(fmt::format("UWOP_ALLOC_LARGE with op info {}", c.info));
      }
      break;
    case kAllocSmall:
      c.value = c.info * 8u + 8u;
      break;
    case kSetFpreg:
      c.reg = u.frameRegister;
      c.value = u.frameOffsetBytes();
      break;
    case kSaveNonvol:
      scaled(8);
      break;
    case kSaveNonvolFar:
      far();
      break;
    case kEpilog:
      if (u.version >= 2) {
        if (!inEpilogs)
          warn(fmt::format("UWOP_EPILOG at code {} after prolog codes", i));
        if (u.epilogCodes.empty()) {
          u.epilogSize = c.prologOffset;
          u.epilogAtEnd = c.info & 1;
        } else {
          c.value = c.prologOffset | uint32_t(c.info) << 8;
          if (c.value)
            u.epilogOffsetsFromEnd.push_back(c.value);
        }
      } else {   // version 1 UWOP_SAVE_XMM
        scaled(8);
      }
      break;
    case kSpareCode:
      if (u.version >= 2) {
        ok = need(2);
        warn(fmt::format("UWOP_SPARE_CODE at code {}", i));
      } else {   // version 1 UWOP_SAVE_XMM_FAR
        far();
      }
      break;
    case kSaveXmm128:
      scaled(16);
      break;
    case kSaveXmm128Far:
      far();
      break;
    case kPushMachframe:
      if (c.info > 1)
        warn(fmt::format("UWOP_PUSH_MACHFRAME with op info {}", c.info));
      break;
    default:
      warn(fmt::format("unknown unwind op {} at code {}", c.op, i));
      break;
    }
    if (!ok)
      break;
    if (c.op != kEpilog && c.prologOffset > u.prologSize)
      warn(fmt::format("unwind code {} at prolog offset 0x{:x} beyond the prolog size 0x{:x}", i, c.prologOffset,
                       u.prologSize));
    if (c.op == kEpilog && u.version >= 2)
      u.epilogCodes.push_back(c);
    else
      u.codes.push_back(c);
    i += c.slots;
  }
  uint32_t tail = rva + 4 + 2 * ((u.codeCount + 1u) & ~1u);
  if (u.flags & kFlagChainInfo) {
    auto b = img.readRva<uint32_t>(tail), e = img.readRva<uint32_t>(tail + 4), w = img.readRva<uint32_t>(tail + 8);
    if (b && e && w)
      u.chained = ChainedEntry{*b, *e, *w};
    else
      warn("chained RUNTIME_FUNCTION is unreadable");
  } else if (u.flags & (kFlagEHandler | kFlagUHandler)) {
    if (auto h = img.readRva<uint32_t>(tail)) {
      u.handlerRva = *h;
      u.handlerDataRva = tail + 4;
      if (!img.isExecutableRva(*h))
        warn(fmt::format("exception handler 0x{:x} is not in code", *h));
    } else {
      warn("exception handler RVA is unreadable");
    }
  }
  return u;
}

} // namespace sb::unwind
