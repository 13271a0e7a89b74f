// MSVC RTTI on disk: TypeDescriptor, Complete Object Locator, Class Hierarchy
// Descriptor, Base Class Array and Base Class Descriptors. Pointer fields are
// image-relative on x64 (COL signature 1) and VAs on x86 (signature 0);
// every reader returns RVAs and checks every offset it follows.
#pragma once
#include "switchboard/image/Image.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sb::cxx {

// Base Class Descriptor attributes.
enum BcdAttributes : uint32_t {
  kBcdNotVisible = 0x01,
  kBcdAmbiguous = 0x02,
  kBcdPrivOrProtBase = 0x04,
  kBcdPrivOrProtInComposite = 0x08,
  kBcdVbOfContObj = 0x10,
  kBcdNonPolymorphic = 0x20,
  kBcdHasPchd = 0x40,
};
// Class Hierarchy Descriptor attributes.
enum ChdAttributes : uint32_t { kChdMultiple = 1, kChdVirtual = 2, kChdAmbiguous = 4 };

struct TypeDescriptor {
  uint32_t rva = 0;
  std::string rawName;   // ".?AVCircle@@"
  std::string name;      // "Circle"
};

// PMD: where a base lives. pdisp == -1: at mdisp; otherwise at
// vbptr(pdisp) + vbtable[vdisp] + mdisp.
struct Pmd {
  int32_t mdisp = 0, pdisp = -1, vdisp = 0;
  bool isVirtual() const { return pdisp >= 0; }
};

struct BaseClassDescriptor {
  uint32_t rva = 0;
  uint32_t typeDescriptorRva = 0;
  uint32_t numContainedBases = 0;
  Pmd where;
  uint32_t attributes = 0;
  uint32_t hierarchyRva = 0;   // BCD_HASPCHD: the base's own hierarchy descriptor
};

struct ClassHierarchy {
  uint32_t rva = 0;
  uint32_t signature = 0;
  uint32_t attributes = 0;
  uint32_t baseArrayRva = 0;
  std::vector<BaseClassDescriptor> bases;   // [0] is the class itself, then pre-order
  // Indices into bases of the direct bases (walking numContainedBases).
  std::vector<size_t> directBases() const;
};

struct CompleteObjectLocator {
  uint32_t rva = 0;
  uint32_t signature = 0;
  uint32_t offset = 0;     // of the vftable's subobject in the complete object
  uint32_t cdOffset = 0;   // constructor displacement (vtordisp) offset
  uint32_t typeDescriptorRva = 0;
  uint32_t hierarchyRva = 0;
};

Expected<TypeDescriptor> readTypeDescriptor(const image::Image &img, uint32_t rva);
Expected<CompleteObjectLocator> readCompleteObjectLocator(const image::Image &img, uint32_t rva);
// At most 4096 bases (more is corrupt data, not a class).
Expected<ClassHierarchy> readClassHierarchy(const image::Image &img, uint32_t rva);

// Every Complete Object Locator in the image's initialized data: x64 by
// signature and self-RVA, x86 by the relocated TypeDescriptor pointer.
std::vector<CompleteObjectLocator> findCompleteObjectLocators(const image::Image &img);

// Every TypeDescriptor in the image ({pVFTable, spare, ".?A..." name}),
// wherever it is referenced from: RTTI, ThrowInfos, catch handlers, typeid.
// They all point at type_info's vftable, so candidates whose pVFTable
// differs from the one most of them share are not TypeDescriptors.
std::vector<TypeDescriptor> findTypeDescriptors(const image::Image &img);
// ".?AV", ".?AU", ".?AT": a class, struct or union (not an enum or a pointer).
bool isClassTypeName(const std::string &rawName);

// The name a TypeDescriptor carries, demangled (".?AVIoError@@" -> "IoError");
// "type@RVA" when it holds no name.
std::string typeDescriptorName(const image::Image &img, uint32_t rva);
// Demangles an RTTI type name (".?AVIoError@@").
std::string demangleRttiName(const std::string &raw);

} // namespace sb::cxx
