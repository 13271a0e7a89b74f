#include "switchboard/dump/Modules.h"

#include "switchboard/names/Names.h"
#include "switchboard/pdb/PdbNames.h"
#include "switchboard/support/Text.h"
#include "switchboard/unwind/ExceptionDirectory.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>

namespace sb::dump {
namespace fs = std::filesystem;
namespace {

// The files in dir named `name`, whatever the case.
std::vector<std::string> filesNamed(const fs::path &dir, const std::string &name) {
  std::vector<std::string> out;
  std::error_code ec;
  const fs::path exact = dir / name;
  if (fs::is_regular_file(exact, ec))
    out.push_back(exact.string());
  const std::string want = toLower(name);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec) && toLower(it->path().filename().string()) == want && it->path() != exact)
      out.push_back(it->path().string());
  return out;
}

// A module the system loads from its own directory (C:\Windows\System32,
// SysWOW64, WinSxS): named from its symbols only.
bool isSystemPath(const std::string &path) {
  const std::string p = toLower(path);
  return p.find("\\windows\\system32\\") != std::string::npos ||
         p.find("\\windows\\syswow64\\") != std::string::npos ||
         p.find("\\windows\\winsxs\\") != std::string::npos;
}

// The module as the process mapped it, from a dump that holds its pages (a
// full-memory dump): nullopt without its headers, or when the headers'
// TimeDateStamp or SizeOfImage are not the module record's.
constexpr uint32_t kMaxMappedImage = 512u << 20;

std::optional<pe::PeImage> mappedImage(const Minidump &dump, const ModuleRecord &r, std::string &why) {
  if (r.size == 0 || r.size > kMaxMappedImage || dump.bytesAt(r.base).size() < 0x200) {
    why = "its headers are not in the dump";
    return std::nullopt;
  }
  std::vector<uint8_t> bytes(r.size, 0);
  for (uint32_t at = 0; at < r.size;) {
    std::span<const uint8_t> have = dump.bytesAt(r.base + at);
    if (have.empty()) {
      at = (at | 0xFFF) + 1;   // a page the dump lacks stays zero
      continue;
    }
    const size_t n = std::min<size_t>(have.size(), r.size - at);
    std::copy_n(have.begin(), n, bytes.begin() + at);
    at += uint32_t(n);
  }
  auto img = pe::PeImage::parseMapped(std::move(bytes));
  if (!img) {
    why = img.error();
    return std::nullopt;
  }
  if (img->headers().timeDateStamp != r.timeDateStamp || img->headers().sizeOfImage != r.size) {
    why = "its mapped headers do not match the module record";
    return std::nullopt;
  }
  return img.take();
}

} // namespace

UnwindModule LoadedModule::unwindModule() const {
  if (!analysis_)
    return {nullptr, nullptr, record_->base};
  const pdb::PdbNames *pdb = analysis_->pdb();
  return {&analysis_->image(), &analysis_->exceptionDirectory(), record_->base, &analysis_->decoder(),
          pdb && !pdb->frames.empty() ? &pdb->frames : nullptr};
}

// The names symbolize reads: the naming service's (symbols, then recovered
// names and message-handler labels) for the application's own modules;
// symbols only (exports, COFF, PDB) for the system's, whose full analysis
// would cost more than the walk and name nothing a symbol does not.
const std::map<uint64_t, names::Name> &LoadedModule::names() const {
  if (recoveredNames_)
    return analysis_->names().all();
  std::call_once(symbolsOnce_, [this] {
    for (const auto &[rva, name] : analysis_->symbols())
      symbolNames_.emplace(rva, names::Name{name.second, name.first, names::Source::Export, false});
  });
  return symbolNames_;
}

std::optional<LoadedModule::Symbol> LoadedModule::symbolize(uint64_t va) const {
  if (!analysis_ || !record_->contains(va))
    return std::nullopt;
  const uint32_t rva = uint32_t(va - record_->base);
  const std::map<uint64_t, names::Name> &all = names();
  Symbol s;
  // The function: the .pdata entry's primary begin, else the nearest
  // function name at or before rva.
  if (const pe::RuntimeFunction *e = analysis_->exceptionDirectory().entryFor(rva)) {
    const auto &entries = analysis_->image().runtimeFunctions();
    const uint32_t begin = e->primary < entries.size() ? entries[e->primary].begin : e->begin;
    auto it = all.find(begin);
    if (it == all.end() || it->second.label)
      return std::nullopt;
    s.function = it->second.text;
    s.offset = rva - begin;
  } else {
    auto it = all.upper_bound(rva);
    while (it != all.begin() && std::prev(it)->second.label)
      --it;
    if (it == all.begin())
      return std::nullopt;
    --it;
    s.function = it->second.text;
    s.offset = rva - it->first;
  }
  // x86 C names as WinDbg shows them: "_NtWaitForMultipleObjects@20" is
  // NtWaitForMultipleObjects (and the API table knows it by that name).
  if (!analysis_->image().is64())
    s.function = undecorate(s.function);
  // A label inside the function at or before rva: the message handler the
  // pc is in.
  const uint64_t functionStart = rva - s.offset;
  for (auto it = all.upper_bound(rva); it != all.begin();) {
    --it;
    if (it->first <= functionStart)
      break;
    if (it->second.label) {
      s.label = it->second.text;
      break;
    }
  }
  return s;
}

