// The x64 virtual unwind of one frame (RtlVirtualUnwind's rules): in an
// epilog, the rest of the epilog is emulated; elsewhere the unwind codes of
// the entry holding the pc and of every entry it chains to are undone, the
// prolog's codes only as far as the pc has executed them.
#include "switchboard/dump/Unwinder.h"
#include "switchboard/pe/PeImage.h"
#include "switchboard/unwind/ExceptionDirectory.h"

#include <array>
#include <cstring>
#include <fmt/format.h>

namespace sb::dump {
namespace {

constexpr uint32_t kNotInProlog = ~0u;

// Up to 64 code bytes at an RVA, zero past what the image holds.
struct CodeWindow {
  std::array<uint8_t, 64> bytes{};
  size_t size = 0;

  CodeWindow(const pe::PeImage &img, uint32_t rva) {
    std::span<const uint8_t> have = img.bytesFromRva(rva);
    size = std::min(have.size(), bytes.size());
    std::memcpy(bytes.data(), have.data(), size);
  }
  uint8_t operator[](size_t i) const { return i < size ? bytes[i] : 0; }
  int32_t i32(size_t i) const {
    uint32_t v = 0;
    for (unsigned k = 0; k < 4; ++k)
      v |= uint32_t((*this)[i + k]) << (8 * k);
    return int32_t(v);
  }
};

// One instruction of an epilog, as the unwinder undoes it.
struct EpilogOp {
  enum Kind : uint8_t { AddRsp, LeaRsp, Pop, Return } kind;
  unsigned reg = 0;    // LeaRsp: the base; Pop: the register
  int64_t value = 0;   // AddRsp: the addend; LeaRsp: the displacement; Return: bytes popped after the address
};

// The rest of the epilog at the pc, or nullopt when the code there is not
// one: an optional `add rsp, imm` or `lea rsp, [reg+disp]` (REX.W, as the
// first instruction only), pops, then `ret`, `ret imm16`, `rep ret`, or a
// jump out of the function (a tail call: the return address stays).
std::optional<std::vector<EpilogOp>> decodeEpilog(const CodeWindow &c, uint32_t pcRva, uint32_t begin, uint32_t end) {
  std::vector<EpilogOp> ops;
  size_t i = 0;
  if ((c[0] & 0xF8) == 0x48) {
    if ((c[1] == 0x81 || c[1] == 0x83) && c[0] == 0x48 && c[2] == 0xC4) {
      const bool imm32 = c[1] == 0x81;
      ops.push_back({EpilogOp::AddRsp, 0, imm32 ? int64_t(c.i32(3)) : int64_t(int8_t(c[3]))});
      i = imm32 ? 7 : 4;
    } else if (c[1] == 0x8D) {
      const uint8_t modrm = c[2];
      if ((c[0] & 0x06) || (modrm >> 3 & 7) != 4 || (modrm & 7) == 4 || (modrm >> 6 != 1 && modrm >> 6 != 2))
        return std::nullopt;
      const bool disp8 = modrm >> 6 == 1;
      ops.push_back({EpilogOp::LeaRsp, (modrm & 7u) + (c[0] & 1) * 8u,
                     disp8 ? int64_t(int8_t(c[3])) : int64_t(c.i32(3))});
      i = disp8 ? 4 : 7;
    }
  }
  for (unsigned steps = 0; steps < 16 && i < c.size; ++steps) {
    const uint8_t rex = (c[i] & 0xF0) == 0x40 ? c[i] : 0;
    const size_t at = rex ? i + 1 : i;
    const uint8_t op = c[at];
    if (op >= 0x58 && op <= 0x5F) {
      ops.push_back({EpilogOp::Pop, (op - 0x58u) + (rex & 1) * 8u, 0});
      i = at + 1;
      continue;
    }
    const bool ret = op == 0xC3 || (op == 0xF3 && c[at + 1] == 0xC3);
    const bool retImm = op == 0xC2;
    bool tail = op == 0xFF && (c[at + 1] == 0x25 || (c[at + 1] & 0xF8) == 0xE0);   // jmp [rip+d] / jmp reg
    if (op == 0xE9 || op == 0xEB) {
      const int64_t target = int64_t(pcRva) + int64_t(at) + (op == 0xE9 ? 5 + c.i32(at + 1) : 2 + int8_t(c[at + 1]));
      tail = target < int64_t(begin) || target >= int64_t(end);
      if (!tail)
        return std::nullopt;   // a jump back into the function: not an epilog
    }
    if (!ret && !retImm && !tail)
      return std::nullopt;
    ops.push_back({EpilogOp::Return, 0, retImm ? int64_t(uint16_t(c[at + 1] | c[at + 2] << 8)) : 0});
    return ops;
  }
  return std::nullopt;
}

class Stepper {
public:
  Stepper(const Registers &regs, const MemoryReader &memory) : memory_(memory) { step_.caller = regs; }

