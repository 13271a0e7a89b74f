// The message switch of a procedure: the value tracker replays it and every
// conditional branch on the message parameter (compare chains, binary-search
// trees, a bounded jump table indexed by it, a compare with a registered
// message kept in a global) gives a case and its handler block. Inside the
// WM_COMMAND and WM_NOTIFY handlers the same is done for LOWORD(wParam) and
// NMHDR.code.
#include "Switches.h"

#include "switchboard/code/Thunks.h"
#include "switchboard/values/Tracker.h"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

namespace sb::messages {
using values::Kind;
using values::Value;

namespace {

struct Branch {
  uint32_t site = 0, taken = 0, fallthrough = 0;
  ZydisMnemonic jcc = ZYDIS_MNEMONIC_INVALID;
  Value lhs, rhs;   // the compare's operands
};

// `x == c` on this branch: the block where it holds, or 0.
uint32_t equalTarget(const Branch &b) {
  if (b.jcc == ZYDIS_MNEMONIC_JZ)
    return b.taken;
  if (b.jcc == ZYDIS_MNEMONIC_JNZ)
    return b.fallthrough;
  return 0;
}

// The blocks a handler runs: reachable from its entry without entering
// another handler or the blocks in `stop`.
std::vector<const code::BasicBlock *> region(const code::Function &f, uint32_t entry, const std::set<uint32_t> &stop) {
  std::map<uint32_t, const code::BasicBlock *> byRva;
  for (const code::BasicBlock &b : f.blocks)
    byRva[b.rva] = &b;
  std::vector<const code::BasicBlock *> out;
  std::deque<uint32_t> work{entry};
  std::set<uint32_t> seen{entry};
  while (!work.empty() && out.size() < 256) {
    auto it = byRva.find(work.front());
    work.pop_front();
    if (it == byRva.end())
      continue;
    out.push_back(it->second);
    for (uint32_t s : it->second->successors)
      if (!stop.count(s) && seen.insert(s).second)
        work.push_back(s);
  }
  return out;
}
} // namespace

SwitchAnalyzer::SwitchAnalyzer(const Analysis &a, const values::CallEffects &effects,
                               const std::map<uint32_t, std::string> &registeredGlobals,
                               std::function<std::vector<uint32_t>(uint32_t site)> indirectTargets)
    : a_(a), effects_(effects), registered_(registeredGlobals), indirect_(std::move(indirectTargets)),
      dec_(a.image().is64(), a.image().imageBase()) {}

void SwitchAnalyzer::analyze(const code::Function &f, unsigned msgParam, Procedure &proc, int depth) {
  const pe::PeImage &img = a_.image();
  const bool is64 = img.is64();
  values::Tracker tr(img, dec_, f, 8, &effects_);
  std::set<uint32_t> blockStarts;
  for (const code::BasicBlock &b : f.blocks)
    blockStarts.insert(b.rva);
  std::vector<Branch> branches;
  Value lhs, rhs;
  std::optional<Branch> bound;   // the last `cmp x, N; ja default`
  std::vector<std::pair<uint32_t, unsigned>> forwards;
  struct WparamCall {
    uint32_t site, callee;
    unsigned index;
  };
  std::vector<WparamCall> wparamCalls;
  struct WparamEntry {
    uint32_t site, id, target;
  };
  std::vector<WparamEntry> wparamTable;   // jump tables on LOWORD(wParam)
  std::set<uint32_t> hiwordSites;         // `shr r, 16` of wParam: the value defined there is HIWORD(wParam)
  std::set<uint32_t> himaskSites;         // `and r, 0xFFFF0000` of wParam: HIWORD(wParam) << 16
  auto isMsg = [&](const Value &v) { return v.kind == Kind::Param && v.base == msgParam; };
  auto isWparam = [&](const Value &v) { return v.kind == Kind::Param && v.base == msgParam + 1 && v.off == 0; };
  tr.forEach([&](const values::Insn &in, const values::State &s) {
    const ZydisDecodedInstruction &d = *in.insn;
    const ZydisDecodedOperand *ops = in.ops;
    if (blockStarts.count(in.rva))
      lhs = rhs = {};
    switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_CMP:
      lhs = tr.read(s, in, ops[0]);
      rhs = tr.read(s, in, ops[1]);
      // `shr rax, 16; cmp ax, 1`: the word register of HIWORD(wParam).
      if (!lhs.known() && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        Value w = s.reg(ZydisRegisterGetLargestEnclosing(is64 ? ZYDIS_MACHINE_MODE_LONG_64 : ZYDIS_MACHINE_MODE_LEGACY_32,
                                                         ops[0].reg.value));
        if (w.kind == Kind::Opaque && hiwordSites.count(w.site))
          lhs = w;
      }
      return;
    case ZYDIS_MNEMONIC_SUB:
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_DEC:
    case ZYDIS_MNEMONIC_INC: {
      // The flags describe the result against zero: `sub eax, 0x110; je`
      // (then `dec eax; je` for the next message) compares the message.
      Value v = tr.read(s, in, ops[0]);
      int64_t delta = 0;
      if (d.mnemonic == ZYDIS_MNEMONIC_DEC || d.mnemonic == ZYDIS_MNEMONIC_INC)
        delta = d.mnemonic == ZYDIS_MNEMONIC_INC ? 1 : -1;
      else if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        delta = d.mnemonic == ZYDIS_MNEMONIC_ADD ? ops[1].imm.value.s : int64_t(0 - uint64_t(ops[1].imm.value.s));
      else
        v = {};
      lhs = v.known() ? v.plus(delta) : Value{};
      rhs = Value::constant(0);
      return;
    }
    case ZYDIS_MNEMONIC_TEST:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[0].reg.value == ops[1].reg.value) {
        lhs = tr.read(s, in, ops[0]);
        rhs = Value::constant(0);
      } else if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && uint32_t(ops[1].imm.value.u) == 0xFFFF0000u &&
                 isWparam(tr.read(s, in, ops[0]))) {
        himaskSites.insert(in.rva);   // `test r, 0xFFFF0000; jz`: HIWORD(wParam) == 0
        lhs = Value::opaque(in.rva);
        rhs = Value::constant(0);
      } else {
        lhs = rhs = {};
      }
      return;
    case ZYDIS_MNEMONIC_AND:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          uint32_t(ops[1].imm.value.u) == 0xFFFF0000u) {
        if (isWparam(tr.read(s, in, ops[0]))) {
          himaskSites.insert(in.rva);
          lhs = Value::opaque(in.rva);
          rhs = Value::constant(0);
        }
      }
      return;
    case ZYDIS_MNEMONIC_SHR:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          ops[1].imm.value.u == 16) {
        if (isWparam(tr.read(s, in, ops[0]))) {
          hiwordSites.insert(in.rva);
          lhs = Value::opaque(in.rva);   // the flags: HIWORD(wParam) against zero
          rhs = Value::constant(0);
        }
      }
      return;
    case ZYDIS_MNEMONIC_JMP:
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return;
      [[fallthrough]];
    case ZYDIS_MNEMONIC_CALL: {
      // The message handed on to a helper (or, through a virtual call, to a
      // C++ window's handler): its cases are this procedure's. A tail jump's
      // stack arguments sit one return address higher.
      bool tail = d.mnemonic == ZYDIS_MNEMONIC_JMP;
      auto argument = [&](unsigned i) {
        if (!tail || (is64 && i < 4))
          return tr.argument(s, i);
        Value sp = s.sp();
        return sp.kind != Kind::Stack ? Value{} : s.slot(sp.off + (is64 ? 0x28 + 8 * int64_t(i - 4) : 4 + 4 * int64_t(i)), is64);
      };
      // wParam handed to a helper (WM_COMMAND dispatch in a MenuCommand(wParam)).
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !tail)
        for (unsigned i = 0; i < 4; ++i) {
          Value v = argument(i);
          if (v.kind == Kind::Param && v.base == msgParam + 1 && v.off == 0) {
            wparamCalls.push_back({in.rva, code::followJumpStubs(img, dec_, uint32_t(int64_t(in.next()) + ops[0].imm.value.s)), i});
            break;
          }
        }
      for (unsigned i = 0; i < 4; ++i) {
        if (!isMsg(argument(i)) || argument(i).off != 0)
          continue;
        if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
          forwards.emplace_back(code::followJumpStubs(img, dec_, uint32_t(int64_t(in.next()) + ops[0].imm.value.s)), i);
        else if (indirect_)
          for (uint32_t t : indirect_(in.rva))
            forwards.emplace_back(t, i);
        break;
      }
      if (d.mnemonic == ZYDIS_MNEMONIC_CALL) {
        lhs = rhs = {};
        return;
      }
      break;   // an indirect jump may still be a jump table
    }
    default: break;
    }
    if (in.insn->meta.category == ZYDIS_CATEGORY_COND_BR && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      Branch b;
      b.site = in.rva;
      b.taken = uint32_t(int64_t(in.next()) + ops[0].imm.value.s);
      b.fallthrough = in.next();
      b.jcc = d.mnemonic;
      b.lhs = lhs;
      b.rhs = rhs;
      branches.push_back(b);
      if ((d.mnemonic == ZYDIS_MNEMONIC_JNBE || d.mnemonic == ZYDIS_MNEMONIC_JNB) && lhs.known() && rhs.isConst())
        bound = b;
      return;
    }
    // A jump table indexed by the message (or, for WM_COMMAND, by wParam).
    bool byWparam = bound && bound->lhs.kind == Kind::Param && bound->lhs.base == msgParam + 1;
    if (d.mnemonic == ZYDIS_MNEMONIC_JMP && ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE && bound &&
        (isMsg(bound->lhs) || byWparam))
      for (const code::JumpTable &jt : f.jumpTables) {
        if (jt.jumpRva != in.rva)
          continue;
        int64_t bias = bound->lhs.off;   // index = msg + bias
        size_t n = jt.indexTableRva ? size_t(bound->rhs.off + 1) : jt.targets.size();
        for (size_t i = 0; i < n && i < 4096; ++i) {
          size_t entry = i;
          if (jt.indexTableRva) {
            auto byte = img.readRva<uint8_t>(jt.indexTableRva + uint32_t(i));
            if (!byte)
              break;
            entry = *byte;
          }
          if (entry >= jt.targets.size() || jt.targets[entry] == bound->taken)
            continue;
          if (byWparam)
            wparamTable.push_back({in.rva, uint32_t(int64_t(i) - bias) & 0xFFFF, jt.targets[entry]});
          else
            addCase(proc, {uint32_t(int64_t(i) - bias), ""}, jt.targets[entry]);
        }
      }
  });
  // Equality branches on the message.
  for (const Branch &b : branches) {
    uint32_t target = equalTarget(b);
    if (!target)
      continue;
    const Value &m = isMsg(b.lhs) ? b.lhs : b.rhs;
    const Value &other = isMsg(b.lhs) ? b.rhs : b.lhs;
    if (!isMsg(m))
      continue;
    if (other.isConst()) {
      addCase(proc, {uint32_t(other.off - m.off), ""}, target);
    } else if (other.kind == Kind::Load && other.addrKind == Kind::Image && m.off == 0) {
      auto it = registered_.find(other.base + uint32_t(other.addrOff));
      if (it != registered_.end())
        addCase(proc, {0, it->second}, target);
    }
  }
  // Range checks on the message (`lea eax, [rdx-0x400]; cmp eax, 8; jb`):
  // every message in a small range shares the handler.
  for (const Branch &b : branches) {
    if (!isMsg(b.lhs) || !b.rhs.isConst())
      continue;
    int64_t lo = -b.lhs.off, n = b.rhs.off;
    uint32_t target = 0;
    switch (b.jcc) {
    case ZYDIS_MNEMONIC_JB: target = b.taken; break;                       // x < n
    case ZYDIS_MNEMONIC_JBE: target = b.taken; ++n; break;                 // x <= n
    case ZYDIS_MNEMONIC_JNB: target = b.fallthrough; break;                // !(x >= n)
    case ZYDIS_MNEMONIC_JNBE: target = b.fallthrough; ++n; break;          // !(x > n)
    default: break;
    }
    // Only biased checks: `cmp msg, 0x100; jb` alone splits a search tree.
    if (!target || b.lhs.off == 0 || n <= 0 || n > 64 || lo < 0)
      continue;
    for (int64_t m = lo; m < lo + n; ++m)
      addCase(proc, {uint32_t(m), ""}, target);
  }
  // Handlers: their calls, and nested WM_COMMAND / WM_NOTIFY dispatch.
  std::set<uint32_t> handlerStarts;
  for (const Case &c : proc.cases)
    handlerStarts.insert(c.handlerRva);
  for (Case &c : proc.cases) {
    if (!f.contains(c.handlerRva))
      continue;
    std::set<uint32_t> stop = handlerStarts;
    stop.erase(c.handlerRva);
    auto blocks = region(f, c.handlerRva, stop);
    std::set<uint32_t> inRegion;
    for (const code::BasicBlock *b : blocks) {
      inRegion.insert(b->rva);
      code::DecodedInsn in;
      for (uint32_t pc = b->rva; pc < b->end && dec_.decode(img.bytesFromRva(pc), pc, in); pc = in.next()) {
        if (in.flow == code::Flow::Call && in.target)
          c.calls.push_back(code::followJumpStubs(img, dec_, *in.target));
        else if (in.flow == code::Flow::IndirectCall && in.memTarget)
          c.calls.push_back(*in.memTarget);
      }
    }
    std::sort(c.calls.begin(), c.calls.end());
    c.calls.erase(std::unique(c.calls.begin(), c.calls.end()), c.calls.end());
    bool command = c.message.registeredName.empty() && c.message.id == 0x0111;
    bool notify = c.message.registeredName.empty() && c.message.id == 0x004E;
    if (!command && !notify)
      continue;
    if (command)
      for (const WparamEntry &w : wparamTable)
        if (inRegion.count(blockOf(f, w.site)))
          c.commands.emplace_back(w.id, w.target);
    // A helper given wParam inside the WM_COMMAND handler switches on the id.
    if (command && depth < 2)
      for (const WparamCall &w : wparamCalls) {
        if (!inRegion.count(blockOf(f, w.site)))
          continue;
        const code::Function *g = a_.functionAt(w.callee);
        if (!g || g == &f)
          continue;
        Procedure helper;
        analyze(*g, w.index, helper, depth + 1);
        for (const Case &hc : helper.cases)
          if (hc.message.registeredName.empty())
            c.commands.emplace_back(hc.message.id & 0xFFFF, hc.handlerRva);
      }
    const int64_t codeOffset = is64 ? 0x10 : 8;   // NMHDR.code
    for (const Branch &b : branches) {
      if (!inRegion.count(blockOf(f, b.site)))
        continue;
      // `lea eax, [r8-1]; cmp ax, 1; ja`: a small range of command ids.
      if (command && b.lhs.kind == Kind::Param && b.lhs.base == msgParam + 1 && b.rhs.isConst() && b.lhs.off != 0 &&
          (b.jcc == ZYDIS_MNEMONIC_JNBE || b.jcc == ZYDIS_MNEMONIC_JBE) && b.rhs.off >= 0 && b.rhs.off < 64) {
        uint32_t at = b.jcc == ZYDIS_MNEMONIC_JNBE ? b.fallthrough : b.taken;
        for (int64_t id = -b.lhs.off; id <= -b.lhs.off + b.rhs.off; ++id)
          c.commands.emplace_back(uint32_t(id) & 0xFFFF, at);
        continue;
      }
      uint32_t target = equalTarget(b);
      if (!target)
        continue;
      const Value &x = b.lhs;
      if (!b.rhs.isConst())
        continue;
      if (command && x.kind == Kind::Param && x.base == msgParam + 1) {
        // A whole-wParam compare tests MAKEWPARAM(id, code) at once.
        const uint64_t w = uint64_t(b.rhs.off - x.off);
        c.commands.emplace_back(uint32_t(w & 0xFFFF), target);
        if ((w >> 16 & 0xFFFF) != 0 && (w >> 32) == 0)
          c.commandCodes.emplace_back(uint32_t(w >> 16 & 0xFFFF), target);
      }
      if (command && x.kind == Kind::Opaque && hiwordSites.count(x.site))
        c.commandCodes.emplace_back(uint32_t(b.rhs.off - x.off) & 0xFFFF, target);
      if (command && x.kind == Kind::Opaque && himaskSites.count(x.site))
        c.commandCodes.emplace_back(uint32_t(uint64_t(b.rhs.off - x.off) >> 16) & 0xFFFF, target);
      if (notify && x.kind == Kind::Load && x.addrKind == Kind::Param && x.base == msgParam + 2 && x.addrOff == codeOffset)
        c.notifies.emplace_back(uint32_t(b.rhs.off), target);
      if (notify && x.kind == Kind::Load && x.addrKind == Kind::Param && x.base == msgParam + 2 &&
          x.addrOff == codeOffset / 2)   // NMHDR.idFrom
        c.notifyFrom.emplace_back(uint32_t(b.rhs.off), target);
    }
  }
  // Helpers the message is forwarded to.
  for (const auto &[callee, index] : forwards) {
    if (depth >= 2 || std::find(proc.forwardedTo.begin(), proc.forwardedTo.end(), callee) != proc.forwardedTo.end())
      continue;
    if (const code::Function *g = a_.functionAt(callee)) {
      proc.forwardedTo.push_back(callee);
      analyze(*g, index, proc, depth + 1);
    }
  }
}

uint32_t SwitchAnalyzer::blockOf(const code::Function &f, uint32_t rva) const {
  for (const code::BasicBlock &b : f.blocks)
    if (rva >= b.rva && rva < b.end)
      return b.rva;
  return 0;
}

void SwitchAnalyzer::addCase(Procedure &proc, const MessageId &m, uint32_t handler) {
  for (const Case &c : proc.cases)
    if (c.message == m)
      return;   // the first test of a message wins (later ones are re-checks)
  Case c;
  c.message = m;
  c.handlerRva = handler;
  proc.cases.push_back(std::move(c));
}

} // namespace sb::messages
