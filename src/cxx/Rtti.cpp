#include "switchboard/cxx/Rtti.h"

#include "switchboard/eh/FuncInfo.h"
#include "switchboard/support/Demangle.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace sb::cxx {
namespace {
constexpr uint32_t kMaxBases = 4096;
constexpr uint32_t kMaxObjectOffset = 1u << 24;

// RTTI pointer fields use the same encoding as the EH tables.
std::optional<uint32_t> field(const image::Image &img, uint32_t at) { return eh::readEhPointer(img, at); }

bool looksLikeRttiName(const std::string &s) { return s.size() >= 5 && s.compare(0, 3, ".?A") == 0; }
} // namespace

std::string demangleRttiName(const std::string &raw) {
  if (raw.size() < 2 || raw[0] != '.')
    return raw;
  // Demangle as the RTTI type descriptor variable of the type, then drop the suffix.
  std::string d = demangleMsvc("??_R0" + raw.substr(1) + "@8");
  const std::string suffix = " `RTTI Type Descriptor'";
  if (d.size() <= suffix.size() || d.compare(d.size() - suffix.size(), suffix.size(), suffix) != 0)
    return raw;
  d.resize(d.size() - suffix.size());
  for (const char *prefix : {"class ", "struct ", "union ", "enum "})
    if (d.rfind(prefix, 0) == 0)
      return d.substr(std::strlen(prefix));
  return d;
}

std::string typeDescriptorName(const image::Image &img, uint32_t rva) {
  auto raw = img.cstringAtRva(rva + 2 * img.pointerSize(), 1024);
  if (!raw || raw->size() < 2 || (*raw)[0] != '.')
    return fmt::format("type@{:x}", rva);
  return demangleRttiName(*raw);
}

Expected<TypeDescriptor> readTypeDescriptor(const image::Image &img, uint32_t rva) {
  auto raw = img.cstringAtRva(rva + 2 * img.pointerSize(), 2048);
  if (!raw || !looksLikeRttiName(*raw))
    return makeError(fmt::format("no RTTI type name at {:#x}", rva));
  TypeDescriptor td;
  td.rva = rva;
  td.rawName = *raw;
  td.name = demangleRttiName(*raw);
  return td;
}

Expected<CompleteObjectLocator> readCompleteObjectLocator(const image::Image &img, uint32_t rva) {
  auto sig = img.readRva<uint32_t>(rva);
  auto off = img.readRva<uint32_t>(rva + 4);
  auto cd = img.readRva<uint32_t>(rva + 8);
  if (!sig || !off || !cd)
    return makeError(fmt::format("COL at {:#x} is outside the image", rva));
  CompleteObjectLocator col;
  col.rva = rva;
  col.signature = *sig;
  col.offset = *off;
  col.cdOffset = *cd;
  if (col.signature != (img.is64() ? 1u : 0u))
    return makeError(fmt::format("COL at {:#x} has signature {}", rva, col.signature));
  if (col.offset > kMaxObjectOffset || col.cdOffset > kMaxObjectOffset)
    return makeError(fmt::format("COL at {:#x} has an implausible offset", rva));
  if (img.is64()) {
    auto self = img.readRva<uint32_t>(rva + 20);
    if (!self || *self != rva)
      return makeError(fmt::format("COL at {:#x} does not point to itself", rva));
  }
  auto td = field(img, rva + 12);
  auto chd = field(img, rva + 16);
  if (!td || !chd || !*td || !*chd)
    return makeError(fmt::format("COL at {:#x} has no type or hierarchy", rva));
  col.typeDescriptorRva = *td;
  col.hierarchyRva = *chd;
  return col;
}

Expected<ClassHierarchy> readClassHierarchy(const image::Image &img, uint32_t rva) {
  auto sig = img.readRva<uint32_t>(rva);
  auto attr = img.readRva<uint32_t>(rva + 4);
  auto count = img.readRva<uint32_t>(rva + 8);
  auto array = field(img, rva + 12);
  if (!sig || !attr || !count || !array)
    return makeError(fmt::format("hierarchy descriptor at {:#x} is outside the image", rva));
  if (*sig != 0 || *attr > 7 || *count == 0 || *count > kMaxBases || !*array)
    return makeError(fmt::format("implausible hierarchy descriptor at {:#x}", rva));
  ClassHierarchy h;
  h.rva = rva;
  h.signature = *sig;
  h.attributes = *attr;
  h.baseArrayRva = *array;
  for (uint32_t i = 0; i < *count; ++i) {
    auto bcdRva = field(img, *array + 4 * i);
    if (!bcdRva || !*bcdRva)
      return makeError(fmt::format("base class array at {:#x} is cut at entry {}", *array, i));
    BaseClassDescriptor b;
    b.rva = *bcdRva;
    auto td = field(img, b.rva);
    auto contained = img.readRva<uint32_t>(b.rva + 4);
    auto m = img.readRva<int32_t>(b.rva + 8), p = img.readRva<int32_t>(b.rva + 12), v = img.readRva<int32_t>(b.rva + 16);
    auto at = img.readRva<uint32_t>(b.rva + 20);
    if (!td || !*td || !contained || !m || !p || !v || !at || *contained >= *count - i)
      return makeError(fmt::format("base class descriptor at {:#x} is malformed", b.rva));
    b.typeDescriptorRva = *td;
    b.numContainedBases = *contained;
    b.where = {*m, *p, *v};
    b.attributes = *at;
    if (b.attributes & kBcdHasPchd)
      b.hierarchyRva = field(img, b.rva + 24).value_or(0);
    h.bases.push_back(b);
  }
  return h;
}

