// Opening a project database: the checks that make a damaged or foreign
// file a clear error, the image it stores, and a model store that decodes
// each model when the session first asks for it.
#include "db/Schema.h"
#include "db/Serialize.h"
#include "db/Sqlite.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/db/ProjectDb.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/pdb/PdbNames.h"
#include "switchboard/support/Hash.h"

#include "switchboard/support/Text.h"

#include <fmt/format.h>
#include <mutex>

namespace sb::db {
namespace {

// Every index the object model keeps between its tables is in range (a
// decoded blob is bounds-checked byte by byte, not in meaning).
bool indicesValid(const cxx::ObjectModel &m) {
  auto cls = [&](int i) { return i >= -1 && i < int(m.classes.size()); };
  auto vft = [&](int i) { return i >= -1 && i < int(m.vftables.size()); };
  for (const cxx::Class &k : m.classes) {
    for (int v : k.vftables)
      if (v < 0 || !vft(v))
        return false;
    for (int d : k.derived)
      if (d < 0 || !cls(d))
        return false;
    for (const auto *list : {&k.bases, &k.allBases})
      for (const cxx::BaseRef &b : *list)
        if (!cls(b.classIndex))
          return false;
    for (const cxx::Field &f : k.fields)
      if (!cls(f.memberClass))
        return false;
  }
  for (const cxx::Vftable &v : m.vftables)
    if (!cls(v.classIndex) || !vft(v.baseVftable))
      return false;
  for (const cxx::Structor &s : m.structors) {
    if (!cls(s.classIndex))
      return false;
    for (const cxx::SubobjectCall &c : s.calls)
      if (!cls(c.classIndex))
        return false;
  }
  for (const cxx::VirtualCall &v : m.vcalls)
    if (v.candidateSet >= m.candidateSets.size() || !cls(v.receiverClass))
      return false;
  for (const cxx::StaticInitializer &s : m.initializers)
    if (!cls(s.classIndex))
      return false;
  return true;
}
template <typename T>
bool valid(const T &) { return true; }
bool valid(const cxx::ObjectModel &m) { return indicesValid(m); }

class StoredModels final : public ModelStore {
public:
  StoredModels(Connection c, int64_t module, std::function<void(const std::string &)> warn)
      : c_(std::move(c)), module_(module), warn_(std::move(warn)) {}

  std::unique_ptr<std::vector<code::Function>> functions() override { return load<std::vector<code::Function>>("functions"); }
  std::unique_ptr<eh::EhModel> ehModel() override { return load<eh::EhModel>("eh"); }
  std::unique_ptr<cxx::ObjectModel> objectModel() override { return load<cxx::ObjectModel>("objects"); }
  std::unique_ptr<messages::MessageFlow> messageFlow() override { return load<messages::MessageFlow>("messages"); }
  std::unique_ptr<graph::Graph> graph() override { return load<graph::Graph>("graph"); }
  std::unique_ptr<names::NameService> names() override { return load<names::NameService>("names"); }

