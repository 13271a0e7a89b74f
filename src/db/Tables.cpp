#include "db/Tables.h"

#include "switchboard/analysis/Analysis.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/exporters/Exporter.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/pdb/PdbNames.h"
#include "switchboard/unwind/Seh.h"

#include <fmt/format.h>

namespace sb::db {

namespace {
std::string insertSql(const char *table, int columns) {
  std::string sql = fmt::format("INSERT INTO {} VALUES (", table);
  for (int i = 0; i < columns; ++i)
    sql += i ? ",?" : "?";
  return sql + ")";
}
} // namespace

Inserter::Inserter(Connection &c, const char *table, ModuleId module, int columns)
    : st_(c.prepare(insertSql(table, columns + 1))), module_(module.id) {}

Inserter::Inserter(Connection &c, const char *table, int columns) : st_(c.prepare(insertSql(table, columns))) {}

namespace {
// A class index as the tables store it: NULL for none.
std::optional<int64_t> classId(int index) { return index >= 0 ? std::optional<int64_t>(index) : std::nullopt; }
std::optional<int64_t> nonZero(uint32_t v) { return v ? std::optional<int64_t>(v) : std::nullopt; }
} // namespace

void writeImageTables(const Analysis &a, Connection &c, ModuleId mod) {
  const pe::PeImage &img = a.image();
  Inserter sections(c, "sections", mod, 6);
  for (const pe::Section &s : img.sections())
    sections.row(s.name, s.rva, s.virtualSize, s.rawOffset, s.rawSize, s.characteristics);
  Inserter imports(c, "imports", mod, 5);
  for (const auto *list : {&img.imports(), &img.delayImports()})
    for (const pe::Import &i : *list)
      imports.row(i.dll, i.name, i.byOrdinal ? std::optional<int64_t>(i.ordinal) : std::nullopt, i.iatRva, i.delayed);
  Inserter exports(c, "exports", mod, 4);
  for (const pe::Export &e : img.exports().exports)
    exports.row(e.name, e.ordinal, nonZero(e.rva), e.forwarder);
  Inserter resources(c, "resources", mod, 5);
  for (const pe::ResourceEntry &r : img.resources())
    resources.row(r.type.isName ? r.type.text() : std::string(pe::resourceTypeName(r.type.id)), r.name.text(),
                  r.language.id, r.dataRva, r.size);
  Inserter warnings(c, "warnings", mod, 2);
  for (const std::string &w : img.warnings())
    warnings.row("pe", w);
  if (const pdb::PdbNames *p = a.pdb()) {
    Inserter symbols(c, "pdb_symbols", mod, 5);
    for (const pdb::PdbSymbol &s : p->symbols)
      symbols.row(s.rva, s.name, s.raw, s.isFunction, s.size);
    for (const std::string &w : p->warnings)
      warnings.row("pdb", w);
  }
}

void writeCodeTables(const Analysis &a, Connection &c, ModuleId mod) {
  Inserter functions(c, "functions", mod, 9), chunks(c, "chunks", mod, 3);
  for (const code::Function &f : a.functions()) {
    functions.row(f.rva, f.end(), f.name, f.rawName, code::sourceNames(f.sources), f.blocks.size(), f.isImportThunk,
                  f.noReturn, f.truncated);
    for (const code::Range &r : f.chunks)
      chunks.row(f.rva, r.rva, r.end);
  }
  const pe::PeImage &img = a.image();
  if (img.is64()) {
    const unwind::HandlerCatalog &catalog = a.handlerCatalog();
    Inserter unwind(c, "unwind", mod, 9);
    for (const pe::RuntimeFunction &rf : img.runtimeFunctions()) {
      auto u = unwind::decodeUnwindInfo(img, rf.unwindRva);
      if (!u) {
        unwind.row(rf.begin, rf.end, rf.unwindRva, rf.isChained(), std::optional<int64_t>(), std::optional<int64_t>(),
                   std::optional<int64_t>(), std::optional<int64_t>(), std::optional<std::string>());
        continue;
      }
      std::optional<std::string> handler;
      if (u->handlerRva)
        handler = catalog.of(*u->handlerRva).name;
      unwind.row(rf.begin, rf.end, rf.unwindRva, rf.isChained(), u->prologSize, u->frameRegister,
                 u->frameOffsetBytes(), u->handlerRva, handler);
    }
  }
  Inserter scopes(c, "seh_scopes", mod, 7);
  for (const unwind::FunctionSeh &f : a.sehModel().functions) {
    for (const unwind::ScopeRecord &r : f.x64)
      scopes.row(f.rva, r.begin, r.end, r.isFinally() ? std::nullopt : std::optional<int64_t>(r.handler),
                 r.isFinally() ? std::optional<int64_t>(r.handler) : std::nullopt, nonZero(r.target), r.isFinally());
    if (f.x86)
      for (const unwind::X86ScopeRecord &r : f.x86->records)
        scopes.row(f.rva, std::optional<int64_t>(), std::optional<int64_t>(), nonZero(r.filter), r.handler,
                   std::optional<int64_t>(), r.isFinally());
  }
}

void writeCxxTables(const Analysis &a, Connection &c, ModuleId mod) {
  const cxx::ObjectModel &m = a.objectModel();
  Inserter classes(c, "classes", mod, 6), bases(c, "class_bases", mod, 6);
  for (size_t i = 0; i < m.classes.size(); ++i) {
    const cxx::Class &k = m.classes[i];
    classes.row(i, k.name, k.nameIsSynthetic, nonZero(k.typeDescriptorRva), nonZero(k.hierarchyRva), k.size);
    auto isDirect = [&](const cxx::BaseRef &b) {
      for (const cxx::BaseRef &d : k.bases)
        if (d.descriptorRva == b.descriptorRva && d.name == b.name)
          return true;
      return false;
    };
    for (const cxx::BaseRef &b : k.allBases.empty() ? k.bases : k.allBases)
      bases.row(i, b.name, classId(b.classIndex), b.offset, b.isVirtual, isDirect(b));
  }
  Inserter vftables(c, "vftables", mod, 6), slots(c, "vftable_slots", mod, 6);
  for (size_t i = 0; i < m.vftables.size(); ++i) {
    const cxx::Vftable &v = m.vftables[i];
    vftables.row(i, v.rva, classId(v.classIndex), nonZero(v.colRva), v.subobjectOffset, v.forBase);
    for (size_t s = 0; s < v.slots.size(); ++s)
      slots.row(i, s, v.slots[s].targetRva, v.slots[s].functionRva, cxx::slotKindName(v.slots[s].kind),
                v.slots[s].pure);
  }
  Inserter structors(c, "structors", mod, 4);
  for (const cxx::Structor &s : m.structors)
    structors.row(s.rva, cxx::structorKindName(s.kind), classId(s.classIndex), s.evidence);
  Inserter vcalls(c, "vcalls", mod, 7);
  for (const cxx::VirtualCall &v : m.vcalls)
    vcalls.row(v.siteRva, v.functionRva, v.slot, v.receiver, classId(v.receiverClass), v.candidateSet, v.narrowing);
  Inserter vcallSets(c, "vcall_sets", mod, 2);
  for (size_t i = 0; i < m.candidateSets.size(); ++i)
    for (uint32_t rva : m.candidateSets[i])
      vcallSets.row(i, rva);
  Inserter inits(c, "static_initializers", mod, 7);
  for (const cxx::StaticInitializer &s : m.initializers)
    inits.row(s.entryRva, s.functionRva, nonZero(s.objectRva), nonZero(s.constructorRva), classId(s.classIndex),
              nonZero(s.atexitRva), nonZero(s.destructorRva));
  Inserter warnings(c, "warnings", mod, 2);
  for (const std::string &w : m.warnings)
    warnings.row("classes", w);
}

void writeEhTables(const Analysis &a, Connection &c, ModuleId mod) {
  const eh::EhModel &m = a.ehModel();
  Inserter functions(c, "eh_functions", mod, 7), catches(c, "eh_catches", mod, 7), unwind(c, "eh_unwind", mod, 6);
  for (const eh::FunctionEh &f : m.functions) {
    functions.row(f.rva, nonZero(f.parentRva), f.funcInfoRva, f.format == eh::EhFormat::FH4 ? "FH4" : "FH3",
                  f.tries.size(), f.unwind.size(), f.error);
    for (size_t t = 0; t < f.tries.size(); ++t)
      for (const eh::CatchInfo &k : f.tries[t].catches)
        catches.row(f.rva, t, f.tries[t].tryLow, f.tries[t].tryHigh, k.type, k.handlerRva, k.name);
    for (const eh::UnwindAction &u : f.unwind)
      unwind.row(f.rva, u.state, u.toState, nonZero(u.actionRva), nonZero(u.destructorRva), u.name);
  }
  Inserter throws(c, "eh_throws", mod, 5);
  for (const eh::ThrowSite &t : m.throws)
    throws.row(t.siteRva, t.functionRva, nonZero(t.throwInfoRva), t.type, t.rethrow);
}

void writeMessageTables(const Analysis &a, Connection &c, ModuleId mod) {
  const messages::MessageFlow &m = a.messageFlow();
  const api::ApiTable &table = a.apiTable();
  Inserter classes(c, "msg_classes", mod, 3);
  for (const messages::WindowClass &k : m.classes)
    classes.row(k.name, k.wndprocRva, k.siteRva);
  Inserter procedures(c, "msg_procedures", mod, 4), cases(c, "msg_cases", mod, 7);
  for (const messages::Procedure &p : m.procedures) {
    std::string names;
    for (const std::string &k : p.classes)
      names += (names.empty() ? "" : ",") + k;
    procedures.row(p.rva, messages::procKindName(p.kind), names, p.cxxClass);
    for (const messages::Case &k : p.cases)
      cases.row(p.rva, k.message.id, k.message.registeredName, messages::messageText(table, k.message), k.handlerRva,
                nonZero(k.chainedFrom), k.section);
  }
  Inserter windows(c, "msg_windows", mod, 6);
  for (const messages::Window &w : m.windows)
    windows.row(w.siteRva, w.api, w.className, w.title, w.dialogTemplate, nonZero(w.procRva));
  Inserter sends(c, "msg_sends", mod, 8);
  for (const messages::Send &s : m.sends)
    sends.row(s.siteRva, s.functionRva, s.api,
              s.message && s.message->registeredName.empty() ? std::optional<int64_t>(s.message->id) : std::nullopt,
              s.messageText, s.target, s.targetClass, s.exact);
  Inserter warnings(c, "warnings", mod, 2);
  for (const std::string &w : m.warnings)
    warnings.row("messages", w);
}

int64_t writeGraphTables(const Analysis &a, Connection &c, ModuleId mod, int64_t firstEdgeId) {
  const graph::Graph &g = a.graph();
  const names::NameService &n = a.names();
  Inserter sets(c, "candidate_sets", mod, 2);
  for (size_t i = 0; i < g.sets().size(); ++i)
    for (uint64_t rva : g.sets()[i])
      sets.row(i, rva);
  Inserter edges(c, "edges", mod, kEdgeColumns);
  int64_t id = firstEdgeId;
  for (const graph::Edge &e : g.edges()) {
    bool leaves = !e.toModule.empty();
    edgeRow(edges, id++, e, std::nullopt,
            leaves || e.toSet != graph::Edge::kNoSet ? std::nullopt : std::optional<int64_t>(int64_t(e.to)));
  }
  // The comments an exporter places, from the same renderer.
  Inserter comments(c, "comments", mod, 3);
  for (const exporters::SiteComment &sc : exporters::siteComments(a))
    comments.row(sc.rva, graph::edgeKindName(sc.kind), sc.text);
  Inserter nameRows(c, "names", mod, 6);
  for (const auto &[rva, name] : n.all())
    nameRows.row(rva, name.text, name.raw, names::sourceName(name.source), name.recovered(), name.label);
  return id;
}

void edgeRow(Inserter &edges, int64_t id, const graph::Edge &e, std::optional<int64_t> toModuleId,
             std::optional<int64_t> toRva) {
  edges.row(id, graph::edgeKindName(e.kind), e.from, toRva, e.toModule, toModuleId, e.toName,
            e.toSet != graph::Edge::kNoSet ? std::optional<int64_t>(e.toSet) : std::nullopt, e.label,
            graph::exactnessName(e.exactness), graph::evidenceName(e.evidence), e.detail);
}

} // namespace sb::db
