// IMAGE_TLS_DIRECTORY32/64 and its NULL-terminated callback array.
#include "PeParser.h"

namespace sb::pe {

void PeParser::parseTls(PeImage &img) {
  const DataDirectory *d = directory(img, kDirTls);
  if (!d)
    return;
  TlsDirectory t;
  unsigned ps = img.pointerSize();
  auto start = img.readPointer(d->rva), end = img.readPointer(d->rva + ps),
       index = img.readPointer(d->rva + 2 * ps), callbacks = img.readPointer(d->rva + 3 * ps);
  auto zeroFill = img.readRva<uint32_t>(d->rva + 4 * ps), chars = img.readRva<uint32_t>(d->rva + 4 * ps + 4);
  if (!start || !end || !index || !callbacks || !zeroFill || !chars) {
    warn(img, "TLS directory at 0x{:x} is truncated", d->rva);
    return;
  }
  t.startOfRawData = *start;
  t.endOfRawData = *end;
  t.addressOfIndex = *index;
  t.addressOfCallbacks = *callbacks;
  t.sizeOfZeroFill = *zeroFill;
  t.characteristics = *chars;
  if (t.addressOfCallbacks) {
    auto arr = img.vaToRva(t.addressOfCallbacks);
    if (!arr) {
      warn(img, "TLS callback array VA 0x{:x} is outside the image", t.addressOfCallbacks);
    } else {
      for (unsigned i = 0;; ++i) {
        if (i == 1024) {
          warn(img, "TLS callback array has more than 1024 entries, stopped");
          break;
        }
        auto cb = img.readPointer(*arr + i * ps);
        if (!cb) {
          warn(img, "TLS callback array runs off the image");
          break;
        }
        if (*cb == 0)
          break;
        auto rva = img.vaToRva(*cb);
        if (!rva || !img.isMappedRva(*rva)) {
          warn(img, "TLS callback {} at VA 0x{:x} is outside the image", i, *cb);
          continue;
        }
        t.callbackRvas.push_back(*rva);
      }
    }
  }
  img.tls_ = std::move(t);
}

} // namespace sb::pe
