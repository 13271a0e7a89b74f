#include "PeParser.h"

#include <algorithm>
#include <queue>
#include <cstring>
#include <fstream>

namespace sb::pe {

Expected<PeImage> PeImage::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return makeError(fmt::format("cannot open '{}'", path));
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  if (size < 0)
    return makeError(fmt::format("cannot read '{}'", path));
  // PE files are limited to 4 GB of image; a larger file is not one we map.
  if (size > (int64_t(1) << 32))
    return makeError(fmt::format("'{}' is larger than 4 GB", path));
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char *>(bytes.data()), size);
  if (!in)
    return makeError(fmt::format("cannot read '{}'", path));
  auto img = parse(std::move(bytes));
  if (!img)
    return makeError(fmt::format("{}: {}", path, img.error()));
  return img;
}

Expected<PeImage> PeImage::parse(std::vector<uint8_t> bytes) { return PeParser::parse(std::move(bytes), false); }
Expected<PeImage> PeImage::parseMapped(std::vector<uint8_t> mapped) { return PeParser::parse(std::move(mapped), true); }

Expected<PeImage> PeParser::parse(std::vector<uint8_t> bytes, bool mapped) {
  PeImage img;
  img.mappedLayout_ = mapped;
  img.bytes_ = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  img.file_ = ByteReader(*img.bytes_);
  if (auto err = parseHeaders(img))
    return *err;
  parseSections(img);
  parseImports(img);
  parseDelayImports(img);
  findUnlistedDelayImports(img);
  buildIatIndex(img);
  parseExports(img);
  parseRelocations(img);
  parseTls(img);
  parseLoadConfig(img);
  parseDebug(img);
  parseRich(img);
  parseResources(img);
  parseCoffSymbols(img);
  parseExceptionTable(img);
  return img;
}

const DataDirectory *PeParser::directory(const PeImage &img, unsigned index) {
  if (index >= img.headers_.numberOfRvaAndSizes || index >= 16)
    return nullptr;
  const DataDirectory &d = img.headers_.directories[index];
  if (d.rva == 0 || d.size == 0)
    return nullptr;
  return &d;
}

image::Architecture PeImage::architecture() const {
  switch (headers_.machine) {
  case Machine::X86: return image::Architecture::X86;
  case Machine::X64: return image::Architecture::X64;
  case Machine::Arm64: return image::Architecture::Arm64;
  case Machine::Arm:
  case Machine::Other: return image::Architecture::Other;
  }
  return image::Architecture::Other;
}

