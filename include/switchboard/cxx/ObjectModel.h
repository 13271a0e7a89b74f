// The MSVC C++ object model of one image: classes (from RTTI, and from
// constructor stores for classes without it), their vftables with per-slot
// override/inherit/add status, constructors and destructors, sizes and
// fields, virtual call sites with candidate targets, and static initializers.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/cxx/Rtti.h"

#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace sb::cxx {

enum class SlotKind : uint8_t { Added, Overridden, Inherited };
const char *slotKindName(SlotKind k);

struct Slot {
  uint32_t targetRva = 0;
  uint32_t functionRva = 0;   // the target through incremental-linking jump stubs
  SlotKind kind = SlotKind::Added;
  bool pure = false;   // _purecall
};

struct Vftable {
  uint32_t rva = 0;
  uint32_t colRva = 0;            // 0: found from constructor stores (no RTTI)
  int classIndex = -1;            // owner
  uint32_t subobjectOffset = 0;   // of the subobject it serves, in the complete object
  std::string forBase;            // "B" in `C::'vftable'{for 'B'}`; empty for the primary
  int baseVftable = -1;           // the base class vftable its slots are compared with
  std::vector<Slot> slots;
};

enum class StructorKind : uint8_t { Constructor, Destructor, ScalarDeletingDestructor, VectorDeletingDestructor };
const char *structorKindName(StructorKind k);

// What a constructor's or destructor's call on its own object does: runs a
// structor of a base (BaseCtor: the base part at thisOffset), of a member,
// or of its own class (Ctor, Dtor: a delegating or complete-object one),
// frees the object, or is some other call. None: not yet labelled.
enum class SubobjectRole : uint8_t { None, Call, OperatorDelete, Ctor, Dtor, BaseCtor, BaseDtor, MemberCtor, MemberDtor };
// Its name in output: "", "call", "operator delete", "ctor", "dtor",
// "base ctor", "base dtor", "member ctor", "member dtor".
const char *subobjectRoleName(SubobjectRole r);

// A call a constructor or destructor makes on its own object.
struct SubobjectCall {
  uint32_t siteRva = 0, calleeRva = 0;
  int64_t thisOffset = 0;
  SubobjectRole role = SubobjectRole::None;
  int classIndex = -1;
};

struct Structor {
  uint32_t rva = 0;
  StructorKind kind = StructorKind::Constructor;
  int classIndex = -1;
  std::vector<uint32_t> vfptrStores;   // store sites, in order
  std::vector<SubobjectCall> calls;    // in address order
  std::string evidence;                // why this kind
  uint32_t adjustorTargetRva = 0;      // a this-adjusting thunk: the deleting destructor it jumps to
};

// A vfptr store on an object that is not the function's own `this`: an
// inlined constructor or destructor.
struct InlinedStructor {
  uint32_t siteRva = 0, functionRva = 0;
  uint32_t vftableRva = 0;
  int64_t objectOffset = 0;   // the vfptr's offset in the object
  std::string object;         // how the object was obtained ("stack", "operator new result", ...)
  // Which object, where it can be named: a global's address, or the call
  // whose result it is (0: neither). Stores into one object share them.
  uint32_t globalRva = 0;
  uint32_t resultSite = 0;
  bool onStack = false;       // a local object: objectOffset is the frame offset
};

struct Field {
  int64_t offset = 0;
  unsigned size = 0;          // bytes
  int memberClass = -1;       // a member subobject constructed by that class's constructor
  std::string note;           // "vfptr", "vbptr", ...
};

// An array built by the `vector constructor iterator` (new T[n], T a[n]).
struct ArrayConstruction {
  uint32_t siteRva = 0, functionRva = 0;
  uint32_t elementSize = 0, count = 0;
};

struct BaseRef {
  std::string name;
  int classIndex = -1;
  std::optional<int64_t> offset;   // in the complete object (virtual bases: when the vbtable is known)
  bool isVirtual = false;
  Pmd where;
  uint32_t attributes = 0;
  uint32_t descriptorRva = 0;
};

