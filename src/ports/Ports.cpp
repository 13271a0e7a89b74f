#include "switchboard/ports/Ports.h"

#include "code/ZydisRegisters.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallIndex.h"
#include "values/Tracker.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

namespace sb::ports {

namespace {

bool isRtlInitUnicodeString(const std::string &name) {
  return name == "RtlInitUnicodeString" || name == "RtlInitUnicodeStringEx";
}

// The import a call instruction reaches: call [IAT], call reg holding [IAT],
// call thunk.
std::optional<std::string> importCalled(const Analysis &a, const values::Tracker &tr, const values::Insn &in,
                                        const values::State &s) {
  const pe::PeImage &img = a.image();
  const ZydisDecodedOperand &op = in.ops[0];
  uint32_t slot = 0;
  if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    values::Value at = tr.address(s, in, op);
    if (at.kind == values::Kind::Image)
      slot = uint32_t(at.base + at.off);
  } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    values::Value v = s.reg(op.reg.value);
    if (v.kind == values::Kind::Load && v.addrKind == values::Kind::Image && v.off == 0)
      slot = uint32_t(v.base + v.addrOff);
  } else if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
    return a.importThunkAt(uint32_t(int64_t(in.next()) + op.imm.value.s));
  }
  if (const pe::Import *imp = slot ? img.importForIat(slot) : nullptr)
    return imp->name;
  return std::nullopt;
}

// The string a UNICODE_STRING at `us` holds: one in the image's data, or
// one the function built on its stack with RtlInitUnicodeString (`inits`:
// stack offset -> string) or by storing its Buffer.
std::string unicodeStringAt(const Analysis &a, const values::State &s, const values::Value &us,
                            const std::map<int64_t, std::string> &inits) {
  const image::Image &img = a.image();
  const unsigned ptr = img.pointerSize();
  if (us.kind == values::Kind::Stack) {
    if (auto it = inits.find(us.off); it != inits.end())
      return it->second;
    values::Value buf = s.field(us.off + ptr, ptr, img.is64());
    if (buf.kind == values::Kind::Image)
      return img.wideStringAtRva(uint32_t(buf.base + buf.off)).value_or("");
  } else if (us.kind == values::Kind::Image) {
    auto buf = img.readPointer(uint32_t(us.base + us.off) + ptr);
    if (auto r = buf ? img.vaToRva(*buf) : std::nullopt)
      return img.wideStringAtRva(*r).value_or("");
  }
  return {};
}

// OBJECT_ATTRIBUTES { ULONG Length; HANDLE RootDirectory; PUNICODE_STRING ObjectName; ... }.
std::string objectAttributesName(const Analysis &a, const values::State &s, const values::Value &oa,
                                 const std::map<int64_t, std::string> &inits) {
  const image::Image &img = a.image();
  const unsigned ptr = img.pointerSize();
  values::Value name;
  if (oa.kind == values::Kind::Stack)
    name = s.field(oa.off + 2 * ptr, ptr, img.is64());
  else if (oa.kind == values::Kind::Image)
    if (auto v = img.readPointer(uint32_t(oa.base + oa.off) + 2 * ptr))
      if (auto r = img.vaToRva(*v))
        name = values::Value::image(*r);
  return unicodeStringAt(a, s, name, inits);
}

// Whether the block holding `site` lies on a cycle of the function's blocks.
bool inLoop(const code::Function &f, uint32_t site) {
  auto blockOf = [&](uint32_t rva) -> int {
    for (size_t i = 0; i < f.blocks.size(); ++i)
      if (rva >= f.blocks[i].rva && rva < f.blocks[i].end)
        return int(i);
    return -1;
  };
  const int start = blockOf(site);
  if (start < 0)
    return false;
  std::vector<char> seen(f.blocks.size(), 0);
  std::deque<int> work;
  for (uint32_t s : f.blocks[size_t(start)].successors)
    if (int b = blockOf(s); b >= 0)
      work.push_back(b);
  while (!work.empty()) {
    const int b = work.front();
    work.pop_front();
    if (b == start)
      return true;
    if (seen[size_t(b)])
      continue;
    seen[size_t(b)] = 1;
    for (uint32_t s : f.blocks[size_t(b)].successors)
      if (int n = blockOf(s); n >= 0 && !seen[size_t(n)])
        work.push_back(n);
  }
  return false;
}

