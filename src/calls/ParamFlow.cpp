#include "switchboard/calls/ParamFlow.h"

#include "code/ZydisRegisters.h"
#include "switchboard/code/Thunks.h"
#include "switchboard/unwind/Frame.h"
#include "values/Tracker.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace sb::calls {
using values::Kind;
using values::Value;

namespace {
const ZydisRegister kArgRegs[] = {ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9};

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](char c) { return char(std::toupper(c)); });
  return s;
}


std::string sourceText(const Analysis &a, const Value &v) {
  auto plus = [](int64_t off) { return off ? fmt::format("{:+#x}", off) : std::string(); };
  switch (v.kind) {
  case Kind::Const: return fmt::format("constant {:#x}", v.off);
  case Kind::Image: return fmt::format("address of {}", a.describe(v.base + uint32_t(v.off)));
  case Kind::Stack: return fmt::format("stack address entry-RSP{:+#x}", v.off);
  case Kind::Param: return fmt::format("P{} of this function{}", v.base + 1, plus(v.off));
  case Kind::Entry: return fmt::format("the caller's {}{}", upper(values::registerName(v.base, true)), plus(v.off));
  case Kind::Return: {
    std::string callee = "an indirect call";
    if (const pe::Import *imp = a.image().importForIat(v.base))
      callee = imp->name;
    else if (v.base)
      callee = a.describe(v.base);
    return fmt::format("the result of {}", callee);
  }
  case Kind::Load: return fmt::format("memory [{}]", sourceText(a, v.address()));
  default: return "unknown";
  }
}


// Where the callee's prolog saves register `reg`, as Child-SP-relative text.
std::string savedBy(const Analysis &a, const unwind::ExceptionDirectory &dir, const code::Decoder &dec, uint32_t callee,
                    code::Gpr reg) {
  if (!callee || !a.functionAt(callee))
    return {};
  unwind::FrameLayout fl = unwind::computeFrame(dir, dec, callee);
  for (size_t i = 0; i < fl.pushes.size(); ++i)
    if (fl.pushes[i] == reg) {
      int64_t off = int64_t(fl.alloc) + 8 * int64_t(fl.pushes.size() - 1 - i);
      return fmt::format("Child-SP+{:#x}", off);
    }
  for (const unwind::StackSlot &s : fl.saved)
    if (s.reg == code::gprName(reg, true))
      return fmt::format("Child-SP+{:#x}", s.offset);
  return {};
}
} // namespace

std::string ParamLocation::text() const {
  switch (kind) {
  case Home: return fmt::format("homed at [entry-RSP+{:#x}]", offset);
  case NonVolatile: return fmt::format("copied to {}", reg ? upper(code::gprName(*reg, true)) : std::string("?"));
  case StackSlot: return fmt::format("stored at [entry-RSP{:+#x}]", offset);
  }
  return "?";
}

ParamFlow analyzeParams(const Analysis &a, const code::Function &f) {
  ParamFlow out;
  out.functionRva = f.rva;
  const pe::PeImage &img = a.image();
  if (!img.is64())
    return out;
  code::Decoder dec(true, img.imageBase());
  const unwind::ExceptionDirectory &dir = a.exceptionDirectory();
  for (unsigned i = 0; i < 4; ++i)
    out.incoming.push_back({i, {}, {}});
  values::Tracker tr(img, dec, f);
  auto addLocation = [&](unsigned p, ParamLocation loc) {
    auto &locs = out.incoming[p].locations;
    for (const ParamLocation &l : locs)
      if (l.kind == loc.kind && l.reg == loc.reg && l.offset == loc.offset)
        return;
    locs.push_back(loc);
  };
  auto holds = [&](const values::State &s, const ParamLocation &l, unsigned p) {
    Value v = l.kind == ParamLocation::NonVolatile ? s.reg(code::toZydis(*l.reg)) : s.slot(l.offset, true);
    return v.kind == Kind::Param && v.base == p && v.off == 0;
  };
  tr.forEach([&](const values::Insn &in, const values::State &s) {
    const ZydisDecodedInstruction &d = *in.insn;
    const ZydisDecodedOperand *ops = in.ops;
    if (d.mnemonic == ZYDIS_MNEMONIC_MOV && d.operand_count_visible >= 2 && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
      Value v = s.reg(ops[1].reg.value);
      if (v.kind == Kind::Param && v.base < 4 && v.off == 0) {
        std::optional<code::Gpr> to = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? code::toGpr(ops[0].reg.value) : std::nullopt;
        if (to && code::isNonVolatile(*to, true)) {
          addLocation(v.base, {ParamLocation::NonVolatile, in.rva, to, 0});
        } else if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
          Value at = tr.address(s, in, ops[0]);
          if (at.kind == Kind::Stack)
            addLocation(v.base, {at.off >= 8 && at.off <= 0x20 ? ParamLocation::Home : ParamLocation::StackSlot, in.rva,
                                 std::nullopt, at.off});
        }
      }
    }
    // Calls, and jumps to other functions (tail calls pass arguments too).
    bool tail = d.mnemonic == ZYDIS_MNEMONIC_JMP &&
                (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY ||
                 (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                  std::binary_search(f.tailCalls.begin(), f.tailCalls.end(), uint32_t(int64_t(in.next()) + ops[0].imm.value.s))));
    if (d.mnemonic != ZYDIS_MNEMONIC_CALL && !tail)
      return;
    for (IncomingParam &p : out.incoming) {
      std::vector<size_t> still;
      for (size_t k = 0; k < p.locations.size(); ++k)
        if (holds(s, p.locations[k], p.index))
          still.push_back(k);
      p.atCalls.emplace_back(in.rva, still);
    }
    CallParams cp;
    cp.siteRva = in.rva;
    if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      cp.calleeRva = code::followJumpStubs(img, dec, uint32_t(int64_t(in.next()) + ops[0].imm.value.s));
      cp.callee = a.describe(cp.calleeRva);
    } else if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
      Value at = tr.address(s, in, ops[0]);
      if (at.isImage())
        if (const pe::Import *imp = img.importForIat(at.base + uint32_t(at.off)))
          cp.callee = imp->name;
    }
    if (cp.callee.empty())
      cp.callee = "(indirect)";
    for (unsigned i = 0; i < 4; ++i) {
      OutgoingArg arg;
      arg.index = i;
      arg.value = s.reg(kArgRegs[i]);
      arg.source = sourceText(a, arg.value);
      arg.kind = values::recoveredKind(arg.value);
      // A non-volatile register with the same value: what a dump analyzer
      // reads back from where the callee saved it.
      if (arg.value.known() && arg.value.kind != Kind::Const)
        for (unsigned r = 0; r < code::kGprCount && !arg.heldIn; ++r)
          if (code::isNonVolatile(code::Gpr(r), true) && s.reg(code::toZydis(code::Gpr(r))) == arg.value)
            arg.heldIn = code::Gpr(r);
      if (arg.heldIn)
        arg.savedByCallee = savedBy(a, dir, dec, cp.calleeRva, *arg.heldIn);
      cp.args.push_back(arg);
    }
    out.calls.push_back(std::move(cp));
  });
  std::sort(out.calls.begin(), out.calls.end(), [](const CallParams &x, const CallParams &y) { return x.siteRva < y.siteRva; });
  return out;
}

} // namespace sb::calls
