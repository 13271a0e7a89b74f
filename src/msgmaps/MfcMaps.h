// Internal: reading MFC message maps (AFX_MSGMAP, AFX_MSGMAP_ENTRY) from an
// image, and the knowledge that names their signatures.
#pragma once
#include "switchboard/msgmaps/MessageMaps.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace sb::code { class Decoder; }
namespace sb::pe { class PeImage; }

namespace sb::msgmaps {

// MFC 14's AfxSig numbering and the members ON_WM_* macros bind
// (data/frameworks/mfc.json, compiled in).
class MfcKnowledge {
public:
  static const MfcKnowledge &builtin();
  // "AfxSig_vv" for a signature value, or nullptr.
  const std::string *signatureName(uint64_t value) const;
  // The member ON_WM_x binds ("OnPaint"), when an entry for message x has
  // the signature that macro gives it.
  const std::string *memberFor(uint32_t message, uint64_t sig) const;

private:
  std::map<uint64_t, std::string> signatures_;
  std::map<std::pair<uint32_t, uint64_t>, std::string> members_;   // (message, sig) -> member
};

// What a short function returns: `lea rax,[x]; ret` (x64), `mov eax, x; ret`,
// through a tail jump or a call whose result it returns, within a few
// straight-line instructions. The returned address as an RVA.
std::optional<uint32_t> returnedAddress(const pe::PeImage &img, const code::Decoder &dec, uint32_t fn, int depth = 0);

class MfcMapReader {
public:
  MfcMapReader(const pe::PeImage &img, const code::Decoder &dec) : img_(img), dec_(dec) {}
  // The map at rva, when its two fields and its entries have MFC's shape.
  // requireEntries: an empty map is only believed when something else
  // vouches for it (a GetMessageMap returns it, a derived map names it).
  std::optional<MfcMap> mapAt(uint32_t rva, bool requireEntries) const;
  static constexpr size_t kMaxEntries = 2048;

private:
  // One entry's fields at rva, when they are plausible (or the end entry).
  std::optional<MfcEntry> entryAt(uint32_t rva, bool &end) const;
  bool isCode(uint64_t va) const;
  bool isData(uint64_t va) const;
  const pe::PeImage &img_;
  const code::Decoder &dec_;
};

} // namespace sb::msgmaps
