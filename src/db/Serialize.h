// The stored form of the session's models: each model is one blob of the
// project database's `models` table, in the binary archive format of
// Archive.h behind a magic and a format number. decode() fails (never
// crashes) on a damaged or foreign blob.
#pragma once
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <span>
#include <vector>

namespace sb::code { struct Function; }
namespace sb::eh { struct EhModel; }
namespace sb::cxx { struct ObjectModel; }
namespace sb::messages { struct MessageFlow; }
namespace sb::graph { class Graph; }
namespace sb::names { class NameService; }
namespace sb::pdb { struct PdbSymbol; }

namespace sb::db {

// Bumped whenever a stored model's layout changes (the schema version
// covers the tables; this covers the blobs).
inline constexpr uint32_t kModelFormat = 2;

std::vector<uint8_t> encode(const std::vector<code::Function> &v);
std::vector<uint8_t> encode(const eh::EhModel &v);
std::vector<uint8_t> encode(const cxx::ObjectModel &v);
std::vector<uint8_t> encode(const messages::MessageFlow &v);
std::vector<uint8_t> encode(const graph::Graph &v);
std::vector<uint8_t> encode(const names::NameService &v);
std::vector<uint8_t> encode(const std::vector<pdb::PdbSymbol> &v);

// Each returns false when the bytes are not a whole model of this format.
bool decode(std::span<const uint8_t> bytes, std::vector<code::Function> &v);
bool decode(std::span<const uint8_t> bytes, eh::EhModel &v);
bool decode(std::span<const uint8_t> bytes, cxx::ObjectModel &v);
bool decode(std::span<const uint8_t> bytes, messages::MessageFlow &v);
bool decode(std::span<const uint8_t> bytes, graph::Graph &v);
bool decode(std::span<const uint8_t> bytes, names::NameService &v);
bool decode(std::span<const uint8_t> bytes, std::vector<pdb::PdbSymbol> &v);

} // namespace sb::db
