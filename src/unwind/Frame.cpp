// Frame layouts from unwind codes (primary entry plus everything it chains
// to) and the prolog check.
#include "switchboard/unwind/Frame.h"

#include "code/Decoder.h"

#include <algorithm>
#include <fmt/format.h>

namespace sb::unwind {
namespace {
const char *homeName(uint32_t reg) {
  static const char *names[] = {"rcx", "rdx", "r8", "r9"};
  static const char *xmm[] = {"xmm0", "xmm1", "xmm2", "xmm3"};
  return reg < 4 ? names[reg] : reg >= 16 && reg < 20 ? xmm[reg - 16] : "?";
}

// Codes of an entry and of everything it chains to, in unwind order (the
// fragment's own codes first, then its parents').
std::vector<std::pair<UnwindCode, const UnwindInfo *>> allCodes(const std::vector<ChainLink> &chain) {
  std::vector<std::pair<UnwindCode, const UnwindInfo *>> out;
  for (const ChainLink &l : chain)
    if (l.info)
      for (const UnwindCode &c : l.info->codes)
        out.emplace_back(c, &*l.info);
  return out;
}
} // namespace

FrameLayout computeFrame(const ExceptionDirectory &dir, const code::Decoder &dec, uint32_t functionRva) {
  FrameLayout f;
  f.rva = functionRva;
  const pe::RuntimeFunction *entry = dir.entryFor(functionRva);
  if (!entry) {
    // No unwind data: a leaf, unless its first instructions push or
    // allocate, which no unwinder could walk through.
    uint32_t depth = 0;
    for (const PrologEvent &e : simulateProlog(dir.image(), dec, functionRva, 0x40, true)) {
      if (e.kind == PrologEvent::Push) {
        f.pushes.push_back(code::Gpr(e.reg));
        depth += 8;
      } else if (e.kind == PrologEvent::Alloc) {
        f.alloc += uint32_t(e.value);
        depth += uint32_t(e.value);
      }
    }
    f.leaf = depth == 0;
    f.frameSize = depth + 8;
    if (!f.leaf)
      f.warnings.push_back("no unwind data, yet the prolog pushes or allocates: frame read from the instructions; "
                           "an unwinder cannot walk through this function");
    return f;
  }
  auto chain = dir.chain(*entry);
  for (const ChainLink &l : chain) {
    if (!l.error.empty())
      f.warnings.push_back(l.error);
    if (l.info)
      for (const auto &w : l.info->warnings)
        f.warnings.push_back(fmt::format("unwind info 0x{:x}: {}", l.unwindRva, w));
  }
  auto codes = allCodes(chain);
  // Unwind order is the reverse of the prolog: walk backwards to rebuild it,
  // tracking the depth at which the frame register was set.
  uint32_t depth = 0, depthAtFrame = 0;
  const UnwindInfo *frameInfo = nullptr;
  for (auto it = codes.rbegin(); it != codes.rend(); ++it) {
    const UnwindCode &c = it->first;
    switch (c.op) {
    case kPushNonvol:
      f.pushes.push_back(code::Gpr(c.reg));
      depth += 8;
      break;
    case kAllocLarge:
    case kAllocSmall:
      f.alloc += c.value;
      depth += c.value;
      break;
    case kSetFpreg:
      frameInfo = it->second;
      depthAtFrame = depth;
      break;
    case kPushMachframe:
      f.machineFrame = true;
      depth += c.info ? 48 : 40;
      break;
    default:
      break;
    }
  }
  if (frameInfo) {
    f.frameRegister = code::Gpr(frameInfo->frameRegister);
    f.frameOffset = frameInfo->frameOffsetBytes();
    f.frameRegisterAt = int64_t(depth - depthAtFrame) + f.frameOffset;
  }
  // MOV saves are relative to RSP after the prolog (Child-SP). MSVC sets its
  // frame register after the fixed allocation, where the frame base and
  // Child-SP coincide; GCC sets it before and still counts from Child-SP.
  for (const auto &[c, info] : codes) {
    if (c.op == kSaveNonvol || c.op == kSaveNonvolFar)
      f.saved.push_back({registerName(c.reg), int64_t(c.value)});
    else if (c.op == kSaveXmm128 || c.op == kSaveXmm128Far || (info->version < 2 && (c.op == kEpilog || c.op == kSpareCode)))
      f.saved.push_back({fmt::format("xmm{}", c.reg), int64_t(c.value)});
  }
  // Everything the prolog put on the stack, plus the return address (a
  // machine frame holds its own RIP instead).
  f.frameSize = depth + (f.machineFrame ? 0 : 8);
  // Parameter registers the prolog stores into the caller's homing area.
  const ChainLink &primary = chain.back();
  if (primary.info) {
    for (const PrologEvent &e : simulateProlog(dir.image(), dec, primary.begin, primary.info->prologSize))
      if (e.kind == PrologEvent::Home)
        f.homed.push_back({homeName(e.reg), e.value + int64_t(f.frameSize) - 8});
  }
  return f;
}

const char *entryKindName(EntryKind k) {
  switch (k) {
  case EntryKind::Fragment: return "fragment";
  case EntryKind::Funclet: return "funclet";
  default: return "function";
  }
}

namespace {
EntryFrame entryFrame(const Analysis &a, const ExceptionDirectory &dir, const code::Decoder &dec,
                      const pe::RuntimeFunction &entry) {
  EntryFrame out;
  out.entry = &entry;
  out.layout = computeFrame(dir, dec, entry.begin);
  if (entry.isChained()) {
    // The function is the one holding the chain's primary entry.
    uint32_t primary = dir.chain(entry).back().begin;
    const code::Function *f = a.functionContaining(primary);
    out.kind = EntryKind::Fragment;
    out.ownerRva = f ? f->rva : primary;
    return out;
  }
  const code::Function *f = a.functionContaining(entry.begin);
  if (!f || f->rva == entry.begin)
    return out;
  bool funclet = std::find(f->funclets.begin(), f->funclets.end(), entry.begin) != f->funclets.end();
  out.kind = funclet ? EntryKind::Funclet : EntryKind::Fragment;
  out.ownerRva = f->rva;
  return out;
}
} // namespace

EntryFrame frameAt(const Analysis &a, const ExceptionDirectory &dir, const code::Decoder &dec, uint32_t rva) {
  if (const pe::RuntimeFunction *e = dir.entryFor(rva))
    return entryFrame(a, dir, dec, *e);
  EntryFrame out;
  const code::Function *f = a.functionContaining(rva);
  out.layout = computeFrame(dir, dec, f ? f->rva : rva);
  out.entry = dir.entryFor(out.layout.rva);
  return out;
}

std::vector<EntryFrame> allFrames(const Analysis &a, const ExceptionDirectory &dir, const code::Decoder &dec) {
  std::vector<EntryFrame> out;
  for (const pe::RuntimeFunction &e : dir.image().runtimeFunctions())
    out.push_back(entryFrame(a, dir, dec, e));
  for (const code::Function &f : a.functions())
    if (!dir.entryFor(f.rva))
      out.push_back(frameAt(a, dir, dec, f.rva));
  std::stable_sort(out.begin(), out.end(),
                   [](const EntryFrame &x, const EntryFrame &y) { return x.layout.rva < y.layout.rva; });
  return out;
}

std::vector<PrologMismatch> checkProlog(const ExceptionDirectory &dir, const code::Decoder &dec,
                                        const pe::RuntimeFunction &entry) {
  std::vector<PrologMismatch> out;
  auto info = decodeUnwindInfo(dir.image(), entry.unwindRva);
  // Fragments carry no prolog of their own: chained entries, and entries with
  // a zero-size prolog whose codes restate an already established frame
  // (GCC's f.cold parts).
  if (entry.indirect || !info || (info->flags & kFlagChainInfo) || info->prologSize == 0)
    return out;
  auto report = [&](std::string m) { out.push_back({entry.begin, std::move(m)}); };
  std::vector<PrologEvent> events = simulateProlog(dir.image(), dec, entry.begin, info->prologSize);
  std::vector<bool> used(events.size(), false);

  // Stack depth (bytes below RSP at entry) after the whole prolog: MOV saves
  // are relative to that RSP (see computeFrame).
  int64_t base = 0;
  for (const UnwindCode &c : info->codes) {
    if (c.op == kPushNonvol)
      base += 8;
    else if (c.op == kAllocSmall || c.op == kAllocLarge)
      base += c.value;
    else if (c.op == kPushMachframe)
      base += c.info ? 48 : 40;
  }

  for (const UnwindCode &c : info->codes) {
    if (c.op == kPushMachframe)
      continue;   // pushed by the processor: no instruction
    auto match = [&](const PrologEvent &e) {
      switch (c.op) {
      case kPushNonvol: return e.kind == PrologEvent::Push && e.reg == c.reg && e.endOffset == c.prologOffset;
      case kAllocSmall:
      case kAllocLarge:
        return e.kind == PrologEvent::Alloc && e.value == int64_t(c.value) && e.endOffset == c.prologOffset;
      case kSetFpreg:
        return e.kind == PrologEvent::SetFrame && e.reg == info->frameRegister &&
               e.value == int64_t(info->frameOffsetBytes()) && e.endOffset == c.prologOffset;
      case kSaveNonvol:
      case kSaveNonvolFar:
      case kSaveXmm128:
      case kSaveXmm128Far: {
        // A save may be described at any offset after it happened (MSVC puts
        // early home-area saves at the allocation); the slot must agree.
        bool xmm = c.op == kSaveXmm128 || c.op == kSaveXmm128Far;
        bool kind = xmm ? e.kind == PrologEvent::SaveXmm || e.kind == PrologEvent::SpillXmm : e.kind == PrologEvent::Save;
        return kind && e.reg == c.reg &&
               e.endOffset <= c.prologOffset && e.value == int64_t(c.value) - base;
      }
      default: return false;
      }
    };
    auto it = std::find_if(events.begin(), events.end(), match);
    if (it != events.end()) {
      used[it - events.begin()] = true;
      continue;
    }
    auto at = std::find_if(events.begin(), events.end(), [&](const PrologEvent &e) {
      return e.endOffset == c.prologOffset && e.kind != PrologEvent::Home;
    });
    report(fmt::format("code at prolog offset 0x{:x} ({}) {}", c.prologOffset, describeCode(c, info->version),
                       at == events.end() ? "has no matching instruction" : fmt::format("does not match `{}`", at->text)));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const PrologEvent &e = events[i];
    if (used[i] || e.endOffset > info->prologSize)
      continue;
    switch (e.kind) {
    case PrologEvent::Push:
    case PrologEvent::Alloc:
      report(fmt::format("prolog instruction at +0x{:x} `{}` changes RSP but no code describes it", e.endOffset, e.text));
      break;
    case PrologEvent::SetFrame:
      // Only a frame register the header names matters for unwinding; MSVC
      // also points rbp into the frame for addressing.
      if (info->frameRegister && e.reg == info->frameRegister)
        report(fmt::format("prolog instruction at +0x{:x} `{}` sets the frame register but no code describes it",
                           e.endOffset, e.text));
      break;
    case PrologEvent::Save:
    case PrologEvent::SaveXmm:
      report(fmt::format("prolog instruction at +0x{:x} `{}` saves a non-volatile register no code describes",
                         e.endOffset, e.text));
      break;
    case PrologEvent::SpillXmm:   // half a register: a spilled double, not a save
    case PrologEvent::Home:
      break;
    }
  }
  return out;
}

} // namespace sb::unwind
