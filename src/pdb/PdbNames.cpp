// Procedure and public names from a PDB through LLVM's native reader. LLVM is
// built without RTTI, so this file is too (see src/CMakeLists.txt).
#include "switchboard/pdb/PdbNames.h"

#include "switchboard/support/Demangle.h"
#include "switchboard/support/Text.h"

#include "PdbFile.h"

#include <fmt/format.h>
#include <llvm/DebugInfo/CodeView/DebugFrameDataSubsection.h>
#include <llvm/DebugInfo/CodeView/SymbolDeserializer.h>
#include <llvm/DebugInfo/CodeView/SymbolRecord.h>
#include <llvm/DebugInfo/MSF/MappedBlockStream.h>
#include <llvm/DebugInfo/PDB/Native/DbiModuleList.h>
#include <llvm/DebugInfo/PDB/Native/DbiStream.h>
#include <llvm/DebugInfo/PDB/Native/InfoStream.h>
#include <llvm/DebugInfo/PDB/Native/ModuleDebugStream.h>
#include <llvm/DebugInfo/PDB/Native/PDBFile.h>
#include <llvm/DebugInfo/PDB/Native/PDBStringTable.h>
#include <llvm/DebugInfo/PDB/Native/RawConstants.h>
#include <llvm/DebugInfo/PDB/Native/SymbolStream.h>
#include <llvm/Object/COFF.h>
#include <llvm/Support/Error.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <tuple>

namespace sb::pdb {
namespace fs = std::filesystem;
using namespace llvm::pdb;
using namespace llvm::codeview;

namespace {

// One name as a record gives it, before one per rva is chosen.
struct Candidate {
  uint32_t rva = 0;
  std::string name;
  bool isFunction = false, fromProc = false, isGlobal = false;
  uint32_t size = 0;
  // Procedures first (global before local), then function publics, then data.
  int rank() const { return fromProc ? (isGlobal ? 0 : 1) : (isFunction ? 2 : 3); }
};

struct Identity {
  std::array<uint8_t, 16> guid{};
  uint32_t age = 0;
};

// The last path component; CodeView paths are often Windows paths.
std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of("/\\");
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

template <typename T>
std::optional<T> readSymbol(const CVSymbol &sym) {
  auto r = SymbolDeserializer::deserializeAs<T>(sym);
  if (!r) {
    llvm::consumeError(r.takeError());
    return std::nullopt;
  }
  return std::move(*r);
}

// The image's RSDS record: what a PDB must carry to describe this build.
Expected<pe::CodeViewInfo> codeViewOf(const pe::PeImage &img, const std::string &imageName) {
  bool sawNb10 = false;
  for (const pe::DebugEntry &d : img.debugEntries()) {
    if (d.codeView && d.codeView->signature == "RSDS")
      return *d.codeView;
    sawNb10 |= d.codeView && d.codeView->signature == "NB10";
  }
  if (sawNb10)
    return makeError(imageName + " has an NB10 CodeView record (PDB 2.0); only PDB 7.0 (RSDS) files are read");
  return makeError(imageName + " has no CodeView (RSDS) record to match a PDB against");
}

// The age matched against the image is the DBI stream's (as debuggers and
// symbol servers take it): the PDB stream's age can run ahead of it when a
// PDB is rewritten after the link. Without a DBI stream, the PDB stream's.
Expected<Identity> identityOf(PDBFile &file, DbiStream *dbi) {
  auto info = file.getPDBInfoStream();
  if (!info)
    return makeError("no PDB info stream: " + llvm::toString(info.takeError()));
  Identity id;
  std::memcpy(id.guid.data(), info->getGuid().Guid, 16);
  id.age = dbi ? dbi->getAge() : info->getAge();
  return id;
}

std::optional<std::string> mismatch(const Identity &pdb, const pe::CodeViewInfo &cv, const std::string &pdbName,
                                    const std::string &imageName) {
  bool guidOk = std::equal(pdb.guid.begin(), pdb.guid.end(), cv.guid.begin());
  if (guidOk && pdb.age == cv.age)
    return std::nullopt;
  return fmt::format("{} does not match {}: {} differs (PDB GUID {} age {}, image expects {} age {})", pdbName,
                     imageName, guidOk ? "the age" : "the GUID", formatGuid(pdb.guid), pdb.age, cv.guidString(),
                     cv.age);
}

// section:offset -> RVA through the PDB's copy of the section headers, or the
// image's when the PDB has none; offsets past a section's extent are refused.
class SectionMap {
public:
  SectionMap(DbiStream *dbi, const pe::PeImage &img) {
    if (dbi)
      for (const llvm::object::coff_section &s : dbi->getSectionHeaders())
        spans_.push_back({s.VirtualAddress, std::max<uint32_t>(s.VirtualSize, s.SizeOfRawData)});
    if (spans_.empty())
      for (const pe::Section &s : img.sections())
        spans_.push_back({s.rva, std::max(s.virtualSize, s.rawSize)});
  }
  std::optional<uint32_t> rva(uint16_t segment, uint32_t offset) const {
    if (segment == 0 || segment > spans_.size())
      return std::nullopt;
    auto [start, size] = spans_[segment - 1];
    if (offset >= size || uint64_t(start) + offset > UINT32_MAX)
      return std::nullopt;
    return start + offset;
  }

private:
  std::vector<std::pair<uint32_t, uint32_t>> spans_;   // (rva, extent) by section number - 1
};

struct Collector {
  const SectionMap &sections;
  std::vector<Candidate> candidates;
  std::vector<std::string> warnings;
  size_t outside = 0;   // records whose address lies in no section

