// The message switch of a procedure: the value tracker replays it and every
// conditional branch on the message parameter (compare chains, binary-search
// trees, a bounded jump table indexed by it, a compare with a registered
// message kept in a global) gives a case and its handler block. Inside the
// WM_COMMAND and WM_NOTIFY handlers the same is done for LOWORD(wParam) and
// NMHDR.code.
#include "Switches.h"

#include "Dispatch.h"

#include "switchboard/code/Thunks.h"
#include "values/Tracker.h"

#include <algorithm>
#include <bit>
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

bool n2(const ZydisDecodedInstruction &d) { return d.operand_count_visible >= 2; }

// The branch's condition on what the flags say.
std::optional<MsgTest> completeTest(MsgTest t, ZydisMnemonic jcc) {
  if (t.viaCarry || t.shape == MsgTest::Shape::Bit) {
    // `bt` puts the bit in CF; `test`/`and` of a shifted 1 say in ZF
    // whether it is clear.
    const bool cf = jcc == ZYDIS_MNEMONIC_JB || jcc == ZYDIS_MNEMONIC_JNB;
    const bool zf = jcc == ZYDIS_MNEMONIC_JZ || jcc == ZYDIS_MNEMONIC_JNZ;
    if (t.viaCarry ? !cf : !zf)
      return std::nullopt;
    const bool set = jcc == ZYDIS_MNEMONIC_JB || jcc == ZYDIS_MNEMONIC_JNZ;
    if (t.shape == MsgTest::Shape::Bit) {
      t.cond = set ? Cond::BitSet : Cond::BitClear;
    } else {   // one bit of the message itself: (x & bit) != 0
      t.cond = set ? Cond::Ne : Cond::Eq;
      t.constant = 0;
    }
    return t;
  }
  static const std::pair<ZydisMnemonic, Cond> kConds[] = {
      {ZYDIS_MNEMONIC_JZ, Cond::Eq},        {ZYDIS_MNEMONIC_JNZ, Cond::Ne},      {ZYDIS_MNEMONIC_JB, Cond::Below},
      {ZYDIS_MNEMONIC_JNB, Cond::AboveEq},  {ZYDIS_MNEMONIC_JBE, Cond::BelowEq}, {ZYDIS_MNEMONIC_JNBE, Cond::Above},
      {ZYDIS_MNEMONIC_JL, Cond::Less},      {ZYDIS_MNEMONIC_JNL, Cond::GreaterEq}, {ZYDIS_MNEMONIC_JLE, Cond::LessEq},
      {ZYDIS_MNEMONIC_JNLE, Cond::Greater}, {ZYDIS_MNEMONIC_JS, Cond::Sign},     {ZYDIS_MNEMONIC_JNS, Cond::NotSign},
  };
  for (const auto &[m, c] : kConds)
    if (m == jcc) {
      t.cond = c;
      if (t.shape == MsgTest::Shape::Masked && c != Cond::Eq && c != Cond::Ne)
        return std::nullopt;
      return t;
    }
  return std::nullopt;
}

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

