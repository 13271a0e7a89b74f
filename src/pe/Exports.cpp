// IMAGE_EXPORT_DIRECTORY: functions, names, ordinals and forwarders.
#include "PeParser.h"

#include <algorithm>

namespace sb::pe {

void PeParser::parseExports(PeImage &img) {
  const DataDirectory *d = directory(img, kDirExport);
  if (!d)
    return;
  auto nameRva = img.readRva<uint32_t>(d->rva + 12);
  auto base = img.readRva<uint32_t>(d->rva + 16);
  auto nFunctions = img.readRva<uint32_t>(d->rva + 20);
  auto nNames = img.readRva<uint32_t>(d->rva + 24);
  auto functions = img.readRva<uint32_t>(d->rva + 28);
  auto names = img.readRva<uint32_t>(d->rva + 32);
  auto ordinals = img.readRva<uint32_t>(d->rva + 36);
  if (!nameRva || !base || !nFunctions || !nNames || !functions || !names || !ordinals) {
    warn(img, "export directory at 0x{:x} is truncated", d->rva);
    return;
  }
  ExportDirectory &ed = img.exports_;
  ed.ordinalBase = *base;
  ed.timeDateStamp = img.readRva<uint32_t>(d->rva + 4).value_or(0);
  ed.dllName = img.cstringAtRva(*nameRva, 512).value_or("");
  // Each entry needs 4 bytes in the file; bound the counts by the file size so
  // a forged count cannot make us allocate gigabytes.
  uint64_t limit = img.file_.size() / 4 + 1;
  uint32_t nf = *nFunctions, nn = *nNames;
  if (nf > limit) {
    warn(img, "export directory claims {} functions; the file can hold at most {}", nf, limit);
    nf = uint32_t(limit);
  }
  if (nn > limit) {
    warn(img, "export directory claims {} names; the file can hold at most {}", nn, limit);
    nn = uint32_t(limit);
  }
  std::vector<std::string> nameOf(nf);
  for (uint32_t i = 0; i < nn; ++i) {
    auto nr = img.readRva<uint32_t>(*names + 4 * i);
    auto ord = img.readRva<uint16_t>(*ordinals + 2 * i);
    if (!nr || !ord) {
      warn(img, "export name table truncated at entry {}", i);
      break;
    }
    if (*ord >= nf) {
      warn(img, "export name {} refers to function index {} (only {})", i, *ord, nf);
      continue;
    }
    if (auto s = img.cstringAtRva(*nr, 4096))
      nameOf[*ord] = *s;
    else
      warn(img, "export name {} at 0x{:x} is unreadable", i, *nr);
  }
  for (uint32_t i = 0; i < nf; ++i) {
    auto rva = img.readRva<uint32_t>(*functions + 4 * i);
    if (!rva) {
      warn(img, "export address table truncated at entry {}", i);
      break;
    }
    if (*rva == 0)
      continue;   // unused ordinal slot
    Export e;
    e.ordinal = ed.ordinalBase + i;
    e.name = std::move(nameOf[i]);
    if (*rva >= d->rva && *rva - d->rva < d->size) {
      e.forwarder = img.cstringAtRva(*rva, 1024).value_or("?");
    } else {
      e.rva = *rva;
    }
    ed.exports.push_back(std::move(e));
  }
}

} // namespace sb::pe
