// A loaded image as the analyses see it: an architecture, a base address, the
// ranges the loader maps (sections or segments) and reads of their bytes by
// RVA (an offset from the image base). What produced the bytes is the
// implementation's business: a PE file laid out as the loader would map it
// (pe::PeImage), a PE's pages taken from a process dump, a Mach-O image.
//
// Analyses that only read memory take `const Image &`; those that need a
// format's own tables (a PE's imports, .pdata, load config) take that format's
// class. A few virtual primitives carry the format; the typed reads are
// non-virtual helpers over them. Every read is bounds-checked and fails (empty
// span, nullopt, false) rather than reading outside the mapped ranges.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sb::image {

enum class Architecture { X86, X64, Arm64, Other };
const char *architectureName(Architecture a);   // "x86", "x64", "arm64", "other"

// One mapped range: a PE section, a Mach-O section or segment.
struct Section {
  std::string name;
  uint32_t rva = 0;
  uint32_t size = 0;          // mapped (virtual) size
  bool readable = false;
  bool writable = false;
  bool executable = false;    // the loader maps it executable (PE MEM_EXECUTE)
  bool code = false;          // declared to hold code (PE CNT_CODE)

  bool contains(uint32_t at) const { return at >= rva && uint64_t(at) - rva < size; }
};

class Image {
public:
  virtual ~Image() = default;

  // --- what the image is ------------------------------------------------------
  virtual Architecture architecture() const = 0;
  virtual unsigned pointerSize() const = 0;                 // 4 or 8
  virtual uint64_t imageBase() const = 0;                   // the VA of RVA 0
  virtual uint32_t imageSize() const = 0;                   // RVAs below it belong to the image
  virtual std::optional<uint32_t> entryPoint() const = 0;   // RVA; nullopt when there is none
  // Problems met while reading the image; the model around them stays usable.
  virtual const std::vector<std::string> &warnings() const = 0;

  bool is64() const { return pointerSize() == 8; }
  // Whether the decoder reads this architecture's code (x86 and x64 today).
  bool codeAnalysisSupported() const {
    return architecture() == Architecture::X86 || architecture() == Architecture::X64;
  }

  // --- mapped ranges ----------------------------------------------------------
  // In the implementation's order (a PE's section table order).
  virtual std::span<const Section> mappedSections() const = 0;
  // The range holding rva, or null. Headers mapped outside any section are
  // not a Section (isMappedRva still answers for them).
  virtual const Section *sectionFor(uint32_t rva) const = 0;
  virtual bool isMappedRva(uint32_t rva) const = 0;
  bool isExecutableRva(uint32_t rva) const {
    const Section *s = sectionFor(rva);
    return s && (s->executable || s->code);
  }

  // --- memory -----------------------------------------------------------------
  // The contiguous bytes backed by data from rva to the end of its range;
  // empty when rva is not mapped or has no backing bytes (zero fill).
  virtual std::span<const uint8_t> bytesFromRva(uint32_t rva) const = 0;
  // Copies length bytes at rva; false (out unspecified) unless all of them
  // lie in one mapped range. Zero fill inside a range reads as zero.
  virtual bool copyFromRva(uint32_t rva, void *out, size_t length) const = 0;

  template <typename T>
  std::optional<T> readRva(uint32_t rva) const {
    T value{};
    if (!copyFromRva(rva, &value, sizeof(T)))
      return std::nullopt;
    return value;
  }
  // A pointer-sized value, widened.
  std::optional<uint64_t> readPointer(uint32_t rva) const {
    if (is64())
      return readRva<uint64_t>(rva);
    if (auto v = readRva<uint32_t>(rva))
      return uint64_t(*v);
    return std::nullopt;
  }
  // A NUL-terminated string of at most maxLength bytes before the NUL;
  // nullopt when no NUL is found within the mapped bytes or the limit.
  std::optional<std::string> cstringAtRva(uint32_t rva, size_t maxLength = 4096) const {
    return cstring(rva, maxLength);
  }

  // A NUL-terminated UTF-16 string of at most maxChars units, as UTF-8.
  std::optional<std::string> wideStringAtRva(uint32_t rva, size_t maxChars = 512) const;

  uint64_t rvaToVa(uint32_t rva) const { return imageBase() + rva; }
  std::optional<uint32_t> vaToRva(uint64_t va) const {
    if (va < imageBase() || va - imageBase() > 0xFFFFFFFFull)
      return std::nullopt;
    return uint32_t(va - imageBase());
  }

  // --- what the loader knows ----------------------------------------------------
  // Whether the pointer-sized slot at rva may hold an address: it is relocated,
  // or the image carries no relocation knowledge at all.
  virtual bool mayHoldAddress(uint32_t rva) const = 0;
  // Whether rva is a slot the loader binds to an imported symbol (a PE's IAT
  // entry, a Mach-O GOT or lazy pointer).
  virtual bool isImportSlot(uint32_t rva) const = 0;

protected:
  Image() = default;
  Image(const Image &) = default;
  Image(Image &&) = default;
  Image &operator=(const Image &) = default;
  Image &operator=(Image &&) = default;

  // cstringAtRva: by default the string lies within bytesFromRva(rva).
  virtual std::optional<std::string> cstring(uint32_t rva, size_t maxLength) const;
};

} // namespace sb::image