void SwitchAnalyzer::analyze(const code::Function &f, const MessageParams &mp, Procedure &proc, int depth) {
  const uint32_t msgParam = mp.msg;
  const pe::PeImage &img = a_.image();
  const bool is64 = img.is64();
  values::Tracker tr(img, dec_, f, 8, &effects_);
  std::set<uint32_t> blockStarts;
  for (const code::BasicBlock &b : f.blocks)
    blockStarts.insert(b.rva);
  std::vector<Branch> branches;
  Value lhs, rhs;
  std::optional<Branch> bound;   // the last `cmp x, N; ja default`
  struct Forward {
    uint32_t callee;
    MessageParams params;   // the callee's parameters that hold them
  };
  std::vector<Forward> forwards;
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
  std::map<uint32_t, uint32_t> loMaskSites;   // `and r, k` (k < 0x10000) of wParam: LOWORD(wParam) & k
  auto isMsg = [&](const Value &v) { return v.kind == Kind::Param && v.base == msgParam; };
  // The message tests for the dispatch solver: what the last flag-setting
  // instruction compared, completed by the conditional branch after it.
  std::vector<MsgTest> tests;
  std::vector<TableCase> tableCases;
  std::optional<MsgTest> flags;
  std::map<uint32_t, std::pair<int64_t, uint32_t>> maskedSites;   // `and r, k` of msg + bias: (bias, k)
  std::map<uint32_t, std::pair<int64_t, unsigned>> bitSites;      // `shl r(=1), cl` by msg + bias: (bias, width)
  auto compareTest = [&](const Value &a, const Value &b) -> std::optional<MsgTest> {
    MsgTest t;
    auto masked = [&](const Value &v) { return v.kind == Kind::Opaque ? maskedSites.find(v.site) : maskedSites.end(); };
    if (isMsg(a) && b.isConst()) {
      t.bias = a.off;
      t.constant = uint32_t(b.off);
    } else if (a.isConst() && isMsg(b)) {
      t.bias = b.off;
      t.constant = uint32_t(a.off);
      t.constantFirst = true;
    } else if (auto it = masked(a); it != maskedSites.end() && b.isConst()) {
      t.shape = MsgTest::Shape::Masked;
      t.bias = it->second.first;
      t.mask = it->second.second;
      t.constant = uint32_t(b.off - a.off);
    } else {
      return std::nullopt;
    }
    return t;
  };
  auto bitTest = [&](int64_t bias, uint64_t mask, unsigned width) {
    MsgTest t;
    t.shape = MsgTest::Shape::Bit;
    t.bias = bias;
    t.mask = mask;
    t.width = width;
    return t;
  };
  auto maskTest = [&](int64_t bias, uint64_t mask) {   // (x & mask) against 0
    MsgTest t;
    t.shape = MsgTest::Shape::Masked;
    t.bias = bias;
    t.mask = mask;
    return t;
  };
  auto bitSiteOf = [&](const Value &v) { return v.kind == Kind::Opaque ? bitSites.find(v.site) : bitSites.end(); };
  auto isWparam = [&](const Value &v) { return v.kind == Kind::Param && v.base == mp.wParam && v.off == 0; };
  tr.forEach([&](const values::Insn &in, const values::State &s) {
    const ZydisDecodedInstruction &d = *in.insn;
    const ZydisDecodedOperand *ops = in.ops;
    if (blockStarts.count(in.rva)) {
      lhs = rhs = {};
      flags.reset();
    }
    // Any other flag-setting instruction ends what the last test said.
    if (d.cpu_flags && (d.cpu_flags->modified & (ZYDIS_CPUFLAG_ZF | ZYDIS_CPUFLAG_CF)) &&
        in.insn->meta.category != ZYDIS_CATEGORY_COND_BR)
      flags.reset();
    switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_CMP:
      lhs = tr.read(s, in, ops[0]);
      rhs = tr.read(s, in, ops[1]);
      flags = compareTest(lhs, rhs);
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
      if (isMsg(v) && d.mnemonic == ZYDIS_MNEMONIC_SUB) {
        flags = compareTest(v, Value::constant(-delta));   // the flags of `cmp x, k`
      } else if (isMsg(v)) {
        flags = compareTest(lhs, rhs);
        if (flags)
          flags->zfOnly = true;   // inc/dec keep CF; add sets it otherwise
      }
      return;
    }
    case ZYDIS_MNEMONIC_TEST:
      if (n2(d) && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        Value x = tr.read(s, in, ops[0]);
        if (isMsg(x))
          flags = maskTest(x.off, ops[1].imm.value.u & 0xFFFFFFFFu);
        else if (auto it = bitSiteOf(x); it != bitSites.end())
          flags = bitTest(it->second.first, ops[1].imm.value.u, it->second.second);
      } else if (n2(d) && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        Value a = tr.read(s, in, ops[0]), b = tr.read(s, in, ops[1]);
        if (auto it = bitSiteOf(a); it != bitSites.end() && b.isConst())
          flags = bitTest(it->second.first, uint64_t(b.off), it->second.second);
        else if (auto jt = bitSiteOf(b); jt != bitSites.end() && a.isConst())
          flags = bitTest(jt->second.first, uint64_t(a.off), jt->second.second);
      }
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[0].reg.value == ops[1].reg.value) {
        lhs = tr.read(s, in, ops[0]);
        rhs = Value::constant(0);
        flags = compareTest(lhs, rhs);
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
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        Value x = tr.read(s, in, ops[0]);
        uint64_t k = ops[1].imm.value.u & 0xFFFFFFFFu;
        if (isMsg(x)) {
          maskedSites[in.rva] = {x.off, uint32_t(k)};   // the register now holds (msg + bias) & k
          flags = maskTest(x.off, k);
        } else if (auto it = bitSiteOf(x); it != bitSites.end()) {
          flags = bitTest(it->second.first, k, it->second.second);
        }
      }
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          uint32_t(ops[1].imm.value.u) == 0xFFFF0000u) {
        if (isWparam(tr.read(s, in, ops[0]))) {
          himaskSites.insert(in.rva);
          lhs = Value::opaque(in.rva);
          rhs = Value::constant(0);
        }
      } else if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                 (ops[1].imm.value.u & 0xFFFF0000u) == 0 && isWparam(tr.read(s, in, ops[0]))) {
        // `and eax, 0xFFFC; cmp eax, 0xE110`: LOWORD(wParam) in an aligned
        // range (ATL's COMMAND_RANGE_HANDLER as clang folds it).
        loMaskSites[in.rva] = uint32_t(ops[1].imm.value.u);
      }
      return;
    case ZYDIS_MNEMONIC_SHL:
      // `mov eax, 1; shl eax, cl` with CL = msg + bias: the bit of the message.
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[1].reg.value == ZYDIS_REGISTER_CL) {
        Value one = tr.read(s, in, ops[0]);
        Value by = s.reg(is64 ? ZYDIS_REGISTER_RCX : ZYDIS_REGISTER_ECX);
        if (one.isConst() && one.off == 1 && isMsg(by))
          bitSites[in.rva] = {by.off, unsigned(ops[0].size)};
      }
      return;
    case ZYDIS_MNEMONIC_BT:
      // `bt mask, idx` with idx = msg + bias: CF is that bit of the mask.
      if (n2(d) && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        Value mask = tr.read(s, in, ops[0]), idx = tr.read(s, in, ops[1]);
        if (mask.isConst() && isMsg(idx)) {
          flags = bitTest(idx.off, uint64_t(mask.off), unsigned(ops[0].size));
          flags->viaCarry = true;
        }
      } else if (n2(d) && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        Value x = tr.read(s, in, ops[0]);
        if (isMsg(x)) {   // one bit of the message itself
          flags = maskTest(x.off, uint64_t(1) << (ops[1].imm.value.u & 31));
          flags->viaCarry = true;
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
      // A jump inside the function is flow; one out of it a tail call.
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && f.contains(uint32_t(int64_t(in.next()) + ops[0].imm.value.s)))
        return;
      [[fallthrough]];
    case ZYDIS_MNEMONIC_CALL: {
      // The message handed on to a helper (or, through a virtual call, to a
      // C++ window's handler): its cases are this procedure's. A tail jump's
      // stack arguments sit one return address higher.
      bool tail = d.mnemonic == ZYDIS_MNEMONIC_JMP;
      auto argument = [&](unsigned i) { return tr.argument(s, i, tail); };
      // wParam handed to a helper (WM_COMMAND dispatch in a MenuCommand(wParam)).
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !tail)
        for (unsigned i = 0; i < 4; ++i) {
          Value v = argument(i);
          if (v.kind == Kind::Param && v.base == mp.wParam && v.off == 0) {
            wparamCalls.push_back({in.rva, code::followJumpStubs(img, dec_, uint32_t(int64_t(in.next()) + ops[0].imm.value.s)), i});
            break;
          }
        }
      // Where the callee finds the message, wParam and lParam: argument i
      // is its parameter i; on x86 also ECX, EDX or EAX (fastcall, GCC's
      // regparm for local functions).
      MessageParams to{MessageParams::kNone, MessageParams::kNone, MessageParams::kNone, MessageParams::kNone};
      auto place = [&](const Value &v, uint32_t param) {
        if (v.kind != Kind::Param || v.off != 0)
          return;
        uint32_t *role = v.base == mp.msg      ? &to.msg
                         : v.base == mp.wParam ? &to.wParam
                         : v.base == mp.lParam ? &to.lParam
                         : v.base == mp.hwnd   ? &to.hwnd
                                               : nullptr;
        if (role && *role == MessageParams::kNone)
          *role = param;
      };
      for (unsigned i = 0; i < 5; ++i)
        place(argument(i), i);
      if (!is64 && !tail)
        for (auto [reg, param] : {std::pair{ZYDIS_REGISTER_ECX, values::kParamEcx}, std::pair{ZYDIS_REGISTER_EDX, values::kParamEdx},
                                  std::pair{ZYDIS_REGISTER_EAX, values::kParamEax}})
          place(s.reg(reg), param);
      // A helper given the message alone (a classifier, a trace) handles
      // nothing: a handler needs wParam or lParam too.
      if (to.msg != MessageParams::kNone && (to.wParam != MessageParams::kNone || to.lParam != MessageParams::kNone)) {
        if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
          forwards.push_back({code::followJumpStubs(img, dec_, uint32_t(int64_t(in.next()) + ops[0].imm.value.s)), to});
        else if (indirect_)
          for (uint32_t t : indirect_(in.rva))
            forwards.push_back({t, to});
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
      if (flags)
        if (auto t = completeTest(*flags, d.mnemonic)) {
          t->site = in.rva;
          t->taken = b.taken;
          t->fallthrough = b.fallthrough;
          tests.push_back(*t);
        }
      if ((d.mnemonic == ZYDIS_MNEMONIC_JNBE || d.mnemonic == ZYDIS_MNEMONIC_JNB) && lhs.known() && rhs.isConst())
        bound = b;
      return;
    }
    // A jump table indexed by the message (or, for WM_COMMAND, by wParam).
    // The bounds check guards this table only when it leads straight to it.
    auto guards = [&](const Branch &b) {
      uint32_t here = blockOf(f, in.rva);
      return blockOf(f, b.site) == here || b.fallthrough == here || b.taken == here;
    };
    bool indirect = d.mnemonic == ZYDIS_MNEMONIC_JMP && ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE;
    bool byWparam = bound && bound->lhs.kind == Kind::Param && bound->lhs.base == mp.wParam;
    if (indirect && bound && (isMsg(bound->lhs) || byWparam) && guards(*bound))
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
            tableCases.push_back({in.rva, uint32_t(int64_t(i) - bias), jt.targets[entry]});
        }
      }
  });
  // Compares with a registered message kept in a global.
  for (const Branch &b : branches) {
    uint32_t target = equalTarget(b);
    const Value &m = isMsg(b.lhs) ? b.lhs : b.rhs;
    const Value &other = isMsg(b.lhs) ? b.rhs : b.lhs;
    if (!target || !isMsg(m) || m.off != 0 || other.kind != Kind::Load || other.addrKind != Kind::Image)
      continue;
    auto it = registered_.find(other.base + uint32_t(other.addrOff));
    if (it != registered_.end())
      addCase(proc, {0, it->second}, target);
  }
  // Every message that reaches a handler block (small sets only: the
  // default path receives the rest).
  constexpr uint64_t kMaxMessagesPerHandler = 64;
  for (const HandlerCase &h : solveDispatch(f, tests, tableCases, kMaxMessagesPerHandler)) {
    if (passesToDefault(f, h.handler))
      continue;   // `if (!msg) return DefWindowProc(...)`: left to the default
    for (const auto &[lo, hi] : h.messages.intervals())
      for (uint64_t m = lo; m <= hi; ++m)
        addCase(proc, {uint32_t(m), ""}, h.handler);
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
        analyze(*g, {w.index, MessageParams::kNone, MessageParams::kNone}, helper, depth + 1);
        for (const Case &hc : helper.cases)
          if (hc.message.registeredName.empty())
            c.commands.emplace_back(hc.message.id & 0xFFFF, hc.handlerRva);
      }
    const int64_t codeOffset = is64 ? 0x10 : 8;   // NMHDR.code
    for (const Branch &b : branches) {
      if (!inRegion.count(blockOf(f, b.site)))
        continue;
      // `lea eax, [r8-1]; cmp ax, 1; ja`: a small range of command ids.
      if (command && b.lhs.kind == Kind::Param && b.lhs.base == mp.wParam && b.rhs.isConst() && b.lhs.off != 0 &&
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
      if (command && x.kind == Kind::Param && x.base == mp.wParam) {
        // A whole-wParam compare tests MAKEWPARAM(id, code) at once.
        const uint64_t w = uint64_t(b.rhs.off - x.off);
        c.commands.emplace_back(uint32_t(w & 0xFFFF), target);
        if ((w >> 16 & 0xFFFF) != 0 && (w >> 32) == 0)
          c.commandCodes.emplace_back(uint32_t(w >> 16 & 0xFFFF), target);
      }
      if (auto lo = command && x.kind == Kind::Opaque ? loMaskSites.find(x.site) : loMaskSites.end(); lo != loMaskSites.end()) {
        // Every id whose masked bits equal the constant: the bits the mask
        // clears are free (a small range only).
        const uint32_t free = ~lo->second & 0xFFFF, fixed = uint32_t(b.rhs.off - x.off) & lo->second;
        if (std::popcount(free) <= 8)
          for (uint32_t sub = free;; sub = (sub - 1) & free) {
            c.commands.emplace_back(fixed | sub, target);
            if (!sub)
              break;
          }
        continue;
      }
      if (command && x.kind == Kind::Opaque && hiwordSites.count(x.site))
        c.commandCodes.emplace_back(uint32_t(b.rhs.off - x.off) & 0xFFFF, target);
      if (command && x.kind == Kind::Opaque && himaskSites.count(x.site))
        c.commandCodes.emplace_back(uint32_t(uint64_t(b.rhs.off - x.off) >> 16) & 0xFFFF, target);
      if (notify && x.kind == Kind::Load && x.addrKind == Kind::Param && x.base == mp.lParam && x.addrOff == codeOffset)
        c.notifies.emplace_back(uint32_t(b.rhs.off), target);
      if (notify && x.kind == Kind::Load && x.addrKind == Kind::Param && x.base == mp.lParam &&
          x.addrOff == codeOffset / 2)   // NMHDR.idFrom
        c.notifyFrom.emplace_back(uint32_t(b.rhs.off), target);
    }
  }
  // Helpers the message is forwarded to.
  for (const auto &[callee, params] : forwards) {
    if (depth >= 2 || std::find(proc.forwardedTo.begin(), proc.forwardedTo.end(), callee) != proc.forwardedTo.end())
      continue;
    // A register (or stack slot) still holding wParam at the call proves
    // nothing: the helper must read the message and wParam or lParam.
    // The module's own DefWindowProc (user32 calls its export) handles
    // everything by definition: its cases are not the procedure's.
    const code::Function *g = a_.functionAt(callee);
    if (!g || isDefaultProcedureName(a_.symbolAt(callee).value_or("")))
      continue;
    std::set<uint32_t> read = paramsRead(*g);
    if (read.count(params.msg) && (read.count(params.wParam) || read.count(params.lParam))) {
      proc.forwardedTo.push_back(callee);
      proc.forwardedWindowParam.push_back(params.hwnd);
      analyze(*g, params, proc, depth + 1);
    }
  }
}

