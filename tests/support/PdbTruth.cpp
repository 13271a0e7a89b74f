#include "PdbTruth.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <llvm/DebugInfo/CodeView/DebugChecksumsSubsection.h>
#include <llvm/DebugInfo/CodeView/DebugLinesSubsection.h>
#include <llvm/DebugInfo/CodeView/DebugSubsectionRecord.h>
#include <llvm/DebugInfo/CodeView/Line.h>
#include <llvm/DebugInfo/CodeView/StringsAndChecksums.h>
#include <llvm/DebugInfo/PDB/Native/PDBStringTable.h>
#include <llvm/DebugInfo/CodeView/CVTypeVisitor.h>
#include <llvm/DebugInfo/CodeView/SymbolDeserializer.h>
#include <llvm/DebugInfo/CodeView/TypeDeserializer.h>
#include <llvm/DebugInfo/CodeView/TypeRecord.h>
#include <llvm/DebugInfo/CodeView/TypeVisitorCallbacks.h>
#include <llvm/DebugInfo/PDB/Native/TpiStream.h>
#include <llvm/DebugInfo/CodeView/SymbolRecord.h>
#include <llvm/DebugInfo/MSF/MappedBlockStream.h>
#include <llvm/DebugInfo/PDB/IPDBSession.h>
#include <llvm/DebugInfo/PDB/Native/DbiModuleList.h>
#include <llvm/DebugInfo/PDB/Native/DbiStream.h>
#include <llvm/DebugInfo/PDB/Native/ISectionContribVisitor.h>
#include <llvm/DebugInfo/PDB/Native/InfoStream.h>
#include <llvm/DebugInfo/PDB/Native/RawTypes.h>
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