  Registers &ctx() { return step_.caller; }

  bool pop(unsigned reg) {
    auto v = memory_.pointer(ctx().sp(), 8);
    if (!v)
      return fail(fmt::format("stack at {:#x} is not in the dump", ctx().sp()));
    step_.restored.push_back({uint8_t(reg), ctx().sp()});
    ctx().set(reg, *v);
    ctx().set(kSp, ctx().sp() + 8);
    return true;
  }
  bool load(unsigned reg, uint64_t address) {
    auto v = memory_.pointer(address, 8);
    if (!v)
      return fail(fmt::format("saved {} at {:#x} is not in the dump", gprName(Arch::X64, reg), address));
    step_.restored.push_back({uint8_t(reg), address});
    ctx().set(reg, *v);
    return true;
  }
  bool ret(uint64_t extra = 0) {
    auto v = memory_.pointer(ctx().sp(), 8);
    if (!v)
      return fail(fmt::format("return address at {:#x} is not in the dump", ctx().sp()));
    ctx().pc = *v;
    ctx().set(kSp, ctx().sp() + 8 + extra);
    return true;
  }
  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

  // The rest of the epilog, as the processor would run it.
  bool emulateEpilog(const std::vector<EpilogOp> &ops) {
    for (const EpilogOp &op : ops) {
      switch (op.kind) {
      case EpilogOp::AddRsp:
        ctx().set(kSp, ctx().sp() + uint64_t(op.value));
        break;
      case EpilogOp::LeaRsp:
        if (!ctx().isKnown(op.reg))
          return fail(fmt::format("epilog: {} is unknown", gprName(Arch::X64, op.reg)));
        ctx().set(kSp, ctx().gpr[op.reg] + uint64_t(op.value));
        break;
      case EpilogOp::Pop:
        if (!pop(op.reg))
          return false;
        break;
      case EpilogOp::Return:
        return ret(uint64_t(op.value));
      }
    }
    return fail("epilog: no return");
  }

  // Undoes one UNWIND_INFO's codes; prologOffset: how far the prolog ran
  // (kNotInProlog: all of it).
  bool undoCodes(const unwind::UnwindInfo &info, uint32_t prologOffset) {
    auto executed = [&](const unwind::UnwindCode &code) {
      return prologOffset == kNotInProlog || code.prologOffset <= prologOffset;
    };
    bool frameSet = false;
    for (const unwind::UnwindCode &code : info.codes)
      if (code.op == unwind::kSetFpreg && executed(code))
        frameSet = true;
    uint64_t frame = ctx().sp();
    if (info.frameRegister && frameSet) {
      if (!ctx().isKnown(info.frameRegister))
        return fail(fmt::format("frame register {} is unknown", gprName(Arch::X64, info.frameRegister)));
      frame = ctx().gpr[info.frameRegister] - info.frameOffsetBytes();
    }
    for (const unwind::UnwindCode &code : info.codes) {
      if (!executed(code))
        continue;
      switch (code.op) {
      case unwind::kPushNonvol:
        if (!pop(code.reg))
          return false;
        break;
      case unwind::kAllocLarge:
      case unwind::kAllocSmall:
        ctx().set(kSp, ctx().sp() + code.value);
        break;
      case unwind::kSetFpreg:
        ctx().set(kSp, frame);
        break;
      case unwind::kSaveNonvol:
      case unwind::kSaveNonvolFar:
        if (!load(code.reg, frame + code.value))
          return false;
        break;
      case unwind::kPushMachframe: {
        // The processor pushed SS, RSP, EFLAGS, CS, RIP (and an error code).
        const uint64_t at = ctx().sp() + (code.info ? 8 : 0);
        auto rip = memory_.pointer(at, 8), rsp = memory_.pointer(at + 24, 8);
        if (!rip || !rsp)
          return fail(fmt::format("machine frame at {:#x} is not in the dump", at));
        ctx().pc = *rip;
        ctx().set(kSp, *rsp);
        machineFrame_ = true;
        break;
      }
      default:   // XMM saves: the integer registers do not change
        break;
      }
    }
    return true;
  }

