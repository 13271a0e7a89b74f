#include "MsvcTruth.h"

#include "code/Decoder.h"
#include "switchboard/cxx/Rtti.h"
#include "switchboard/pe/PeImage.h"
#include "switchboard/support/Demangle.h"
#include "switchboard/unwind/UnwindInfo.h"

#include <algorithm>
#include <map>

namespace sb::test {
namespace {

bool startsWith(const std::string &s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

// x64 funclet procs are named "`parent'::`1'::catch$4" / "...::dtor$0" in
// C++ and "parent$catch$1" in C.
bool isFuncletProc(const std::string &name) {
  for (const char *kind : {"catch$", "dtor$", "fin$", "filt$"})
    for (const char *sep : {"::", "$"})
      if (name.find(std::string(sep) + kind) != std::string::npos)
        return true;
  return false;
}

bool isCatchProc(const std::string &name) {
  return name.find("::catch$") != std::string::npos || name.find("$catch$") != std::string::npos;
}

// Follows `jmp rel32` chains (incremental linking thunks) from rva.
uint32_t throughJumps(const pe::PeImage &img, uint32_t rva) {
  for (int hops = 0; hops < 4; ++hops) {
    auto op = img.readRva<uint8_t>(rva);
    auto rel = img.readRva<int32_t>(rva + 1);
    if (!op || !rel || *op != 0xE9)
      break;
    rva = uint32_t(int64_t(rva) + 5 + *rel);
  }
  return rva;
}

std::string undecoratedX86(std::string name) {
  // "___CxxFrameHandler3" -> "__CxxFrameHandler3", "__CxxThrowException@8" -> "_CxxThrowException".
  if (auto at = name.rfind('@'); at != std::string::npos && at > 0 && name[0] != '?')
    name.resize(at);
  if (!name.empty() && name[0] == '_')
    name.erase(0, 1);
  return name;
}

bool isCxxFrameHandler(const std::string &n) {
  return n == "__CxxFrameHandler" || n == "__CxxFrameHandler2" || n == "__CxxFrameHandler3" ||
         n == "__CxxFrameHandler4" || n == "__GSHandlerCheck_EH" || n == "__GSHandlerCheck_EH4";
}

// "X" from "const X::`vftable'" or "const X::`vftable'{for `B'}".
std::optional<std::string> vftableClass(const std::string &mangled) {
  std::string d = demangleMsvc(mangled);
  if (startsWith(d, "const "))
    d.erase(0, 6);
  auto at = d.find("::`vftable'");
  if (at == std::string::npos)
    return std::nullopt;
  return d.substr(0, at);
}

// "X" from "class X `RTTI Type Descriptor'" (only class, struct and union types).
std::optional<std::string> typeDescriptorClass(const std::string &mangled) {
  if (!startsWith(mangled, "??_R0?AV") && !startsWith(mangled, "??_R0?AU") && !startsWith(mangled, "??_R0?AT"))
    return std::nullopt;
  auto at = mangled.rfind("@8");
  if (at == std::string::npos || at <= 5)
    return std::nullopt;
  std::string raw(1, '.');
  raw.append(mangled, 5, at - 5);
  std::string name = cxx::demangleRttiName(raw);
  if (name.empty() || name[0] == '.')
    return std::nullopt;
  return name;
}

// "X" from a catchable type "_CT??_R0?AVX@@@8??0X@@QEAA@AEBV0@@Z8": the
// type descriptor's name is a prefix ending in one of the "@8"s. Types of
// internal linkage (anonymous namespaces, local classes) have no ??_R0
// symbol at all, but their catchable types are module-local data.
std::optional<std::string> catchableTypeClass(const std::string &name) {
  if (!startsWith(name, "_CT??_R0"))
    return std::nullopt;
  for (size_t at = name.find("@8", 8); at != std::string::npos; at = name.find("@8", at + 1))
    if (auto c = typeDescriptorClass(name.substr(3, at + 2 - 3)))
      return c;
  return std::nullopt;
}

void addThrowSites(const pe::PeImage &img, const PdbTruth &pdb, MsvcTruth &t) {
  if (t.throwFunctions.empty())
    return;
  code::Decoder dec(img.is64(), img.imageBase());
  for (const PdbProc &p : pdb.procs) {
    if (p.isThunk || p.size == 0)
      continue;
    std::span<const uint8_t> all = img.bytesFromRva(p.rva);
    if (all.empty())
      continue;
    std::span<const uint8_t> bytes = all.first(std::min<size_t>(all.size(), p.size));
    // Linear decoding of the proc's bytes: MSVC keeps no data inside x64
    // procs; an x86 jump table at a proc's end decodes as junk but cannot
    // form a call to the throw function by accident often enough to matter.
    for (uint32_t off = 0; off < bytes.size();) {
      code::DecodedInsn in;
      if (!dec.decode(bytes.subspan(off), p.rva + off, in)) {
        ++off;
        continue;
      }
      if (in.flow == code::Flow::Call && in.target && t.throwFunctions.count(*in.target))
        t.throwSites.insert(in.rva);
      off += in.insn.length;
    }
  }
}

void addFuncInfoOwnersX64(const pe::PeImage &img, const std::map<uint32_t, std::string> &byRva, MsvcTruth &t) {
  for (const pe::RuntimeFunction &rf : img.runtimeFunctions()) {
    if (rf.chainedTo || rf.indirect)
      continue;
    auto ui = unwind::decodeUnwindInfo(img, rf.unwindRva);
    if (!ui || !ui->handlerRva)
      continue;
    auto it = byRva.find(throughJumps(img, *ui->handlerRva));
    if (it != byRva.end() && isCxxFrameHandler(it->second))
      t.funcInfoOwners.insert(rf.begin);
  }
}

void addClasses(const PdbTruth &pdb, MsvcTruth &t) {
  for (const auto &[name, rva] : pdb.publics) {
    if (startsWith(name, "??_7")) {
      if (auto c = vftableClass(name)) {
        t.vftables.insert(rva);
        t.vftableClasses[rva].insert(*c);
        t.polymorphic.insert(*c);
        t.classNames.insert(*c);
      }
    } else if (startsWith(name, "??_R4")) {
      // Same scope suffix as the vftable's symbol.
      if (auto c = vftableClass("??_7" + name.substr(5)))
        t.rtti.insert(*c);
    } else if (auto c = typeDescriptorClass(name)) {
      t.classNames.insert(*c);
      t.typeDescribed.insert(*c);
    }
  }
  for (const auto *list : {&pdb.publics, &pdb.localData})
    for (const auto &[name, rva] : *list)
      if (auto c = catchableTypeClass(name)) {
        t.classNames.insert(*c);
        t.typeDescribed.insert(*c);
        t.catchable.insert(*c);
      }
  for (const PdbClass &c : pdb.classes) {
    if (c.uniqueName.empty())
      continue;
    std::string derived = cxx::demangleRttiName(c.uniqueName);
    if (!t.classNames.count(derived))
      continue;
    t.basesKnown.insert(derived);
    for (const PdbBase &b : c.bases) {
      if (b.indirect || b.uniqueName.empty())
        continue;
      std::string base = cxx::demangleRttiName(b.uniqueName);
      if (t.classNames.count(base))
        t.hierarchy.emplace(derived, base);
    }
  }
}

// "Impl" for "`f'::`2'::Impl", "Box" for "ns::Box<int>".
std::string classLeaf(const std::string &cls) {
  std::string q = qualifierOf(cls);
  std::string leaf = q.empty() ? cls : cls.substr(q.size() + 2);
  return leaf.substr(0, leaf.find('<'));
}

bool isDeletingDestructorProc(const std::string &name) {
  return name.size() > 30 && (name.ends_with("::`scalar deleting destructor'") ||
                              name.ends_with("::`vector deleting destructor'"));
}

// Classes of internal linkage (local classes, anonymous namespaces) have no
// ??_7 symbol: their vftable is only a read-only COMDAT contribution of
// code pointers, one of them the class's deleting destructor (a local proc
// of the same module). Their structors are local procs too.
void addLocalVftables(const pe::PeImage &img, const PdbTruth &pdb, MsvcTruth &t) {
  constexpr uint32_t kComdat = 0x1000, kExecute = 0x20000000, kWrite = 0x80000000;
  std::map<uint32_t, const PdbProc *> localDeleting;   // rva -> proc
  for (const PdbProc &p : pdb.procs)
    if (p.isLocal && isDeletingDestructorProc(p.name))
      localDeleting.emplace(p.rva, &p);
  const unsigned ptr = img.pointerSize();
  std::set<std::string> localClasses;
  for (const PdbContribution &c : pdb.contributions) {
    if ((c.characteristics & (kComdat | kExecute | kWrite)) != kComdat || c.size % ptr || t.vftables.count(c.rva))
      continue;
    const PdbProc *dtor = nullptr;
    bool codePointers = true;
    for (uint32_t at = c.rva; at < c.rva + c.size && codePointers; at += ptr) {
      auto v = img.readPointer(at);
      auto target = v ? img.vaToRva(*v) : std::nullopt;
      codePointers = target && img.isExecutableRva(*target);
      if (auto it = codePointers ? localDeleting.find(*target) : localDeleting.end();
          it != localDeleting.end() && it->second->module == c.module)
        dtor = it->second;
    }
    if (!codePointers || !dtor)
      continue;
    std::string cls = qualifierOf(dtor->name);
    t.vftables.insert(c.rva);
    t.vftableClasses[c.rva].insert(cls);
    t.polymorphic.insert(cls);
    t.classNames.insert(cls);
    localClasses.insert(cls);
  }
  for (const PdbProc &p : pdb.procs) {
    std::string q = qualifierOf(p.name);
    if (!p.isLocal || !localClasses.count(q))
      continue;
    std::string member = p.name.substr(q.size() + 2);
    if (isDeletingDestructorProc(p.name) || member.starts_with("~"))
      t.destructors.insert(p.rva);
    else if (member == classLeaf(q))
      t.constructors.insert(p.rva);
  }
}

void addStructors(const PdbTruth &pdb, MsvcTruth &t) {
  for (const auto &[name, rva] : pdb.publics) {
    bool ctor = startsWith(name, "??0");
    // ??_D: the `vbase destructor` of a class with virtual bases (its
    // complete-object destructor), a destructor like ??1.
    bool dtor = startsWith(name, "??1") || startsWith(name, "??_G") || startsWith(name, "??_E") ||
                startsWith(name, "??_D");
    if (!ctor && !dtor)
      continue;
    std::string cls = qualifierOf(demangleMsvcShort(name));
    if (!t.polymorphic.count(cls))
      continue;
    (ctor ? t.constructors : t.destructors).insert(rva);
  }
}

} // namespace

std::string qualifierOf(const std::string &name) {
  int depth = 0;
  size_t last = std::string::npos;
  for (size_t i = 0; i + 1 < name.size(); ++i) {
    char c = name[i];
    if (c == '<' || c == '(' || c == '[')
      ++depth;
    else if ((c == '>' || c == ')' || c == ']') && depth > 0)
      --depth;
    else if (c == '`') {
      // `...' quoted parts (`scalar deleting dtor', `anonymous namespace') are atoms.
      auto close = name.find('\'', i);
      if (close == std::string::npos)
        break;
      i = close;
    } else if (depth == 0 && c == ':' && name[i + 1] == ':') {
      last = i;
      ++i;
    }
  }
  return last == std::string::npos ? std::string() : name.substr(0, last);
}

bool MsvcTruth::unscoredStart(uint32_t rva) const {
  if (functionStarts.count(rva))
    return false;
  if (unscoredStarts.count(rva))
    return true;
  auto it = std::upper_bound(assemblyCode.begin(), assemblyCode.end(), std::make_pair(rva, UINT32_MAX));
  return it != assemblyCode.begin() && rva < std::prev(it)->second;
}

std::optional<MsvcTruth> readMsvcTruth(const pe::PeImage &img, const std::string &pdbPath, std::string &error) {
  auto pdb = readPdbTruth(pdbPath, error);
  if (!pdb)
    return std::nullopt;
  MsvcTruth t;
  t.x64 = img.is64();
  auto executable = [&](uint32_t rva) { return img.isExecutableRva(rva); };

  std::map<uint32_t, std::string> byRva;   // first public (undecorated on x86) at each address
  for (const auto &[name, rva] : pdb->publics)
    byRva.emplace(rva, t.x64 ? name : undecoratedX86(name));
  for (const PdbProc &p : pdb->procs)
    t.symbolNames.emplace(p.rva, p.name);
  for (const auto &[name, rva] : pdb->publics)
    t.symbolNames.emplace(rva, demangleMsvcShort(name));

  // Funclets and EH stubs.
  std::set<uint32_t> ehStubs;
  for (const PdbProc &p : pdb->procs)
    if (!p.isThunk && isFuncletProc(p.name)) {
      t.funclets.insert(p.rva);
      if (isCatchProc(p.name))
        t.catchHandlers.insert(p.rva);
    }
  for (const auto &[name, rva] : pdb->labels) {
    if (startsWith(name, "__ehhandler$")) {
      t.funclets.insert(rva);
      ehStubs.insert(rva);
    } else if (startsWith(name, "__catch$") && !t.x64) {
      // On x64 the label marks the catch body inside the funclet proc.
      t.funclets.insert(rva);
      t.catchHandlers.insert(rva);
    } else if (startsWith(name, "__unwindfunclet$")) {
      t.funclets.insert(rva);
    }
  }
  // x86: the procs whose frame registers an __ehhandler$ stub (S_FRAMEPROC).
  for (const PdbProc &p : pdb->procs)
    if (p.exceptionHandlerRva && t.funclets.count(p.exceptionHandlerRva) && ehStubs.count(p.exceptionHandlerRva))
      t.funcInfoOwners.insert(p.rva);
  if (t.x64)
    addFuncInfoOwnersX64(img, byRva, t);

  // Function starts: procs and function publics in executable sections.
  for (const PdbProc &p : pdb->procs)
    if (!isFuncletProc(p.name) && executable(p.rva))
      t.functionStarts.insert(p.rva);
  for (const auto &[name, rva] : pdb->functionPublics)
    if (executable(rva))
      t.functionStarts.insert(rva);
  for (uint32_t f : t.funclets)
    t.functionStarts.erase(f);
  // Code publics without the function flag and outside every proc: labels
  // of assembly routines (the CRT's libm, _ftol2, alloca probes). Whether
  // one is an entry or a shared tail the PDB does not say: not scored.
  std::vector<std::pair<uint32_t, uint32_t>> procRanges;
  for (const PdbProc &p : pdb->procs)
    procRanges.emplace_back(p.rva, p.rva + std::max<uint32_t>(p.size, 1));
  std::sort(procRanges.begin(), procRanges.end());
  auto inProc = [&](uint32_t rva) {
    auto it = std::upper_bound(procRanges.begin(), procRanges.end(), std::make_pair(rva, UINT32_MAX));
    return it != procRanges.begin() && rva < std::prev(it)->second;
  };
  for (const auto &[name, rva] : pdb->publics)
    if (executable(rva) && !t.functionStarts.count(rva) && !t.funclets.count(rva) && !inProc(rva))
      t.unscoredStarts.insert(rva);
  constexpr uint32_t kScnExecute = 0x20000000;   // IMAGE_SCN_MEM_EXECUTE
  for (const PdbContribution &c : pdb->contributions)
    if (pdb->assemblyModules.count(c.module) && (c.characteristics & kScnExecute))
      t.assemblyCode.emplace_back(c.rva, c.rva + c.size);
  std::sort(t.assemblyCode.begin(), t.assemblyCode.end());

  for (const auto &[rva, name] : byRva)
    if (name == "_CxxThrowException")
      t.throwFunctions.insert(rva);
  for (const auto &[name, rva] : pdb->publics)
    if ((t.x64 ? name : undecoratedX86(name)) == "_CxxThrowException")
      t.throwFunctions.insert(rva);
  // Thunks that jump to it (incremental linking) are the same function.
  for (uint32_t f : std::set<uint32_t>(t.throwFunctions))
    for (const auto &[name, rva] : pdb->publics)
      if (executable(rva) && throughJumps(img, rva) == f)
        t.throwFunctions.insert(rva);
  addThrowSites(img, *pdb, t);

  addClasses(*pdb, t);
  addStructors(*pdb, t);
  addLocalVftables(img, *pdb, t);
  return t;
}

} // namespace sb::test
