#include "db/Serialize.h"

#include "db/Archive.h"
#include "switchboard/code/Function.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/pdb/PdbNames.h"

namespace sb::db {

// --- functions -----------------------------------------------------------------
SB_ARCHIVE_FIELDS(code::Range, rva, end)
SB_ARCHIVE_FIELDS(code::JumpTable, jumpRva, tableRva, indexTableRva, entrySize, kind, boundKnown, targets)
SB_ARCHIVE_FIELDS(code::BasicBlock, rva, end, successors)
SB_ARCHIVE_FIELDS(code::Function, rva, name, rawName, sources, blocks, chunks, callees, tailCalls, jumpTables,
                  pdataEntries, ehFuncInfoRva, funclets, isImportThunk, thunkIatRva, noReturn, throwsCxx, truncated)

// --- C++ EH ----------------------------------------------------------------------
SB_ARCHIVE_FIELDS(eh::IpToState, ipRva, state)
SB_ARCHIVE_FIELDS(eh::CatchInfo, type, typeDescriptorRva, adjectives, handlerRva, catchObjectOffset, continuations,
                  name)
SB_ARCHIVE_FIELDS(eh::TryInfo, tryLow, tryHigh, catchHigh, ranges, catches)
SB_ARCHIVE_FIELDS(eh::UnwindAction, state, toState, type, actionRva, destructorRva, frameOffset, heap, constructorRva,
                  name)
SB_ARCHIVE_FIELDS(eh::ThrowSite, siteRva, functionRva, throwInfoRva, rethrow, unresolved, type, catchable,
                  catchableDescriptors, copyConstructorRva, destructorRva, rethrowFromRva)
SB_ARCHIVE_FIELDS(eh::FunctionEh, rva, parentRva, funcInfoRva, format, magic, fh4Flags, esTypeListRva, segments, tries,
                  unwind, ipToState, error)
SB_ARCHIVE_FIELDS(eh::CatchEdge, type, handlerRva, functionRva, throwSites)
SB_ARCHIVE_FIELDS(eh::EhModel, functions, throws, edges)

// --- object model ----------------------------------------------------------------
SB_ARCHIVE_FIELDS(cxx::Pmd, mdisp, pdisp, vdisp)
SB_ARCHIVE_FIELDS(cxx::Slot, targetRva, functionRva, kind, pure)
SB_ARCHIVE_FIELDS(cxx::Vftable, rva, colRva, classIndex, subobjectOffset, forBase, baseVftable, slots)
SB_ARCHIVE_FIELDS(cxx::SubobjectCall, siteRva, calleeRva, thisOffset, role, classIndex)
SB_ARCHIVE_FIELDS(cxx::Structor, rva, kind, classIndex, vfptrStores, calls, evidence, adjustorTargetRva)
SB_ARCHIVE_FIELDS(cxx::InlinedStructor, siteRva, functionRva, vftableRva, objectOffset, object, globalRva, resultSite, onStack)
SB_ARCHIVE_FIELDS(cxx::Field, offset, size, memberClass, note)
SB_ARCHIVE_FIELDS(cxx::ArrayConstruction, siteRva, functionRva, elementSize, count)
SB_ARCHIVE_FIELDS(cxx::BaseRef, name, classIndex, offset, isVirtual, where, attributes, descriptorRva)
SB_ARCHIVE_FIELDS(cxx::Vbtable, rva, vbptrOffset, entries)
SB_ARCHIVE_FIELDS(cxx::Class, name, nameIsSynthetic, typeDescriptorRva, hierarchyRva, hierarchyAttributes, bases,
                  allBases, vftables, vbtables, constructors, destructors, deletingDestructors, inlined, size,
                  sizeSites, fields, arrays, derived)
SB_ARCHIVE_FIELDS(cxx::VirtualCall, siteRva, functionRva, slot, slotOffset, vfptrOffset, receiver, candidateSet,
                  receiverClass, narrowing)
SB_ARCHIVE_FIELDS(cxx::StaticInitializer, tableRva, entryRva, functionRva, objectRva, constructorRva, classIndex,
                  atexitRva, destructorRva)
SB_ARCHIVE_FIELDS(cxx::ResolvedCall, siteRva, functionRva, targetRva)
SB_ARCHIVE_FIELDS(cxx::ObjectModel, classes, vftables, structors, vcalls, candidateSets, initializers, resolvedCalls,
                  completeObjectLocators, warnings, derivedNames)

// --- message flow ------------------------------------------------------------------
SB_ARCHIVE_FIELDS(res::DialogControl, id, className, text, style)
SB_ARCHIVE_FIELDS(res::Dialog, name, id, extended, style, caption, className, font, controls)
SB_ARCHIVE_FIELDS(res::MenuItem, id, text, popup, depth)
SB_ARCHIVE_FIELDS(res::Menu, name, id, extended, items)
SB_ARCHIVE_FIELDS(res::StringEntry, id, text)
SB_ARCHIVE_FIELDS(res::Accelerator, flags, key, id)
SB_ARCHIVE_FIELDS(res::Resources, dialogs, menus, strings, accelerators, warnings)
SB_ARCHIVE_FIELDS(messages::MessageId, id, registeredName)
SB_ARCHIVE_FIELDS(messages::Case, message, text, handlerRva, senders, calls, commands, commandCodes, notifies, notifyFrom,
                  chainedFrom, section, handlerFunction)
SB_ARCHIVE_FIELDS(messages::Procedure, rva, kind, classes, cases, forwardedTo, forwardedWindowParam, wrapperClasses, defaults,
                  previousProcGlobal, cxxClass)
SB_ARCHIVE_FIELDS(messages::WindowClass, name, wndprocRva, siteRva, wndExtra, activexHost)
SB_ARCHIVE_FIELDS(messages::Window, siteRva, api, className, title, viaHelper, dialogTemplate, procRva, handleGlobal,
                  handleFields, parentClass, parent, createParam, cxxClass, activexHost)
SB_ARCHIVE_FIELDS(messages::Send, siteRva, functionRva, api, message, messageText, target, targetClass, targetOrigin,
                  targets, exact, commandId)
SB_ARCHIVE_FIELDS(messages::Installation, siteRva, procRva, api, field, kind)
SB_ARCHIVE_FIELDS(messages::MessageFlow, classes, windows, procedures, installations, sends, resources, warnings)

// --- graph, names, PDB symbols -------------------------------------------------------
SB_ARCHIVE_FIELDS(graph::Edge, kind, from, to, toModule, toName, toSet, label, exactness, evidence, detail)
SB_ARCHIVE_FIELDS(names::Name, text, raw, source, label)
SB_ARCHIVE_FIELDS(pdb::PdbSymbol, rva, name, raw, isFunction, fromProc, size)

// The graph and the name service keep indices: they are stored as their
// public content and rebuilt through their own API.
template <typename Ar>
void io(Ar &ar, graph::Graph &g) {
  std::vector<std::vector<uint64_t>> sets;
  std::vector<graph::Edge> edges;
  if constexpr (!Ar::kReading) {
    sets = g.sets();
    edges.assign(g.edges().begin(), g.edges().end());
  }
  ioAll(ar, sets, edges);
  if constexpr (Ar::kReading) {
    if (!ar.ok())
      return;
    for (auto &s : sets)
      g.addSet(std::move(s));
    for (auto &e : edges) {
      if (e.toSet != graph::Edge::kNoSet && e.toSet >= g.sets().size())
        e.toSet = graph::Edge::kNoSet;   // a damaged reference: keep the edge, drop the set
      g.add(std::move(e));
    }
    g.finish();
  }
}

template <typename Ar>
void io(Ar &ar, names::NameService &n) {
  std::map<uint64_t, names::Name> all;
  if constexpr (!Ar::kReading)
    all = n.all();
  io(ar, all);
  if constexpr (Ar::kReading)
    for (auto &[rva, name] : all)
      n.add(rva, std::move(name));
}

namespace {
constexpr uint32_t kMagic = 0x4d425321;   // "!SBM"

template <typename T>
std::vector<uint8_t> encodeModel(const T &model) {
  OutArchive ar;
  uint32_t magic = kMagic, format = kModelFormat;
  ioAll(ar, magic, format);
  io(ar, const_cast<T &>(model));   // OutArchive only reads through the reference
  return ar.take();
}

template <typename T>
bool decodeModel(std::span<const uint8_t> bytes, T &model) {
  InArchive ar(bytes);
  uint32_t magic = 0, format = 0;
  ioAll(ar, magic, format);
  if (!ar.ok() || magic != kMagic || format != kModelFormat)
    return false;
  io(ar, model);
  return ar.ok() && ar.atEnd();
}
} // namespace

std::vector<uint8_t> encode(const std::vector<code::Function> &v) { return encodeModel(v); }
std::vector<uint8_t> encode(const eh::EhModel &v) { return encodeModel(v); }
std::vector<uint8_t> encode(const cxx::ObjectModel &v) { return encodeModel(v); }
std::vector<uint8_t> encode(const messages::MessageFlow &v) { return encodeModel(v); }
std::vector<uint8_t> encode(const graph::Graph &v) { return encodeModel(v); }
std::vector<uint8_t> encode(const names::NameService &v) { return encodeModel(v); }
std::vector<uint8_t> encode(const std::vector<pdb::PdbSymbol> &v) { return encodeModel(v); }

bool decode(std::span<const uint8_t> b, std::vector<code::Function> &v) { return decodeModel(b, v); }
bool decode(std::span<const uint8_t> b, eh::EhModel &v) { return decodeModel(b, v); }
bool decode(std::span<const uint8_t> b, cxx::ObjectModel &v) { return decodeModel(b, v); }
bool decode(std::span<const uint8_t> b, messages::MessageFlow &v) { return decodeModel(b, v); }
bool decode(std::span<const uint8_t> b, graph::Graph &v) { return decodeModel(b, v); }
bool decode(std::span<const uint8_t> b, names::NameService &v) { return decodeModel(b, v); }
bool decode(std::span<const uint8_t> b, std::vector<pdb::PdbSymbol> &v) { return decodeModel(b, v); }

} // namespace sb::db
