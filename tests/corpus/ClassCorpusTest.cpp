// The C++ object model of real binaries (onnxruntime, isscint, rcedit,
// notifu, fastlist): every Complete Object Locator decodes consistently
// (its TypeDescriptor names a class, its hierarchy starts with that class,
// the base array walks cleanly), every RTTI vftable's slots are code, and the
// x86/x64 builds of one program give the same classes and hierarchy.
#include "TestSupport.h"

#include "switchboard/cxx/ObjectModel.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

namespace sb::test {
namespace {

struct Summary {
  std::map<std::string, std::vector<std::string>> bases;   // RTTI class -> direct bases
};

Summary checkFile(const std::string &rel) {
  Summary out;
  std::string path = corpusDir() + "/" + rel;
  auto a = Analysis::open(path);
  EXPECT_TRUE(a) << path;
  if (!a)
    return out;
  const pe::PeImage &img = (*a)->image();
  (void)(*a)->functions();
  auto t0 = std::chrono::steady_clock::now();
  cxx::ObjectModel m = cxx::analyzeObjectModel(**a);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Every COL: signature, TypeDescriptor name, hierarchy led by the class.
  std::vector<cxx::CompleteObjectLocator> cols = cxx::findCompleteObjectLocators(img);
  EXPECT_EQ(cols.size(), m.completeObjectLocators);
  size_t bad = 0;
  for (const auto &col : cols) {
    auto td = cxx::readTypeDescriptor(img, col.typeDescriptorRva);
    auto h = cxx::readClassHierarchy(img, col.hierarchyRva);
    bool ok = td && h && !h->bases.empty() && h->bases[0].typeDescriptorRva == col.typeDescriptorRva;
    if (ok) {
      // The direct bases partition the array.
      size_t covered = 1;
      for (size_t i : h->directBases())
        covered += 1 + h->bases[i].numContainedBases;
      ok = covered == h->bases.size();
    }
    if (!ok && ++bad <= 5)
      ADD_FAILURE() << rel << ": COL " << std::hex << col.rva << " does not decode consistently";
  }
  size_t rttiVftables = 0, slots = 0, ctors = 0, dtors = 0, deleting = 0, noRtti = 0, sized = 0;
  for (const cxx::Vftable &v : m.vftables) {
    if (!v.colRva)
      continue;
    ++rttiVftables;
    for (const cxx::Slot &s : v.slots) {
      ++slots;
      EXPECT_TRUE(img.isExecutableRva(s.targetRva)) << rel << ": slot of " << std::hex << v.rva;
    }
  }
  for (const cxx::Class &c : m.classes) {
    ctors += c.constructors.size();
    dtors += c.destructors.size();
    deleting += c.deletingDestructors.size();
    noRtti += c.typeDescriptorRva == 0;
    sized += c.size.has_value();
    if (c.typeDescriptorRva && !c.vftables.empty()) {
      std::vector<std::string> b;
      for (const cxx::BaseRef &x : c.bases)
        b.push_back(x.name + (x.isVirtual ? " (virtual)" : ""));
      out.bases[c.name] = b;
    }
  }
  EXPECT_GE(rttiVftables, cols.size() * 9 / 10) << rel << ": most COLs have a vftable";
  std::printf("[classes] %-42s %5zu COLs %5zu classes (%zu without RTTI) %5zu vftables %6zu slots, %5zu ctors %5zu dtors "
              "%5zu deleting, %4zu sized, %6zu vcalls, %.2f s\n",
              rel.c_str(), cols.size(), m.classes.size(), noRtti, m.vftables.size(), slots, ctors, dtors, deleting, sized,
              m.vcalls.size(), secs);
  return out;
}

TEST(ClassCorpus, ColsDecodeAndTwinsAgree) {
  if (corpusFiles().empty())
    GTEST_SKIP() << "corpus not fetched";
  checkFile("npm/onnxruntime-node/onnxruntime.dll");
  checkFile("npm/innosetup/isscint.dll");
  const std::pair<const char *, const char *> twins[] = {
      {"npm/rcedit/rcedit.exe", "npm/rcedit/rcedit-x64.exe"},
      {"npm/node-notifier/notifu.exe", "npm/node-notifier/notifu64.exe"},
      {"npm/ps-list/fastlist-0.3.0-x86.exe", "npm/ps-list/fastlist-0.3.0-x64.exe"},
  };
  for (const auto &[x86, x64] : twins) {
    Summary a = checkFile(x86), b = checkFile(x64);
    // The same classes with vftables, with the same direct bases; a class
    // whose vftable one compiler dropped may be missing on one side.
    size_t same = 0, differ = 0;
    for (const auto &[name, bases] : a.bases) {
      auto it = b.bases.find(name);
      if (it == b.bases.end())
        continue;
      (it->second == bases ? same : differ)++;
      EXPECT_EQ(it->second, bases) << x86 << " vs " << x64 << ": bases of " << name;
    }
    size_t total = std::max(a.bases.size(), b.bases.size());
    EXPECT_GE(same, total * 95 / 100) << x86 << " vs " << x64;
    std::printf("[twins] %s / %s: %zu and %zu classes with vftables, %zu agree, %zu differ\n", x86, x64, a.bases.size(),
                b.bases.size(), same, differ);
  }
}

} // namespace
} // namespace sb::test
