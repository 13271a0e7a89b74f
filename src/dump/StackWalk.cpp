// The stack walk: unwind data where a module has it, a leaf step for the
// innermost frame without it, and otherwise a bounded scan of the stack for
// a return address that follows a call which can reach the frame's code.
#include "switchboard/dump/StackWalk.h"
#include "switchboard/dump/Wow64.h"

#include "code/Decoder.h"
#include "switchboard/code/Function.h"
#include "switchboard/code/Thunks.h"

#include <fmt/format.h>

namespace sb::dump {
namespace {

// What the bytes before a return address say: a call, and where to.
struct CallBefore {
  bool call = false;
  std::optional<uint64_t> target;   // a direct call's
};

// The call instruction ending at ret, as the module's decoder reads it (a
// call is 2 to 7 bytes long; the common `call rel32` is tried first).
CallBefore callBefore(const LoadedModule &m, const MemoryReader &memory, uint64_t ret) {
  constexpr size_t kLongest = 7;
  const uint64_t base = m.record().base;
  uint8_t b[kLongest] = {};
  if (ret < base + kLongest || !memory.read(ret - kLongest, b, kLongest))
    return {};
  const code::Decoder &dec = m.analysis()->decoder();
  for (size_t len : {5, 6, 2, 3, 4, 7}) {
    code::DecodedInsn in;
    const uint32_t rva = uint32_t(ret - base - len);
    if (!dec.decode(std::span<const uint8_t>(b + kLongest - len, len), rva, in) || in.insn.length != len)
      continue;
    if (in.flow == code::Flow::Call && in.target)
      return {true, base + *in.target};
    if (in.flow == code::Flow::IndirectCall)
      return {true, std::nullopt};
  }
  return {};
}

bool executableAt(const ModuleSet &modules, uint64_t va) {
  const LoadedModule *m = modules.containing(va);
  return m && m->analysis() && m->analysis()->image().isExecutableRva(uint32_t(va - m->record().base));
}

// How well ret can be the return address of a frame whose code holds pc.
// Strong: it follows a direct call to code at or before pc (within 64 KB:
// the function's own start). Weak: it follows an indirect call, or a direct
// call to a jump (a thunk), which may reach pc. None: anything else.
enum class Fit { None, Weak, Strong };

Fit returnFit(const ModuleSet &modules, const MemoryReader &memory, uint64_t ret, uint64_t pc) {
  if (!executableAt(modules, ret))
    return Fit::None;
  const LoadedModule &m = *modules.containing(ret);
  CallBefore c = callBefore(m, memory, ret);
  if (!c.call)
    return Fit::None;
  if (!c.target)
    return Fit::Weak;
  const uint64_t t = *c.target;
  if (t <= pc && pc - t < 0x10000)
    return Fit::Strong;
  if (!m.record().contains(t))
    return Fit::None;
  // A thunk: an import thunk (`jmp [IAT]`) or a chain of jump stubs.
  const pe::PeImage &img = m.analysis()->image();
  const code::Decoder &dec = m.analysis()->decoder();
  const uint32_t rva = uint32_t(t - m.record().base);
  const bool thunk = code::importThunkAt(img, dec, rva) || code::followJumpStubs(img, dec, rva) != rva;
  return thunk ? Fit::Weak : Fit::None;
}

// The scan: the first stack slot above sp holding a strong return address;
// without one, the first weak one. A stale return address left by an
// earlier call from the same caller is usually weak (an indirect call), the
// real one strong, so strong ones win.
std::optional<UnwindStep> scanStep(const ModuleSet &modules, const MemoryReader &memory, const Registers &regs,
                                   uint64_t limit) {
  const unsigned width = regs.arch == Arch::X64 ? 8 : 4;
  std::optional<uint64_t> weak;
  std::optional<uint64_t> found;
  for (uint64_t at = regs.sp(); at < regs.sp() + limit && !found; at += width) {
    auto v = memory.pointer(at, width);
    if (!v)
      break;
    const Fit fit = *v ? returnFit(modules, memory, *v, regs.pc) : Fit::None;
    if (fit == Fit::Strong)
      found = at;
    else if (fit == Fit::Weak && !weak)
      weak = at;
  }
  if (!found)
    found = weak;
  if (!found)
    return std::nullopt;
  UnwindStep s;
  s.how = StepHow::Scan;
  s.caller = regs;
  s.caller.pc = *memory.pointer(*found, width);
  s.caller.set(kSp, *found + width);
  s.returnSlot = *found;
  // What the skipped code saved is not known: only the stack pointer is. On
  // x86 EBP is carried (an FPO function leaves it alone) for the next
  // frame's EBP chain, which is checked like any other step; it is not
  // reported as a recovered value.
  const bool carryBp = regs.arch == Arch::X86 && regs.isKnown(kBp) && regs.gpr[kBp] >= *found;
  s.caller.known = uint16_t(1u << kSp | (carryBp ? 1u << kBp : 0u));
  return s;
}

// The function chunk holding pc (a return address: the call before it), by
// the module's function model; the trace starts at the function's entry.
std::optional<CodeRange> functionRange(const LoadedModule &m, uint64_t pc, bool exact) {
  const uint32_t rva = uint32_t((exact ? pc : pc - 1) - m.record().base);
  const code::Function *fn = m.analysis()->functionContaining(rva);
  if (!fn)
    return std::nullopt;
  for (const code::Range &c : fn->chunks)
    if (c.contains(rva))
      return CodeRange{fn->rva, c.end};
  return CodeRange{fn->rva, 0};
}

// Bytes between the outermost frame's stack pointer and the stack's base
// within which a walk that finds no caller has reached the end.
constexpr uint64_t kOutermostFrameBytes = 0x400;

// The thread's stack base: NT_TIB.StackBase in its TEB (a WOW64 thread's
// 32-bit TEB for its 32-bit stack) when the dump holds it, else the end of
// the stack memory the thread list describes.
std::optional<uint64_t> stackBaseOf(const Minidump &dump, const MemoryReader &memory, uint32_t threadId, Arch arch) {
  const ThreadRecord *t = dump.thread(threadId);
  if (!t)
    return std::nullopt;
  const unsigned width = arch == Arch::X64 ? 8 : 4;
  const bool wow64 = dump.arch() == Arch::X64 && arch == Arch::X86;
  if (t->teb)
    if (auto base = memory.pointer(t->teb + (wow64 ? kTeb32FromTeb64 : 0) + width, width); base && *base)
      return *base;
  if (t->stackSize && !wow64)
    return t->stackStart + t->stackSize;
  return std::nullopt;
}

} // namespace

bool DumpMemory::read(uint64_t va, void *out, size_t length) const {
  if (dump_.read(va, out, length))
    return true;
  const LoadedModule *m = modules_.containing(va);
  if (!m || !m->analysis() || va + length > m->record().base + m->record().size)
    return false;
  // Only what the loader maps unchanged: code and read-only data (a
  // writable section or an import slot holds what the process wrote there).
  const image::Image &img = m->analysis()->image();
  const uint32_t rva = uint32_t(va - m->record().base);
  const image::Section *s = img.sectionFor(rva);
  if ((s && s->writable) || img.isImportSlot(rva))
    return false;
  return img.copyFromRva(rva, out, length);
}

ThreadStack walkStack(const Minidump &dump, const ModuleSet &modules, const MemoryReader &memory, uint32_t threadId,
                      const Registers &start, const WalkOptions &options) {
  ThreadStack stack;
  stack.threadId = threadId;
  if (!start.valid) {
    stack.stopped = "the thread's context is unreadable";
    return stack;
  }
  // The registers' architecture, not the dump's: a WOW64 thread's 32-bit
  // context is walked as x86 in a 64-bit dump.
  if (start.arch != Arch::X64 && start.arch != Arch::X86) {
    stack.stopped = fmt::format("stack walks of {} dumps are not supported yet", image::architectureName(start.arch));
    return stack;
  }
  Registers regs = start;
  std::array<RegisterOrigin, 16> origins{};
  for (unsigned r = 0; r < 16; ++r)
    if (regs.isKnown(r))
      origins[r].kind = RegisterOrigin::Context;
  bool exact = true;   // regs are a real context (frame 0, or after a machine frame)
  const bool x86 = start.arch == Arch::X86;
  const std::optional<uint64_t> stackBase = stackBaseOf(dump, memory, threadId, start.arch);
  const ReturnCheck plausible = [&](uint64_t ret, uint64_t pc) {
    return returnFit(modules, memory, ret, pc) != Fit::None;
  };
  for (unsigned i = 0; i < options.maxFrames; ++i) {
    StackFrame f;
    f.index = i;
    f.pc = regs.pc;
    f.childSp = regs.sp();
    f.module = modules.containing(regs.pc);
    if (f.module)
      f.symbol = f.module->symbolize(regs.pc == 0 || exact ? regs.pc : regs.pc - 1);
    if (f.symbol && !exact)
      ++f.symbol->offset;   // looked up at the call's last byte, shown at the return address
    f.regs = regs;
    f.origins = origins;

    std::optional<UnwindStep> step;
    std::string why;
    bool noUnwindData = true;
    if (f.module && f.module->analysis()) {
      const LoadedModule &m = *f.module;
      StepResult r = x86 ? unwindX86(m.unwindModule(), [&] { return functionRange(m, regs.pc, exact); }, regs, memory,
                                     exact, plausible)
                         : unwindX64(m.unwindModule(), regs, memory, exact);
      step = std::move(r.step);
      why = r.error;
      noUnwindData = r.noUnwindData;
    }
    if (!step && x86) {
      step = framePointerStepX86(regs, memory);
      if (step && !plausible(step->caller.pc, regs.pc))
        step.reset();
    }
    if (!step && exact && noUnwindData && !x86) {
      step = leafStep(regs, memory);
      if (step && !plausible(step->caller.pc, regs.pc))
        step.reset();
    }
    if (!step)
      step = scanStep(modules, memory, regs, options.scanBytes);
    if (!step) {
      // The outermost frame of a thread started by the system: what lies
      // above it is the start routine's own setup, not a caller.
      const bool atBase = stackBase && regs.sp() <= *stackBase && *stackBase - regs.sp() <= kOutermostFrameBytes;
      stack.frames.push_back(std::move(f));
      if (!atBase)
        stack.stopped = why.empty() ? "no return address found" : why;
      break;
    }
    f.how = step->how;
    f.returnAddress = step->caller.pc;
    f.returnSlot = step->returnSlot;
    for (const RestoredRegister &s : step->restored)
      origins[s.reg] = {RegisterOrigin::Saved, i, s.address};
    for (unsigned r = 0; r < 16; ++r)
      if (!step->caller.isKnown(r) || step->how == StepHow::Scan)
        origins[r] = {};
    const bool ends = step->caller.pc == 0;
    if (!ends && step->caller.sp() <= regs.sp() && step->how != StepHow::MachineFrame) {
      stack.frames.push_back(std::move(f));
      stack.stopped = fmt::format("the caller's stack pointer {:#x} is not above {:#x}", step->caller.sp(), regs.sp());
      break;
    }
    f.frameSize = step->caller.sp() - regs.sp();
    stack.frames.push_back(std::move(f));
    if (ends)
      break;
    exact = step->how == StepHow::MachineFrame;
    regs = step->caller;
    if (i + 1 == options.maxFrames)
      stack.stopped = fmt::format("stopped after {} frames", options.maxFrames);
  }
  return stack;
}

std::string callSiteName(const StackFrame &f) {
  if (!f.module)
    return fmt::format("{:#x}", f.pc);
  if (!f.symbol)
    return fmt::format("{}+{:#x}", f.module->name(), f.pc - f.module->record().base);
  return f.symbol->offset ? fmt::format("{}!{}+{:#x}", f.module->name(), f.symbol->function, f.symbol->offset)
                          : fmt::format("{}!{}", f.module->name(), f.symbol->function);
}

} // namespace sb::dump
