#include "AtlMaps.h"

#include "code/Decoder.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Thunks.h"
#include "values/Tracker.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <map>

namespace sb::msgmaps {
using values::Kind;
using values::Value;

namespace {
constexpr int64_t kOcmBase = 0x2000;   // OCM__BASE: WM_USER + 0x1C00
constexpr unsigned kMaxArgs = 7;

bool isParam(const Value &v, uint32_t index) { return v.kind == Kind::Param && v.base == index && v.off == 0; }

// `add ebx, 0x2000` / `lea edx, [rbx+0x2000]` / `sub` of the message in a
// 32-bit register: the tracker leaves a 32-bit result of a parameter opaque
// (its upper half is not known), but a message id is a UINT: the shift.
std::optional<int64_t> shiftOf(const values::Tracker &tr, const values::Insn &in, const values::State &s, uint32_t msgParam) {
  const ZydisDecodedInstruction &d = *in.insn;
  const ZydisDecodedOperand *ops = in.ops;
  if (d.operand_count_visible < 2 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].size != 32)
    return std::nullopt;
  if ((d.mnemonic == ZYDIS_MNEMONIC_ADD || d.mnemonic == ZYDIS_MNEMONIC_SUB) && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
    Value v = tr.read(s, in, ops[0]);
    if (v.kind == Kind::Param && v.base == msgParam)
      return v.off + (d.mnemonic == ZYDIS_MNEMONIC_ADD ? ops[1].imm.value.s : -ops[1].imm.value.s);
  }
  if (d.mnemonic == ZYDIS_MNEMONIC_LEA) {
    Value v = tr.address(s, in, ops[1]);
    if (v.kind == Kind::Param && v.base == msgParam)
      return v.off;
  }
  return std::nullopt;
}
} // namespace

const char *atlForwardKindName(AtlForwardKind k) {
  switch (k) {
  case AtlForwardKind::Chain: return "chain";
  case AtlForwardKind::Reflect: return "reflect";
  case AtlForwardKind::DefaultReflection: return "default_reflection";
  }
  return "?";
}

AtlParams AtlParams::of(bool is64) {
  if (is64)
    return {0, 1, 2, 3, 4, 5, 6};
  return {values::kParamEcx, 0, 1, 2, 3, 4, 5};
}

std::unordered_map<uint32_t, uint32_t> sectionOfBlocks(const code::Function &f, const std::vector<AtlSection> &sections) {
  std::unordered_map<uint32_t, uint32_t> out;
  if (sections.size() < 2)
    return out;
  std::unordered_map<uint32_t, const code::BasicBlock *> byRva;
  for (const code::BasicBlock &b : f.blocks)
    byRva.emplace(b.rva, &b);
  auto isEntry = [&](uint32_t rva) {
    return std::any_of(sections.begin(), sections.end(), [&](const AtlSection &s) { return s.entryRva == rva; });
  };
  for (const AtlSection &sec : sections) {
    if (sec.id == 0)
      continue;
    std::deque<uint32_t> work{sec.entryRva};
    while (!work.empty()) {
      uint32_t at = work.front();
      work.pop_front();
      auto it = byRva.find(at);
      if (it == byRva.end() || !out.emplace(at, sec.id).second)
        continue;
      for (uint32_t s : it->second->successors)
        if (!isEntry(s))
          work.push_back(s);
    }
  }
  return out;
}

AtlMapReader::AtlMapReader(const Analysis &a) : a_(a), p_(AtlParams::of(a.image().is64())) {}

