// Content hashes: SHA-256 (names a binary in project databases and exported
// scripts) and FNV-1a (a cheap integrity check of stored blobs).
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace sb {

// Lowercase hex.
std::string sha256Hex(std::span<const uint8_t> bytes);
uint64_t fnv1a64(std::span<const uint8_t> bytes);

} // namespace sb