// A register holding a field of the received message plus a constant.
struct FieldValue {
  int64_t field = 0, bias = 0;
};

// A jump-table bound: `cmp idx, N; ja otherwise` (count N + 1 entries).
struct Bound {
  FieldValue index;
  int64_t count = 0;
  uint32_t otherwise = 0;
};

// (index, target) of a jump table's first `count` entries, through MSVC's
// byte index table when it has one.
std::vector<std::pair<int64_t, uint32_t>> tableEntries(const image::Image &img, const code::JumpTable &jt,
                                                       int64_t count) {
  std::vector<std::pair<int64_t, uint32_t>> out;
  const int64_t n = jt.indexTableRva ? count : std::min<int64_t>(count, int64_t(jt.targets.size()));
  for (int64_t i = 0; i < n && i < 4096; ++i) {
    size_t entry = size_t(i);
    if (jt.indexTableRva) {
      auto byte = img.readRva<uint8_t>(jt.indexTableRva + uint32_t(i));
      if (!byte)
        break;
      entry = *byte;
    }
    if (entry < jt.targets.size())
      out.emplace_back(i, jt.targets[entry]);
  }
  return out;
}

struct FunctionScan {
  std::vector<PortCall> calls;
  std::optional<ServerLoop> loop;
  std::optional<values::Value> loopHandle;   // the receive call's port handle
};