// The parameters g reads (Param indices), in one replay.
std::set<uint32_t> SwitchAnalyzer::paramsRead(const code::Function &g) const {
  values::Tracker tr(a_.image(), dec_, g, 8, &effects_);
  std::set<uint32_t> read;
  tr.forEach([&](const values::Insn &in, const values::State &s) {
    for (unsigned i = 0; i < in.insn->operand_count; ++i) {
      const ZydisDecodedOperand &op = in.ops[i];
      if (!(op.actions & ZYDIS_OPERAND_ACTION_MASK_READ))
        continue;
      Value v = op.type == ZYDIS_OPERAND_TYPE_REGISTER ? s.reg(op.reg.value)
                : op.type == ZYDIS_OPERAND_TYPE_MEMORY ? tr.read(s, in, op)
                                                       : Value{};
      if (v.kind == Kind::Param)
        read.insert(v.base);
    }
  });
  return read;
}

std::optional<std::string> importCalled(const Analysis &a, const code::DecodedInsn &in) {
  if (in.memTarget)
    if (const pe::Import *imp = a.image().importForIat(*in.memTarget))
      return imp->name;
  return in.target ? a.importThunkAt(*in.target) : std::nullopt;
}

bool isDefaultProcedureName(const std::string &name) {
  static const std::set<std::string> names = {"DefWindowProcW", "DefWindowProcA", "CallWindowProcW", "CallWindowProcA",
                                              "DefDlgProcW",    "DefDlgProcA",    "DefSubclassProc", "DefFrameProcW",
                                              "DefFrameProcA",  "DefMDIChildProcW", "DefMDIChildProcA"};
  return names.count(name) > 0;
}