  void add(uint16_t segment, uint32_t offset, Candidate c) {
    auto rva = sections.rva(segment, offset);
    if (!rva) {
      ++outside;
      return;
    }
    c.rva = *rva;
    candidates.push_back(std::move(c));
  }
};

bool isProcKind(SymbolKind k) {
  return k == S_GPROC32 || k == S_LPROC32 || k == S_GPROC32_ID || k == S_LPROC32_ID;
}

void collectModuleProcs(PDBFile &file, const DbiModuleDescriptor &desc, Collector &out) {
  uint16_t si = desc.getModuleStreamIndex();
  if (si == kInvalidStreamIndex)
    return;
  auto stream = file.safelyCreateIndexedStream(si);
  if (!stream) {
    out.warnings.push_back(fmt::format("module {}: {}", desc.getModuleName().str(), llvm::toString(stream.takeError())));
    return;
  }
  ModuleDebugStreamRef mds(desc, std::move(*stream));
  if (auto e = mds.reload()) {
    out.warnings.push_back(fmt::format("module {}: {}", desc.getModuleName().str(), llvm::toString(std::move(e))));
    return;
  }
  bool hadError = false;
  for (const CVSymbol &sym : mds.symbols(&hadError)) {
    if (!isProcKind(sym.kind()))
      continue;
    if (auto p = readSymbol<ProcSym>(sym))
      out.add(p->Segment, p->CodeOffset,
              {0, p->Name.str(), true, true, sym.kind() == S_GPROC32 || sym.kind() == S_GPROC32_ID, p->CodeSize});
  }
  if (hadError)
    out.warnings.push_back(fmt::format("module {}: symbol records end in a damaged one", desc.getModuleName().str()));
}

// S_PUB32 records straight from the symbol record stream: walking it checks
// every record's bounds, where the publics hash's offsets would be trusted.
void collectPublics(PDBFile &file, Collector &out) {
  auto syms = file.getPDBSymbolStream();
  if (!syms) {
    out.warnings.push_back("no public symbols: " + llvm::toString(syms.takeError()));
    return;
  }
  bool hadError = false;
  const CVSymbolArray &records = syms->getSymbolArray();
  for (auto it = records.begin(&hadError); it != records.end(); ++it) {
    if (it->kind() != S_PUB32)
      continue;
    if (auto p = readSymbol<PublicSym32>(*it)) {
      bool code = (uint32_t(p->Flags) & uint32_t(PublicSymFlags::Function)) != 0;
      out.add(p->Segment, p->Offset, {0, p->Name.str(), code, false, false, 0});
    }
  }
  if (hadError)
    out.warnings.push_back("public symbol records end in a damaged one");
}

// x86 C names carry a '_' or '@' prefix and stdcall/fastcall an "@<bytes>"
// suffix the procedure record leaves off.
std::string withoutCDecoration(const std::string &name) {
  std::string s = name;
  if (!s.empty() && (s[0] == '_' || s[0] == '@'))
    s.erase(0, 1);
  size_t at = s.rfind('@');
  if (at != std::string::npos && at + 1 < s.size() &&
      s.find_first_not_of("0123456789", at + 1) == std::string::npos)
    s.erase(at);
  return s;
}

// Whether a public's decorated name is that of a procedure: the procedure
// record has the bare qualified name, the demangled public adds parameters.
bool publicNamesProc(const std::string &pub, const std::string &proc) {
  if (pub.starts_with("?")) {
    std::string d = demangleMsvcShort(pub);
    return d == proc || (d.starts_with(proc) && d.size() > proc.size() && d[proc.size()] == '(');
  }
  return pub == proc || withoutCDecoration(pub) == proc;
}

// A procedure named by its public's decorated name when one at its rva is
// its own (folded functions share an rva), so the display form carries the
// parameters like demangled names elsewhere; else by the record's name.
PdbSymbol procSymbol(const Candidate &proc, const Candidate *begin, const Candidate *end) {
  PdbSymbol s{proc.rva, proc.name, proc.name, true, true, proc.size};
  for (const Candidate *c = begin; c != end; ++c)
    if (!c->fromProc && publicNamesProc(c->name, proc.name)) {
      s.raw = c->name;
      if (c->name.starts_with("?"))
        s.name = demangleMsvcShort(c->name);
      break;
    }
  return s;
}

std::vector<PdbSymbol> onePerRva(std::vector<Candidate> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate &a, const Candidate &b) {
    int ra = a.rank(), rb = b.rank();
    return std::tie(a.rva, ra, a.name) < std::tie(b.rva, rb, b.name);
  });
  std::vector<PdbSymbol> out;
  for (size_t i = 0; i < candidates.size();) {
    size_t j = i;
    while (j < candidates.size() && candidates[j].rva == candidates[i].rva)
      ++j;
    const Candidate &c = candidates[i];
    if (c.fromProc)
      out.push_back(procSymbol(c, &candidates[i], &candidates[0] + j));
    else
      out.push_back({c.rva, demangleMsvcShort(c.name), c.name, c.isFunction, false, 0});
    i = j;
  }
  return out;
}

