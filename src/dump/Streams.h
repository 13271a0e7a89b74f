// Internal: the minidump pieces read by our own code (no LLVM types): the
// streams LLVM 16 does not parse, the CONTEXT records of x64 and x86
// threads, CodeView records, and the memory ranges made disjoint.
#pragma once
#include "switchboard/dump/Minidump.h"

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sb::dump {

constexpr uint32_t kThreadNamesStream = 24;   // ThreadNamesStream (Windows 10 1607+)

struct ThreadInfo {
  uint32_t id = 0;
  uint64_t startAddress = 0;
};

class StreamReader {
public:
  StreamReader(std::span<const uint8_t> file, std::vector<std::string> &warnings) : file_(file), warnings_(warnings) {}

  std::vector<MemoryRange> memory64(std::span<const uint8_t> stream);
  std::vector<RegionInfo> memoryInfo(std::span<const uint8_t> stream);
  std::vector<HandleRecord> handles(std::span<const uint8_t> stream);
  std::vector<ThreadInfo> threadInfo(std::span<const uint8_t> stream);
  std::vector<std::pair<uint32_t, std::string>> threadNames(std::span<const uint8_t> stream);
  // A MINIDUMP_STRING (length in bytes, UTF-16LE) at a file offset, as UTF-8.
  std::optional<std::string> string(uint64_t offset) const;

private:
  void warn(std::string message) { warnings_.push_back(std::move(message)); }

  std::span<const uint8_t> file_;
  std::vector<std::string> &warnings_;
};

// Sorted by address; a range overlapping an earlier one is dropped (warned).
std::vector<MemoryRange> disjointRanges(std::vector<MemoryRange> ranges, std::vector<std::string> &warnings);
// An RSDS record (PDB 7.0): GUID, age, path; nullopt for anything else.
std::optional<CodeViewRecord> parseCodeView(std::span<const uint8_t> record);
// A CONTEXT record of the dump's architecture (x64: 0x4D0 bytes, x86: 0x2CC,
// of which the integer registers are read); invalid when too short.
Registers decodeContext(Arch arch, std::span<const uint8_t> context);

} // namespace sb::dump