// One pass over a function: RtlInitUnicodeString calls (stack string ->
// text), port calls with their names, and after a receive into a buffer,
// the comparisons of its fields with constants.
FunctionScan scanFunction(const Analysis &a, const code::Function &f, uint32_t headerSize) {
  FunctionScan out;
  std::shared_ptr<const values::Tracker> tr = a.valueFacts(f);
  if (!tr)
    return out;
  std::map<int64_t, std::string> inits;
  std::optional<int64_t> buffer;   // the stack offset of the message received in a loop
  std::array<std::optional<FieldValue>, 16> fieldOf{};   // register -> the message field it holds
  std::optional<std::pair<FieldValue, int64_t>> lastCompare;   // `cmp field, N`
  std::optional<Bound> bound;
  std::map<uint32_t, std::set<int64_t>> kinds;
  // Two passes: the calls first (the visiting order need not reach the
  // receive before the dispatch after it), then the fields of the message
  // the loop received.
  bool dispatchPass = false;
  auto visit = [&](const values::Insn &in, const values::State &s) {
    const ZydisDecodedInstruction &I = *in.insn;
    if (I.mnemonic == ZYDIS_MNEMONIC_CALL) {
      fieldOf = {};
      lastCompare.reset();
      bound.reset();
      if (dispatchPass)
        return;
      auto name = importCalled(a, *tr, in, s);
      if (!name)
        return;
      if (isRtlInitUnicodeString(*name)) {
        values::Value us = tr->argument(s, 0), text = tr->argument(s, 1);
        if (us.kind == values::Kind::Stack && text.kind == values::Kind::Image)
          inits[us.off] = a.image().wideStringAtRva(uint32_t(text.base + text.off)).value_or("");
        return;
      }
      const PortApi *api = findPortApi(*name);
      if (!api)
        return;
      PortCall c;
      c.siteRva = in.rva;
      c.functionRva = f.rva;
      c.api = *name;
      c.op = api->op;
      // NtAlpcSendWaitReceivePort with no message to send only receives.
      if (api->alpc && api->op == Op::Send) {
        values::Value sent = tr->argument(s, unsigned(api->buffers[0].first));
        if (sent.isConst() && sent.off == 0)
          c.op = Op::Receive;
      }
      c.alpc = api->alpc;
      if (api->from == NameFrom::ObjectAttributes)
        c.portName = objectAttributesName(a, s, tr->argument(s, unsigned(api->nameArg)), inits);
      else if (api->from == NameFrom::UnicodeString)
        c.portName = unicodeStringAt(a, s, tr->argument(s, unsigned(api->nameArg)), inits);
      if (api->receiveArg() >= 0 && !out.loop) {
        values::Value buf = tr->argument(s, unsigned(api->receiveArg()));
        // A receive in a loop: a server loop (NtAlpcSendWaitReceivePort
        // receives when its ReceiveMessage is given).
        if (buf.kind == values::Kind::Stack && inLoop(f, in.rva)) {
          ServerLoop l;
          l.functionRva = f.rva;
          l.siteRva = in.rva;
          l.api = *name;
          l.alpc = api->alpc;
          out.loop = l;
          out.loopHandle = tr->argument(s, 0);
          buffer = buf.off;
        }
      }
      out.calls.push_back(std::move(c));
      return;
    }
    if (!dispatchPass)
      return;
    // The message's type (u2.s2.Type) or a field of its payload.
    auto dispatchField = [&](int64_t field) { return field == kPortMessageTypeOffset || field >= int64_t(headerSize); };
    auto record = [&](const FieldValue &f, int64_t compared) {
      if (dispatchField(f.field))
        kinds[uint32_t(f.field)].insert(compared - f.bias);
    };
    // What the last flag-setting instruction compared (`cmp field, N`,
    // `sub eax, 2`, `test eax, eax`: a field + bias against a constant)
    // is a message kind when a branch on ZF follows.
    if (lastCompare && (I.mnemonic == ZYDIS_MNEMONIC_JZ || I.mnemonic == ZYDIS_MNEMONIC_JNZ))
      record(lastCompare->first, lastCompare->second);
    // `cmp idx, N; ja default; jmp [table + idx*4]`: the bound of a table.
    if (lastCompare && in.insn->meta.category == ZYDIS_CATEGORY_COND_BR &&
        (I.mnemonic == ZYDIS_MNEMONIC_JNBE || I.mnemonic == ZYDIS_MNEMONIC_JNB) &&
        in.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      bound = Bound{lastCompare->first, lastCompare->second + (I.mnemonic == ZYDIS_MNEMONIC_JNBE ? 1 : 0),
                    uint32_t(int64_t(in.next()) + in.ops[0].imm.value.s)};
      return;
    }
    if (I.mnemonic == ZYDIS_MNEMONIC_JMP && in.ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE && bound) {
      for (const code::JumpTable &jt : f.jumpTables)
        if (jt.jumpRva == in.rva)
          for (const auto &[index, target] : tableEntries(a.image(), jt, bound->count))
            if (target != bound->otherwise)
              record(bound->index, index);
      bound.reset();
      return;
    }
    if (I.cpu_flags && (I.cpu_flags->modified & (ZYDIS_CPUFLAG_ZF | ZYDIS_CPUFLAG_CF)))
      lastCompare.reset();   // set again below by the compares that count
    auto fieldAt = [&](const ZydisDecodedOperand &op) -> std::optional<FieldValue> {
      if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
        int r = code::gprIndex(op.reg.value);
        return r >= 0 ? fieldOf[size_t(r)] : std::nullopt;
      }
      if (op.type != ZYDIS_OPERAND_TYPE_MEMORY)
        return std::nullopt;
      values::Value at = tr->address(s, in, op);
      if (at.kind != values::Kind::Stack || at.off < *buffer || at.off - *buffer >= 0x10000)
        return std::nullopt;
      return FieldValue{at.off - *buffer, 0};
    };
    auto destination = [&]() -> std::optional<FieldValue> * {
      if (in.ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER)
        return nullptr;
      int r = code::gprIndex(in.ops[0].reg.value);
      return r >= 0 ? &fieldOf[size_t(r)] : nullptr;
    };
    switch (I.mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
    case ZYDIS_MNEMONIC_MOVZX:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVSXD:
      if (auto *d = destination())
        *d = fieldAt(in.ops[1]);
      return;
    case ZYDIS_MNEMONIC_CMP:
      if (auto f = fieldAt(in.ops[0]); f && in.ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        lastCompare = {*f, in.ops[1].imm.value.s};
      }
      return;
    case ZYDIS_MNEMONIC_TEST:
      if (in.ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && in.ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          in.ops[0].reg.value == in.ops[1].reg.value)
        if (auto f = fieldAt(in.ops[0]))
          lastCompare = {*f, 0};
      return;
    case ZYDIS_MNEMONIC_SUB:
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_DEC:
    case ZYDIS_MNEMONIC_INC:
    case ZYDIS_MNEMONIC_LEA:
      if (auto *d = destination()) {
        std::optional<FieldValue> from = *d;
        int64_t delta = 0;
        if (I.mnemonic == ZYDIS_MNEMONIC_LEA) {
          const ZydisDecodedOperand &m = in.ops[1];
          int r = m.mem.index == ZYDIS_REGISTER_NONE ? code::gprIndex(m.mem.base) : -1;
          from = r >= 0 ? fieldOf[size_t(r)] : std::nullopt;
          delta = m.mem.disp.value;
        } else if (I.mnemonic == ZYDIS_MNEMONIC_DEC || I.mnemonic == ZYDIS_MNEMONIC_INC) {
          delta = I.mnemonic == ZYDIS_MNEMONIC_INC ? 1 : -1;
        } else if (in.ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
          delta = I.mnemonic == ZYDIS_MNEMONIC_ADD ? in.ops[1].imm.value.s : -in.ops[1].imm.value.s;
        } else {
          from.reset();
        }
        if (from)
          from->bias += delta;
        *d = from;
        if (from && I.mnemonic != ZYDIS_MNEMONIC_LEA)
          lastCompare = {*from, 0};
      }
      return;
    default:
      break;
    }
    for (unsigned i = 0; i < I.operand_count; ++i)
      if (in.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && (in.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
        if (int r = code::gprIndex(in.ops[i].reg.value); r >= 0)
          fieldOf[size_t(r)] = std::nullopt;
  };
  tr->forEach(visit);
  if (buffer) {
    dispatchPass = true;
    tr->forEach(visit);
  }
  if (out.loop)
    for (const auto &[offset, values] : kinds)
      out.loop->kinds.push_back({offset, std::vector<int64_t>(values.begin(), values.end())});
  return out;
}

// The port a server loop receives on, by its handle: a port the same
// function created; else, when the handle is a parameter, the port created
// by the function whose result every caller passes; else the only port of
// its kind the image creates.
std::string loopPortName(const Analysis &a, const ServerLoop &l, const std::optional<values::Value> &handle,
                         const std::map<uint32_t, std::vector<const PortCall *>> &createsIn,
                         const std::vector<PortCall> &calls) {
  if (auto it = createsIn.find(l.functionRva); it != createsIn.end())
    return it->second.front()->portName;
  if (handle && handle->kind == values::Kind::Param) {
    std::string name;
    bool all = true;
    for (const calls::IndexedSite *site : a.callIndex().callersOf(l.functionRva)) {
      const code::Function *caller = a.functionAt(site->functionRva);
      std::shared_ptr<const values::Tracker> tr = caller ? a.valueFacts(*caller) : nullptr;
      if (!tr)
        continue;
      std::string found;
      tr->forEach([&](const values::Insn &in, const values::State &s) {
        if (in.rva != site->siteRva)
          return;
        values::Value v = tr->argument(s, handle->base);
        if (v.kind == values::Kind::Return)
          if (auto it = createsIn.find(v.base); it != createsIn.end())
            found = it->second.front()->portName;
      });
      if (found.empty() || (!name.empty() && found != name))
        all = false;
      else
        name = found;
    }
    if (all && !name.empty())
      return name;
  }
  std::set<std::string> names;
  for (const PortCall &c : calls)
    if (c.op == Op::Create && c.alpc == l.alpc && !c.portName.empty())
      names.insert(c.portName);
  return names.size() == 1 ? *names.begin() : std::string();
}

} // namespace