namespace {
// A symbol record as T; a record that does not deserialize is skipped.
template <typename T>
std::optional<T> readSymbol(const CVSymbol &sym) {
  auto r = SymbolDeserializer::deserializeAs<T>(sym);
  if (!r) {
    consumeError(r.takeError());
    return std::nullopt;
  }
  return std::move(*r);
}

// Collects the base classes and the vfptr of one field list.
struct FieldListVisitor : TypeVisitorCallbacks {
  const std::map<uint32_t, std::pair<std::string, std::string>> &names;
  PdbClass &out;
  FieldListVisitor(const std::map<uint32_t, std::pair<std::string, std::string>> &n, PdbClass &c) : names(n), out(c) {}
  std::pair<std::string, std::string> nameOf(TypeIndex ti) {
    auto it = names.find(ti.getIndex());
    return it == names.end() ? std::pair<std::string, std::string>() : it->second;
  }
  Error visitKnownMember(CVMemberRecord &, BaseClassRecord &r) override {
    auto [name, unique] = nameOf(r.getBaseType());
    out.bases.push_back({name, unique, int64_t(r.getBaseOffset()), false, false, 0, 0});
    return Error::success();
  }
  Error visitKnownMember(CVMemberRecord &cvr, VirtualBaseClassRecord &r) override {
    bool indirect = cvr.Kind == LF_IVBCLASS;
    auto [name, unique] = nameOf(r.getBaseType());
    out.bases.push_back({name, unique, 0, true, indirect, int64_t(r.getVBPtrOffset()), int64_t(r.getVTableIndex())});
    return Error::success();
  }
  Error visitKnownMember(CVMemberRecord &, DataMemberRecord &r) override {
    out.members.emplace_back(r.getName().str(), r.getFieldOffset());
    return Error::success();
  }
  Error visitKnownMember(CVMemberRecord &, VFPtrRecord &) override {
    out.hasVfptr = true;
    return Error::success();
  }
};

class ContributionVisitor : public ISectionContribVisitor {
public:
  ContributionVisitor(const FixedStreamArray<object::coff_section> &headers, PdbTruth &truth)
      : headers_(headers), truth_(truth) {}
  void visit(const SectionContrib &c) override {
    if (c.ISect == 0 || c.ISect > headers_.size() || c.Size <= 0)
      return;
    truth_.contributions.push_back({headers_[c.ISect - 1].VirtualAddress + uint32_t(c.Off), uint32_t(c.Size),
                                    c.Characteristics, int(c.Imod)});
  }
  void visit(const SectionContrib2 &c) override { visit(c.Base); }

private:
  const FixedStreamArray<object::coff_section> &headers_;
  PdbTruth &truth_;
};

void readClasses(PDBFile &file, PdbTruth &truth) {
  auto tpi = file.getPDBTpiStream();
  if (!tpi) {
    consumeError(tpi.takeError());
    return;
  }
  std::map<uint32_t, std::pair<std::string, std::string>> names;   // index -> (name, unique name)
  std::vector<std::pair<ClassRecord, TypeIndex>> records;
  std::map<uint32_t, CVType> fieldLists;
  TypeIndex ti = TypeIndex::fromArrayIndex(0);
  for (const CVType &t : tpi->types(nullptr)) {
    if (t.kind() == LF_CLASS || t.kind() == LF_STRUCTURE) {
      ClassRecord rec(static_cast<TypeRecordKind>(t.kind()));
      if (!TypeDeserializer::deserializeAs<ClassRecord>(const_cast<CVType &>(t), rec)) {
        names[ti.getIndex()] = {rec.getName().str(), rec.hasUniqueName() ? rec.getUniqueName().str() : std::string()};
        if (!rec.isForwardRef())
          records.emplace_back(rec, ti);
      }
    } else if (t.kind() == LF_FIELDLIST) {
      fieldLists.emplace(ti.getIndex(), t);
    }
    ti = TypeIndex(ti.getIndex() + 1);
  }
  for (auto &[rec, index] : records) {
    PdbClass c;
    c.name = rec.getName().str();
    if (rec.hasUniqueName())
      c.uniqueName = rec.getUniqueName().str();
    c.size = rec.getSize();
    if (auto it = fieldLists.find(rec.getFieldList().getIndex()); it != fieldLists.end()) {
      FieldListVisitor v(names, c);
      if (auto e = visitMemberRecordStream(it->second.content(), v))
        consumeError(std::move(e));
    }
    truth.classes.push_back(std::move(c));
  }
}
} // namespace

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
  ContributionVisitor contributions(headers, truth);
  dbi->visitSectionContributions(contributions);
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
    // Line tables: file names through the module's checksums and the PDB's
    // string table.
    {
      std::optional<DebugChecksumsSubsectionRef> checksums;
      for (const DebugSubsectionRecord &ss : mds.subsections())
        if (ss.kind() == DebugSubsectionKind::FileChecksums) {
          checksums.emplace();
          if (auto e = checksums->initialize(ss.getRecordData())) {
            consumeError(std::move(e));
            checksums.reset();
          }
        }
      auto strings = file.getStringTable();
      for (const DebugSubsectionRecord &ss : mds.subsections()) {
        if (ss.kind() != DebugSubsectionKind::Lines)
          continue;
        DebugLinesSubsectionRef lines;
        if (auto e = lines.initialize(BinaryStreamReader(ss.getRecordData()))) {
          consumeError(std::move(e));
          continue;
        }
        auto base = toRva(lines.header()->RelocSegment, lines.header()->RelocOffset);
        if (!base)
          continue;
        for (const LineColumnEntry &block : lines) {
          std::string fileName;
          if (checksums && strings) {
            auto it = checksums->getArray().at(block.NameIndex);
            if (it != checksums->getArray().end()) {
              if (auto n = strings->getStringForID(it->FileNameOffset))
                fileName = n->str();
              else
                consumeError(n.takeError());
            }
          }
          if (size_t slash = fileName.find_last_of("/\\"); slash != std::string::npos)
            fileName = fileName.substr(slash + 1);
          for (const LineNumberEntry &l : block.LineNumbers) {
            LineInfo li(l.Flags);
            truth.lines.push_back({*base + l.Offset, li.getStartLine(), fileName});
          }
        }
      }
      if (!strings)
        consumeError(strings.takeError());
    }
    for (const CVSymbol &sym : mds.symbols(nullptr)) {
      if (sym.kind() == S_GPROC32 || sym.kind() == S_LPROC32) {
        auto p = readSymbol<ProcSym>(sym);
        if (!p)
          continue;
        if (auto rva = toRva(p->Segment, p->CodeOffset))
          truth.procs.push_back({p->Name.str(), *rva, p->CodeSize, false, sym.kind() == S_LPROC32, int(i)});
      } else if (sym.kind() == S_TRAMPOLINE) {
        // Linker-made incremental-linking (ILT) and branch-island thunks.
        auto t = readSymbol<TrampolineSym>(sym);
        if (!t)
          continue;
        if (auto rva = toRva(t->ThunkSection, t->ThunkOffset))
          truth.procs.push_back({"[trampoline]", *rva, t->Size, true, false, int(i)});
      } else if (sym.kind() == S_FRAMEPROC && !truth.procs.empty()) {
        // Follows the proc it describes.
        auto f = readSymbol<FrameProcSym>(sym);
        if (!f)
          continue;
        if (f->SectionIdOfExceptionHandler)
          if (auto rva = toRva(f->SectionIdOfExceptionHandler, f->OffsetOfExceptionHandler))
            truth.procs.back().exceptionHandlerRva = *rva;
      } else if (sym.kind() == S_LABEL32) {
        auto l = readSymbol<LabelSym>(sym);
        if (!l)
          continue;
        if (auto rva = toRva(l->Segment, l->CodeOffset))
          truth.labels.emplace_back(l->Name.str(), *rva);
      } else if (sym.kind() == S_LDATA32) {
        auto d = readSymbol<DataSym>(sym);
        if (!d)
          continue;
        if (auto rva = toRva(d->Segment, d->DataOffset))
          truth.localData.emplace_back(d->Name.str(), *rva);
      } else if (sym.kind() == S_COMPILE3) {
        auto c = readSymbol<Compile3Sym>(sym);
        if (c && c->getLanguage() == SourceLanguage::Masm)
          truth.assemblyModules.insert(int(i));
      } else if (sym.kind() == S_COMPILE2) {
        auto c = readSymbol<Compile2Sym>(sym);
        if (c && c->getLanguage() == SourceLanguage::Masm)
          truth.assemblyModules.insert(int(i));
      } else if (sym.kind() == S_THUNK32) {
        auto t = readSymbol<Thunk32Sym>(sym);
        if (!t)
          continue;
        if (auto rva = toRva(t->Segment, t->Offset))
          truth.procs.push_back({t->Name.str(), *rva, t->Length, true, false, int(i)});
      }
    }
  }
  if (auto pub = file.getPDBPublicsStream(); pub) {
    if (auto syms = file.getPDBSymbolStream(); syms) {
      for (uint32_t off : pub->getPublicsTable()) {
        auto sym = syms->readRecord(off);
        if (sym.kind() != S_PUB32)
          continue;
        auto p = readSymbol<PublicSym32>(sym);
        if (!p)
          continue;
        if (auto rva = toRva(p->Segment, p->Offset)) {
          truth.publics.emplace_back(p->Name.str(), *rva);
          if ((uint32_t(p->Flags) & uint32_t(PublicSymFlags::Function)) != 0)
            truth.functionPublics.emplace_back(p->Name.str(), *rva);
        }
      }
    } else {
      consumeError(syms.takeError());
    }
  } else {
    consumeError(pub.takeError());
  }
  std::stable_sort(truth.lines.begin(), truth.lines.end(),
                   [](const PdbLine &x, const PdbLine &y) { return x.rva < y.rva; });
  readClasses(file, truth);
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

const PdbClass *PdbTruth::cls(const std::string &name) const {
  for (const PdbClass &c : classes)
    if (c.name == name)
      return &c;
  return nullptr;
}

const PdbLine *PdbTruth::lineAt(uint32_t rva) const {
  auto it = std::upper_bound(lines.begin(), lines.end(), rva, [](uint32_t v, const PdbLine &l) { return v < l.rva; });
  if (it == lines.begin())
    return nullptr;
  const PdbLine *l = &*std::prev(it);
  // Rows of another proc do not reach into this one.
  const PdbProc *p = procContaining(rva);
  if (p && l->rva < p->rva)
    return nullptr;
  return l;
}

const PdbProc *PdbTruth::procContaining(uint32_t rva) const {
  const PdbProc *best = nullptr;
  for (const PdbProc &p : procs)
    if (!p.isThunk && rva >= p.rva && rva < p.rva + std::max(p.size, 1u) && (!best || p.size < best->size))
      best = &p;
  return best;
}

const PdbProc *PdbTruth::proc(const std::string &name) const {
  for (const PdbProc &p : procs)
    if (p.name == name)
      return &p;
  return nullptr;
}

} // namespace sb::test
