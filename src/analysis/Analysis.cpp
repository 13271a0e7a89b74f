#include "analysis/Models.h"

#include "switchboard/api/ApiTable.h"

#include "switchboard/code/Thunks.h"
#include "switchboard/db/ProjectDb.h"
#include "switchboard/pdb/PdbNames.h"
#include "switchboard/support/Demangle.h"
#include "switchboard/support/Text.h"

#include <algorithm>
#include <fmt/format.h>

namespace sb {

std::string undecorate(std::string_view name) {
  if (name.empty() || name[0] == '?')
    return std::string(name);
  std::string_view n = name;
  if (n.substr(0, 6) == "__imp_")
    n.remove_prefix(6);
  if (!n.empty() && (n[0] == '_' || n[0] == '@'))
    n.remove_prefix(1);
  // "@20", also before a GCC clone's suffix: "_f@20.part.0" -> "f.part.0".
  if (auto at = n.find('@'); at != std::string_view::npos && at > 0) {
    const size_t digitsEnd = std::min(n.find('.', at), n.size());
    if (digitsEnd > at + 1 &&
        std::all_of(n.begin() + long(at) + 1, n.begin() + long(digitsEnd), [](char c) { return c >= '0' && c <= '9'; }))
      return std::string(n.substr(0, at)) + std::string(n.substr(digitsEnd));
  }
  return std::string(n);
}

Expected<std::unique_ptr<Analysis>> Analysis::open(const std::string &path, AnalysisOptions options) {
  if (db::isProjectDb(path))
    return db::openProjectDb(path, std::move(options));
  auto img = pe::PeImage::load(path);
  if (!img)
    return makeError(img.error());
  if (!options.pdb && (options.findPdb || !options.pdbPath.empty())) {
    auto names = pdb::findPdbNames(*img, path, options.pdbPath);
    if (!names)
      return makeError(names.error());
    if (!names->path.empty())
      options.pdb = std::make_shared<const pdb::PdbNames>(names.take());
  }
  return fromImage(img.take(), moduleNameOf(path), std::move(options));
}

std::string moduleNameOf(const std::string &path) {
  std::string base = path.substr(path.find_last_of("/\\") + 1);
  if (auto dot = base.rfind('.'); dot != std::string::npos && dot > 0)
    base.resize(dot);
  return base;
}

std::unique_ptr<Analysis> Analysis::fromImage(pe::PeImage image, std::string moduleName, AnalysisOptions options,
                                             std::unique_ptr<ModelStore> store) {
  return std::unique_ptr<Analysis>(
      new Analysis(std::move(image), std::move(moduleName), std::move(options), std::move(store)));
}

Analysis::Analysis(pe::PeImage image, std::string moduleName, AnalysisOptions options,
                   std::unique_ptr<ModelStore> store)
    : image_(std::move(image)), module_(std::move(moduleName)), options_(std::move(options)),
      decoder_(std::make_unique<const code::Decoder>(image_.is64(), image_.imageBase())), store_(std::move(store)), models_(std::make_unique<Models>()) {
  // Exports some DLLs give by ordinal only (comctl32's SetWindowSubclass):
  // every consumer sees the name.
  image_.nameOrdinalImports(
      [](std::string_view dll, uint16_t ordinal) { return api::ApiTable::builtin().ordinalName(dll, ordinal); });
  collectSymbols();
}

void Analysis::collectSymbols() {
  // COFF symbols first, exports override them (the export name is what other
  // modules see).
  for (const pe::CoffSymbol &s : image_.coffSymbols()) {
    if (!s.rva || s.name.empty() || s.name[0] == '.' || !image_.isExecutableRva(*s.rva))
      continue;
    if (s.storageClass != 2 && s.storageClass != 3 && s.storageClass != 6)   // external, static, label
      continue;
    if (s.storageClass == 3 && !s.isFunction())
      continue;   // section symbols and static data
    symbols_.try_emplace(*s.rva, s.name, demangleMsvcShort(s.name));
  }
  for (const pe::Export &e : image_.exports().exports)
    if (e.rva && !e.name.empty())
      symbols_[e.rva] = {e.name, demangleMsvcShort(e.name)};
  // A matching PDB names what the file itself does not, and its names win
  // (they are the compiler's, exports may be aliases).
  if (options_.pdb)
    for (const pdb::PdbSymbol &s : options_.pdb->symbols)
      if (s.rva && !s.name.empty() && image_.isMappedRva(s.rva)) {
        symbols_[s.rva] = {s.raw.empty() ? s.name : s.raw, s.name};
        pdbRvas_.insert(s.rva);
      }
}

const std::vector<code::Function> &Analysis::functions() const {
  std::call_once(functionsOnce_, [this] { buildFunctions(); });
  return functions_;
}

void Analysis::buildFunctions() const {
  if (store_)
    if (auto stored = store_->functions()) {
      functions_ = std::move(*stored);
      for (const code::Function &f : functions_)
        for (const code::Range &c : f.chunks)
          chunkIndex_.emplace_back(c, uint32_t(&f - functions_.data()));
      std::sort(chunkIndex_.begin(), chunkIndex_.end(),
                [](const auto &a, const auto &b) { return a.first.rva < b.first.rva; });
      return;
    }
  code::DiscoveryOptions dopts;
  dopts.threads = options_.threads;
  dopts.progress = options_.progress;
  if (options_.pdb)
    for (const pdb::PdbSymbol &s : options_.pdb->symbols)
      if (s.isFunction)
        dopts.symbolStarts.push_back(s.rva);
  functions_ = code::discoverFunctions(image_, dopts);
  for (code::Function &f : functions_) {
    if (auto it = symbols_.find(f.rva); it != symbols_.end()) {
      f.rawName = it->second.first;
      f.name = it->second.second;
    } else if (f.isImportThunk) {
      const pe::Import *imp = image_.importForIat(f.thunkIatRva);
      f.name = imp->byOrdinal && imp->name.empty() ? fmt::format("{}#{}", imp->dll, imp->ordinal) : imp->name;
    } else {
      f.name = fmt::format("sub_{:X}", f.rva);
    }
    for (const code::Range &c : f.chunks)
      chunkIndex_.emplace_back(c, uint32_t(&f - functions_.data()));
  }
  nameDelayLoadThunks();
  std::sort(chunkIndex_.begin(), chunkIndex_.end(),
            [](const auto &a, const auto &b) { return a.first.rva < b.first.rva; });
}

// A delay-load IAT slot initially points at the linker's load thunk
// (`__imp_load_X`), which jumps to the DLL's shared `__tailMerge_dll`.
void Analysis::nameDelayLoadThunks() const {
  auto findFn = [&](uint32_t rva) -> code::Function * {
    auto it = std::lower_bound(functions_.begin(), functions_.end(), rva,
                               [](const code::Function &f, uint32_t v) { return f.rva < v; });
    return it != functions_.end() && it->rva == rva ? &*it : nullptr;
  };
  for (const pe::Import &imp : image_.delayImports()) {
    auto va = image_.readPointer(imp.iatRva);
    auto rva = va ? image_.vaToRva(*va) : std::nullopt;
    code::Function *load = rva ? findFn(*rva) : nullptr;
    if (!load || symbols_.count(load->rva))
      continue;
    load->name = "__imp_load_" + (imp.byOrdinal && imp.name.empty() ? fmt::format("#{}", imp.ordinal) : imp.name);
    if (load->tailCalls.size() == 1)
      if (code::Function *merge = findFn(load->tailCalls[0]); merge && !symbols_.count(merge->rva)) {
        std::string dll = imp.dll;
        std::replace(dll.begin(), dll.end(), '.', '_');
        merge->name = "__tailMerge_" + dll;
      }
  }
}

const code::Function *Analysis::functionAt(uint32_t rva) const {
  const auto &fns = functions();
  auto it = std::lower_bound(fns.begin(), fns.end(), rva, [](const code::Function &f, uint32_t v) { return f.rva < v; });
  return it != fns.end() && it->rva == rva ? &*it : nullptr;
}

const code::Function *Analysis::functionContaining(uint32_t rva) const {
  const auto &fns = functions();
  if (const code::Function *f = functionAt(rva))
    return f;
  auto it = std::upper_bound(chunkIndex_.begin(), chunkIndex_.end(), rva,
                             [](uint32_t v, const auto &e) { return v < e.first.rva; });
  // Chunks may overlap when code is shared; look back a little for one that
  // contains rva.
  for (int k = 0; k < 16 && it != chunkIndex_.begin(); ++k) {
    --it;
    if (it->first.contains(rva))
      return &fns[it->second];
  }
  return nullptr;
}

std::optional<std::string> Analysis::nameAt(uint32_t rva) const {
  if (const pe::Import *imp = image_.importForIat(rva)) {
    const std::string dll = toLower(imp->dll.substr(0, imp->dll.rfind('.')));
    return imp->byOrdinal && imp->name.empty() ? fmt::format("{}!#{}", dll, imp->ordinal) : dll + "!" + imp->name;
  }
  if (auto it = symbols_.find(rva); it != symbols_.end())
    return it->second.second;
  if (const code::Function *f = functionAt(rva))
    return f->name;
  return std::nullopt;
}

std::optional<std::string> Analysis::symbolAt(uint32_t rva) const {
  if (auto it = symbols_.find(rva); it != symbols_.end())
    return it->second.second;
  return std::nullopt;
}

std::optional<std::string> Analysis::importThunkAt(uint32_t rva) const {
  const pe::Import *imp = image_.codeAnalysisSupported() ? code::importThunkAt(image_, *decoder_, rva) : nullptr;
  if (!imp)
    return std::nullopt;
  return imp->byOrdinal && imp->name.empty() ? fmt::format("{}#{}", imp->dll, imp->ordinal) : imp->name;
}

std::string Analysis::describe(uint32_t rva) const {
  if (auto n = nameAt(rva))
    return *n;
  if (const code::Function *f = functionContaining(rva))
    return fmt::format("{}+0x{:x}", f->name, rva - f->rva);
  return fmt::format("{}+0x{:x}", module_, rva);
}

std::string Analysis::symbolize(uint32_t rva) const {
  const code::Function *f = functionContaining(rva);
  if (!f)
    return fmt::format("{}+0x{:x}", module_, rva);
  if (rva == f->rva)
    return fmt::format("{}!{}", module_, f->name);
  return fmt::format("{}!{}+0x{:x}", module_, f->name, rva - f->rva);
}

std::string Analysis::displayName(uint32_t rva) const {
  if (auto n = names().textAt(rva))
    return *n;
  return symbolize(rva);
}

std::optional<uint32_t> Analysis::resolve(std::string_view text) const {
  auto byName = [&]() -> std::optional<uint32_t> {
    std::string want(text);
    for (const code::Function &f : functions())
      if (f.name == want || f.rawName == want)
        return f.rva;
    for (const code::Function &f : functions()) {
      std::string shortName = f.name.substr(0, f.name.find('('));
      if (shortName == want || (!f.rawName.empty() && undecorate(f.rawName) == want))
        return f.rva;
    }
    return std::nullopt;
  };
  if (text == "$exentry")
    return image_.headers().entryPointRva;
  const bool prefixed = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (!prefixed)
    if (auto r = byName())
      return r;
  const std::optional<uint64_t> parsed = parseHexAddress(text);
  if (!parsed)
    return std::nullopt;
  const uint64_t v = *parsed;
  // A VA when above the image base, else an RVA.
  if (v >= image_.imageBase() && v - image_.imageBase() < 0x100000000ull)
    return uint32_t(v - image_.imageBase());
  if (v < 0x100000000ull)
    return uint32_t(v);
  return std::nullopt;
}

} // namespace sb
