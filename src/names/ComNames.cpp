#include "switchboard/analysis/Analysis.h"
#include "switchboard/com/Com.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/names/Naming.h"

#include <fmt/format.h>

namespace sb::names {

void addComNames(const Analysis &a, NameService &n) {
  const com::ComModel &m = a.com();
  for (const com::GuidRef &g : m.guids)
    n.add(g.rva, {g.name, "", Source::Com});
  const cxx::ObjectModel &om = a.objectModel();
  size_t ordinal = 0;
  for (const com::ServerClass &s : m.serverClasses) {
    // The factory's class (RTTI), or ClassFactory_<n>.
    std::string owner = fmt::format("ClassFactory_{}", ordinal++);
    for (const cxx::Vftable &v : om.vftables)
      if (v.rva == s.factoryVftableRva && v.classIndex >= 0 && !om.classes[size_t(v.classIndex)].nameIsSynthetic)
        owner = om.classes[size_t(v.classIndex)].name;
    n.add(s.createInstanceRva, {owner + "::CreateInstance", "", Source::Com});
  }
}

} // namespace sb::names
