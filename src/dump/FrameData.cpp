// The FRAMEDATA program language (as the Debug Interface Access SDK and
// Breakpad read it): whitespace-separated tokens in postfix order; numbers;
// registers ($eip $esp $ebp $ebx $esi $edi, and $eax $ecx $edx); temporaries
// ($T0..$T9 and any other $name); .raSearch (and .raSearchStart); binary
// + - * / % and @ (align down); unary ^ (read 32 bits); = (assign the value
// to the name beneath it).
#include "FrameData.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

namespace sb::dump {
namespace {

constexpr unsigned kRaSearchSlots = 64;
constexpr size_t kMaxTokens = 256;

struct Value {
  std::string name;                // a name not yet read (the target of an =)
  uint32_t v = 0;
  std::optional<uint64_t> readFrom;   // the slot a ^ read it from
};

const std::map<std::string, unsigned> &registerNames() {
  static const std::map<std::string, unsigned> names = {{"$eax", kAx}, {"$ecx", kCx}, {"$edx", kDx}, {"$ebx", kBx},
                                                        {"$esp", kSp}, {"$ebp", kBp}, {"$esi", kSi}, {"$edi", kDi}};
  return names;
}

class Program {
public:
  Program(const Registers &regs, const MemoryReader &memory, uint32_t raSearch) : memory_(memory) {
    for (const auto &[name, r] : registerNames())
      if (regs.isKnown(r))
        vars_[name] = {name, uint32_t(regs.gpr[r]), std::nullopt};
    vars_["$eip"] = {"$eip", uint32_t(regs.pc), std::nullopt};
    vars_[".raSearch"] = vars_[".raSearchStart"] = {".raSearch", raSearch, std::nullopt};
  }

  bool run(const std::string &text) {
    std::vector<Value> stack;
    size_t tokens = 0;
    for (size_t at = 0; at < text.size();) {
      while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at])))
        ++at;
      size_t end = at;
      while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
        ++end;
      if (end == at)
        break;
      if (++tokens > kMaxTokens || !token(text.substr(at, end - at), stack))
        return false;
      at = end;
    }
    return stack.empty();
  }
  const Value *var(const std::string &name) const {
    auto it = vars_.find(name);
    return it == vars_.end() ? nullptr : &it->second;
  }
  bool assigned(const std::string &name) const { return assigned_.count(name) != 0; }

private:
  // A value on the stack, a name read from the variables.
  std::optional<Value> resolve(const Value &x) const {
    if (x.name.empty())
      return x;
    auto it = vars_.find(x.name);
    if (it == vars_.end())
      return std::nullopt;
    return it->second;
  }
  bool token(const std::string &t, std::vector<Value> &stack) {
    if (t == "=") {
      if (stack.size() < 2)
        return false;
      auto value = resolve(stack.back());
      stack.pop_back();
      const std::string name = stack.back().name;
      stack.pop_back();
      if (!value || name.empty())
        return false;
      value->name.clear();
      vars_[name] = *value;
      assigned_.insert(name);
      return true;
    }
    if (t == "^") {
      if (stack.empty())
        return false;
      auto a = resolve(stack.back());
      stack.pop_back();
      if (!a)
        return false;
      auto v = memory_.pointer(a->v, 4);
      if (!v)
        return false;
      stack.push_back({"", uint32_t(*v), a->v});
      return true;
    }
    if (t.size() == 1 && std::string_view("+-*/%@").find(t[0]) != std::string_view::npos) {
      if (stack.size() < 2)
        return false;
      auto b = resolve(stack.back());
      stack.pop_back();
      auto a = resolve(stack.back());
      stack.pop_back();
      if (!a || !b)
        return false;
      uint32_t r = 0;
      switch (t[0]) {
      case '+': r = a->v + b->v; break;
      case '-': r = a->v - b->v; break;
      case '*': r = a->v * b->v; break;
      case '/': if (!b->v) return false; r = a->v / b->v; break;
      case '%': if (!b->v) return false; r = a->v % b->v; break;
      case '@': if (!b->v || (b->v & (b->v - 1))) return false; r = a->v & ~(b->v - 1); break;
      }
      stack.push_back({"", r, std::nullopt});
      return true;
    }
    if (t[0] == '$' || t[0] == '.') {
      stack.push_back({t, 0, std::nullopt});
      return true;
    }
    uint32_t n = 0;
    const bool hex = t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
    const char *first = t.data() + (hex ? 2 : 0), *last = t.data() + t.size();
    auto [ptr, ec] = std::from_chars(first, last, n, hex ? 16 : 10);
    if (ec != std::errc() || ptr != last)
      return false;
    stack.push_back({"", n, std::nullopt});
    return true;
  }

  const MemoryReader &memory_;
  std::map<std::string, Value> vars_;
  std::set<std::string> assigned_;
};

std::optional<UnwindStep> stepFrom(const Program &p, const Registers &regs) {
  const Value *eip = p.var("$eip"), *esp = p.var("$esp");
  if (!p.assigned("$eip") || !p.assigned("$esp") || !eip || !esp)
    return std::nullopt;
  UnwindStep s;
  s.how = StepHow::FrameData;
  s.caller = regs;
  s.caller.pc = eip->v;
  s.caller.set(kSp, esp->v);
  s.returnSlot = eip->readFrom;
  for (const auto &[name, r] : registerNames()) {
    if (r == kSp || !isNonvolatile(Arch::X86, r))
      continue;
    if (!p.assigned(name))
      continue;   // not saved, so not changed: the caller's value is this frame's
    const Value *v = p.var(name);
    s.caller.set(r, v->v);
    if (v->readFrom)
      s.restored.push_back({uint8_t(r), *v->readFrom});
  }
  forgetVolatiles(s.caller);
  return s;
}

} // namespace

const pdb::FrameRecord *frameRecordFor(const std::vector<pdb::FrameRecord> &frames, uint32_t rva) {
  auto it = std::upper_bound(frames.begin(), frames.end(), rva,
                             [](uint32_t v, const pdb::FrameRecord &f) { return v < f.rva; });
  if (it == frames.begin())
    return nullptr;
  --it;
  return rva - it->rva < it->size ? &*it : nullptr;
}

std::optional<UnwindStep> runFrameProgram(const pdb::FrameRecord &record, const Registers &regs,
                                          const MemoryReader &memory, const ReturnCheck &plausible) {
  if (!regs.isKnown(kSp))
    return std::nullopt;
  const uint32_t start = uint32_t(regs.sp() + record.localsBytes + record.savedRegsBytes);
  const bool searches = record.program.find(".raSearch") != std::string::npos;
  for (unsigned slot = 0; slot < (searches ? kRaSearchSlots : 1); ++slot) {
    Program p(regs, memory, start + 4 * slot);
    if (!p.run(record.program))
      return std::nullopt;
    auto s = stepFrom(p, regs);
    if (s && plausible(s->caller.pc, regs.pc))
      return s;
  }
  return std::nullopt;
}

} // namespace sb::dump
