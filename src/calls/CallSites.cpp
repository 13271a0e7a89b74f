#include "switchboard/calls/CallSites.h"
#include "switchboard/calls/CallIndex.h"

#include "../code/Parallel.h"
#include "code/Decoder.h"
#include "switchboard/code/Thunks.h"
#include "values/Tracker.h"

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace sb::calls {
using values::Kind;
using values::Value;

namespace {

struct Site {
  uint32_t rva = 0;
  bool tail = false;
  bool viaRegister = false;   // call reg / call [frame]: a site if it holds [slot]
  size_t target = 0;          // index into the targets searched
};

// The call sites of one function that reach any of the targets, without
// operands.
std::vector<Site> sitesIn(const pe::PeImage &img, const code::Decoder &dec, const code::Function &f,
                          const std::vector<const Target *> &targets) {
  std::vector<Site> out, registerCalls;
  std::vector<bool> slotLoaded(targets.size(), false);   // the function reads a target's slot into a register
  bool anyLoaded = false;
  for (const code::BasicBlock &b : f.blocks) {
    code::DecodedInsn in;
    for (uint32_t pc = b.rva; pc < b.end && dec.decode(img.bytesFromRva(pc), pc, in); pc = in.next()) {
      bool call = in.flow == code::Flow::Call || in.flow == code::Flow::IndirectCall;
      bool jump = in.flow == code::Flow::Jump || in.flow == code::Flow::IndirectJump;
      if (!call && !jump) {
        if (uint32_t addr = code::absoluteMemoryRva(img, in))
          for (size_t t = 0; t < targets.size(); ++t)
            if (targets[t]->memorySlots.count(addr))
              slotLoaded[t] = anyLoaded = true;
        continue;
      }
      bool hit = false;
      for (size_t t = 0; t < targets.size() && !hit; ++t) {
        const Target &tg = *targets[t];
        if ((in.target && tg.directTargets.count(*in.target) && !(jump && f.contains(*in.target))) ||
            (in.memTarget && tg.memorySlots.count(*in.memTarget))) {
          out.push_back({pc, jump, false, t});
          hit = true;
        }
      }
      // Through a register, or a pointer the function spilled to its frame
      // (`mov [rsp+40h], rax; ...; call [rsp+40h]`).
      if (!hit && !in.target && !in.memTarget)
        registerCalls.push_back({pc, jump, true, 0});
    }
  }
  // A call through a register or frame slot: a candidate for every target
  // whose slot was loaded.
  if (anyLoaded)
    for (const Site &r : registerCalls)
      for (size_t t = 0; t < targets.size(); ++t)
        if (slotLoaded[t])
          out.push_back({r.rva, r.tail, true, t});
  return out;
}

// How many arguments an x86 function takes in registers: 2 when it reads
// EDX as it was at entry (fastcall: ECX, EDX), 1 when only ECX (thiscall).
// The registers a local x86 function takes its first parameters in, in
// argument order: ECX (thiscall), ECX and EDX (fastcall), or GCC's regparm
// EAX, EDX, ECX (local functions whose address is never taken).
std::vector<uint32_t> x86RegisterParams(const pe::PeImage &img, const code::Decoder &dec, const code::Function &f) {
  bool ecx = false, edx = false, eax = false;
  values::Tracker tr(img, dec, f);
  tr.forEach([&](const values::Insn &in, const values::State &s) {
    for (unsigned i = 0; i < in.insn->operand_count; ++i) {
      const ZydisDecodedOperand &op = in.ops[i];
      auto uses = [&](ZydisRegister r) {
        Value v = s.reg(r);
        return v.kind == Kind::Param && values::registerParamName(v.base) ? v.base : 0u;
      };
      uint32_t p = 0;
      if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_READ))
        p = uses(op.reg.value);
      else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY)
        p = op.mem.base != ZYDIS_REGISTER_NONE ? uses(op.mem.base) : 0;
      ecx |= p == values::kParamEcx;
      edx |= p == values::kParamEdx;
      eax |= p == values::kParamEax;
    }
  });
  using values::kParamEax, values::kParamEcx, values::kParamEdx;
  if (eax)
    return ecx ? std::vector{kParamEax, kParamEdx, kParamEcx} : edx ? std::vector{kParamEax, kParamEdx} : std::vector{kParamEax};
  return edx ? std::vector{kParamEcx, kParamEdx} : ecx ? std::vector{kParamEcx} : std::vector<uint32_t>{};
}

