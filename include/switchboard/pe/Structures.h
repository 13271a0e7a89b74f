// What the PE parser recovers, one struct per on-disk structure family. These
// are plain values: the parser fills them, everything else only reads them.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::pe {

enum class Machine { X86, X64, Arm, Arm64, Other };
const char *machineName(Machine m);

struct DataDirectory {
  uint32_t rva = 0;
  uint32_t size = 0;
};

enum DirectoryIndex : unsigned {
  kDirExport = 0, kDirImport = 1, kDirResource = 2, kDirException = 3, kDirSecurity = 4,
  kDirBaseReloc = 5, kDirDebug = 6, kDirArchitecture = 7, kDirGlobalPtr = 8, kDirTls = 9,
  kDirLoadConfig = 10, kDirBoundImport = 11, kDirIat = 12, kDirDelayImport = 13, kDirClr = 14,
};
const char *directoryName(unsigned index);

struct Headers {
  uint32_t ntOffset = 0;        // e_lfanew
  uint16_t machineRaw = 0;
  Machine machine = Machine::Other;
  bool is64 = false;            // PE32+
  uint16_t numberOfSections = 0;
  uint32_t timeDateStamp = 0;
  uint32_t pointerToSymbolTable = 0;
  uint32_t numberOfSymbols = 0;
  uint16_t sizeOfOptionalHeader = 0;
  uint16_t characteristics = 0;
  uint16_t magic = 0;
  uint8_t linkerMajor = 0, linkerMinor = 0;
  uint32_t sizeOfCode = 0;
  uint32_t entryPointRva = 0;
  uint32_t baseOfCode = 0;
  uint64_t imageBase = 0;
  uint32_t sectionAlignment = 0, fileAlignment = 0;
  uint16_t osMajor = 0, osMinor = 0, subsystemMajor = 0, subsystemMinor = 0;
  uint32_t sizeOfImage = 0, sizeOfHeaders = 0, checksum = 0;
  uint16_t subsystem = 0, dllCharacteristics = 0;
  uint32_t numberOfRvaAndSizes = 0;
  std::array<DataDirectory, 16> directories{};

  bool isDll() const { return characteristics & 0x2000; }
};

struct Section {
  std::string name;
  uint32_t rva = 0;
  uint32_t virtualSize = 0;
  uint32_t rawOffset = 0;
  uint32_t rawSize = 0;
  uint32_t characteristics = 0;

  uint32_t mappedSize() const { return virtualSize ? virtualSize : rawSize; }
  bool executable() const { return characteristics & 0x20000000u; }  // IMAGE_SCN_MEM_EXECUTE
  bool hasCode() const { return characteristics & 0x00000020u; }     // IMAGE_SCN_CNT_CODE
  bool writable() const { return characteristics & 0x80000000u; }
  bool readable() const { return characteristics & 0x40000000u; }
};

struct Import {
  std::string dll;
  std::string name;        // empty when imported by ordinal (unless knowledge named it)
  uint16_t ordinal = 0;    // valid when byOrdinal
  uint16_t hint = 0;
  bool byOrdinal = false;
  bool delayed = false;
  uint32_t iatRva = 0;     // the slot the loader (or delay helper) fills

  std::string qualifiedName() const;  // "user32.dll!SendMessageW" or "ws2_32.dll!#23"
};

struct Export {
  uint32_t ordinal = 0;
  std::string name;        // empty for ordinal-only exports
  uint32_t rva = 0;        // 0 for forwarders
  std::string forwarder;   // "NTDLL.RtlAllocateHeap" when forwarded
};

struct ExportDirectory {
  std::string dllName;
  uint32_t ordinalBase = 0;
  uint32_t timeDateStamp = 0;
  std::vector<Export> exports;
};

struct Relocation {
  uint32_t rva = 0;
  uint8_t type = 0;        // IMAGE_REL_BASED_*
};

struct TlsDirectory {
  uint64_t startOfRawData = 0, endOfRawData = 0, addressOfIndex = 0, addressOfCallbacks = 0;
  uint32_t sizeOfZeroFill = 0, characteristics = 0;
  std::vector<uint32_t> callbackRvas;
};

struct LoadConfig {
  uint32_t size = 0;
  uint32_t timeDateStamp = 0;
  uint64_t securityCookieVa = 0;
  uint64_t seHandlerTableVa = 0;
  uint64_t seHandlerCount = 0;
  std::vector<uint32_t> safeSehHandlers;   // RVAs
  uint64_t guardCheckFunctionVa = 0;
  uint64_t guardDispatchFunctionVa = 0;
  uint64_t guardFunctionTableVa = 0;
  uint64_t guardFunctionCount = 0;
  uint32_t guardFlags = 0;
  std::vector<uint32_t> guardFunctions;    // RVAs from the CFG function table
};

struct CodeViewInfo {
  std::string signature;   // "RSDS" or "NB10"
  std::array<uint8_t, 16> guid{};
  uint32_t age = 0;
  std::string pdbPath;
  std::string guidString() const;
};

struct DebugEntry {
  uint32_t type = 0;
  uint32_t timeDateStamp = 0;
  uint32_t sizeOfData = 0;
  uint32_t addressOfRawData = 0;
  uint32_t pointerToRawData = 0;
  std::optional<CodeViewInfo> codeView;
};
const char *debugTypeName(uint32_t type);

struct RichEntry {
  uint16_t productId = 0;
  uint16_t build = 0;
  uint32_t count = 0;
};

struct RichHeader {
  uint32_t offset = 0;
  uint32_t key = 0;
  std::vector<RichEntry> entries;
};

// A resource id at one level of the tree: a number or a name.
struct ResourceId {
  bool isName = false;
  uint32_t id = 0;
  std::u16string name;
  std::string text() const;
};

struct ResourceEntry {
  ResourceId type, name, language;
  uint32_t dataRva = 0;
  uint32_t size = 0;
  uint32_t codePage = 0;
};
const char *resourceTypeName(uint32_t id);

struct CoffSymbol {
  std::string name;
  uint32_t value = 0;
  int16_t sectionNumber = 0;
  uint16_t type = 0;
  uint8_t storageClass = 0;
  std::optional<uint32_t> rva;      // when the symbol lives in a section
  bool isFunction() const { return (type & 0x30) == 0x20; }
};

// IMAGE_RUNTIME_FUNCTION_ENTRY (x64) with what the function model needs from
// its UNWIND_INFO header. Full unwind decoding lives in unwind/.
struct RuntimeFunction {
  uint32_t begin = 0, end = 0, unwindRva = 0;
  uint32_t index = 0;
  bool indirect = false;            // unwind field had its low bit set (BBT)
  uint8_t unwindVersion = 0, unwindFlags = 0;
  bool unwindValid = false;
  std::optional<uint32_t> chainedTo;   // index of the RUNTIME_FUNCTION this one chains to
  uint32_t primary = 0;                // index of the entry at the end of the chain
  bool isChained() const { return chainedTo.has_value(); }
};

} // namespace sb::pe
