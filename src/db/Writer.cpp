// `analyze`: every model of the session, computed once, written to a new
// project database (a temporary file renamed into place, so a failed run
// never leaves a half-written database under the requested name).
#include "db/Schema.h"
#include "db/Serialize.h"
#include "db/Tables.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/db/ProjectDb.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/pdb/PdbNames.h"
#include "switchboard/support/Hash.h"
#include "switchboard/unwind/Seh.h"

#include <cstdio>
#include <future>
#include <filesystem>
#include <fmt/format.h>

namespace sb::db {
namespace {

void writeMeta(Connection &c, const Analysis &a) {
  Inserter meta(c, "meta", 2);
  meta.row("schema_version", std::to_string(kSchemaVersion));
  meta.row("model_format", std::to_string(kModelFormat));
  meta.row("generator", "switchboard");
  meta.row("pdb", a.pdb() ? a.pdb()->path : "");
}

void writeImage(Connection &c, const Analysis &a, const std::string &sourcePath) {
  const pe::PeImage &img = a.image();
  std::span<const uint8_t> bytes = img.fileBytes();
  Statement st = c.prepare("INSERT INTO image VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  st.bindAll(std::filesystem::path(sourcePath).filename().string(), a.moduleName(), pe::machineName(img.machine()),
             img.is64(), int64_t(img.imageBase()), img.headers().sizeOfImage, img.headers().timeDateStamp,
             img.headers().entryPointRva, bytes.size(), sha256Hex(bytes));
  st.bind(11, bytes);
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

// Writes the whole database to path; the error, if any.
std::optional<std::string> writeAll(const Analysis &a, const std::string &sourcePath, const std::string &path) {
  auto conn = Connection::create(path);
  if (!conn)
    return conn.error();
  Connection &c = *conn;
  if (!c.exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; BEGIN") ||
      !c.exec(kSchema))
    return c.error();
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
  writeMeta(c, a);
  writeImage(c, a, sourcePath);
  writeImageTables(a, c);
  if (code) {
    writeCodeTables(a, c);
    writeEhTables(a, c);
    writeCxxTables(a, c);
    writeMessageTables(a, c);
  }
  writeGraphTables(a, c);
  {
    Inserter models(c, "models", 4);
    for (auto &[name, blob] : encoded.blobs)
      writeModel(models, name, blob.get());
  }
  if (!c.exec(kIndexes) || !c.exec("COMMIT"))
    return c.error();
  return std::nullopt;
}

} // namespace

Expected<WriteSummary> writeProjectDb(const Analysis &a, const std::string &sourcePath, const std::string &path,
                                      const WriteOptions &options) {
  const bool code = a.image().codeAnalysisSupported();
  // Every analysis first (each once: later steps ask the session for the
  // earlier ones), so the file is written in one short transaction.
  const std::pair<const char *, std::function<void()>> steps[] = {
      {"functions", [&] { if (code) a.functions(); }},
      {"exception handling", [&] { if (code) a.sehModel(), a.ehModel(); }},
      {"classes", [&] { if (code) a.objectModel(); }},
      {"messages", [&] { if (code) a.messageFlow(); }},
      {"edges", [&] { if (code) a.graph(); }},
      {"names", [&] { a.names(); }},
  };
  const size_t stepCount = std::size(steps) + 1;
  for (size_t i = 0; i < std::size(steps); ++i) {
    if (options.progress)
      options.progress(steps[i].first, i, stepCount);
    steps[i].second();
  }
  if (options.progress)
    options.progress("writing the database", stepCount - 1, stepCount);

  const std::string partial = path + ".partial";
  if (auto error = writeAll(a, sourcePath, partial)) {
    std::remove(partial.c_str());
    return makeError(*error);
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec)
    return makeError(fmt::format("{}: cannot write the project database: {}", path, ec.message()));

  WriteSummary s;
  s.bytes = std::filesystem::file_size(path, ec);
  s.names = a.names().size();
  if (code) {
    s.functions = a.functions().size();
    s.edges = a.graph().edges().size();
    s.classes = a.objectModel().classes.size();
  }
  return s;
}

bool isProjectDb(const std::string &path) { return looksLikeSqlite(path); }

} // namespace sb::db
