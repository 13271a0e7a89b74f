#include "rpc/Interfaces.h"

#include "rpc/Layout.h"
#include "switchboard/image/Image.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace sb::rpc {

uint32_t pointerRva(const image::Image &img, uint32_t rva) {
  auto v = img.readPointer(rva);
  if (!v || *v == 0)
    return 0;
  auto r = img.vaToRva(*v);
  return r && img.isMappedRva(*r) ? *r : 0;
}

std::vector<uint32_t> scanInterfaces(const image::Image &img) {
  std::vector<uint32_t> out;
  const uint32_t length = layout::interfaceLength(img.is64());
  for (const image::Section &s : img.mappedSections()) {
    if (s.executable || !s.readable)
      continue;
    const std::span<const uint8_t> bytes = img.bytesFromRva(s.rva);
    // The transfer syntax lies at +0x18: look for its GUID, then check the
    // header around it.
    for (const auto &syntax : {layout::kNdrSyntax, layout::kNdr64Syntax}) {
      auto it = bytes.begin();
      while (true) {
        it = std::search(it, bytes.end(), syntax.begin(), syntax.end());
        if (it == bytes.end())
          break;
        const size_t at = size_t(it - bytes.begin());
        ++it;
        if (at < 0x18 || (at - 0x18) % 4 != 0)
          continue;
        const uint32_t rva = s.rva + uint32_t(at - 0x18);
        uint32_t len = 0;
        std::memcpy(&len, bytes.data() + at - 0x18, 4);
        if (len == length && readInterface(img, rva))
          out.push_back(rva);
      }
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::optional<Interface> readInterface(const image::Image &img, uint32_t rva) {
  std::array<uint8_t, layout::kInterfaceHeaderSize> header{};
  if (!img.copyFromRva(rva, header.data(), header.size()))
    return std::nullopt;
  auto h = layout::decodeInterfaceHeader(header, img.is64());
  if (!h)
    return std::nullopt;
  const layout::InterfaceFields f = layout::interfaceFields(img.is64());
  auto flags = img.readRva<uint32_t>(rva + uint32_t(f.flags));
  if (!flags)
    return std::nullopt;
  Interface i;
  i.rva = rva;
  i.uuid = std::move(h->uuid);
  i.versionMajor = h->versionMajor;
  i.versionMinor = h->versionMinor;
  i.transferSyntax = std::move(h->transferSyntax);
  i.flags = *flags;
  i.dispatchTableRva = pointerRva(img, rva + uint32_t(f.dispatchTable));
  i.managerEpvRva = pointerRva(img, rva + uint32_t(f.managerEpv));
  i.interpreterInfoRva = pointerRva(img, rva + uint32_t(f.interpreterInfo));
  i.role = i.dispatchTableRva ? Role::Server : Role::Client;
  return i;
}

std::vector<std::pair<uint32_t, uint32_t>> findStubDescriptors(const image::Image &img,
                                                               const std::vector<uint32_t> &interfaces) {
  std::vector<std::pair<uint32_t, uint32_t>> out;
  if (interfaces.empty())
    return out;
  const unsigned ptr = img.pointerSize();
  for (const image::Section &s : img.mappedSections()) {
    if (s.executable || !s.readable)
      continue;
    const std::span<const uint8_t> bytes = img.bytesFromRva(s.rva);
    for (size_t at = 0; at + 3 * ptr <= bytes.size(); at += ptr) {
      uint64_t va = 0;
      std::memcpy(&va, bytes.data() + at, ptr);
      auto target = img.vaToRva(va);
      if (!target || !std::binary_search(interfaces.begin(), interfaces.end(), *target))
        continue;
      const uint32_t rva = s.rva + uint32_t(at);
      if (!img.mayHoldAddress(rva))
        continue;
      // pfnAllocate and pfnFree: code (MIDL_user_allocate / _free).
      const uint32_t alloc = pointerRva(img, rva + ptr), freeFn = pointerRva(img, rva + 2 * ptr);
      if (!alloc || !freeFn || !img.isExecutableRva(alloc) || !img.isExecutableRva(freeFn))
        continue;
      out.emplace_back(*target, rva);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint32_t typeFormatOf(const image::Image &img, uint32_t stubDesc) {
  return stubDesc ? pointerRva(img, stubDesc + 8 * img.pointerSize()) : 0;
}

namespace {

// MIDL_SYNTAX_INFO { RPC_SYNTAX_IDENTIFIER TransferSyntax; DispatchTable;
// ProcString; FmtStringOffset; TypeString; aUserMarshalQuadruple;
// pMethodProperties; pReserved2 }: the entry for NDR 2.0.
std::optional<Formats> dceSyntax(const image::Image &img, uint32_t syntaxInfo, uint64_t count) {
  const unsigned ptr = img.pointerSize();
  const uint32_t fields = img.is64() ? 24 : 20, size = fields + 7 * ptr;
  for (uint64_t n = 0; syntaxInfo && n < std::min<uint64_t>(count, 4); ++n) {
    const uint32_t at = syntaxInfo + uint32_t(n) * size;
    std::array<uint8_t, 16> guid{};
    if (!img.copyFromRva(at, guid.data(), guid.size()))
      return std::nullopt;
    if (guid != layout::kNdrSyntax)
      continue;
    Formats f;
    f.procString = pointerRva(img, at + fields + ptr);
    f.offsets = pointerRva(img, at + fields + 2 * ptr);
    f.typeString = pointerRva(img, at + fields + 3 * ptr);
    return f;
  }
  return std::nullopt;
}

// Whether the RPC_SYNTAX_IDENTIFIER at rva is NDR64's (0: keep `fallback`).
bool ndr64At(const image::Image &img, uint32_t rva, bool fallback) {
  std::array<uint8_t, 16> guid{};
  if (!rva || !img.copyFromRva(rva, guid.data(), guid.size()))
    return fallback;
  return guid == layout::kNdr64Syntax;
}

// The formats of a MIDL_SERVER_INFO or MIDL_STUBLESS_PROXY_INFO: both hold
// the stub descriptor first, the procedure string and its offsets at
// `procSlot`, `procSlot + 1`, and pTransferSyntax, nCount, pSyntaxInfo from
// `syntaxSlot` on (pointer-sized slots).
std::optional<Formats> readFormats(const image::Image &img, uint32_t rva, bool ndr64, unsigned procSlot,
                                   unsigned syntaxSlot) {
  if (!rva)
    return std::nullopt;
  const unsigned ptr = img.pointerSize();
  Formats f;
  f.stubDesc = pointerRva(img, rva);
  if (!f.stubDesc)
    return std::nullopt;
  if (ndr64At(img, pointerRva(img, rva + syntaxSlot * ptr), ndr64)) {
    auto count = img.readPointer(rva + (syntaxSlot + 1) * ptr);
    if (auto dce = dceSyntax(img, pointerRva(img, rva + (syntaxSlot + 2) * ptr), count.value_or(0))) {
      f.procString = dce->procString;
      f.offsets = dce->offsets;
      f.typeString = dce->typeString;
    }
    return f;
  }
  f.procString = pointerRva(img, rva + procSlot * ptr);
  f.offsets = pointerRva(img, rva + (procSlot + 1) * ptr);
  return f;
}

} // namespace

std::optional<Formats> readServerInfo(const image::Image &img, uint32_t rva, bool ndr64) {
  // pStubDesc, DispatchTable, ProcString, FmtStringOffset, ThunkTable, pTransferSyntax, nCount, pSyntaxInfo.
  std::optional<Formats> f = readFormats(img, rva, ndr64, 2, 5);
  if (f)
    f->routines = pointerRva(img, rva + img.pointerSize());
  return f;
}

std::optional<Formats> readProxyInfo(const image::Image &img, uint32_t rva, bool ndr64) {
  // pStubDesc, ProcFormatString, FormatStringOffset, pTransferSyntax, nCount, pSyntaxInfo.
  return readFormats(img, rva, ndr64, 1, 3);
}

} // namespace sb::rpc
