// A Windows minidump (MDMP): the system, its threads with their register
// contexts and stacks, its modules, the memory it holds, the exception that
// made it. The directory and the streams LLVM 16 parses (object::MinidumpFile)
// are read through it; the rest (Memory64List of full dumps, thread names,
// thread info, handle data) by our readers with the same bounds checks.
//
// Nothing here trusts a count, an RVA or a size: a damaged stream becomes a
// warning and what could be read of it, never a read outside the file.
#pragma once
#include "switchboard/dump/Registers.h"
#include "switchboard/support/Expected.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sb::dump {

// One range of the process's memory held by the dump.
struct MemoryRange {
  uint64_t address = 0;
  uint64_t size = 0;
  uint64_t fileOffset = 0;   // where its bytes lie in the dump file
  bool full = false;         // from the Memory64List (a full-memory dump)
};

// What the memory-info list says about one region (MINIDUMP_MEMORY_INFO).
struct RegionInfo {
  uint64_t base = 0, allocationBase = 0, size = 0;
  uint32_t allocationProtect = 0, protect = 0, state = 0, type = 0;
};

struct CodeViewRecord {
  std::array<uint8_t, 16> guid{};
  uint32_t age = 0;
  std::string pdbPath;   // as recorded (the build machine's path)
};

struct ModuleRecord {
  std::string path;      // as the process saw it: C:\windows\system32\ntdll.dll
  uint64_t base = 0;
  uint32_t size = 0;     // SizeOfImage
  uint32_t checksum = 0;
  uint32_t timeDateStamp = 0;
  std::optional<CodeViewRecord> codeView;

  bool contains(uint64_t va) const { return va >= base && va - base < size; }
  std::string fileName() const;   // "ntdll.dll"
};

struct ThreadRecord {
  uint32_t id = 0;
  uint32_t suspendCount = 0;
  uint32_t priorityClass = 0, priority = 0;
  uint64_t teb = 0;
  uint64_t stackStart = 0, stackSize = 0;   // the stack memory the dump holds
  Registers context;                          // empty (valid = false) when unreadable
  std::string name;                           // from the thread-names stream, if any
  std::optional<uint64_t> startAddress;       // from the thread-info list, if any
};

struct ExceptionRecord {
  uint32_t threadId = 0;
  uint32_t code = 0;
  uint32_t flags = 0;
  uint64_t address = 0;
  std::vector<uint64_t> parameters;   // NumberParameters of them, at most 15
  Registers context;                  // the thread's context at the exception
};

struct HandleRecord {
  uint64_t handle = 0;
  std::string typeName, objectName;
  uint32_t attributes = 0, grantedAccess = 0, handleCount = 0, pointerCount = 0;
};

class Minidump {
public:
  // Maps the file (a full dump is hundreds of megabytes; only the pages a
  // walk touches are read).
  static Expected<Minidump> load(const std::string &path);
  static Expected<Minidump> parse(std::vector<uint8_t> bytes);

  Arch arch() const { return arch_; }
  uint32_t processorArchitecture() const { return processorArchitecture_; }   // PROCESSOR_ARCHITECTURE_*
  uint32_t osMajor() const { return osMajor_; }
  uint32_t osMinor() const { return osMinor_; }
  uint32_t osBuild() const { return osBuild_; }
  uint32_t timeDateStamp() const { return timeDateStamp_; }
  uint64_t flags() const { return flags_; }   // MINIDUMP_TYPE it was written with

  const std::vector<ThreadRecord> &threads() const { return threads_; }
  const ThreadRecord *thread(uint32_t id) const;
  const std::vector<ModuleRecord> &modules() const { return modules_; }
  const ModuleRecord *moduleContaining(uint64_t va) const;
  const std::optional<ExceptionRecord> &exception() const { return exception_; }
  const std::vector<RegionInfo> &regions() const { return regions_; }
  const std::vector<HandleRecord> &handles() const { return handles_; }
  // Sorted by address, disjoint (an overlapping range is dropped with a warning).
  const std::vector<MemoryRange> &memory() const { return memory_; }
  bool fullMemory() const { return fullMemory_; }
  // Problems met while reading; the model around them stays usable.
  const std::vector<std::string> &warnings() const { return warnings_; }

  // Copies length bytes at va; false unless the dump holds all of them
  // (they may span adjacent ranges).
  bool read(uint64_t va, void *out, size_t length) const;
  // The bytes the dump holds from va to the end of its range; empty if none.
  std::span<const uint8_t> bytesAt(uint64_t va) const;

private:
  friend class MinidumpParser;
  Minidump() = default;
  static Expected<Minidump> parseOwned(std::shared_ptr<const void> owner, std::span<const uint8_t> bytes);

  std::shared_ptr<const void> owner_;   // keeps bytes_ alive: a vector or a mapping
  std::span<const uint8_t> bytes_;
  Arch arch_ = Arch::Other;
  uint32_t processorArchitecture_ = 0, osMajor_ = 0, osMinor_ = 0, osBuild_ = 0;
  uint32_t timeDateStamp_ = 0;
  uint64_t flags_ = 0;
  std::vector<ThreadRecord> threads_;
  std::vector<ModuleRecord> modules_;   // sorted by base
  std::optional<ExceptionRecord> exception_;
  std::vector<RegionInfo> regions_;
  std::vector<HandleRecord> handles_;
  std::vector<MemoryRange> memory_;
  bool fullMemory_ = false;
  std::vector<std::string> warnings_;
};

// "EXCEPTION_ACCESS_VIOLATION", "C++ exception (0xE06D7363)", ... or nullptr.
const char *exceptionCodeName(uint32_t code);

} // namespace sb::dump