struct Vbtable {
  uint32_t rva = 0;
  int64_t vbptrOffset = 0;
  std::vector<int32_t> entries;
};

struct Class {
  std::string name;
  bool nameIsSynthetic = false;      // "Class_<vftable RVA>": the binary names it nowhere
  uint32_t typeDescriptorRva = 0;    // 0 for classes without RTTI
  uint32_t hierarchyRva = 0;
  uint32_t hierarchyAttributes = 0;
  std::vector<BaseRef> bases;        // direct bases
  std::vector<BaseRef> allBases;     // every base descriptor (pre-order), without the class itself
  std::vector<int> vftables;         // indices into ObjectModel::vftables, by subobject offset
  std::vector<Vbtable> vbtables;
  std::vector<uint32_t> constructors, destructors, deletingDestructors;
  std::vector<InlinedStructor> inlined;
  std::optional<uint32_t> size;      // from operator new(N) + constructor
  std::vector<uint32_t> sizeSites;
  std::vector<Field> fields;
  std::vector<ArrayConstruction> arrays;
  std::vector<int> derived;          // direct derived classes
};

struct VirtualCall {
  uint32_t siteRva = 0, functionRva = 0;
  unsigned slot = 0;
  int64_t slotOffset = 0;
  int64_t vfptrOffset = 0;           // where in the receiver the vfptr was read
  std::string receiver;              // the receiver value, described
  uint32_t candidateSet = 0;         // its slot targets: an index into ObjectModel::candidateSets
  int receiverClass = -1;
  std::string narrowing;             // "all vftables", "class of this method", ...
};

struct StaticInitializer {
  uint32_t tableRva = 0;
  uint32_t entryRva = 0;             // the table slot
  uint32_t functionRva = 0;          // the dynamic initializer
  uint32_t objectRva = 0;            // the global it constructs, if found
  uint32_t constructorRva = 0;
  int classIndex = -1;
  uint32_t atexitRva = 0;            // the function registered with atexit
  uint32_t destructorRva = 0;        // the destructor that function calls
};

// An indirect call (call reg / call [mem] / a CFG dispatch) whose target the
// value analysis of the object-model pass resolved to one function.
struct ResolvedCall {
  uint32_t siteRva = 0, functionRva = 0, targetRva = 0;
};

struct ObjectModel {
  std::vector<Class> classes;
  std::vector<Vftable> vftables;
  std::vector<Structor> structors;
  std::vector<VirtualCall> vcalls;
  // The candidate targets of the virtual call sites, each set sorted and
  // unique and stored once however many sites share it (on a large image
  // thousands of sites share "slot N of every vftable"). Numbered in the
  // order of the first site (by RVA) that has them.
  std::vector<std::vector<uint32_t>> candidateSets;
  std::vector<StaticInitializer> initializers;
  std::vector<ResolvedCall> resolvedCalls;   // by site
  size_t completeObjectLocators = 0;
  std::vector<std::string> warnings;
  // Names the model gives functions that have no symbol: "Circle::Circle",
  // "Circle::~Circle", "Circle::`scalar deleting destructor'", "Circle::vfunc_3".
  std::unordered_map<uint32_t, std::string> derivedNames;

  int findClass(std::string_view name) const;
  const Structor *structorAt(uint32_t rva) const;
  std::span<const uint32_t> candidatesOf(const VirtualCall &v) const { return candidateSets[v.candidateSet]; }
  // A symbol when the image has one, else the model's name, else "func+0x12".
  std::string nameFor(const Analysis &a, uint32_t rva) const;
};

struct ObjectModelOptions {
  bool virtualCalls = true;
  bool layouts = true;
};

ObjectModel analyzeObjectModel(const Analysis &a, ObjectModelOptions options = {});
// "Box" for "ns::Box<ns::T>", "vector" for "std::vector<int, std::allocator<int>>".
std::string classLeafName(std::string_view qualified);

} // namespace sb::cxx
