// The stack walk: unwind data where a module has it, a leaf step for the
// innermost frame without it, and otherwise a bounded scan of the stack for
// a return address that follows a call which can reach the frame's code.
#include "switchboard/dump/StackWalk.h"

#include "code/Decoder.h"
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
  // What the skipped code saved is not known: only the stack pointer is.
  s.caller.known = uint16_t(1u << kSp);
  return s;
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
  if (dump.arch() != Arch::X64) {
    stack.stopped = fmt::format("stack walks of {} dumps are not supported yet", image::architectureName(dump.arch()));
    return stack;
  }
  Registers regs = start;
  std::array<RegisterOrigin, 16> origins{};
  for (unsigned r = 0; r < 16; ++r)
    if (regs.isKnown(r))
      origins[r].kind = RegisterOrigin::Context;
  bool exact = true;   // regs are a real context (frame 0, or after a machine frame)
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
      StepResult r = unwindX64(f.module->unwindModule(), regs, memory, exact);
      step = std::move(r.step);
      why = r.error;
      noUnwindData = r.noUnwindData;
    }
    if (!step && exact && noUnwindData) {
      step = leafStep(regs, memory);
      if (step && returnFit(modules, memory, step->caller.pc, regs.pc) == Fit::None)
        step.reset();
    }
    if (!step)
      step = scanStep(modules, memory, regs, options.scanBytes);
    if (!step) {
      stack.frames.push_back(std::move(f));
      stack.stopped = why.empty() ? "no return address found" : why;
      break;
    }
    f.how = step->how;
    f.returnAddress = step->caller.pc;
    for (const RestoredRegister &s : step->restored)
      origins[s.reg] = {RegisterOrigin::Saved, i, s.address};
    for (unsigned r = 0; r < 16; ++r)
      if (!step->caller.isKnown(r))
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