// A value the tracker has no expression for.
bool untracked(const Value &v) { return v.kind == Kind::Unknown || v.kind == Kind::Opaque || v.kind == Kind::Slot; }

// An argument (or a field of one) the state does not know.
bool unresolved(const Argument &x) {
  return untracked(x.raw) || std::any_of(x.fieldRaw.begin(), x.fieldRaw.end(), untracked);
}

// The same argument along two paths: the same values where known, the
// defining instruction aside (the results of two calls of one function
// are the same argument to the reader).
bool sameValues(const Argument &x, const Argument &y) {
  auto same = [](const Value &p, const Value &q) {
    if (untracked(p) || untracked(q))
      return untracked(p) && untracked(q);
    Value a = p, b = q;
    a.site = b.site = 0;
    return a == b;
  };
  return same(x.raw, y.raw) &&
         std::equal(x.fieldRaw.begin(), x.fieldRaw.end(), y.fieldRaw.begin(), y.fieldRaw.end(), same);
}

ZydisRegister registerOfParam(uint32_t param) {
  return param == values::kParamEax ? ZYDIS_REGISTER_EAX : param == values::kParamEdx ? ZYDIS_REGISTER_EDX : ZYDIS_REGISTER_ECX;
}

// An imported API: its IAT slots (also delay-load ones) and the import
// thunks that jump through them.
Target importTarget(const Analysis &a, const std::string &name) {
  const pe::PeImage &img = a.image();
  Target t;
  t.name = name;
  for (const auto *list : {&img.imports(), &img.delayImports()})
    for (const pe::Import &imp : *list)
      if (imp.name == name || (!imp.name.empty() && undecorate(imp.name) == name))
        t.memorySlots.insert(imp.iatRva);
  if (!t.memorySlots.empty())
    for (const code::Function &f : a.functions())
      if (f.isImportThunk && t.memorySlots.count(f.thunkIatRva))
        t.directTargets.insert(f.rva);
  return t;
}

// Argument i at a call, or at a tail jump (whose arguments sit one return
// address higher: the caller's own).
Value argumentAt(const values::Tracker &tr, const values::State &s, unsigned i, bool tail, bool is64) {
  if (!tail || (is64 && i < 4))
    return tr.argument(s, i);
  Value sp = s.sp();
  if (sp.kind != Kind::Stack)
    return {};
  return is64 ? s.slot(sp.off + 8 + 0x20 + 8 * int64_t(i - 4), true) : s.slot(sp.off + 4 + 4 * int64_t(i), false);
}
} // namespace

