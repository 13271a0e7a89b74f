#include "switchboard/unwind/ScopeTable.h"

#include "code/Decoder.h"
namespace sb::unwind {
namespace {
constexpr uint32_t kMaxRecords = 256;
constexpr unsigned kPrologWindow = 48;   // instructions searched for the registration
} // namespace

std::optional<std::vector<ScopeRecord>> readScopeTable(const image::Image &img, uint32_t rva,
                                                       std::optional<std::pair<uint32_t, uint32_t>> within) {
  auto count = img.readRva<uint32_t>(rva);
  if (!count || *count == 0 || *count > kMaxRecords)
    return std::nullopt;
  std::vector<ScopeRecord> out;
  for (uint32_t i = 0; i < *count; ++i) {
    uint32_t r = rva + 4 + 16 * i;
    auto b = img.readRva<uint32_t>(r), e = img.readRva<uint32_t>(r + 4), h = img.readRva<uint32_t>(r + 8),
         t = img.readRva<uint32_t>(r + 12);
    if (!b || !e || !h || !t || *b >= *e || !img.isExecutableRva(*b) || !img.isExecutableRva(*e - 1))
      return std::nullopt;
    if (*h > 1 && !img.isExecutableRva(*h))
      return std::nullopt;
    if (*t && !img.isExecutableRva(*t))
      return std::nullopt;
    if (within && (*b < within->first || *e > within->second))
      return std::nullopt;
    out.push_back({*b, *e, *h, *t});
  }
  return out;
}

namespace {
// Reads EH3/EH4 records at rva; the enclosing levels must form a tree (each
// refers to an earlier record or to the top level).
std::optional<std::vector<X86ScopeRecord>> readX86Records(const image::Image &img, uint32_t rva, int32_t top,
                                                          uint32_t fnBegin, uint32_t fnLimit) {
  std::vector<X86ScopeRecord> out;
  for (uint32_t i = 0; i < kMaxRecords; ++i) {
    auto level = img.readRva<int32_t>(rva + 12 * i);
    auto filter = img.readRva<uint32_t>(rva + 12 * i + 4), handler = img.readRva<uint32_t>(rva + 12 * i + 8);
    if (!level || !filter || !handler)
      break;
    bool levelOk = *level == top || (*level >= 0 && *level < int32_t(i));
    // Pointers in a relocatable image carry relocations.
    bool relocated = img.mayHoldAddress(rva + 12 * i + 8);
    auto toRva = [&](uint32_t va) -> std::optional<uint32_t> {
      auto r = img.vaToRva(va);
      if (r && img.isExecutableRva(*r) && relocated)
        return r;
      return std::nullopt;
    };
    std::optional<uint32_t> f = *filter ? toRva(*filter) : std::optional<uint32_t>(0u), h = toRva(*handler);
    if (!levelOk || !f || !h || *h < fnBegin || *h >= fnLimit)
      break;
    out.push_back({*level, *f, *h});
  }
  if (out.empty())
    return std::nullopt;
  return out;
}
} // namespace

std::optional<X86ScopeTable> findX86ScopeTable(const image::Image &img, const code::Decoder &dec, uint32_t rva,
                                               uint32_t limit) {
  if (img.is64())
    return std::nullopt;
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  uint32_t pc = rva;
  std::optional<X86ScopeTable> found;
  for (unsigned n = 0; n < kPrologWindow; ++n) {
    if (!dec.decodeFull(img.bytesFromRva(pc), pc, in, ops))
      break;
    // The handler is the code pointer installed right after the table.
    if (found && (in.mnemonic == ZYDIS_MNEMONIC_PUSH || in.mnemonic == ZYDIS_MNEMONIC_MOV) &&
        in.raw.imm[0].size == 32 && img.mayHoldAddress(pc + in.raw.imm[0].offset)) {
      if (auto h = img.vaToRva(uint32_t(in.raw.imm[0].value.u)); h && img.isExecutableRva(*h))
        found->handlerRva = *h;
      return found;
    }
    if (found && in.meta.category == ZYDIS_CATEGORY_CALL)
      return found;   // __SEH_prolog4 installs the handler itself
    // A relocated 32-bit immediate pushed or stored: a candidate table.
    if ((in.mnemonic == ZYDIS_MNEMONIC_PUSH || in.mnemonic == ZYDIS_MNEMONIC_MOV) && in.raw.imm[0].size == 32 &&
        img.mayHoldAddress(pc + in.raw.imm[0].offset)) {
      auto table = img.vaToRva(uint32_t(in.raw.imm[0].value.u));
      if (table && !img.isExecutableRva(*table) && img.isMappedRva(*table)) {
        // EH3 starts with a record (level -1); EH4 with the GS cookie offset
        // (-2 when there is none) and three more offsets.
        auto first = img.readRva<int32_t>(*table);
        if (first && *first == -1) {
          if (auto recs = readX86Records(img, *table, -1, rva, limit)) {
            X86ScopeTable t;
            t.rva = *table;
            t.records = std::move(*recs);
            t.registrationRva = pc;
            found = std::move(t);
          }
        } else if (first && (*first == -2 || (*first < 0 && *first > -0x100000 && (*first % 4) == 0))) {
          if (auto recs = readX86Records(img, *table + 16, -2, rva, limit)) {
            X86ScopeTable t;
            t.rva = *table;
            t.eh4 = true;
            t.gsCookieOffset = *first;
            t.gsCookieXorOffset = img.readRva<int32_t>(*table + 4).value_or(0);
            t.ehCookieOffset = img.readRva<int32_t>(*table + 8).value_or(0);
            t.ehCookieXorOffset = img.readRva<int32_t>(*table + 12).value_or(0);
            t.records = std::move(*recs);
            t.registrationRva = pc;
            found = std::move(t);
          }
        }
      }
    }
    if (in.meta.category == ZYDIS_CATEGORY_RET || in.meta.category == ZYDIS_CATEGORY_UNCOND_BR)
      break;
    pc += in.length;
  }
  return found;
}

bool usesParentFrame(const image::Image &img, const code::Decoder &dec, uint32_t rva) {
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  uint32_t pc = rva;
  for (unsigned n = 0; n < 10; ++n) {
    if (!dec.decodeFull(img.bytesFromRva(pc), pc, in, ops))
      return false;
    if (img.is64()) {
      // lea rbp, [rdx+N] / mov rbp, rdx: the establisher frame becomes the frame.
      if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ZYDIS_REGISTER_RBP &&
          ((in.mnemonic == ZYDIS_MNEMONIC_LEA && ops[1].mem.base == ZYDIS_REGISTER_RDX) ||
           (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
            ops[1].reg.value == ZYDIS_REGISTER_RDX)))
        return true;
    } else {
      // A frame of its own is `mov ebp, esp`; a fragment of the parent reads
      // its frame through ebp, or adjusts ebp to it (clang: push ebp; add
      // ebp, 0Ch).
      if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[0].reg.value == ZYDIS_REGISTER_EBP && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[1].reg.value == ZYDIS_REGISTER_ESP)
        return false;
      if ((in.mnemonic == ZYDIS_MNEMONIC_ADD || in.mnemonic == ZYDIS_MNEMONIC_SUB) &&
          ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ZYDIS_REGISTER_EBP)
        return true;
      // Any other write to ebp (a frame-pointer-omitted function using it as
      // a general register) means ebp is its own from here on.
      if (in.operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
          ops[0].reg.value == ZYDIS_REGISTER_EBP && (ops[0].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
          in.mnemonic != ZYDIS_MNEMONIC_PUSH)
        return false;
      for (unsigned k = 0; k < in.operand_count_visible; ++k)
        if (ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[k].mem.base == ZYDIS_REGISTER_EBP)
          return true;
    }
    if (in.meta.category == ZYDIS_CATEGORY_RET || in.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
        in.meta.category == ZYDIS_CATEGORY_CALL)
      return false;
    pc += in.length;
  }
  return false;
}

} // namespace sb::unwind