std::optional<AtlMap> AtlMapReader::read(const code::Function &f) const {
  std::shared_ptr<const values::Tracker> tr = a_.valueFacts(f);
  bool idTested = false, msgUsed = false;
  std::map<uint32_t, uint32_t> sections;   // dwMsgMapID -> the block where it holds
  std::optional<int64_t> idCompare;        // the flags say dwMsgMapID - k
  std::vector<AtlForward> forwards, inlineReflections;
  std::map<uint32_t, int64_t> shifted;   // `add r32, k` of uMsg: the defining site -> k
  tr->forEach([&](const values::Insn &in, const values::State &s) {
    const ZydisDecodedInstruction &d = *in.insn;
    const ZydisDecodedOperand *ops = in.ops;
    if (auto k = shiftOf(*tr, in, s, p_.msg))
      shifted[in.rva] = *k;
    if (d.meta.category == ZYDIS_CATEGORY_COND_BR) {
      if (idCompare && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          (d.mnemonic == ZYDIS_MNEMONIC_JZ || d.mnemonic == ZYDIS_MNEMONIC_JNZ)) {
        uint32_t taken = uint32_t(int64_t(in.next()) + ops[0].imm.value.s);
        sections.emplace(uint32_t(*idCompare), d.mnemonic == ZYDIS_MNEMONIC_JZ ? taken : in.next());
      }
      idCompare.reset();
      return;
    }
    if (d.mnemonic == ZYDIS_MNEMONIC_CMP || d.mnemonic == ZYDIS_MNEMONIC_TEST) {
      Value x = tr->read(s, in, ops[0]), y = tr->read(s, in, ops[1]);
      idCompare.reset();
      if (isParam(x, p_.mapId) || isParam(y, p_.mapId)) {
        idTested = true;
        if (d.mnemonic == ZYDIS_MNEMONIC_TEST && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
            ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ops[1].reg.value)
          idCompare = 0;
        else if (d.mnemonic == ZYDIS_MNEMONIC_CMP && y.isConst())
          idCompare = y.off;
      }
      if (x.kind == Kind::Param && x.base == p_.msg && y.isConst())
        msgUsed = true;
      return;
    }
    if (d.cpu_flags && (d.cpu_flags->modified & ZYDIS_CPUFLAG_ZF))
      idCompare.reset();
    if ((d.mnemonic == ZYDIS_MNEMONIC_SUB || d.mnemonic == ZYDIS_MNEMONIC_ADD || d.mnemonic == ZYDIS_MNEMONIC_DEC) &&
        ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && tr->read(s, in, ops[0]).isParam(p_.msg))
      msgUsed = true;   // `sub eax, WM_CREATE; je`: a compare chain by differences
    if (d.mnemonic != ZYDIS_MNEMONIC_CALL && d.mnemonic != ZYDIS_MNEMONIC_JMP)
      return;
    // uMsg handed on with wParam or lParam: a chained map, a reflection
    // helper, or a handler given the message. uMsg -/+ OCM__BASE: the
    // reflection code itself, inlined.
    std::optional<uint32_t> msgAt;
    bool more = false;
    for (unsigned i = 0; i < kMaxArgs; ++i) {
      Value v = tr->argument(s, i);
      if (isParam(v, p_.msg) && !msgAt)
        msgAt = i;
      else if (isParam(v, p_.wParam) || isParam(v, p_.lParam))
        more = true;
      int64_t delta = v.kind == Kind::Param && v.base == p_.msg ? v.off : 0;
      if (v.kind == Kind::Opaque)
        if (auto it = shifted.find(v.site); it != shifted.end())
          delta = it->second;
      if ((delta == kOcmBase || delta == -kOcmBase) && d.mnemonic == ZYDIS_MNEMONIC_CALL) {
        AtlForward fw;
        fw.siteRva = in.rva;
        fw.kind = delta == kOcmBase ? AtlForwardKind::Reflect : AtlForwardKind::DefaultReflection;
        fw.messageParam = i;
        inlineReflections.push_back(fw);
      }
    }
    if (!msgAt || !more || d.mnemonic == ZYDIS_MNEMONIC_JMP)
      return;
    msgUsed = true;
    if (ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
      return;
    AtlForward fw;
    fw.siteRva = in.rva;
    fw.targetRva = code::followJumpStubs(a_.image(), a_.decoder(), uint32_t(int64_t(in.next()) + ops[0].imm.value.s));
    // x86 thiscall: the stack arguments are the callee's parameters from 0.
    fw.messageParam = *msgAt;
    forwards.push_back(fw);
  });
  if (!idTested || !msgUsed)
    return std::nullopt;
  AtlMap m;
  m.rva = f.rva;
  for (const auto &[id, entry] : sections)
    m.sections.push_back({id, entry});
  if (m.sections.empty() || m.sections.front().id != 0)
    m.sections.insert(m.sections.begin(), AtlSection{0, f.rva});
  const std::unordered_map<uint32_t, uint32_t> sectionOf = sectionOfBlocks(f, m.sections);
  // One inlined reflection per section is enough to say the section reflects.
  for (const AtlForward &r : inlineReflections)
    if (std::none_of(forwards.begin(), forwards.end(), [&](const AtlForward &x) { return x.kind == r.kind && !x.targetRva; }))
      forwards.push_back(r);
  for (AtlForward &fw : forwards) {
    for (const code::BasicBlock &b : f.blocks)
      if (fw.siteRva >= b.rva && fw.siteRva < b.end)
        if (auto it = sectionOf.find(b.rva); it != sectionOf.end())
          fw.section = it->second;
    m.forwards.push_back(fw);
  }
  return m;
}

AtlMapReader::Use AtlMapReader::messageUse(uint32_t g, uint32_t msgParam) const {
  Use use;
  const code::Function *f = a_.functionAt(g);
  if (!f)
    return use;
  std::shared_ptr<const values::Tracker> tr = a_.valueFacts(*f);
  std::map<uint32_t, int64_t> shifted;   // `add r32, k` of the message: the defining site -> k
  tr->forEach([&](const values::Insn &in, const values::State &s) {
    if (auto k = shiftOf(*tr, in, s, msgParam))
      shifted[in.rva] = *k;
    const bool tail = in.insn->mnemonic == ZYDIS_MNEMONIC_JMP && !(in.ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                                                                  f->contains(uint32_t(int64_t(in.next()) + in.ops[0].imm.value.s)));
    if (in.insn->mnemonic != ZYDIS_MNEMONIC_CALL && !tail)
      return;
    for (unsigned i = 0; i < kMaxArgs; ++i) {
      Value v = tr->argument(s, i, tail);
      int64_t delta = v.kind == Kind::Param && v.base == msgParam ? v.off : 0;
      if (v.kind == Kind::Opaque)
        if (auto it = shifted.find(v.site); it != shifted.end())
          delta = it->second;
      use.reflects |= delta == kOcmBase;
      use.unreflects |= delta == -kOcmBase;
    }
  });
  return use;
}

void AtlMapReader::classifyForwards(AtlMap &m, const std::vector<AtlMap> &maps) const {
  std::vector<AtlForward> kept;
  for (AtlForward &fw : m.forwards) {
    auto it = std::find_if(maps.begin(), maps.end(), [&](const AtlMap &o) { return o.rva == fw.targetRva; });
    if (it != maps.end()) {
      fw.kind = AtlForwardKind::Chain;
      fw.targetClass = it->className;
      kept.push_back(fw);
      continue;
    }
    // Other callees given uMsg are the handlers themselves
    // (MESSAGE_HANDLER's func(uMsg, wParam, lParam, bHandled)): the cases
    // list them.
    Use use = messageUse(fw.targetRva, fw.messageParam);
    if (!use.reflects && !use.unreflects)
      continue;
    fw.kind = use.reflects ? AtlForwardKind::Reflect : AtlForwardKind::DefaultReflection;
    kept.push_back(fw);
  }
  m.forwards = std::move(kept);
}

std::vector<AtlWindowClass> AtlMapReader::windowClasses() const {
  const image::Image &img = a_.image();
  const bool is64 = img.is64();
  const unsigned ptr = img.pointerSize();
  // WNDCLASSEXW: cbSize, style, lpfnWndProc, cbClsExtra, cbWndExtra, then
  // seven pointers (hInstance .. hIconSm); CWndClassInfo goes on with
  // m_lpszOrigName, pWndProc, m_lpszCursorID, m_bSystemCursor, m_atom.
  const uint32_t size = is64 ? 0x50 : 0x30;
  const uint32_t wndProc = 8, handles = is64 ? 0x18 : 0x14;
  auto ptrAt = [&](uint32_t rva, unsigned i) { return img.readPointer(rva + handles + i * ptr); };
  std::vector<AtlWindowClass> out;
  for (const image::Section &sec : img.mappedSections()) {
    if (sec.executable || sec.code)
      continue;
    for (uint32_t at = sec.rva; at + size + 4 * ptr <= sec.rva + sec.size; at += 4) {
      auto cb = img.readRva<uint32_t>(at);
      if (!cb || *cb != size)
        continue;
      auto style = img.readRva<uint32_t>(at + 4);
      auto proc = img.readPointer(at + wndProc);
      auto extras = img.readRva<uint64_t>(at + wndProc + ptr);
      if (!style || *style >= 0x40000 || !proc || !extras || (*extras & 0xFFFFF000FFFFF000ull) != 0)
        continue;
      auto procRva = img.vaToRva(*proc);
      if (!procRva || !img.isExecutableRva(*procRva) || !img.mayHoldAddress(at + wndProc))
        continue;
      // Static data: no instance, icon or cursor handles yet; a brush is a
      // COLOR_* + 1 or none.
      auto inst = ptrAt(at, 0), icon = ptrAt(at, 1), cursor = ptrAt(at, 2), brush = ptrAt(at, 3), name = ptrAt(at, 5),
           iconSm = ptrAt(at, 6);
      if (!inst || *inst || !icon || *icon || !cursor || *cursor || !brush || *brush > 0x20 || !name || !iconSm || *iconSm)
        continue;
      // The rest of CWndClassInfo as DECLARE_WND_CLASS(_EX) / _SUPERCLASS
      // initialise it: the original class name (superclass) or none, no
      // window procedure yet, IDC_* or a cursor name or none, a BOOL, no
      // atom, an empty generated name.
      const uint32_t tail = at + size;
      auto origName = img.readPointer(tail), tailProc = img.readPointer(tail + ptr),
           cursorId = img.readPointer(tail + 2 * ptr);
      auto systemCursor = img.readRva<uint32_t>(tail + 3 * ptr);
      auto atom = img.readRva<uint16_t>(tail + 3 * ptr + 4), autoName = img.readRva<uint16_t>(tail + 3 * ptr + 6);
      auto isDataPointer = [&](uint64_t va) {
        auto r = img.vaToRva(va);
        return r && !img.isExecutableRva(*r) && img.isMappedRva(*r);
      };
      if (!origName || (*origName && !isDataPointer(*origName)) || !tailProc || *tailProc || !cursorId ||
          !systemCursor || *systemCursor > 1 || !atom || *atom || !autoName || *autoName)
        continue;
      if (*cursorId && (*cursorId < 0x7F00 || *cursorId > 0x7FFF) && !isDataPointer(*cursorId))
        continue;
      AtlWindowClass c;
      c.wndClassRva = at;
      c.startWindowProcRva = *procRva;
      if (*name) {
        auto n = img.vaToRva(*name);
        auto text = n ? img.wideStringAtRva(*n, 256) : std::nullopt;
        if (!text || text->empty())
          continue;
        c.name = *text;
      } else {
        // CWndClassInfo::Register: wsprintf(m_szAutoName, "ATL:%p", &m_wc).
        c.autoName = true;
        c.name = fmt::format("ATL:{:0{}X}", img.rvaToVa(at), is64 ? 16 : 8);
      }
      out.push_back(std::move(c));
    }
  }
  return out;
}

} // namespace sb::msgmaps