namespace {
// The value facts of f: the session's when the table is the session's (the
// same replay every query of the session reads), else replayed here.
std::shared_ptr<const values::Tracker> valueFactsOf(const Analysis &a, const api::ApiTable &table,
                                                    const CallConventions &conv, const code::Decoder &dec,
                                                    const code::Function &f) {
  if (&table == &a.apiTable())
    return a.valueFacts(f);
  return std::make_shared<const values::Tracker>(a.image(), dec, f, 8, &conv);
}

// Indices into a.functions() of the functions that may hold a site of one
// of the targets, sorted.
std::vector<size_t> candidateFunctions(const Analysis &a, const std::vector<const Target *> &targets) {
  const CallIndex &index = a.callIndex();
  std::vector<uint32_t> callees, slots;
  for (const Target *t : targets) {
    callees.insert(callees.end(), t->directTargets.begin(), t->directTargets.end());
    slots.insert(slots.end(), t->memorySlots.begin(), t->memorySlots.end());
  }
  std::vector<uint32_t> rvas = index.functionsCalling(callees, slots);
  std::vector<uint32_t> readers = index.functionsReadingSlots(slots);
  rvas.insert(rvas.end(), readers.begin(), readers.end());
  std::sort(rvas.begin(), rvas.end());
  rvas.erase(std::unique(rvas.begin(), rvas.end()), rvas.end());
  std::vector<size_t> out;
  const auto &fns = a.functions();
  for (uint32_t rva : rvas)
    if (const code::Function *f = a.functionAt(rva))
      out.push_back(size_t(f - fns.data()));
  return out;
}
} // namespace

std::vector<std::vector<CallSite>> findCallSitesMany(const Analysis &a, const api::ApiTable &table,
                                                     const std::vector<const Target *> &targets, FindOptions options) {
  const pe::PeImage &img = a.image();
  const bool is64 = img.is64();
  code::Decoder dec(is64, img.imageBase());
  const auto &fns = a.functions();
  // Only functions the call index says reach a target directly, or may call
  // through a pointer read from a target's slot, are read.
  std::vector<size_t> candidates = candidateFunctions(a, targets);
  std::vector<std::vector<Site>> perFunction(candidates.size());
  code::parallelFor(candidates.size(), options.threads, [&](size_t k) {
    if (!fns[candidates[k]].isImportThunk)
      perFunction[k] = sitesIn(img, dec, fns[candidates[k]], targets);
  });
  std::vector<size_t> callers;
  std::vector<std::vector<Site>> callerSites;
  for (size_t k = 0; k < candidates.size(); ++k)
    if (!perFunction[k].empty()) {
      callers.push_back(candidates[k]);
      callerSites.push_back(std::move(perFunction[k]));
    }
  const CallConventions ownConv(a, table);
  const CallConventions &conv = &table == &a.apiTable() ? a.callConventions() : ownConv;
  // Parameters: the table's, or for functions arguments by position.
  std::vector<std::vector<api::Param>> params(targets.size());
  std::vector<std::vector<uint32_t>> registerParams(targets.size());   // x86: the register parameters, first
  for (size_t t = 0; t < targets.size(); ++t) {
    const Target &target = *targets[t];
    if (target.api) {
      params[t] = target.api->params;
      continue;
    }
    size_t n = is64 ? 4 : 0;
    if (!is64 && !target.directTargets.empty()) {
      uint32_t fn = code::followJumpStubs(img, dec, *target.directTargets.begin());
      if (auto pops = conv.stackBytesPopped(fn, false); pops && *pops > 0)
        n = size_t(*pops / 4);
      else if (pops && *pops == 0)
        n = 4;   // cdecl: the count is not in the callee
      if (const code::Function *callee = a.functionAt(fn))
        registerParams[t] = x86RegisterParams(img, dec, *callee);
    } else if (!is64) {
      n = 4;
    }
    n = std::min(n + registerParams[t].size(), options.maxStackArgs);
    for (size_t i = 0; i < n; ++i)
      params[t].push_back({fmt::format("arg{}", i), api::Kind::Int, "", "", ""});
  }
  std::vector<std::vector<std::pair<size_t, CallSite>>> results(callers.size());
  code::parallelFor(callers.size(), options.threads, [&](size_t k) {
    const code::Function &f = fns[callers[k]];
    const auto &sites = callerSites[k];
    const std::shared_ptr<const values::Tracker> facts = valueFactsOf(a, table, conv, dec, f);
    const values::Tracker &tr = *facts;
    tr.forEach([&](const values::Insn &in, const values::State &s) {
      for (const Site &site : sites) {
        if (site.rva != in.rva)
          continue;
        const Target &target = *targets[site.target];
        if (site.viaRegister) {
          Value r = in.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? s.reg(in.ops[0].reg.value) : tr.read(s, in, in.ops[0]);
          if (!(r.kind == Kind::Load && r.addrKind == Kind::Image && r.off == 0 &&
                target.memorySlots.count(r.base + uint32_t(r.addrOff))))
            continue;
        }
        CallSite cs;
        cs.siteRva = in.rva;
        cs.functionRva = f.rva;
        cs.tail = site.tail;
        cs.callee = target.name;
        cs.registerParams = registerParams[site.target];
        auto argsIn = [&](const values::State &st) {
          std::vector<Argument> args;
          for (size_t i = 0; i < params[site.target].size(); ++i) {
            // x86 thiscall/fastcall register arguments are not in the table's
            // stack order; Win32 APIs are stdcall, so the stack is the truth.
            const size_t regs = cs.registerParams.size();
            Value v = i < regs ? st.reg(registerOfParam(cs.registerParams[i]))
                               : argumentAt(tr, st, unsigned(i - regs), site.tail, is64);
            args.push_back(renderArgument(a, table, st, v, params[site.target][i], is64));
          }
          return args;
        };
        cs.args = argsIn(s);
        // What the merged state does not know, each incoming path may
        // (`m = c ? WM_A : WM_B; SendMessage(h, m, ...)`).
        if (std::any_of(cs.args.begin(), cs.args.end(), unresolved))
          for (const values::State &st : tr.pathStates(in.rva)) {
            std::vector<Argument> path = argsIn(st);
            bool known = std::none_of(cs.paths.begin(), cs.paths.end(), [&](const std::vector<Argument> &p) {
              return std::equal(p.begin(), p.end(), path.begin(), path.end(), sameValues);
            });
            if (known)
              cs.paths.push_back(std::move(path));
          }
        if (cs.paths.size() < 2)
          cs.paths.clear();
        results[k].emplace_back(site.target, std::move(cs));
      }
    });
  });
  std::vector<std::vector<CallSite>> out(targets.size());
  for (auto &r : results)
    for (auto &[t, cs] : r)
      out[t].push_back(std::move(cs));
  for (auto &list : out)
    std::sort(list.begin(), list.end(), [](const CallSite &x, const CallSite &y) { return x.siteRva < y.siteRva; });
  return out;
}

