// Internal: the state shared by the object-model recognizers while they
// build one ObjectModel. Each recognizer lives in its own file.
#pragma once
#include "Facts.h"
#include "switchboard/cxx/ObjectModel.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace sb::cxx {

bool isDeleteName(const std::string &n);   // operator delete, delete[], free

// A vfptr store of a constructor or destructor into its own object.
struct VfptrStore {
  uint32_t site = 0;
  int vftable = -1;
  // Of the vfptr in the object; through a vbtable this function does not
  // install, a key past every real offset (VfptrChains.cpp).
  int64_t offset = 0;
};

// A constructor or destructor while its class is decided.
struct StructorDraft {
  Structor st;
  std::vector<VfptrStore> own;   // in site order
  bool startsWithVfptr() const {
    return std::any_of(own.begin(), own.end(), [](const VfptrStore &s) { return s.offset == 0; });
  }
};

class ModelBuilder {
public:
  ModelBuilder(const Analysis &a, ObjectModelOptions options);
  ObjectModel build();

private:
  // ObjectModel.cpp
  int classForTypeDescriptor(uint32_t tdRva);
  void readRtti();
  void linkHierarchy();
  void nameFunctions();
  // Vftables.cpp
  void findRttiVftables();
  std::vector<uint32_t> readSlots(uint32_t rva) const;
  void trimSlotsAtReferences();
  void resolveSlotKinds();
  bool isCodePointerAt(uint32_t rva, uint32_t *target) const;
  // CodeScan (ObjectModel.cpp)
  void scanCode();
  // Structors.cpp
  void findVftablesWithoutRtti();
  void classifyStructors();
  // VfptrChains.cpp
  std::vector<VfptrStore> ownVfptrStores(const FunctionFacts &f);
  std::optional<int64_t> vbaseLocation(const FunctionFacts &f, const AddressStore &s) const;
  void classifyStructorShape(const FunctionFacts &f, const std::vector<VfptrStore> &own, bool inSlot,
                             Structor &st) const;
  std::map<int64_t, int> finalVftables(const StructorDraft &d) const;
  void assignStructorClass(StructorDraft &d);
  void addChainBases(const StructorDraft &d);
  void addInferredBase(int derived, int base, std::optional<int64_t> offset);
  int classOfVftable(int vftable, uint32_t subobjectOffset);
  Structor &addStructor(uint32_t rva, StructorKind kind, int classIndex, std::string evidence);
  void classifyTrappingDeletingDestructors();
  void classifyAdjustorThunks();
  void inferBasesFromConstructorCalls();
  std::vector<SubobjectCall> callsOnThis(const FunctionFacts &f, bool deleting) const;
  void classifyTailCalledBaseDestructors();
  uint32_t adjustorTarget(uint32_t rva) const;
  void findVbtables();
  // EhTypes.cpp
  void readEhTypes();
  void findCatchableTypes();
  void findThrowInfos();
  int ownPrimaryVftable(uint32_t fn, bool constructor) const;
  void applyEhStructorEvidence();
  void nameClassesFromEh();
  void nameClassByTypeDescriptor(int classIndex, uint32_t typeDescriptorRva);
  void refreshBaseNames();
  void addTypeDescriptorClasses();
  void linkEhHierarchy();
  // Layout.cpp
  void recoverLayouts();
  // VirtualCalls.cpp
  void findVirtualCalls();
  std::string describeReceiver(const values::Value &v) const;
  // StaticInit.cpp
  void findStaticInitializers();

  int vftableAt(uint32_t rva) const {
    auto it = vftableIndex_.find(rva);
    return it == vftableIndex_.end() ? -1 : it->second;
  }
  const FunctionFacts *factsFor(uint32_t fn) const {
    auto it = factsIndex_.find(fn);
    return it == factsIndex_.end() ? nullptr : &facts_[it->second];
  }
  // The function a direct call really reaches (through jump stubs and
  // incremental-linking thunks); the import name for IAT calls.
  uint32_t resolveCallee(uint32_t rva) const;
  // slotHolders: function -> the vftables whose slots hold it (directly or
  // through a jump stub), built once by the caller.
  bool isAdjustorThunk(const Structor &st, const std::unordered_map<uint32_t, std::vector<int>> &slotHolders) const;
  std::string calleeName(const CallFact &c) const;
  bool isPureCall(uint32_t target) const;
  int64_t baseOffset(const Class &c, int baseClass) const;   // -1 when unknown or virtual

  const Analysis &a_;
  const pe::PeImage &img_;
  ObjectModelOptions options_;
  code::Decoder dec_;
  ObjectModel m_;
  std::vector<CompleteObjectLocator> cols_;
  std::unordered_map<uint32_t, int> classByTd_;
  std::unordered_map<uint32_t, int> vftableIndex_;
  std::unordered_set<uint32_t> colSlots_;             // the slot in front of each vftable
  std::vector<uint32_t> dataRefs_;                    // sorted data addresses code refers to
  std::vector<FunctionFacts> facts_;
  std::unordered_map<uint32_t, size_t> factsIndex_;
  std::unordered_map<uint32_t, int> structorIndex_;   // function -> index into m_.structors
  // EH types (EhTypes.cpp)
  struct CatchableTypeRef {
    uint32_t typeDescriptorRva = 0, copyFunction = 0;
    int32_t mdisp = 0, pdisp = -1, size = 0;   // where the type sits in the thrown object
  };
  struct ThrowInfoRef {
    uint32_t rva = 0, unwind = 0;
    std::vector<CatchableTypeRef> catchable;  // most-derived first
  };
  std::map<uint32_t, TypeDescriptor> typeDescriptors_;
  std::map<uint32_t, CatchableTypeRef> catchableTypes_;
  std::vector<ThrowInfoRef> throwInfos_;
};

} // namespace sb::cxx