  UnwindStep take() { return std::move(step_); }
  UnwindStep &step() { return step_; }
  const std::string &error() const { return error_; }
  bool machineFrame() const { return machineFrame_; }

private:
  const MemoryReader &memory_;
  UnwindStep step_;
  std::string error_;
  bool machineFrame_ = false;
};

} // namespace

const char *stepHowName(StepHow h) {
  switch (h) {
  case StepHow::Unwind: return "unwind";
  case StepHow::Epilog: return "epilog";
  case StepHow::Leaf: return "leaf";
  case StepHow::FramePointer: return "frame_pointer";
  case StepHow::Scan: return "scan";
  case StepHow::MachineFrame: return "machine_frame";
  case StepHow::FrameData: return "frame_data";
  }
  return "?";
}

std::optional<UnwindStep> leafStep(const Registers &regs, const MemoryReader &memory) {
  Stepper s(regs, memory);
  if (!s.ret())
    return std::nullopt;
  s.step().how = StepHow::Leaf;
  forgetVolatiles(s.ctx());
  return s.take();
}

StepResult unwindX64(const UnwindModule &module, const Registers &regs, const MemoryReader &memory, bool topFrame) {
  StepResult result;
  if (regs.pc < module.base || regs.pc - module.base >= module.image->imageSize()) {
    result.error = "the pc is outside the module";
    return result;
  }
  const uint32_t rva = uint32_t(regs.pc - module.base);
  // A return address may be the first byte after its function (a call that
  // does not return): look up the call's own byte.
  const pe::RuntimeFunction *entry = module.directory->entryFor(topFrame || rva == 0 ? rva : rva - 1);
  if (!entry) {
    result.noUnwindData = true;
    result.error = fmt::format("no unwind data for rva {:#x}", rva);
    return result;
  }
  std::vector<unwind::ChainLink> chain = module.directory->chain(*entry);
  if (chain.empty() || !chain.front().info) {
    result.error = fmt::format("the unwind info of the entry at rva {:#x} is unreadable", entry->begin);
    return result;
  }
  Stepper s(regs, memory);
  const unwind::UnwindInfo &first = *chain.front().info;
  const uint32_t offset = rva - chain.front().begin;
  const bool inProlog = offset < first.prologSize;
  s.step().functionRva = chain.back().begin;
  s.step().prologSize = first.prologSize;
  if (!inProlog && !first.codes.empty()) {
    CodeWindow code(*module.image, rva);
    if (auto epilog = decodeEpilog(code, rva, chain.front().begin, chain.front().end)) {
      if (!s.emulateEpilog(*epilog)) {
        result.error = s.error();
        return result;
      }
      s.step().how = StepHow::Epilog;
      forgetVolatiles(s.ctx());
      result.step = s.take();
      return result;
    }
  }
  for (size_t i = 0; i < chain.size(); ++i) {
    if (!chain[i].info) {
      result.error = fmt::format("chained unwind info at rva {:#x}: {}", chain[i].unwindRva, chain[i].error);
      return result;
    }
    if (!s.undoCodes(*chain[i].info, i == 0 && inProlog ? offset : kNotInProlog)) {
      result.error = s.error();
      return result;
    }
    if (!chain[i].error.empty() && i + 1 == chain.size() && (chain[i].info->flags & unwind::kFlagChainInfo)) {
      result.error = chain[i].error;
      return result;
    }
  }
  if (s.machineFrame()) {
    s.step().how = StepHow::MachineFrame;
  } else {
    if (!s.ret()) {
      result.error = s.error();
      return result;
    }
    s.step().how = StepHow::Unwind;
  }
  forgetVolatiles(s.ctx());
  result.step = s.take();
  return result;
}

} // namespace sb::dump