PortModel findPorts(const Analysis &a) {
  PortModel m;
  const pe::PeImage &img = a.image();
  m.headerSize = portMessageHeaderSize(img.is64());
  if (!img.codeAnalysisSupported())
    return m;
  // The IAT slots of the port API (and RtlInitUnicodeString), and the
  // functions that call through them.
  std::vector<uint32_t> slots;
  bool any = false;
  for (const pe::Import &imp : img.imports())
    if (findPortApi(imp.name) || isRtlInitUnicodeString(imp.name)) {
      slots.push_back(imp.iatRva);
      any = any || findPortApi(imp.name);
    }
  if (!any)
    return m;
  std::set<uint32_t> fns;
  const calls::CallIndex &index = a.callIndex();
  for (uint32_t slot : slots)
    for (const calls::IndexedSite *s : index.callersOfImport(slot))
      fns.insert(s->functionRva);
  for (uint32_t fn : index.functionsReadingSlots(slots))
    fns.insert(fn);
  std::vector<std::pair<ServerLoop, std::optional<values::Value>>> loops;
  for (uint32_t fn : fns) {
    const code::Function *f = a.functionAt(fn);
    if (!f)
      continue;
    FunctionScan scan = scanFunction(a, *f, m.headerSize);
    for (PortCall &c : scan.calls)
      m.calls.push_back(std::move(c));
    if (scan.loop)
      loops.emplace_back(std::move(*scan.loop), scan.loopHandle);
  }
  std::sort(m.calls.begin(), m.calls.end(), [](const PortCall &x, const PortCall &y) { return x.siteRva < y.siteRva; });
  std::map<uint32_t, std::vector<const PortCall *>> createsIn, connectsIn;
  for (const PortCall &c : m.calls) {
    if (c.op == Op::Create && !c.portName.empty())
      createsIn[c.functionRva].push_back(&c);
    if (c.op == Op::Connect && !c.portName.empty())
      connectsIn[c.functionRva].push_back(&c);
  }
  for (auto &[l, handle] : loops) {
    l.portName = loopPortName(a, l, handle, createsIn, m.calls);
    m.loops.push_back(std::move(l));
  }
  // Sends and replies name the port their function connected to or created.
  for (PortCall &c : m.calls) {
    if (!c.portName.empty())
      continue;
    for (const auto *in : {&connectsIn, &createsIn})
      if (auto it = in->find(c.functionRva); it != in->end() && c.portName.empty())
        c.portName = it->second.front()->portName;
  }
  for (PortCall &c : m.calls)
    if (c.portName.empty())
      for (const ServerLoop &l : m.loops)
        if (l.functionRva == c.functionRva)
          c.portName = l.portName;
  return m;
}

std::vector<PortLink> linkPorts(std::span<const PortModel *const> models) {
  std::vector<PortLink> out;
  for (size_t cm = 0; cm < models.size(); ++cm)
    for (const PortCall &c : models[cm]->calls) {
      if ((c.op != Op::Connect && c.op != Op::Send) || c.portName.empty())
        continue;
      for (size_t sm = 0; sm < models.size(); ++sm)
        for (const ServerLoop &l : models[sm]->loops)
          if (l.portName == c.portName && (sm != cm || l.functionRva != c.functionRva))
            out.push_back({cm, c.siteRva, sm, l.functionRva, c.portName});
    }
  return out;
}

} // namespace sb::ports
