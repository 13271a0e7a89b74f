#include "ClassFormat.h"

#include <unistd.h>

namespace sb::cli {

json classJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::Class &c) {
  json bases = json::array();
  for (const cxx::BaseRef &b : c.bases) {
    json j = {{"name", b.name}, {"offset", b.offset ? json(*b.offset) : json(nullptr)}, {"virtual", b.isVirtual},
              {"mdisp", b.where.mdisp}, {"pdisp", b.where.pdisp}, {"vdisp", b.where.vdisp},
              {"attributes", b.attributes}};
    if (b.descriptorRva)
      j["descriptor_rva"] = b.descriptorRva;
    bases.push_back(j);
  }
  json vftables = json::array();
  for (int vi : c.vftables) {
    const cxx::Vftable &v = m.vftables[vi];
    json slots = json::array(), details = json::array();
    for (const cxx::Slot &s : v.slots) {
      slots.push_back(s.targetRva);
      details.push_back({{"rva", s.targetRva}, {"kind", cxx::slotKindName(s.kind)}, {"pure", s.pure},
                         {"name", m.nameFor(a, s.functionRva)}});
    }
    json j = {{"rva", v.rva}, {"col_rva", v.colRva}, {"subobject_offset", v.subobjectOffset}, {"for", v.forBase},
              {"slots", slots}, {"slot_details", details}};
    if (v.baseVftable >= 0)
      j["base_vftable_rva"] = m.vftables[v.baseVftable].rva;
    vftables.push_back(j);
  }
  json vbtables = json::array();
  for (const cxx::Vbtable &vb : c.vbtables)
    vbtables.push_back({{"rva", vb.rva}, {"vbptr_offset", vb.vbptrOffset}, {"entries", vb.entries}});
  json inlined = json::array();
  for (const cxx::InlinedStructor &in : c.inlined)
    inlined.push_back({{"site_rva", in.siteRva}, {"function_rva", in.functionRva}, {"vftable_rva", in.vftableRva},
                       {"object_offset", in.objectOffset}, {"object", in.object}});
  json fields = json::array();
  for (const cxx::Field &f : c.fields) {
    json j = {{"offset", f.offset}, {"size", f.size}};
    if (f.memberClass >= 0)
      j["class"] = m.classes[f.memberClass].name;
    if (!f.note.empty())
      j["note"] = f.note;
    fields.push_back(j);
  }
  json arrays = json::array();
  for (const cxx::ArrayConstruction &ar : c.arrays)
    arrays.push_back({{"site_rva", ar.siteRva}, {"function_rva", ar.functionRva}, {"element_size", ar.elementSize},
                      {"count", ar.count}});
  json derived = json::array();
  for (int d : c.derived)
    derived.push_back(m.classes[d].name);
  return {{"name", c.name},
          {"name_is_synthetic", c.nameIsSynthetic},
          {"type_descriptor_rva", c.typeDescriptorRva},
          {"hierarchy_rva", c.hierarchyRva},
          {"multiple_inheritance", bool(c.hierarchyAttributes & cxx::kChdMultiple)},
          {"virtual_inheritance", bool(c.hierarchyAttributes & cxx::kChdVirtual)},
          {"bases", bases},
          {"derived", derived},
          {"vftables", vftables},
          {"vbtables", vbtables},
          {"constructors", c.constructors},
          {"destructors", c.destructors},
          {"deleting_destructors", c.deletingDestructors},
          {"inlined_structors", inlined},
          {"size", c.size ? json(*c.size) : json(nullptr)},
          {"size_site_rvas", c.sizeSites},
          {"fields", fields},
          {"arrays", arrays}};
}

json structorJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::Structor &s) {
  json calls = json::array();
  for (const cxx::SubobjectCall &c : s.calls)
    calls.push_back({{"site_rva", c.siteRva}, {"callee_rva", c.calleeRva}, {"callee", m.nameFor(a, c.calleeRva)},
                     {"this_offset", c.thisOffset}, {"role", cxx::subobjectRoleName(c.role)}});
  return {{"rva", s.rva},
          {"name", m.nameFor(a, s.rva)},
          {"kind", cxx::structorKindName(s.kind)},
          {"class", s.classIndex >= 0 ? json(m.classes[s.classIndex].name) : json(nullptr)},
          {"vfptr_store_rvas", s.vfptrStores},
          {"calls", calls},
          {"evidence", s.evidence}};
}

json initializerJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::StaticInitializer &s) {
  auto opt = [](uint32_t v) { return v ? json(v) : json(nullptr); };
  return {{"table_rva", s.tableRva},
          {"entry_rva", s.entryRva},
          {"function_rva", s.functionRva},
          {"function", m.nameFor(a, s.functionRva)},
          {"object_rva", opt(s.objectRva)},
          {"class", s.classIndex >= 0 ? json(m.classes[s.classIndex].name) : json(nullptr)},
          {"constructor_rva", opt(s.constructorRva)},
          {"atexit_rva", opt(s.atexitRva)},
          {"destructor_rva", opt(s.destructorRva)}};
}

json vcallJson(const Analysis &a, const cxx::ObjectModel &m, const cxx::VirtualCall &v) {
  return {{"site_rva", v.siteRva},
          {"function_rva", v.functionRva},
          {"function", m.nameFor(a, v.functionRva)},
          {"slot", v.slot},
          {"slot_offset", v.slotOffset},
          {"vfptr_offset", v.vfptrOffset},
          {"receiver", v.receiver},
          {"receiver_class", v.receiverClass >= 0 ? json(m.classes[v.receiverClass].name) : json(nullptr)},
          {"narrowing", v.narrowing},
          {"candidate_set", v.candidateSet}};
}

json candidateSetJson(const Analysis &a, const cxx::ObjectModel &m, uint32_t id) {
  json targets = json::array();
  for (uint32_t c : m.candidateSets[id])
    targets.push_back({{"rva", c}, {"name", m.nameFor(a, c)}});
  return {{"id", id}, {"targets", std::move(targets)}};
}

const cxx::ObjectModel &analyzeClasses(const Analysis &a, const CommonOptions &o) {
  bool tty = !o.quiet && isatty(STDERR_FILENO);
  if (tty)
    fmt::print(stderr, "analyzing functions...\r");
  a.functions();
  if (tty)
    fmt::print(stderr, "recovering the C++ object model...\r");
  const cxx::ObjectModel &m = a.objectModel();
  if (tty)
    fmt::print(stderr, "{:40}\r", "");
  return m;
}

} // namespace sb::cli