void PeImage::buildSectionSpans() {
  // A sweep over every section boundary: between two boundaries, the
  // section that holds the addresses is the latest-starting one of those
  // that began and have not ended (a max-heap of positions in sectionOrder_).
  std::vector<uint64_t> points;
  for (uint32_t i : sectionOrder_) {
    points.push_back(sections_[i].rva);
    points.push_back(uint64_t(sections_[i].rva) + sections_[i].mappedSize());
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  std::priority_queue<size_t> open;   // positions in sectionOrder_
  size_t next = 0;
  auto endOf = [&](size_t pos) { return uint64_t(sections_[sectionOrder_[pos]].rva) + sections_[sectionOrder_[pos]].mappedSize(); };
  for (size_t k = 0; k + 1 < points.size(); ++k) {
    const uint64_t at = points[k];
    for (; next < sectionOrder_.size() && sections_[sectionOrder_[next]].rva <= at; ++next)
      open.push(next);
    while (!open.empty() && endOf(open.top()) <= at)
      open.pop();
    if (open.empty())
      continue;
    const uint32_t index = sectionOrder_[open.top()];
    if (!sectionSpans_.empty() && sectionSpans_.back().end == at && sectionSpans_.back().index == index)
      sectionSpans_.back().end = points[k + 1];
    else
      sectionSpans_.push_back({at, points[k + 1], index});
  }
}

int64_t PeImage::sectionIndex(uint32_t rva) const {
  auto it = std::upper_bound(sectionSpans_.begin(), sectionSpans_.end(), uint64_t(rva),
                             [](uint64_t v, const SectionSpan &s) { return v < s.start; });
  if (it == sectionSpans_.begin())
    return -1;
  --it;
  return rva < it->end ? int64_t(it->index) : -1;
}

const Section *PeImage::sectionForRva(uint32_t rva) const {
  int64_t i = sectionIndex(rva);
  return i < 0 ? nullptr : &sections_[size_t(i)];
}

const image::Section *PeImage::sectionFor(uint32_t rva) const {
  int64_t i = sectionIndex(rva);
  return i < 0 ? nullptr : &mapped_[size_t(i)];
}

std::optional<uint64_t> PeImage::rvaToOffset(uint32_t rva) const {
  if (const Section *s = sectionForRva(rva)) {
    uint64_t delta = rva - s->rva;
    if (delta < s->rawSize && uint64_t(s->rawOffset) + delta < file_.size())
      return uint64_t(s->rawOffset) + delta;
    return std::nullopt;
  }
  if (rva < headers_.sizeOfHeaders && rva < file_.size())
    return rva;
  return std::nullopt;
}

std::optional<uint32_t> PeImage::offsetToRva(uint64_t offset) const {
  for (const Section &s : sections_)
    if (offset >= s.rawOffset && offset - s.rawOffset < s.rawSize && offset - s.rawOffset < s.mappedSize())
      return uint32_t(s.rva + (offset - s.rawOffset));
  if (offset < headers_.sizeOfHeaders)
    return uint32_t(offset);
  return std::nullopt;
}

bool PeImage::isMappedRva(uint32_t rva) const {
  return sectionForRva(rva) != nullptr || rva < headers_.sizeOfHeaders;
}

std::span<const uint8_t> PeImage::bytesFromRva(uint32_t rva) const {
  const Section *s = sectionForRva(rva);
  if (!s)
    return {};
  uint64_t delta = rva - s->rva;
  uint64_t raw = std::min<uint64_t>(s->rawSize, s->mappedSize());
  if (delta >= raw)
    return {};
  uint64_t off = uint64_t(s->rawOffset) + delta;
  if (off >= file_.size())
    return {};
  uint64_t len = std::min<uint64_t>(raw - delta, file_.size() - off);
  return file_.data().subspan(off, len);
}

bool PeImage::copyFromRva(uint32_t rva, void *out, size_t length) const {
  const Section *s = sectionForRva(rva);
  if (!s) {
    if (uint64_t(rva) + length <= headers_.sizeOfHeaders && file_.has(rva, length)) {
      std::memcpy(out, file_.data().data() + rva, length);
      return true;
    }
    return false;
  }
  uint64_t delta = rva - s->rva;
  if (delta + length > s->mappedSize())
    return false;
  auto *dst = static_cast<uint8_t *>(out);
  std::memset(dst, 0, length);
  uint64_t raw = std::min<uint64_t>(s->rawSize, s->mappedSize());
  if (delta < raw) {
    uint64_t n = std::min<uint64_t>(length, raw - delta);
    uint64_t off = uint64_t(s->rawOffset) + delta;
    if (!file_.has(off, n))
      n = off < file_.size() ? file_.size() - off : 0;
    if (n)
      std::memcpy(dst, file_.data().data() + off, n);
  }
  return true;
}

std::optional<std::string> PeImage::cstring(uint32_t rva, size_t maxLength) const {
  auto span = bytesFromRva(rva);
  if (span.empty()) {
    if (rva < headers_.sizeOfHeaders)
      return file_.cstring(rva, maxLength);
    return std::nullopt;
  }
  return ByteReader(span).cstring(0, maxLength);
}

bool PeImage::hasRelocationAt(uint32_t rva) const {
  auto it = std::lower_bound(relocations_.begin(), relocations_.end(), rva,
                             [](const Relocation &r, uint32_t v) { return r.rva < v; });
  return it != relocations_.end() && it->rva == rva;
}

const Import *PeImage::importForIat(uint32_t iatRva) const {
  auto it = std::lower_bound(iatIndex_.begin(), iatIndex_.end(), std::make_pair(iatRva, 0u));
  if (it == iatIndex_.end() || it->first != iatRva)
    return nullptr;
  uint32_t idx = it->second;
  return idx < imports_.size() ? &imports_[idx] : &delayImports_[idx - imports_.size()];
}

void PeImage::nameOrdinalImports(
    const std::function<std::optional<std::string>(std::string_view dll, uint16_t ordinal)> &name) {
  for (auto *list : {&imports_, &delayImports_})
    for (Import &imp : *list)
      if (imp.byOrdinal && imp.name.empty())
        if (auto n = name(imp.dll, imp.ordinal))
          imp.name = *n;
}

void PeParser::buildIatIndex(PeImage &img) {
  img.iatIndex_.clear();
  for (uint32_t i = 0; i < img.imports_.size(); ++i)
    img.iatIndex_.emplace_back(img.imports_[i].iatRva, i);
  for (uint32_t i = 0; i < img.delayImports_.size(); ++i)
    img.iatIndex_.emplace_back(img.delayImports_[i].iatRva, uint32_t(img.imports_.size() + i));
  std::sort(img.iatIndex_.begin(), img.iatIndex_.end());
}

} // namespace sb::pe
