// `analyze`: every model of each module's session, computed once, written
// with the links between the modules to a new project database (a
// temporary file renamed into place, so a failed run never leaves a half-written database under the requested name).
#include "db/Schema.h"
#include "db/Serialize.h"
#include "db/Tables.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/db/ProjectDb.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/graph/Recognizers.h"
#include "switchboard/pdb/PdbNames.h"
#include "switchboard/ports/Ports.h"
#include "switchboard/rpc/Rpc.h"
#include "switchboard/support/Hash.h"
#include "switchboard/unwind/Seh.h"

#include <cstdio>
#include <future>
#include <filesystem>
#include <fmt/format.h>

namespace sb::db {
namespace {

void writeMeta(Connection &c) {
  Inserter meta(c, "meta", 2);
  meta.row("schema_version", std::to_string(kSchemaVersion));
  meta.row("model_format", std::to_string(kModelFormat));
  meta.row("generator", "switchboard");
}

std::string fileNameOf(const std::string &path) { return std::filesystem::path(path).filename().string(); }

void writeImage(Connection &c, const ModuleInput &in, ModuleId m) {
  const Analysis &a = *in.analysis;
  const pe::PeImage &img = a.image();
  std::span<const uint8_t> bytes = img.fileBytes();
  Statement st = c.prepare("INSERT INTO image VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  st.bindAll(m.id, fileNameOf(in.sourcePath), a.moduleName(), pe::machineName(img.machine()), img.is64(),
             int64_t(img.imageBase()), img.headers().sizeOfImage, img.headers().timeDateStamp,
             img.headers().entryPointRva, bytes.size(), sha256Hex(bytes), a.pdb() ? a.pdb()->path : "");
  st.bind(13, bytes);
  st.run();
}

void writeModel(Inserter &models, const char *name, const std::vector<uint8_t> &blob) {
  models.row(name, kModelFormat, int64_t(checksum64(blob)), std::span<const uint8_t>(blob));
}

// The models as archive blobs, encoded on worker threads while the tables
// are written (the models are complete and read-only by now).
struct EncodedModels {
  std::vector<std::pair<const char *, std::future<std::vector<uint8_t>>>> blobs;

