#include "switchboard/support/Hash.h"

#include <llvm/ADT/ArrayRef.h>
#include <llvm/Support/SHA256.h>

#include <cstring>
#include <fmt/format.h>

namespace sb {

std::string sha256Hex(std::span<const uint8_t> bytes) {
  auto digest = llvm::SHA256::hash(llvm::ArrayRef<uint8_t>(bytes.data(), bytes.size()));
  std::string out;
  out.reserve(64);
  for (uint8_t b : digest)
    out += fmt::format("{:02x}", b);
  return out;
}

uint64_t checksum64(std::span<const uint8_t> bytes) {
  uint64_t h = 0xcbf29ce484222325ull ^ bytes.size();
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; i < bytes.size(); ++i)
    h = (h ^ bytes[i]) * 0x100000001b3ull;
  return h;
}

} // namespace sb