std::vector<CallSite> findCallSites(const Analysis &a, const api::ApiTable &table, const Target &target,
                                    FindOptions options) {
  return findCallSitesMany(a, table, {&target}, options)[0];
}

std::unordered_map<uint32_t, std::string> procAddressGlobals(const Analysis &a, const api::ApiTable &table,
                                                             unsigned threads) {
  // The calls of GetProcAddress with the name each asks for, and the
  // globals their results are kept in.
  std::unordered_map<uint32_t, std::string> out;
  Target gpa = importTarget(a, "GetProcAddress");
  if (gpa.memorySlots.empty())
    return out;
  gpa.api = table.find("GetProcAddress");
  FindOptions o;
  o.threads = threads;
  std::unordered_map<uint32_t, std::string> nameAt;   // call site -> the name asked for
  for (const CallSite &cs : findCallSites(a, table, gpa, o))
    if (cs.args.size() > 1 && cs.args[1].raw.isImage())
      if (auto str = a.image().cstringAtRva(cs.args[1].raw.base + uint32_t(cs.args[1].raw.off), 256))
        nameAt[cs.siteRva] = *str;
  for (const auto &[global, site] : callResultGlobals(a, table, gpa, threads))
    if (auto it = nameAt.find(site); it != nameAt.end())
      out.emplace(global, it->second);
  return out;
}