  template <typename Model>
  void add(const char *name, const Model &m) {
    blobs.emplace_back(name, std::async(std::launch::async, [&m] { return encode(m); }));
  }
};

// One module's image, models and tables; the next free edge id.
int64_t writeModule(Connection &c, const ModuleInput &in, ModuleId m) {
  const Analysis &a = *in.analysis;
  EncodedModels encoded;
  if (a.pdb())
    encoded.add("pdb", a.pdb()->symbols);
  const bool code = a.image().codeAnalysisSupported();
  if (code) {
    encoded.add("functions", a.functions());
    encoded.add("eh", a.ehModel());
    encoded.add("objects", a.objectModel());
    encoded.add("messages", a.messageFlow());
    encoded.add("graph", a.graph());
  }
  encoded.add("names", a.names());
  writeImage(c, in, m);
  writeImageTables(a, c, m);
  if (code) {
    writeCodeTables(a, c, m);
    writeEhTables(a, c, m);
    writeCxxTables(a, c, m);
    writeMessageTables(a, c, m);
  }
  const int64_t nextEdge = writeGraphTables(a, c, m, 0);
  Inserter models(c, "models", m, 4);
  for (auto &[name, blob] : encoded.blobs)
    writeModel(models, name, blob.get());
  return nextEdge;
}

// The edges between the modules: each client RPC call and port send to the
// server routine or loop of another module (within one module the graph
// has them already). Rows of the client's module; the count.
size_t writeModuleLinks(Connection &c, std::span<const ModuleInput> modules, std::vector<int64_t> &nextEdge) {
  // Modules without code analysis (an arm64 image) take no part.
  std::vector<size_t> moduleOf;
  std::vector<const rpc::RpcModel *> rpcModels;
  std::vector<const ports::PortModel *> portModels;
  for (size_t i = 0; i < modules.size(); ++i)
    if (modules[i].analysis->image().codeAnalysisSupported()) {
      moduleOf.push_back(i);
      rpcModels.push_back(&modules[i].analysis->rpc());
      portModels.push_back(&modules[i].analysis->ports());
    }
  auto nameAt = [&](size_t module, uint32_t rva) { return modules[module].analysis->displayName(rva); };
  size_t count = 0;
  std::vector<std::optional<Inserter>> edges(modules.size());   // one statement per client module
  auto put = [&](size_t client, const graph::Edge &e, size_t server, uint64_t serverRva) {
    if (!edges[client])
      edges[client].emplace(c, "edges", ModuleId{int64_t(client)}, kEdgeColumns);
    edgeRow(*edges[client], nextEdge[client]++, e, int64_t(server), int64_t(serverRva));
    ++count;
  };
  for (const rpc::Link &l : rpc::linkRpc(rpcModels)) {
    const size_t client = moduleOf[l.clientModule], server = moduleOf[l.serverModule];
    if (client != server)
      put(client,
          graph::rpcLinkEdge(*rpcModels[l.serverModule], fileNameOf(modules[server].sourcePath),
                             nameAt(server, l.serverRva), l),
          server, l.serverRva);
  }
  for (const ports::PortLink &l : ports::linkPorts(portModels)) {
    const size_t client = moduleOf[l.clientModule], server = moduleOf[l.serverModule];
    if (client != server)
      put(client, graph::portLinkEdge(fileNameOf(modules[server].sourcePath), nameAt(server, l.serverLoopRva), l),
          server, l.serverLoopRva);
  }
  return count;
}

// Writes the whole database to path; the count of links between modules,
// or the error.
Expected<size_t> writeAll(std::span<const ModuleInput> modules, const std::string &path) {
  auto conn = Connection::create(path);
  if (!conn)
    return makeError(conn.error());
  Connection &c = *conn;
  if (!c.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; BEGIN") ||
      !c.exec(kSchema))
    return makeError(c.error());
  writeMeta(c);
  std::vector<int64_t> nextEdge;
  for (size_t i = 0; i < modules.size(); ++i)
    nextEdge.push_back(writeModule(c, modules[i], ModuleId{int64_t(i)}));
  const size_t links = modules.size() > 1 ? writeModuleLinks(c, modules, nextEdge) : 0;
  if (!c.exec(kIndexes) || !c.exec("COMMIT"))
    return makeError(c.error());
  return links;
}

// The progress steps of one module's analysis (analyzeModule).
constexpr size_t kStepsPerModule = 6;

// Every analysis of the module (each once: later steps ask the session for
// the earlier ones), so the file is written in one short transaction.
void analyzeModule(const ModuleInput &in, size_t module, size_t moduleCount, const WriteOptions &options) {
  const Analysis &a = *in.analysis;
  const bool code = a.image().codeAnalysisSupported();
  const std::pair<const char *, std::function<void()>> steps[] = {
      {"functions", [&] { if (code) a.functions(); }},
      {"exception handling", [&] { if (code) a.sehModel(), a.ehModel(); }},
      {"classes", [&] { if (code) a.objectModel(); }},
      {"messages", [&] { if (code) a.messageFlow(); }},
      {"edges", [&] { if (code) a.graph(); }},
      {"names", [&] { a.names(); }},
  };
  static_assert(std::size(steps) == kStepsPerModule);
  const size_t perModule = kStepsPerModule, total = perModule * moduleCount + 1;
  for (size_t i = 0; i < perModule; ++i) {
    if (options.progress)
      options.progress(moduleCount > 1 ? fmt::format("{}: {}", fileNameOf(in.sourcePath), steps[i].first).c_str()
                                       : steps[i].first,
                       module * perModule + i, total);
    steps[i].second();
  }
}

} // namespace

Expected<WriteSummary> writeProjectDb(std::span<const ModuleInput> modules, const std::string &path,
                                      const WriteOptions &options) {
  if (modules.empty())
    return makeError("no module to write");
  for (size_t i = 0; i < modules.size(); ++i)
    analyzeModule(modules[i], i, modules.size(), options);
  if (options.progress) {
    const size_t total = kStepsPerModule * modules.size() + 1;
    options.progress("writing the database", total - 1, total);
  }

  const std::string partial = path + ".partial";
  auto links = writeAll(modules, partial);
  if (!links) {
    std::remove(partial.c_str());
    return makeError(links.error());
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec)
    return makeError(fmt::format("{}: cannot write the project database: {}", path, ec.message()));

  WriteSummary s;
  s.bytes = std::filesystem::file_size(path, ec);
  s.links = *links;
  for (const ModuleInput &in : modules) {
    const Analysis &a = *in.analysis;
    ModuleSummary m;
    m.fileName = fileNameOf(in.sourcePath);
    m.names = a.names().size();
    if (a.image().codeAnalysisSupported()) {
      m.functions = a.functions().size();
      m.edges = a.graph().edges().size();
      m.classes = a.objectModel().classes.size();
    }
    s.modules.push_back(std::move(m));
  }
  return s;
}

Expected<WriteSummary> writeProjectDb(const Analysis &a, const std::string &sourcePath, const std::string &path,
                                      const WriteOptions &options) {
  const ModuleInput in[] = {{&a, sourcePath}};
  return writeProjectDb(in, path, options);
}

bool isProjectDb(const std::string &path) { return looksLikeSqlite(path); }

} // namespace sb::db