DbiStream *dbiOf(PDBFile &file, std::vector<std::string> &warnings) {
  if (!file.hasPDBDbiStream())
    return nullptr;
  auto dbi = file.getPDBDbiStream();
  if (!dbi) {
    warnings.push_back("no DBI stream: " + llvm::toString(dbi.takeError()));
    return nullptr;
  }
  return &*dbi;
}

// The FRAMEDATA records with their program strings (from the PDB's string
// table); a record whose string is missing is dropped with a warning.
std::vector<FrameRecord> frameRecordsOf(PDBFile &file, DbiStream &dbi, std::vector<std::string> &warnings) {
  std::vector<FrameRecord> out;
  if (!dbi.hasNewFpoRecords())
    return out;
  auto strings = file.getStringTable();
  if (!strings) {
    warnings.push_back("frame data without a string table: " + llvm::toString(strings.takeError()));
    return out;
  }
  size_t dropped = 0;
  for (const llvm::codeview::FrameData &f : dbi.getNewFpoRecords()) {
    auto program = strings->getStringForID(f.FrameFunc);
    if (!program) {
      llvm::consumeError(program.takeError());
      ++dropped;
      continue;
    }
    out.push_back({f.RvaStart, f.CodeSize, f.LocalSize, f.SavedRegsSize, program->str()});
  }
  if (dropped)
    warnings.push_back(fmt::format("{} frame data records name no program string and were dropped", dropped));
  std::stable_sort(out.begin(), out.end(), [](const FrameRecord &a, const FrameRecord &b) { return a.rva < b.rva; });
  return out;
}