void ModuleSet::adopt(LoadedModule &m, pe::PeImage img, std::string file, std::shared_ptr<const pdb::PdbNames> pdb,
                      const ModuleSearch &search) {
  AnalysisOptions o;
  o.api = search.api;
  o.threads = 1;
  o.pdb = std::move(pdb);
  m.file_ = std::move(file);
  m.recoveredNames_ = !isSystemPath(m.record_->path);
  m.analysis_ = Analysis::fromImage(std::move(img), m.name_, std::move(o));
}

ModuleSet::ModuleSet(const Minidump &dump, const ModuleSearch &search) {
  std::vector<fs::path> dirs(search.directories.begin(), search.directories.end());
  if (!search.dumpPath.empty())
    dirs.push_back(fs::absolute(fs::path(search.dumpPath)).parent_path());
  for (const ModuleRecord &r : dump.modules()) {
    auto m = std::make_unique<LoadedModule>();
    m->record_ = &r;
    m->name_ = moduleNameOf(r.fileName());
    std::vector<std::string> refused;
    for (const fs::path &dir : dirs) {
      for (const std::string &file : filesNamed(dir, r.fileName())) {
        auto img = pe::PeImage::load(file);
        if (!img)
          continue;
        const pe::Headers &h = img->headers();
        if (h.timeDateStamp != r.timeDateStamp || h.sizeOfImage != r.size) {
          refused.push_back(fmt::format("{} (TimeDateStamp {:08x}, SizeOfImage {:#x}; the dump's {:08x}, {:#x})", file,
                                        h.timeDateStamp, h.sizeOfImage, r.timeDateStamp, r.size));
          continue;
        }
        std::shared_ptr<const pdb::PdbNames> pdb = search.findPdb ? findPdb(*img, {file}) : nullptr;
        adopt(*m, img.take(), file, std::move(pdb), search);
        break;
      }
      if (m->analysis_)
        break;
    }
    if (!m->analysis_) {
      std::string why;
      if (auto img = mappedImage(dump, r, why)) {
        // Its PDB as if the file lay in each searched directory: by the
        // module's name and by the CodeView record the mapped image holds.
        std::vector<std::string> asIf;
        for (const fs::path &dir : dirs)
          asIf.push_back((dir / r.fileName()).string());
        std::shared_ptr<const pdb::PdbNames> pdb = search.findPdb ? findPdb(*img, asIf) : nullptr;
        adopt(*m, std::move(*img), "(dump memory)", std::move(pdb), search);
        m->fromMemory_ = true;
      }
    }
    for (const std::string &why : refused)
      warnings_.push_back(fmt::format("module {}: refused {}", r.fileName(), why));
    if (!m->analysis_)
      m->problem_ = refused.empty() ? "no image file found" : "no matching image file";
    modules_.push_back(std::move(m));
  }
}

std::shared_ptr<const pdb::PdbNames> ModuleSet::findPdb(const pe::PeImage &img, const std::vector<std::string> &paths) {
  for (const std::string &path : paths) {
    auto names = pdb::findPdbNames(img, path, "");
    if (!names) {
      warnings_.push_back(fmt::format("{}: {}", path, names.error()));
      continue;
    }
    if (!names->path.empty())
      return std::make_shared<const pdb::PdbNames>(names.take());
  }
  return nullptr;
}

const LoadedModule *ModuleSet::containing(uint64_t va) const {
  auto it = std::upper_bound(modules_.begin(), modules_.end(), va,
                             [](uint64_t v, const std::unique_ptr<LoadedModule> &m) { return v < m->record().base; });
  if (it == modules_.begin())
    return nullptr;
  --it;
  return (*it)->record().contains(va) ? it->get() : nullptr;
}

} // namespace sb::dump
