// The C++ classes of the object model, for the hierarchy tree: each class
// with its bases and derived classes (by index), vftables and their slots,
// structors, size and recovered fields.
#include "Sections.h"

#include "switchboard/cxx/ObjectModel.h"

namespace sb::report {

namespace {
json vftableJson(const cxx::ObjectModel &m, const cxx::Vftable &v) {
  json slots = json::array();
  for (const cxx::Slot &s : v.slots)
    slots.push_back({s.functionRva, cxx::slotKindName(s.kind), s.pure ? 1 : 0});
  return {{"rva", v.rva}, {"for", v.forBase}, {"offset", v.subobjectOffset},
          {"base", v.baseVftable >= 0 ? json(m.vftables[v.baseVftable].rva) : json(nullptr)}, {"slots", slots}};
}

json classJson(const cxx::ObjectModel &m, const cxx::Class &c) {
  json bases = json::array(), vftables = json::array(), fields = json::array();
  for (const cxx::BaseRef &b : c.bases)
    bases.push_back({b.name, b.classIndex, b.offset ? json(*b.offset) : json(nullptr), b.isVirtual ? 1 : 0});
  for (int vi : c.vftables)
    vftables.push_back(vftableJson(m, m.vftables[vi]));
  for (const cxx::Field &f : c.fields)
    fields.push_back({f.offset, f.size, f.memberClass >= 0 ? m.classes[f.memberClass].name : f.note});
  return {{"name", c.name},
          {"synthetic", c.nameIsSynthetic ? 1 : 0},
          {"bases", bases},
          {"derived", c.derived},
          {"vftables", vftables},
          {"constructors", c.constructors},
          {"destructors", c.destructors},
          {"deleting_destructors", c.deletingDestructors},
          {"size", c.size ? json(*c.size) : json(nullptr)},
          {"fields", fields}};
}
} // namespace

json classesSection(const Analysis &a) {
  const cxx::ObjectModel &m = a.objectModel();
  json out = json::array();
  for (const cxx::Class &c : m.classes)
    out.push_back(classJson(m, c));
  return out;
}

} // namespace sb::report
