// The NDR decoder on hostile format strings: the first byte picks 32 or 64
// bits and -Oi or -Oif, the next two split the rest into a procedure format
// string and a type format string; the procedure is parsed and, when it
// parses, rendered as IDL. Must never crash, hang or grow without bound.
#include "rpc/Ndr.h"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 3)
    return 0;
  const bool is64 = data[0] & 1, oif = data[0] & 2;
  const size_t split = std::min<size_t>(size - 3, size_t(data[1]) | size_t(data[2]) << 8);
  const std::span<const uint8_t> rest(data + 3, size - 3);
  const std::span<const uint8_t> proc = rest.first(split), types = rest.subspan(split);
  auto p = sb::rpc::ndr::parseProcedure(proc, oif, is64);
  if (!p)
    return 0;
  sb::rpc::ndr::IdlWriter idl(types, is64);
  (void)idl.procedure(*p, "Proc");
  return 0;
}
