// The images of a dump's modules: each module's PE file, looked for in the
// directories given (--modules), then next to the dump, by file name (case
// does not matter: the process saw Windows paths); without one, the image
// as mapped, rebuilt from a full-memory dump's pages. A file whose
// TimeDateStamp or SizeOfImage differs from the dump's module record is
// refused with a warning, never used silently. PDBs are found as the
// session's --pdb search finds them (an image rebuilt from memory as if its
// file lay in each searched directory). Each image found is an
// analysis session (symbols, PDB, recovered names, unwind data: computed on
// first use, once).
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/dump/Minidump.h"
#include "switchboard/dump/Unwinder.h"
#include "switchboard/names/Names.h"

#include <map>
#include <mutex>

#include <memory>
#include <string>
#include <vector>

namespace sb::dump {

struct ModuleSearch {
  std::vector<std::string> directories;   // --modules, in order
  std::string dumpPath;                    // its directory is searched last
  bool findPdb = true;
  std::shared_ptr<const api::ApiTable> api;
};

class LoadedModule {
public:
  const ModuleRecord &record() const { return *record_; }
  // "ntdll" for C:\windows\system32\ntdll.dll.
  const std::string &name() const { return name_; }
  // The session over the module's file; nullptr when none was found or the
  // one found does not match (problem() says which).
  const Analysis *analysis() const { return analysis_.get(); }
  // The file used, or "(dump memory)" when the image was rebuilt from the
  // pages a full-memory dump holds.
  const std::string &file() const { return file_; }
  bool fromMemory() const { return fromMemory_; }
  const std::string &problem() const { return problem_; }
  // For the unwinder; image null without a file.
  UnwindModule unwindModule() const;
  // The name of the function holding va ("WndProc_Main", "NtWaitForSingleObject")
  // and va's offset in it, from the module's names (symbols first, then
  // recovered names) and its unwind data; nullopt when nothing names it.
  struct Symbol {
    std::string function;
    uint64_t offset = 0;
    std::string label;   // a label inside it at or before va (a message handler), if any
  };
  std::optional<Symbol> symbolize(uint64_t va) const;
  // Whether recovered names (window procedures, message handlers, structors)
  // name its frames: the application's modules, not the system's.
  bool recoveredNames() const { return recoveredNames_; }

private:
  friend class ModuleSet;
  const std::map<uint64_t, names::Name> &names() const;

  const ModuleRecord *record_ = nullptr;
  std::string name_, file_, problem_;
  std::unique_ptr<Analysis> analysis_;
  bool recoveredNames_ = false;
  bool fromMemory_ = false;
  mutable std::once_flag symbolsOnce_;
  mutable std::map<uint64_t, names::Name> symbolNames_;
};

class ModuleSet {
public:
  ModuleSet(const Minidump &dump, const ModuleSearch &search);
  const std::vector<std::unique_ptr<LoadedModule>> &modules() const { return modules_; }
  const LoadedModule *containing(uint64_t va) const;
  const std::vector<std::string> &warnings() const { return warnings_; }

private:
  // The module's session over img (read from `file`, or "(dump memory)").
  static void adopt(LoadedModule &m, pe::PeImage img, std::string file, std::shared_ptr<const pdb::PdbNames> pdb,
                    const ModuleSearch &search);

  // The first matching PDB of an image read from (or standing in for) one
  // of paths, as the session's --pdb search finds it; mismatches warn.
  std::shared_ptr<const pdb::PdbNames> findPdb(const pe::PeImage &img, const std::vector<std::string> &paths);

  std::vector<std::unique_ptr<LoadedModule>> modules_;   // the dump's order (by base)
  std::vector<std::string> warnings_;
};

} // namespace sb::dump
