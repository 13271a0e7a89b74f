// MFC message maps read from the image. An AFX_MSGMAP is two pointers: the
// base (pBaseMap, or pfnGetBaseMap in _AFXDLL builds and MFC 7+) and the
// entries; the entries are {nMessage, nCode, nID, nLastID, nSig, pfn}
// records (24 bytes on x86, 32 on x64) ending in an all-zero one. Nothing
// is believed from one field: every entry must look like one, every
// pointer must point where its kind lives (and be relocated, where the
// image says which slots are).
#include "MfcMaps.h"

#include "code/Decoder.h"
#include "switchboard/pe/PeImage.h"

#include <nlohmann/json.hpp>

namespace sb::msgmaps {

extern const char *const kMfcKnowledgeJson;   // MfcData.cpp, generated from data/frameworks/mfc.json

namespace {
constexpr uint32_t kWmCommand = 0x0111, kWmNotify = 0x004E, kReflectBase = 0xBC00, kRegistered = 0xC000;
constexpr uint32_t kUpdateCommandUi = 0xFFFFFFFFu;

uint32_t parseNumber(const nlohmann::json &v) {
  if (v.is_number_unsigned())
    return uint32_t(v.get<uint64_t>());
  if (v.is_string())
    return uint32_t(std::stoul(v.get<std::string>(), nullptr, 0));
  return 0;
}

MfcEntryKind kindOf(uint32_t message, uint32_t code) {
  if (message == kRegistered)
    return MfcEntryKind::Registered;
  if (message == kWmCommand)
    return code == 0 ? MfcEntryKind::Command : code == kUpdateCommandUi ? MfcEntryKind::UpdateCommandUi : MfcEntryKind::Control;
  if (message == kWmNotify)
    return MfcEntryKind::Notify;
  if (message == kWmCommand + kReflectBase)
    return MfcEntryKind::ControlReflect;
  if (message == kWmNotify + kReflectBase)
    return MfcEntryKind::NotifyReflect;
  if (message > kReflectBase && message < kRegistered)
    return MfcEntryKind::Reflect;
  return MfcEntryKind::Message;
}
} // namespace

const char *mfcEntryKindName(MfcEntryKind k) {
  switch (k) {
  case MfcEntryKind::Message: return "message";
  case MfcEntryKind::Registered: return "registered";
  case MfcEntryKind::Command: return "command";
  case MfcEntryKind::UpdateCommandUi: return "update_command_ui";
  case MfcEntryKind::Control: return "control";
  case MfcEntryKind::Notify: return "notify";
  case MfcEntryKind::ControlReflect: return "control_reflect";
  case MfcEntryKind::NotifyReflect: return "notify_reflect";
  case MfcEntryKind::Reflect: return "reflect";
  }
  return "?";
}

const MfcKnowledge &MfcKnowledge::builtin() {
  static const MfcKnowledge k = [] {
    MfcKnowledge out;
    nlohmann::json j = nlohmann::json::parse(kMfcKnowledgeJson, nullptr, false);
    if (j.is_discarded())
      return out;
    for (const auto &s : j.value("signatures", nlohmann::json::array()))
      if (s.contains("value") && s.contains("name") && !s.contains("alias"))
        out.signatures_.emplace(parseNumber(s["value"]), s["name"].get<std::string>());
    for (const auto &h : j.value("wm_handlers", nlohmann::json::array()))
      if (h.contains("id") && h.contains("handler") && h.contains("sig_value"))
        out.members_.emplace(std::pair{parseNumber(h["id"]), uint64_t(parseNumber(h["sig_value"]))},
                             h["handler"].get<std::string>());
    return out;
  }();
  return k;
}

const std::string *MfcKnowledge::signatureName(uint64_t value) const {
  auto it = signatures_.find(value);
  return it == signatures_.end() ? nullptr : &it->second;
}

const std::string *MfcKnowledge::memberFor(uint32_t message, uint64_t sig) const {
  auto it = members_.find({message, sig});
  return it == members_.end() ? nullptr : &it->second;
}

std::optional<uint32_t> returnedAddress(const pe::PeImage &img, const code::Decoder &dec, uint32_t fn, int depth) {
  if (depth > 2)
    return std::nullopt;
  std::optional<uint32_t> value;   // what the return register holds
  uint32_t pc = fn;
  for (int i = 0; i < 12; ++i) {
    code::DecodedInsn in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!dec.decodeFull(img.bytesFromRva(pc), pc, in, ops))
      return std::nullopt;
    const ZydisDecodedInstruction &d = in.insn;
    const bool toAccumulator = d.operand_count_visible >= 1 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                               (ops[0].reg.value == ZYDIS_REGISTER_RAX || ops[0].reg.value == ZYDIS_REGISTER_EAX);
    switch (in.flow) {
    case code::Flow::Return: return value;
    case code::Flow::Jump:
      if (!in.target)
        return std::nullopt;
      return returnedAddress(img, dec, *in.target, depth + 1);
    case code::Flow::Call:
      value = in.target ? returnedAddress(img, dec, *in.target, depth + 1) : std::nullopt;
      if (!value)
        return std::nullopt;
      break;
    case code::Flow::Normal:
      if (d.mnemonic == ZYDIS_MNEMONIC_LEA && toAccumulator) {
        uint32_t at = code::absoluteMemoryRva(img, in);
        if (!at || ops[1].mem.base != (img.is64() ? ZYDIS_REGISTER_RIP : ZYDIS_REGISTER_NONE) ||
            ops[1].mem.index != ZYDIS_REGISTER_NONE)
          return std::nullopt;
        value = at;
      } else if (d.mnemonic == ZYDIS_MNEMONIC_MOV && toAccumulator && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        auto rva = img.vaToRva(ops[1].imm.value.u);
        if (!rva)
          return std::nullopt;
        value = *rva;
      } else if (toAccumulator && (ops[0].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
        return std::nullopt;   // the result is computed
      } else if (d.meta.category == ZYDIS_CATEGORY_PUSH || d.meta.category == ZYDIS_CATEGORY_POP ||
                 d.mnemonic == ZYDIS_MNEMONIC_MOV || d.mnemonic == ZYDIS_MNEMONIC_SUB || d.mnemonic == ZYDIS_MNEMONIC_ADD ||
                 d.mnemonic == ZYDIS_MNEMONIC_NOP) {
        // A debug build's frame set-up and tear-down.
      } else {
        return std::nullopt;
      }
      break;
    default: return std::nullopt;
    }
    pc = in.next();
  }
  return std::nullopt;
}

bool MfcMapReader::isCode(uint64_t va) const {
  auto rva = img_.vaToRva(va);
  return rva && img_.isExecutableRva(*rva);
}

bool MfcMapReader::isData(uint64_t va) const {
  auto rva = img_.vaToRva(va);
  if (!rva)
    return false;
  const image::Section *s = img_.sectionFor(*rva);
  return s && !s->executable && !s->code;
}

std::optional<MfcEntry> MfcMapReader::entryAt(uint32_t rva, bool &end) const {
  const unsigned ptr = img_.pointerSize();
  uint32_t f[4];
  if (!img_.copyFromRva(rva, f, sizeof f))
    return std::nullopt;
  auto sig = img_.readPointer(rva + 16);
  auto pfn = img_.readPointer(rva + 16 + ptr);
  if (!sig || !pfn)
    return std::nullopt;
  end = false;
  if (f[0] == 0 && f[1] == 0 && f[2] == 0 && f[3] == 0 && *sig == 0 && *pfn == 0) {
    end = true;
    return MfcEntry{};
  }
  MfcEntry e;
  e.rva = rva;
  e.message = f[0];
  e.code = f[1];
  e.id = f[2];
  e.lastId = f[3];
  e.sig = *sig;
  // nMessage is a message (+ WM_REFLECT_BASE) or 0xC000; codes are WORDs
  // (notification codes sign-extended from one) or CN_UPDATE_COMMAND_UI;
  // ids are WORDs, a range ascending.
  if (e.message == 0 || e.message > 0xFFFF || (e.code > 0xFFFF && e.code < 0xFFFF0000u) || e.id > 0xFFFF ||
      e.lastId > 0xFFFF || e.lastId < e.id)
    return std::nullopt;
  if (!isCode(*pfn) || !img_.mayHoldAddress(rva + 16 + ptr))
    return std::nullopt;
  e.handlerRva = *img_.vaToRva(*pfn);
  e.kind = kindOf(e.message, e.code);
  if (e.kind == MfcEntryKind::Registered) {
    // nSig holds the address of the UINT the registered id is kept in.
    if (!isData(e.sig) || !img_.mayHoldAddress(rva + 16))
      return std::nullopt;
    e.registeredGlobal = *img_.vaToRva(e.sig);
  } else {
    if (e.sig > 0x400)
      return std::nullopt;
    if (const std::string *n = MfcKnowledge::builtin().signatureName(e.sig))
      e.signature = *n;
  }
  // Window messages carry no id; commands and notifications carry one.
  const bool idLess = e.kind == MfcEntryKind::Message || e.kind == MfcEntryKind::Registered ||
                      e.kind == MfcEntryKind::ControlReflect || e.kind == MfcEntryKind::NotifyReflect ||
                      e.kind == MfcEntryKind::Reflect;
  if (idLess && (e.id != 0 || e.lastId != 0))
    return std::nullopt;
  if (e.kind == MfcEntryKind::Message && e.code != 0)
    return std::nullopt;
  if (e.kind == MfcEntryKind::Message || e.kind == MfcEntryKind::Reflect)
    if (const std::string *m = MfcKnowledge::builtin().memberFor(e.message, e.sig))
      e.memberName = *m;
  return e;
}

std::optional<MfcMap> MfcMapReader::mapAt(uint32_t rva, bool requireEntries) const {
  const unsigned ptr = img_.pointerSize();
  auto base = img_.readPointer(rva);
  auto entries = img_.readPointer(rva + ptr);
  if (!base || !entries || !isData(*entries) || !img_.mayHoldAddress(rva + ptr))
    return std::nullopt;
  MfcMap m;
  m.rva = rva;
  m.entriesRva = *img_.vaToRva(*entries);
  if (m.entriesRva % 4 != 0 || m.entriesRva == rva)
    return std::nullopt;
  if (*base != 0) {
    if (!img_.mayHoldAddress(rva))
      return std::nullopt;
    uint32_t b = *img_.vaToRva(*base);
    if (isCode(*base)) {
      m.dllLayout = true;
      m.baseFunctionRva = b;
    } else if (isData(*base)) {
      m.baseMapRva = b;   // checked by whoever follows the chain
    } else {
      return std::nullopt;
    }
  }
  const size_t entrySize = 16 + 2 * size_t(ptr);
  for (size_t i = 0;; ++i) {
    if (i == kMaxEntries) {
      m.truncated = true;
      break;
    }
    bool end = false;
    auto e = entryAt(m.entriesRva + uint32_t(i * entrySize), end);
    // A map something vouches for keeps the entries before one that does
    // not read as an entry (a handler outside the code, a damaged table);
    // a map the data scan found is not believed.
    if (!e && (requireEntries || i == 0))
      return std::nullopt;
    if (!e) {
      m.truncated = true;
      break;
    }
    if (end)
      break;
    m.entries.push_back(std::move(*e));
  }
  if (requireEntries && m.entries.empty())
    return std::nullopt;
  return m;
}

} // namespace sb::msgmaps