std::vector<size_t> ClassHierarchy::directBases() const {
  std::vector<size_t> out;
  for (size_t i = 1; i < bases.size(); i += 1 + bases[i].numContainedBases)
    out.push_back(i);
  return out;
}

bool isClassTypeName(const std::string &raw) {
  return raw.size() >= 5 && (raw.compare(0, 4, ".?AV") == 0 || raw.compare(0, 4, ".?AU") == 0 ||
                             raw.compare(0, 4, ".?AT") == 0);
}

namespace {
// A TypeDescriptor-shaped datum at rva: a relocatable pointer into the
// image, a null spare word and a demangleable RTTI name. Returns its pVFTable.
std::optional<uint64_t> typeDescriptorShape(const image::Image &img, uint32_t rva) {
  const unsigned ptr = img.pointerSize();
  auto vft = img.readPointer(rva);
  auto spare = img.readPointer(rva + ptr);
  if (!vft || !*vft || !spare || *spare != 0 || !img.mayHoldAddress(rva) || !img.vaToRva(*vft))
    return std::nullopt;
  auto td = readTypeDescriptor(img, rva);
  if (!td || td->name == td->rawName)
    return std::nullopt;
  return *vft;
}
} // namespace

std::vector<TypeDescriptor> findTypeDescriptors(const image::Image &img) {
  const unsigned ptr = img.pointerSize();
  std::vector<std::pair<uint32_t, uint64_t>> candidates;
  std::map<uint64_t, size_t> votes;
  for (const image::Section &sec : img.mappedSections()) {
    std::span<const uint8_t> bytes = img.bytesFromRva(sec.rva);
    size_t n = std::min<size_t>(bytes.size(), sec.size);
    for (size_t i = 0; i + 2 * ptr + 4 <= n; i += ptr) {
      // Cheap filter first: the name's ".?A" right after the two pointers.
      if (std::memcmp(bytes.data() + i + 2 * ptr, ".?A", 3) != 0)
        continue;
      uint32_t rva = sec.rva + uint32_t(i);
      if (auto vft = typeDescriptorShape(img, rva)) {
        candidates.emplace_back(rva, *vft);
        ++votes[*vft];
      }
    }
  }
  std::vector<TypeDescriptor> out;
  if (votes.empty())
    return out;
  uint64_t typeInfoVftable =
      std::max_element(votes.begin(), votes.end(), [](const auto &a, const auto &b) { return a.second < b.second; })->first;
  for (const auto &[rva, vft] : candidates)
    if (vft == typeInfoVftable)
      out.push_back(*readTypeDescriptor(img, rva));
  return out;
}

std::vector<CompleteObjectLocator> findCompleteObjectLocators(const image::Image &img) {
  std::vector<CompleteObjectLocator> out;
  const bool is64 = img.is64();
  for (const image::Section &sec : img.mappedSections()) {
    // Every section: some linkers merge .rdata into .text.
    std::span<const uint8_t> bytes = img.bytesFromRva(sec.rva);
    size_t n = std::min<size_t>(bytes.size(), sec.size);
    for (size_t i = 0; i + 24 <= n; i += 4) {
      uint32_t sig, self;
      std::memcpy(&sig, bytes.data() + i, 4);
      uint32_t rva = sec.rva + uint32_t(i);
      if (is64) {
        std::memcpy(&self, bytes.data() + i + 20, 4);
        if (sig != 1 || self != rva)
          continue;
      } else {
        uint32_t tdVa;
        std::memcpy(&tdVa, bytes.data() + i + 12, 4);
        if (sig != 0 || tdVa < img.imageBase() || tdVa - img.imageBase() >= img.imageSize())
          continue;
        if (!img.mayHoldAddress(rva + 12) || !img.mayHoldAddress(rva + 16))
          continue;
      }
      auto col = readCompleteObjectLocator(img, rva);
      if (!col || !readTypeDescriptor(img, col->typeDescriptorRva))
        continue;
      auto chd = img.readRva<uint32_t>(col->hierarchyRva);
      if (!chd || *chd != 0)
        continue;
      out.push_back(*col);
    }
  }
  return out;
}

} // namespace sb::cxx
