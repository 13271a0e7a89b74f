// Register parameters of a walked x64 stack, from the static parameter flow
// of each frame's function (calls/ParamFlow) and of its caller, read against
// the dump's registers and memory.
#include "switchboard/dump/Params.h"

#include "switchboard/api/ApiTable.h"
#include "switchboard/calls/ParamFlow.h"

#include <fmt/format.h>
#include <climits>
#include <map>

namespace sb::dump {
namespace {

constexpr unsigned kMaxDepth = 8;   // a parameter passed on through this many callers

// GCC's clones (f.part.0, f.constprop.1, f.isra.2) need not take their
// parameters where the ABI says.
bool followsAbi(const std::string &name) {
  return name.find(".part.") == std::string::npos && name.find(".constprop.") == std::string::npos &&
         name.find(".isra.") == std::string::npos && name.find(".cold") == std::string::npos;
}

class Recovery {
public:
  Recovery(const ThreadStack &stack, const MemoryReader &memory, const api::ApiTable &api)
      : stack_(stack), memory_(memory), api_(api) {}

  // Every source: the callers' side (up), the function's own copies, and
  // the copies of callees it passed the parameter to unchanged (down).
  std::vector<ParamSource> sources(size_t frame, unsigned index) {
    std::vector<ParamSource> out = up(frame, index, 0);
    down(frame, index, 0, out);
    return out;
  }

private:
  // The function a frame is in, and its parameter flow (computed once).
  const code::Function *function(size_t frame) {
    if (frame >= stack_.frames.size())
      return nullptr;
    const StackFrame &f = stack_.frames[frame];
    if (!f.module || !f.module->analysis() || !f.symbol || !followsAbi(f.symbol->function))
      return nullptr;
    const uint64_t at = frame == 0 ? f.pc : f.pc - 1;
    return f.module->analysis()->functionContaining(uint32_t(at - f.module->record().base));
  }
  const calls::ParamFlow &flow(size_t frame) {
    const StackFrame &f = stack_.frames[frame];
    const code::Function *fn = function(frame);
    auto key = std::make_pair(f.module, fn->rva);
    auto it = flows_.find(key);
    if (it == flows_.end())
      it = flows_.emplace(key, calls::analyzeParams(*f.module->analysis(), *fn)).first;
    return it->second;
  }
  // The call a frame is stopped at: the one its pc returns after.
  const calls::CallParams *callAt(size_t frame) {
    if (frame == 0 || !function(frame))
      return nullptr;
    const StackFrame &f = stack_.frames[frame];
    const uint32_t ret = uint32_t(f.pc - f.module->record().base);
    const calls::CallParams *best = nullptr;
    for (const calls::CallParams &c : flow(frame).calls)
      if (c.siteRva < ret && ret - c.siteRva <= 7)
        best = &c;
    return best;
  }
  std::string where(size_t frame, uint32_t rva) {
    const StackFrame &f = stack_.frames[frame];
    return fmt::format("{}+{:#x}", f.symbol->function, rva - (f.pc - f.module->record().base - f.symbol->offset));
  }
  // The stack pointer at the entry of a frame's function.
  std::optional<uint64_t> entrySp(size_t frame) {
    if (frame + 1 >= stack_.frames.size())
      return std::nullopt;
    return stack_.frames[frame + 1].childSp - 8;
  }

  // Whether the caller's call goes to this frame's function (not through a
  // tail call to it from another function, whose arguments may differ).
  bool callReaches(const calls::CallParams &c, size_t frame) {
    const StackFrame &callee = stack_.frames[frame], &caller = stack_.frames[frame + 1];
    if (callee.module != caller.module)
      return true;   // an import, or a pointer into another module
    if (c.calleeRva == 0)
      return true;   // indirect: the walk says where it went
    return c.calleeRva == function(frame)->rva;
  }

  // What the callers passed: the call's own source, and for a parameter the
  // caller passed on, the caller's sources of it (and its own copies).
  std::vector<ParamSource> up(size_t frame, unsigned index, unsigned depth) {
    std::vector<ParamSource> out;
    if (depth <= kMaxDepth && function(frame))
      fromCaller(frame, index, depth, out);
    return out;
  }