// Whether the code from `rva` on, straight (no branch), hands the message
// to a default procedure and returns what it says: its first call (or tail
// jump) is DefWindowProc & co., and nothing but the return follows.
bool SwitchAnalyzer::passesToDefault(const code::Function &f, uint32_t rva) const {
  const pe::PeImage &img = a_.image();
  bool called = false;   // the default procedure was called; only the return may follow
  for (int hops = 0; hops < 8; ++hops) {
    const code::BasicBlock *b = nullptr;
    for (const code::BasicBlock &x : f.blocks)
      if (x.rva == rva)
        b = &x;
    if (!b)
      return false;
    code::DecodedInsn in;
    for (uint32_t pc = b->rva; pc < b->end && dec_.decode(img.bytesFromRva(pc), pc, in); pc = in.next()) {
      bool leaves = in.flow == code::Flow::IndirectJump || (in.flow == code::Flow::Jump && in.target && !f.contains(*in.target));
      if (in.flow == code::Flow::Call || in.flow == code::Flow::IndirectCall || leaves) {
        if (called)
          return false;   // more work after the default procedure
        std::optional<std::string> name = importCalled(a_, in);
        if (!name && in.target)
          name = a_.symbolAt(*in.target);   // the module's own export (user32's DefWindowProcW)
        if (!name || !isDefaultProcedureName(*name))
          return false;
        if (leaves)
          return true;   // a tail jump
        called = true;
        continue;
      }
      if (in.flow == code::Flow::Return)
        return called;
      if (in.flow == code::Flow::CondJump)
        return false;
    }
    if (b->successors.size() != 1)
      return false;
    rva = b->successors[0];
  }
  return false;
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