  // The stored model, or nullptr (then the session computes it from the
  // stored image) with a warning when it is there but does not decode.
  template <typename T>
  std::unique_ptr<T> load(const char *name) {
    std::lock_guard lock(mutex_);
    Statement q = c_.prepare("SELECT format, checksum, data FROM models WHERE module_id = ? AND name = ?");
    if (!q.valid())
      return nullptr;
    q.bindAll(module_, std::string_view(name));
    if (!q.step())
      return nullptr;
    auto model = std::make_unique<T>();
    std::span<const uint8_t> data = q.blob(2);
    if (q.integer(0) != kModelFormat || q.integer(1) != int64_t(checksum64(data)) || !decode(data, *model) ||
        !valid(*model)) {
      if (warn_)
        warn_(fmt::format("{}: the stored model '{}' is damaged; recomputed from the stored image", c_.path(), name));
      return nullptr;
    }
    return model;
  }

private:
  std::mutex mutex_;
  Connection c_;
  int64_t module_;
  std::function<void(const std::string &)> warn_;
};

std::optional<std::string> metaValue(Connection &c, const char *key) {
  Statement q = c.prepare("SELECT value FROM meta WHERE key = ?");
  if (!q.valid())
    return std::nullopt;
  q.bind(1, std::string_view(key));
  if (!q.step())
    return std::nullopt;
  return q.text(0);
}

// The database opened and checked: ours, of this schema version.
Expected<Connection> openChecked(const std::string &path) {
  auto conn = Connection::openReadOnly(path);
  if (!conn)
    return makeError(conn.error());
  Connection &c = *conn;
  std::optional<std::string> version = metaValue(c, "schema_version");
  if (!version)
    return makeError(fmt::format("{}: not a switchboard project database ({})", path,
                                 c.prepare("SELECT 1 FROM meta").valid() ? "no schema version"
                                                                         : c.error().substr(path.size() + 2)));
  if (*version != std::to_string(kSchemaVersion))
    return makeError(fmt::format("{}: project database schema version {}; this switchboard reads version {} "
                                 "(run `switchboard analyze` on the binary again)",
                                 path, *version, kSchemaVersion));
  return conn;
}

Expected<std::vector<StoredModule>> listModules(Connection &c) {
  Statement q = c.prepare("SELECT module_id, file_name, module FROM image ORDER BY module_id");
  std::vector<StoredModule> out;
  while (q.valid() && q.step())
    out.push_back({q.integer(0), q.text(1), q.text(2)});
  if (out.empty())
    return makeError(fmt::format("{}: damaged project database: no image ({})", c.path(),
                                 c.error().substr(c.path().size() + 2)));
  return out;
}

// The module asked for by file or module name (any case), or the first.
Expected<StoredModule> chooseModule(const std::vector<StoredModule> &modules, const std::string &path,
                                    const std::string &wanted) {
  if (wanted.empty())
    return modules.front();
  std::string names;
  for (const StoredModule &m : modules) {
    if (m.isNamed(wanted))
      return m;
    names += (names.empty() ? "" : ", ") + m.fileName;
  }
  return makeError(fmt::format("{}: no module '{}' in the project database (it holds {})", path, wanted, names));
}

} // namespace

bool StoredModule::isNamed(const std::string &name) const {
  return toLower(fileName) == toLower(name) || toLower(module) == toLower(name);
}

Expected<std::vector<StoredModule>> projectDbModules(const std::string &path) {
  auto conn = openChecked(path);
  if (!conn)
    return makeError(conn.error());
  return listModules(*conn);
}

Expected<std::unique_ptr<Analysis>> openProjectDb(const std::string &path, AnalysisOptions options) {
  auto conn = openChecked(path);
  if (!conn)
    return makeError(conn.error());
  Connection &c = *conn;
  auto modules = listModules(c);
  if (!modules)
    return makeError(modules.error());
  auto chosen = chooseModule(*modules, path, options.module);
  if (!chosen)
    return makeError(chosen.error());
  Statement q = c.prepare("SELECT bytes, pdb FROM image WHERE module_id = ?");
  if (q.valid())
    q.bind(1, chosen->id);
  if (!q.valid() || !q.step())
    return makeError(fmt::format("{}: damaged project database: no image ({})", path, c.error().substr(path.size() + 2)));
  std::span<const uint8_t> blob = q.blob(0);
  auto image = pe::PeImage::parse(std::vector<uint8_t>(blob.begin(), blob.end()));
  std::string pdbPath = q.text(1);
  q = Statement();
  if (!image)
    return makeError(fmt::format("{}: damaged project database: its image does not parse: {}", path, image.error()));

  auto store = std::make_unique<StoredModels>(std::move(*conn), chosen->id, options.warn);
  if (auto symbols = store->load<std::vector<pdb::PdbSymbol>>("pdb")) {
    auto names = std::make_shared<pdb::PdbNames>();
    names->path = pdbPath;
    names->symbols = std::move(*symbols);
    options.pdb = std::move(names);
  }
  options.pdbPath.clear();
  options.findPdb = false;
  return Analysis::fromImage(image.take(), chosen->module, std::move(options), std::move(store));
}

} // namespace sb::db
