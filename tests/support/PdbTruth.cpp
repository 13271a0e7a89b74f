#include "PdbTruth.h"

#include <cstring>

#include <llvm/DebugInfo/CodeView/SymbolDeserializer.h>
#include <llvm/DebugInfo/CodeView/SymbolRecord.h>
#include <llvm/DebugInfo/MSF/MappedBlockStream.h>
#include <llvm/DebugInfo/PDB/IPDBSession.h>
#include <llvm/DebugInfo/PDB/Native/DbiModuleList.h>
#include <llvm/DebugInfo/PDB/Native/DbiStream.h>
#include <llvm/DebugInfo/PDB/Native/InfoStream.h>
#include <llvm/DebugInfo/PDB/Native/ModuleDebugStream.h>
#include <llvm/DebugInfo/PDB/Native/NativeSession.h>
#include <llvm/DebugInfo/PDB/Native/PDBFile.h>
#include <llvm/DebugInfo/PDB/Native/PublicsStream.h>
#include <llvm/DebugInfo/PDB/Native/SymbolStream.h>
#include <llvm/DebugInfo/PDB/PDB.h>
#include <llvm/Object/COFF.h>
#include <llvm/Support/Error.h>

namespace sb::test {
using namespace llvm;
using namespace llvm::pdb;
using namespace llvm::codeview;

std::optional<PdbTruth> readPdbTruth(const std::string &pdbPath, std::string &error) {
  std::unique_ptr<IPDBSession> session;
  if (auto e = loadDataForPDB(PDB_ReaderType::Native, pdbPath, session)) {
    error = toString(std::move(e));
    return std::nullopt;
  }
  PDBFile &file = static_cast<NativeSession &>(*session).getPDBFile();
  auto dbi = file.getPDBDbiStream();
  if (!dbi) {
    error = toString(dbi.takeError());
    return std::nullopt;
  }
  // Section headers as the linker wrote them: section:offset -> RVA.
  auto headers = dbi->getSectionHeaders();
  auto toRva = [&](uint16_t seg, uint32_t off) -> std::optional<uint32_t> {
    if (seg == 0 || seg > headers.size())
      return std::nullopt;
    return headers[seg - 1].VirtualAddress + off;
  };
  PdbTruth truth;
  const DbiModuleList &mods = dbi->modules();
  for (uint32_t i = 0; i < mods.getModuleCount(); ++i) {
    DbiModuleDescriptor desc = mods.getModuleDescriptor(i);
    uint16_t si = desc.getModuleStreamIndex();
    if (si == kInvalidStreamIndex)
      continue;
    auto stream = file.createIndexedStream(si);
    if (!stream)
      continue;
    ModuleDebugStreamRef mds(desc, std::move(stream));
    if (auto e = mds.reload()) {
      consumeError(std::move(e));
      continue;
    }
    for (const CVSymbol &sym : mds.symbols(nullptr)) {
      if (sym.kind() == S_GPROC32 || sym.kind() == S_LPROC32) {
        auto p = SymbolDeserializer::deserializeAs<ProcSym>(sym);
        if (!p) {
          consumeError(p.takeError());
          continue;
        }
        if (auto rva = toRva(p->Segment, p->CodeOffset))
          truth.procs.push_back({p->Name.str(), *rva, p->CodeSize, false});
      } else if (sym.kind() == S_THUNK32) {
        auto t = SymbolDeserializer::deserializeAs<Thunk32Sym>(sym);
        if (!t) {
          consumeError(t.takeError());
          continue;
        }
        if (auto rva = toRva(t->Segment, t->Offset))
          truth.procs.push_back({t->Name.str(), *rva, t->Length, true});
      }
    }
  }
  if (auto pub = file.getPDBPublicsStream(); pub) {
    if (auto syms = file.getPDBSymbolStream(); syms) {
      for (uint32_t off : pub->getPublicsTable()) {
        auto sym = syms->readRecord(off);
        if (sym.kind() != S_PUB32)
          continue;
        auto p = SymbolDeserializer::deserializeAs<PublicSym32>(sym);
        if (!p) {
          consumeError(p.takeError());
          continue;
        }
        if (auto rva = toRva(p->Segment, p->Offset))
          truth.publics.emplace_back(p->Name.str(), *rva);
      }
    } else {
      consumeError(syms.takeError());
    }
  } else {
    consumeError(pub.takeError());
  }
  if (auto info = file.getPDBInfoStream(); info) {
    std::memcpy(truth.guid.data(), info->getGuid().Guid, 16);
    truth.age = info->getAge();
  } else {
    consumeError(info.takeError());
  }
  return truth;
}

std::optional<uint32_t> PdbTruth::publicRva(const std::string &name) const {
  for (const auto &[n, rva] : publics)
    if (n == name)
      return rva;
  return std::nullopt;
}

const PdbProc *PdbTruth::proc(const std::string &name) const {
  for (const PdbProc &p : procs)
    if (p.name == name)
      return &p;
  return nullptr;
}

} // namespace sb::test