  // The function's own copies, and those of the callee it passed the
  // parameter to unchanged (in the same or another argument register).
  void down(size_t frame, unsigned index, unsigned depth, std::vector<ParamSource> &out) {
    if (depth > kMaxDepth || !function(frame))
      return;
    fromOwnCopy(frame, index, out);
    const calls::CallParams *c = callAt(frame);
    if (!c || frame == 0 || !function(frame - 1) || !callReaches(*c, frame - 1))
      return;
    for (const calls::OutgoingArg &arg : c->args)
      if (arg.value.isParam(index) && arg.value.off == 0) {
        std::vector<ParamSource> below;
        down(frame - 1, arg.index, depth + 1, below);
        const StackFrame &callee = stack_.frames[frame - 1];
        for (const ParamSource &s : below)
          out.push_back({s.value, fmt::format("passed on as {}'s P{} ({})", callee.symbol->function, arg.index + 1, s.from)});
      }
  }

  void fromCaller(size_t frame, unsigned index, unsigned depth, std::vector<ParamSource> &out) {
    const size_t caller = frame + 1;
    const calls::CallParams *c = callAt(caller);
    if (!c || index >= c->args.size() || !callReaches(*c, frame))
      return;
    const calls::OutgoingArg &arg = c->args[index];
    const values::Value &v = arg.value;
    const StackFrame &g = stack_.frames[caller];
    const std::string site = where(caller, c->siteRva);
    switch (v.kind) {
    case values::Kind::Const:
      // A negative 32-bit constant may sit in the register sign- or
      // zero-extended (`mov rcx, -1` or `mov ecx, -1`): only a parameter the
      // API table says is 32 bits wide has a value either way, its low half.
      if (v.off < 0 && v.off >= INT32_MIN) {
        if (thirtyTwoBit(frame, index))
          out.push_back({uint32_t(v.off), fmt::format("constant in caller {} (32 bits)", site)});
      } else {
        out.push_back({uint64_t(v.off), fmt::format("constant in caller {}", site)});
      }
      break;
    case values::Kind::Image:
      out.push_back({g.module->record().base + v.base + uint64_t(v.off), fmt::format("image address in caller {}", site)});
      break;
    case values::Kind::Stack:
      if (auto sp = entrySp(caller))
        out.push_back({*sp + uint64_t(v.off), fmt::format("address in caller {}'s frame at {}", g.symbol->function, site)});
      break;
    case values::Kind::Param:
      if (v.base < 4) {
        std::vector<ParamSource> theirs = up(caller, v.base, depth + 1);
        fromOwnCopy(caller, v.base, theirs);
        for (const ParamSource &s : theirs)
          out.push_back({s.value + uint64_t(v.off),
                         fmt::format("caller {}'s P{} at {} ({})", g.symbol->function, v.base + 1, site, s.from)});
      }
      break;
    case values::Kind::Entry:
      if (caller + 1 < stack_.frames.size() && stack_.frames[caller + 1].regs.isKnown(v.base))
        out.push_back({stack_.frames[caller + 1].regs.gpr[v.base] + uint64_t(v.off),
                       fmt::format("{} at caller {}'s entry", gprName(Arch::X64, v.base), g.symbol->function)});
      break;
    default:
      break;
    }
    if (arg.heldIn && g.regs.isKnown(unsigned(*arg.heldIn)))
      out.push_back({g.regs.gpr[unsigned(*arg.heldIn)],
                     fmt::format("{} in caller {} at {}, saved by a callee", gprName(Arch::X64, unsigned(*arg.heldIn)),
                                 g.symbol->function, site)});
  }

  void fromOwnCopy(size_t frame, unsigned index, std::vector<ParamSource> &out) {
    const calls::CallParams *c = callAt(frame);
    if (!c)
      return;
    const calls::IncomingParam &p = flow(frame).incoming[index];
    const StackFrame &f = stack_.frames[frame];
    for (const auto &[site, still] : p.atCalls) {
      if (site != c->siteRva)
        continue;
      for (size_t k : still) {
        const calls::ParamLocation &l = p.locations[k];
        if (l.kind == calls::ParamLocation::NonVolatile) {
          if (f.regs.isKnown(unsigned(*l.reg)))
            out.push_back({f.regs.gpr[unsigned(*l.reg)],
                           fmt::format("copied to {} at {}, saved by a callee", gprName(Arch::X64, unsigned(*l.reg)),
                                       where(frame, l.siteRva))});
        } else if (auto sp = entrySp(frame)) {
          auto v = memory_.pointer(*sp + uint64_t(l.offset), 8);
          if (v)
            out.push_back({*v, fmt::format("[{:#x}] {} at {}", *sp + uint64_t(l.offset),
                                           l.kind == calls::ParamLocation::Home ? "homed" : "stored",
                                           where(frame, l.siteRva))});
        }
      }
    }
  }