std::vector<ResultStore> callResultStores(const Analysis &a, const api::ApiTable &table, const Target &target,
                                          unsigned threads) {
  const pe::PeImage &img = a.image();
  code::Decoder dec(img.is64(), img.imageBase());
  const auto &fns = a.functions();
  const CallConventions ownConv(a, table);
  const CallConventions &conv = &table == &a.apiTable() ? a.callConventions() : ownConv;
  const std::vector<size_t> candidates = candidateFunctions(a, {&target});
  std::vector<std::vector<ResultStore>> found(candidates.size());
  code::parallelFor(candidates.size(), threads, [&](size_t k) {
    const size_t i = candidates[k];
    if (fns[i].isImportThunk)
      return;
    std::vector<Site> sites = sitesIn(img, dec, fns[i], {&target});
    if (sites.empty())
      return;
    const std::shared_ptr<const values::Tracker> facts = valueFactsOf(a, table, conv, dec, fns[i]);
    const values::Tracker &tr = *facts;
    tr.forEach([&](const values::Insn &in, const values::State &s) {
      const ZydisDecodedInstruction &d = *in.insn;
      if (d.mnemonic != ZYDIS_MNEMONIC_MOV || d.operand_count_visible < 2 || in.ops[0].type != ZYDIS_OPERAND_TYPE_MEMORY)
        return;
      Value v = tr.read(s, in, in.ops[1]), at = tr.address(s, in, in.ops[0]);
      if (v.kind != Kind::Return || v.off != 0 || !at.known() || at.kind == Kind::Stack ||
          std::none_of(sites.begin(), sites.end(), [&](const Site &x) { return x.rva == v.site; }))
        return;
      found[k].push_back({v.site, fns[i].rva, at});
    });
  });
  std::vector<ResultStore> out;
  for (auto &list : found)
    out.insert(out.end(), list.begin(), list.end());
  return out;
}

std::unordered_map<uint32_t, uint32_t> callResultGlobals(const Analysis &a, const api::ApiTable &table,
                                                         const Target &target, unsigned threads) {
  std::unordered_map<uint32_t, uint32_t> out;
  for (const ResultStore &r : callResultStores(a, table, target, threads))
    if (r.address.isImage())
      out.emplace(r.address.base + uint32_t(r.address.off), r.siteRva);
  return out;
}

std::optional<Target> resolveTarget(const Analysis &a, const api::ApiTable &table, std::string_view text,
                                    const std::unordered_map<uint32_t, std::string> *procGlobals) {
  const pe::PeImage &img = a.image();
  std::string name(text.substr(text.find('!') == std::string_view::npos ? 0 : text.find('!') + 1));
  Target t = importTarget(a, name);
  if (!t.memorySlots.empty())
    t.api = table.find(name);
  // Dynamically resolved: globals that hold GetProcAddress(h, "name").
  std::unordered_map<uint32_t, std::string> computed;
  if (!procGlobals && (table.find(name) || t.memorySlots.empty())) {
    computed = procAddressGlobals(a, table, a.threads());
    procGlobals = &computed;
  }
  if (procGlobals)
    for (const auto &[global, n] : *procGlobals)
      if (n == name) {
        t.memorySlots.insert(global);
        t.api = table.find(name);
      }
  if (!t.memorySlots.empty() || !t.directTargets.empty())
    return t;
  // A function of the image.
  auto rva = a.resolve(text);
  if (!rva || !img.isExecutableRva(*rva))
    return std::nullopt;
  code::Decoder dec(img.is64(), img.imageBase());
  t.directTargets.insert(*rva);
  t.name = a.nameAt(*rva).value_or(a.describe(*rva));
  // The image implements the API itself (user32 calling its own exported
  // SendMessageW): its calls take the API's parameters.
  if (table.find(name))
    for (const pe::Export &e : img.exports().exports)
      if (e.name == name && e.rva == *rva)
        t.api = table.find(name);
  for (const code::Function &f : a.functions())
    if (f.rva != *rva && code::followJumpStubs(img, dec, f.rva) == *rva)
      t.directTargets.insert(f.rva);
  return t;
}

} // namespace sb::calls
