// The resource directory tree (type / name / language), flattened to leaves.
// Offsets inside the tree are relative to the directory start; we keep a set
// of visited directories so a cyclic tree cannot loop.
#include "PeParser.h"

#include <unordered_set>

namespace sb::pe {
namespace {
constexpr unsigned kMaxDepth = 8;
constexpr size_t kMaxLeaves = 1 << 20;

struct Walker {
  PeImage &img;
  uint32_t base, size;
  std::unordered_set<uint32_t> visited;
  std::vector<ResourceEntry> &out;

  std::optional<ResourceId> readId(uint32_t nameField) {
    ResourceId id;
    if (nameField & 0x80000000u) {
      uint32_t off = nameField & 0x7FFFFFFFu;
      auto len = img.readRva<uint16_t>(base + off);
      if (!len || off >= size)
        return std::nullopt;
      id.isName = true;
      for (uint32_t k = 0; k < *len; ++k) {
        auto c = img.readRva<uint16_t>(base + off + 2 + 2 * k);
        if (!c)
          return std::nullopt;
        id.name.push_back(char16_t(*c));
      }
    } else {
      id.id = nameField;
    }
    return id;
  }

  void walk(uint32_t dirOff, unsigned depth, ResourceEntry path) {
    if (depth >= kMaxDepth) {
      PeParser::warn(img, "resource tree deeper than {} levels at +0x{:x}", kMaxDepth, dirOff);
      return;
    }
    if (!visited.insert(dirOff).second) {
      PeParser::warn(img, "resource directory at +0x{:x} is referenced twice (cycle?)", dirOff);
      return;
    }
    auto named = img.readRva<uint16_t>(base + dirOff + 12), ids = img.readRva<uint16_t>(base + dirOff + 14);
    if (!named || !ids || dirOff >= size) {
      PeParser::warn(img, "resource directory at +0x{:x} is unreadable", dirOff);
      return;
    }
    uint32_t n = uint32_t(*named) + *ids;
    for (uint32_t i = 0; i < n; ++i) {
      if (out.size() >= kMaxLeaves)
        return;
      uint32_t e = base + dirOff + 16 + 8 * i;
      auto nameField = img.readRva<uint32_t>(e), dataField = img.readRva<uint32_t>(e + 4);
      if (!nameField || !dataField) {
        PeParser::warn(img, "resource directory at +0x{:x} truncated at entry {}", dirOff, i);
        return;
      }
      auto id = readId(*nameField);
      if (!id) {
        PeParser::warn(img, "resource entry name at +0x{:x} is unreadable", *nameField & 0x7FFFFFFFu);
        continue;
      }
      ResourceEntry p = path;
      (depth == 0 ? p.type : depth == 1 ? p.name : p.language) = *id;
      if (*dataField & 0x80000000u) {
        walk(*dataField & 0x7FFFFFFFu, depth + 1, p);
      } else {
        auto rva = img.readRva<uint32_t>(base + *dataField), sz = img.readRva<uint32_t>(base + *dataField + 4),
             cp = img.readRva<uint32_t>(base + *dataField + 8);
        if (!rva || !sz || !cp) {
          PeParser::warn(img, "resource data entry at +0x{:x} is unreadable", *dataField);
          continue;
        }
        p.dataRva = *rva;
        p.size = *sz;
        p.codePage = *cp;
        out.push_back(std::move(p));
      }
    }
  }
};
} // namespace

void PeParser::parseResources(PeImage &img) {
  const DataDirectory *d = directory(img, kDirResource);
  if (!d)
    return;
  Walker w{img, d->rva, d->size, {}, img.resources_};
  w.walk(0, 0, ResourceEntry{});
}

} // namespace sb::pe
