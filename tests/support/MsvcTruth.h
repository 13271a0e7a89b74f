// Ground truth for a real MSVC-built PE from its matching PDB: function
// starts, EH funclets, FuncInfo owners, catch handlers, throw sites,
// polymorphic classes, vftables, hierarchy, constructors and destructors.
// Everything is keyed by RVA or by the demangled class name the analysis
// prints, so recovered facts can be scored against it set by set.
#pragma once
#include "PdbTruth.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace sb::pe {
class PeImage;
}

namespace sb::test {

struct MsvcTruth {
  bool x64 = false;
  std::set<uint32_t> functionStarts;    // procs and function publics, without funclets and EH stubs
  std::set<uint32_t> funclets;          // catch$/dtor$ procs, x86 __catch$/__unwindfunclet$ labels, __ehhandler$ stubs
  std::set<uint32_t> funcInfoOwners;    // x64: .pdata begins handled by a C++ frame handler; x86: owners of __ehhandler$
  std::set<uint32_t> catchHandlers;     // catch funclet entries
  std::set<uint32_t> throwFunctions;    // _CxxThrowException (and the jmp thunks to it)
  std::set<uint32_t> throwSites;        // direct calls to one of throwFunctions inside a proc
  std::set<std::string> classNames;     // classes with a vftable or a type descriptor
  std::set<std::string> polymorphic;    // classes with a vftable
  std::set<std::string> rtti;           // classes with a Complete Object Locator (??_R4)
  std::set<std::string> catchable;      // classes with a CatchableType (_CT??_R0): thrown or a thrown class's base
  std::set<std::string> typeDescribed;  // classes with a type descriptor (??_R0): their name is in the binary
  std::set<uint32_t> vftables;          // ??_7 publics
  std::map<uint32_t, std::set<std::string>> vftableClasses;   // ??_7 public -> its classes (several when folded)
  std::set<std::pair<std::string, std::string>> hierarchy;   // (derived, direct base) among classNames
  std::set<uint32_t> unscoredStarts;   // assembly labels: entry or shared tail, the PDB does not say
  // Code MASM assembled: the PDB has no procs there, only the publics the
  // source exported; an unnamed label inside (a call or jump target) may
  // be an entry or a shared tail, the PDB does not say.
  std::vector<std::pair<uint32_t, uint32_t>> assemblyCode;   // [begin, end), sorted
  std::set<std::string> basesKnown;     // the classes whose bases the PDB's type records tell
  std::map<uint32_t, std::string> symbolNames;   // for reports: the proc or public at an address
  std::set<uint32_t> constructors;      // ??0 of polymorphic classes
  std::set<uint32_t> destructors;       // ??1, ??_G, ??_E, ??_D of polymorphic classes

  // A start the truth cannot judge: a labelled or unnamed assembly label
  // that is not a function public.
  bool unscoredStart(uint32_t rva) const;
};

// Builds the truth of one PE from its PDB (beside it: same base name, .pdb).
std::optional<MsvcTruth> readMsvcTruth(const pe::PeImage &image, const std::string &pdbPath, std::string &error);

// "ns::Box<int>" for "ns::Box<int>::~Box<int>": the qualifier of a demangled
// member name, split at the last top-level "::".
std::string qualifierOf(const std::string &name);

} // namespace sb::test
