// `switchboard class FILE NAME`: one class as a C++ declaration: bases with
// offsets, vfptrs and vbptrs, fields by offset and size, virtual methods by
// slot, constructors and destructors.
#include "ClassFormat.h"

namespace sb::cli {
namespace {
const char *typeForSize(unsigned size) {
  switch (size) {
  case 1: return "uint8_t";
  case 2: return "uint16_t";
  case 4: return "uint32_t";
  case 8: return "uint64_t";
  case 16: return "uint8_t[16]";
  default: return "uint8_t";
  }
}

void printDeclaration(const Analysis &a, const cxx::ObjectModel &m, const cxx::Class &c) {
  fmt::print("// {}", c.typeDescriptorRva ? fmt::format("RTTI type descriptor {}", hex(c.typeDescriptorRva)) : "no RTTI");
  if (c.size)
    fmt::print(", size {} ({} allocation site{})", hex(*c.size), c.sizeSites.size(), c.sizeSites.size() == 1 ? "" : "s");
  fmt::print("\nclass {}", c.name);
  for (size_t i = 0; i < c.bases.size(); ++i) {
    const cxx::BaseRef &b = c.bases[i];
    fmt::print("{}public {}{} /* {} */", i ? ", " : " : ", b.isVirtual ? "virtual " : "", b.name,
               b.offset ? "+" + hex(*b.offset) : fmt::format("vbptr +{:#x}, vbtable[{}]", b.where.mdisp + b.where.pdisp, b.where.vdisp / 4));
  }
  fmt::print(" {{\npublic:\n");
  // Which fields lie in a base subobject of known size.
  auto inBase = [&](int64_t off) -> std::string {
    for (const cxx::BaseRef &b : c.allBases)
      if (b.offset && m.classes[b.classIndex].size && off >= *b.offset &&
          off < *b.offset + int64_t(*m.classes[b.classIndex].size))
        return b.name;
    return {};
  };
  for (const cxx::Field &f : c.fields) {
    std::string base = inBase(f.offset);
    if (f.note == "vfptr" || f.note == "vbptr") {
      fmt::print("  /* +{:<5} */ void *{}_{:x};{}\n", hex(f.offset), f.note == "vfptr" ? "__vftable" : "__vbtable", f.offset,
                 base.empty() ? "" : "  // of " + base);
    } else if (f.memberClass >= 0) {
      fmt::print("  /* +{:<5} */ {} member_{:x};  // constructed by its constructor\n", hex(f.offset),
                 m.classes[f.memberClass].name, f.offset);
    } else {
      fmt::print("  /* +{:<5} */ {} field_{:x};{}\n", hex(f.offset), typeForSize(f.size), f.offset,
                 base.empty() ? "" : "  // in base " + base);
    }
  }
  for (int vi : c.vftables) {
    const cxx::Vftable &v = m.vftables[vi];
    fmt::print("\n  // vftable {} at +{}{}\n", hex(v.rva), hex(v.subobjectOffset),
               v.forBase.empty() ? "" : fmt::format(" {{for '{}'}}", v.forBase));
    for (size_t i = 0; i < v.slots.size(); ++i) {
      const cxx::Slot &s = v.slots[i];
      fmt::print("  virtual void vf{}(){};  // {} {} ({})\n", i, s.pure ? " = 0" : "", hex(s.targetRva),
                 m.nameFor(a, s.functionRva), cxx::slotKindName(s.kind));
    }
  }
  std::string leaf = cxx::classLeafName(c.name);
  if (!c.constructors.empty() || !c.destructors.empty())
    fmt::print("\n");
  for (uint32_t r : c.constructors)
    fmt::print("  {}();  // {} {}\n", leaf, hex(r), m.nameFor(a, r));
  for (uint32_t r : c.destructors)
    fmt::print("  ~{}();  // {} {}\n", leaf, hex(r), m.nameFor(a, r));
  fmt::print("}};\n");
  for (const cxx::Vbtable &vb : c.vbtables) {
    fmt::print("// vbtable {} at +{}:", hex(vb.rva), hex(vb.vbptrOffset));
    for (int32_t e : vb.entries)
      fmt::print(" {}", e);
    fmt::print("\n");
  }
  for (const cxx::ArrayConstruction &ar : c.arrays)
    fmt::print("// array of {} x {} built at {}\n", ar.count, hex(ar.elementSize), a.describe(ar.siteRva));
  for (uint32_t r : c.deletingDestructors)
    fmt::print("// deleting destructor {} {}\n", hex(r), m.nameFor(a, r));
  for (const cxx::InlinedStructor &in : c.inlined)
    fmt::print("// inlined constructor/destructor at {} ({})\n", a.describe(in.siteRva), in.object);
}
} // namespace

Command classCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"class", "One C++ class as a declaration: bases, vfptrs, fields, virtual methods", Needs::Code,
          {Arg::Text, "NAME", "Class name (as demangled, e.g. Circle or ns::Box<int>)"}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const cxx::ObjectModel &m = analyzeClasses(*a, *o);
    int ci = m.findClass(c.arg);
    if (ci < 0) {
      reportError("no class named '{}' in {} ({} classes; see `switchboard classes`)", c.arg, o->file, m.classes.size());
      return kExitUsage;
    }
    c.phase("render");
    const cxx::Class &cls = m.classes[ci];
    if (o->json) {
      json j = classJson(*a, m, cls);
      json structors = json::array();
      for (const cxx::Structor &s : m.structors)
        if (s.classIndex == ci)
          structors.push_back(structorJson(*a, m, s));
      j["structors"] = structors;
      printJson(j);
      return kExitOk;
    }
    printDeclaration(*a, m, cls);
    return kExitOk;
  }};
}

} // namespace sb::cli