  // Whether the API table says the frame's function takes a 32-bit value in
  // this parameter.
  bool thirtyTwoBit(size_t frame, unsigned index) const {
    const StackFrame &f = stack_.frames[frame];
    const api::Api *known = f.symbol ? api_.find(f.symbol->function) : nullptr;
    if (!known || index >= known->params.size())
      return false;
    switch (known->params[index].kind) {
    case api::Kind::Int:
    case api::Kind::Uint:
    case api::Kind::Flags:
    case api::Kind::Message:
    case api::Kind::Enum:
    case api::Kind::Ioctl:
      return true;
    default:
      return false;
    }
  }

  const ThreadStack &stack_;
  const MemoryReader &memory_;
  const api::ApiTable &api_;
  std::map<std::pair<const LoadedModule *, uint32_t>, calls::ParamFlow> flows_;
};

} // namespace

bool RecoveredParam::conflict() const {
  for (const ParamSource &s : sources)
    if (s.value != sources.front().value)
      return true;
  return false;
}

std::optional<uint64_t> paramValue(const std::vector<std::vector<RecoveredParam>> &params, size_t frame, size_t i) {
  if (frame >= params.size() || i >= params[frame].size())
    return std::nullopt;
  return params[frame][i].value;
}

namespace {

constexpr unsigned kShownStackArguments = 3;   // kb's

// Where x86 stack argument i (from 0) of the frame lies.
std::optional<uint64_t> stackArgumentSlot(const StackFrame &f, unsigned i) {
  if (!f.returnSlot || f.regs.arch != Arch::X86)
    return std::nullopt;
  return *f.returnSlot + 4 * (i + 1);
}

std::vector<RecoveredParam> stackParams(const StackFrame &f, const MemoryReader &memory, const api::ApiTable &api) {
  const api::Api *known = f.symbol ? api.find(f.symbol->function) : nullptr;
  const unsigned n = known ? unsigned(known->params.size()) : kShownStackArguments;
  std::vector<RecoveredParam> out;
  for (unsigned i = 0; i < n; ++i) {
    RecoveredParam rp;
    rp.index = i;
    rp.onStack = true;
    rp.stackAddress = stackArgumentSlot(f, i);
    if (auto v = rp.stackAddress ? memory.pointer(*rp.stackAddress, 4) : std::nullopt) {
      rp.value = *v;
      rp.sources.push_back({*v, fmt::format("stack argument {} at [{:#x}]", i + 1, *rp.stackAddress)});
    }
    if (known) {
      rp.name = known->params[i].name;
      rp.typeName = api::kindName(known->params[i].kind);
    }
    out.push_back(std::move(rp));
  }
  return out;
}

} // namespace

std::vector<std::optional<uint64_t>> stackArguments(const StackFrame &f, const MemoryReader &memory, unsigned n) {
  std::vector<std::optional<uint64_t>> out(n);
  for (unsigned i = 0; i < n; ++i)
    if (auto slot = stackArgumentSlot(f, i))
      out[i] = memory.pointer(*slot, 4);
  return out;
}

std::vector<std::vector<RecoveredParam>> recoverParams(const ThreadStack &stack, const MemoryReader &memory,
                                                       const api::ApiTable &api) {
  std::vector<std::vector<RecoveredParam>> out(stack.frames.size());
  if (!stack.frames.empty() && stack.frames.front().regs.arch == Arch::X86) {
    for (size_t i = 0; i < stack.frames.size(); ++i)
      out[i] = stackParams(stack.frames[i], memory, api);
    return out;
  }
  if (stack.frames.empty() || stack.frames.front().regs.arch != Arch::X64)
    return out;
  Recovery r(stack, memory, api);
  for (size_t i = 0; i < stack.frames.size(); ++i) {
    const StackFrame &f = stack.frames[i];
    const api::Api *known = f.symbol ? api.find(f.symbol->function) : nullptr;
    for (unsigned p = 0; p < 4; ++p) {
      RecoveredParam rp;
      rp.index = p;
      rp.sources = r.sources(i, p);
      if (!rp.sources.empty() && !rp.conflict())
        rp.value = rp.sources.front().value;
      if (known && p < known->params.size()) {
        rp.name = known->params[p].name;
        rp.typeName = api::kindName(known->params[p].kind);
      }
      out[i].push_back(std::move(rp));
    }
  }
  return out;
}

} // namespace sb::dump
