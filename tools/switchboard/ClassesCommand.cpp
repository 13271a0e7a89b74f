// `switchboard classes FILE`: the C++ classes of an image (RTTI and
// constructor-found vftables) as a hierarchy, with vftables and
// constructors/destructors; plus the static initializers.
#include "ClassFormat.h"

#include <set>

namespace sb::cli {
namespace {

std::string baseList(const cxx::Class &c) {
  std::string out;
  for (const cxx::BaseRef &b : c.bases)
    out += fmt::format("{}public {}{}", out.empty() ? " : " : ", ", b.isVirtual ? "virtual " : "", b.name);
  return out;
}

void printTree(const cxx::ObjectModel &m, int ci, int depth, std::set<int> &path) {
  const cxx::Class &c = m.classes[ci];
  fmt::print("  {:{}}{}{}\n", "", depth * 2, c.name, c.bases.size() > 1 ? fmt::format("  ({} bases)", c.bases.size()) : "");
  if (!path.insert(ci).second || depth > 64)
    return;
  for (int d : c.derived)
    printTree(m, d, depth + 1, path);
  path.erase(ci);
}

void printClass(const Analysis &a, const cxx::ObjectModel &m, const cxx::Class &c) {
  const pe::PeImage &img = a.image();
  fmt::print("\nclass {}{}", c.name, baseList(c));
  if (c.size)
    fmt::print("    size {}", hex(*c.size));
  if (c.hierarchyRva)
    fmt::print("    RTTI {}", hex(c.typeDescriptorRva));
  else if (c.typeDescriptorRva)
    fmt::print("    type descriptor {} (EH or typeid, no RTTI)", hex(c.typeDescriptorRva));
  else
    fmt::print("    (no RTTI{})", c.nameIsSynthetic ? ", synthetic name" : "");
  fmt::print("\n");
  for (int vi : c.vftables) {
    const cxx::Vftable &v = m.vftables[vi];
    fmt::print("  vftable {} (rva {}) offset {}{}, {} slots\n", formatVa(img, img.rvaToVa(v.rva)), hex(v.rva),
               hex(v.subobjectOffset), v.forBase.empty() ? "" : fmt::format(" {{for '{}'}}", v.forBase), v.slots.size());
    for (size_t i = 0; i < v.slots.size(); ++i) {
      const cxx::Slot &s = v.slots[i];
      fmt::print("    [{:2}] {:>8}  {:<10} {}{}\n", i, hex(s.targetRva), cxx::slotKindName(s.kind),
                 m.nameFor(a, s.functionRva), s.pure ? "  (pure virtual)" : "");
    }
  }
  auto list = [&](const char *what, const std::vector<uint32_t> &rvas) {
    for (uint32_t r : rvas)
      fmt::print("  {:<22} {:>8}  {}\n", what, hex(r), m.nameFor(a, r));
  };
  list("constructor", c.constructors);
  list("destructor", c.destructors);
  for (uint32_t r : c.deletingDestructors)
    if (const cxx::Structor *s = m.structorAt(r))
      fmt::print("  {:<22} {:>8}  {}\n", s->kind == cxx::StructorKind::VectorDeletingDestructor ? "vector deleting dtor" : "scalar deleting dtor",
                 hex(r), m.nameFor(a, r));
  for (const cxx::InlinedStructor &in : c.inlined)
    fmt::print("  inlined ctor/dtor      {:>8}  in {} ({}, vfptr at +{:x})\n", hex(in.siteRva), a.describe(in.siteRva),
               in.object, in.objectOffset);
}
} // namespace

Command classesCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"classes", "C++ classes: RTTI hierarchy, vftables, constructors and destructors", Needs::Code, {}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const cxx::ObjectModel &m = analyzeClasses(*a, *o);
    c.phase("render");
    if (o->json) {
      json classes = json::array(), structors = json::array(), inits = json::array();
      for (const cxx::Class &c : m.classes)
        classes.push_back(classJson(*a, m, c));
      for (const cxx::Structor &s : m.structors)
        structors.push_back(structorJson(*a, m, s));
      for (const cxx::StaticInitializer &s : m.initializers)
        inits.push_back(initializerJson(*a, m, s));
      printJson({{"complete_object_locators", m.completeObjectLocators}, {"classes", classes},
                 {"structors", structors}, {"static_initializers", inits}, {"warnings", m.warnings}});
      return kExitOk;
    }
    size_t rtti = 0, ctors = 0, dtors = 0, deleting = 0;
    for (const cxx::Class &c : m.classes) {
      rtti += c.hierarchyRva != 0;
      ctors += c.constructors.size();
      dtors += c.destructors.size();
      deleting += c.deletingDestructors.size();
    }
    fmt::print("{} classes ({} with RTTI), {} vftables, {} constructors, {} destructors, {} deleting destructors\n",
               m.classes.size(), rtti, m.vftables.size(), ctors, dtors, deleting);
    fmt::print("\nHierarchy\n");
    std::set<int> path;
    for (size_t ci = 0; ci < m.classes.size(); ++ci)
      if (m.classes[ci].bases.empty())
        printTree(m, int(ci), 0, path);
    for (const cxx::Class &c : m.classes)
      printClass(*a, m, c);
    if (!m.initializers.empty()) {
      fmt::print("\nStatic initializers\n");
      for (const cxx::StaticInitializer &s : m.initializers) {
        fmt::print("  {:>8}  {}", hex(s.functionRva), m.nameFor(*a, s.functionRva));
        if (s.objectRva)
          fmt::print("  constructs {} at {}", s.classIndex >= 0 ? m.classes[s.classIndex].name : "object", hex(s.objectRva));
        if (s.constructorRva)
          fmt::print(" with {}", m.nameFor(*a, s.constructorRva));
        if (s.destructorRva)
          fmt::print("; atexit {} -> {}", m.nameFor(*a, s.atexitRva), m.nameFor(*a, s.destructorRva));
        else if (s.atexitRva)
          fmt::print("; atexit {} (destructor inlined)", m.nameFor(*a, s.atexitRva));
        fmt::print("\n");
      }
    }
    for (const std::string &w : m.warnings)
      fmt::print(stderr, "switchboard: warning: {}\n", w);
    return kExitOk;
  }};
}

} // namespace sb::cli