Expected<PdbNames> readMatched(PDBFile &file, DbiStream *dbi, const pe::PeImage &img, PdbNames names) {
  SectionMap sections(dbi, img);
  Collector out{sections, {}, std::move(names.warnings)};
  if (dbi) {
    const DbiModuleList &mods = dbi->modules();
    for (uint32_t i = 0; i < mods.getModuleCount(); ++i)
      collectModuleProcs(file, mods.getModuleDescriptor(i), out);
    // Post-link rewritten images (OMAP) keep symbols at pre-rewrite addresses.
    if (dbi->getDebugStreamIndex(DbgHeaderType::OmapFromSrc) != kInvalidStreamIndex)
      out.warnings.push_back("the PDB has an OMAP address map, which is not applied: addresses may be wrong");
  }
  collectPublics(file, out);
  if (out.outside)
    out.warnings.push_back(fmt::format("{} symbol records lie outside every section and were dropped", out.outside));
  names.symbols = onePerRva(std::move(out.candidates));
  if (dbi)
    names.frames = frameRecordsOf(file, *dbi, out.warnings);
  names.warnings = std::move(out.warnings);
  return names;
}

} // namespace

Expected<PdbNames> readPdbNames(const pe::PeImage &img, const std::string &pdbPath, const std::string &imageName) {
  auto cv = codeViewOf(img, imageName);
  if (!cv)
    return makeError(cv.error());
  auto pdb = openPdb(pdbPath);
  if (!pdb)
    return makeError(pdb.error());
  PDBFile &file = *pdb->file;
  PdbNames names;
  names.path = pdbPath;
  DbiStream *dbi = dbiOf(file, names.warnings);
  auto id = identityOf(file, dbi);
  if (!id)
    return makeError(pdbPath + ": " + id.error());
  if (auto why = mismatch(*id, *cv, baseName(pdbPath), imageName))
    return makeError(*why);
  return readMatched(file, dbi, img, std::move(names));
}

namespace {

// <GUID><AGE> as symbol servers name the directory: 32 hex digits, age in hex.
std::string symbolServerKey(const pe::CodeViewInfo &cv) {
  std::string key;
  for (char ch : cv.guidString())
    if (ch != '{' && ch != '}' && ch != '-')
      key += ch;
  return key + fmt::format("{:X}", cv.age);
}

std::vector<std::string> symbolPathDirs() {
  std::vector<std::string> dirs;
  const char *env = std::getenv("SWITCHBOARD_SYMBOL_PATH");
  std::string all = env ? env : "";
  size_t start = 0;
  while (start <= all.size()) {
    size_t end = all.find_first_of(";:", start);
    if (end == std::string::npos)
      end = all.size();
    if (end > start)
      dirs.push_back(all.substr(start, end - start));
    start = end + 1;
  }
  return dirs;
}

// Where to look, in order, without duplicates.
std::vector<std::string> candidatePaths(const pe::PeImage &img, const std::string &imagePath) {
  fs::path image(imagePath);
  fs::path dir = image.parent_path();
  std::string stemName = image.stem().string() + ".pdb";
  std::optional<pe::CodeViewInfo> cv;
  if (auto c = codeViewOf(img, image.filename().string()))
    cv = *c;
  std::string cvName = cv ? baseName(cv->pdbPath) : "";
  std::vector<std::string> paths{(dir / stemName).string()};
  if (!cvName.empty())
    paths.push_back((dir / cvName).string());
  for (const std::string &d : symbolPathDirs())
    for (const std::string &name : {cvName, stemName}) {
      if (name.empty())
        continue;
      paths.push_back((fs::path(d) / name).string());
      if (cv)
        paths.push_back((fs::path(d) / name / symbolServerKey(*cv) / name).string());
    }
  std::vector<std::string> unique;
  for (std::string &p : paths)
    if (std::find(unique.begin(), unique.end(), p) == unique.end())
      unique.push_back(std::move(p));
  return unique;
}

} // namespace

Expected<PdbNames> findPdbNames(const pe::PeImage &img, const std::string &imagePath, const std::string &explicitPdb) {
  std::string imageName = fs::path(imagePath).filename().string();
  if (!explicitPdb.empty())
    return readPdbNames(img, explicitPdb, imageName);
  PdbNames none;
  for (const std::string &path : candidatePaths(img, imagePath)) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec))
      continue;
    auto names = readPdbNames(img, path, imageName);
    if (names) {
      names->warnings.insert(names->warnings.begin(), none.warnings.begin(), none.warnings.end());
      return names;
    }
    none.warnings.push_back("skipped " + path + ": " + names.error());
  }
  return none;
}

} // namespace sb::pdb
