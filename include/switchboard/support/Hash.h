// Content hashes: SHA-256 (names a binary in project databases and exported
// scripts) and a cheap 64-bit checksum (the integrity check of stored blobs:
// FNV-1a's multiply over 8-byte words, so a 50 MB model is checked in a few
// milliseconds; it detects damage, it is not a cryptographic hash).
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace sb {

// Lowercase hex.
std::string sha256Hex(std::span<const uint8_t> bytes);
uint64_t checksum64(std::span<const uint8_t> bytes);

} // namespace sb
