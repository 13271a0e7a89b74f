// `switchboard com FILE`: the COM GUIDs the data holds (named from the SDK
// knowledge), every CoCreateInstance(Ex) / CoGetClassObject site with its
// CLSID and IID, the method calls through the pointers they return, and an
// in-process server's classes (DllGetClassObject -> factory -> objects).
#include "Common.h"
#include "UnwindFormat.h"

#include "switchboard/com/Com.h"
#include "switchboard/names/Names.h"

namespace sb::cli {
namespace {

std::string named(const std::string &guid, const std::string &name) {
  if (guid.empty())
    return "?";
  return name.empty() ? "{" + guid + "}" : name;
}

json toJson(const Analysis &a, const com::ComModel &m) {
  json guids = json::array(), acts = json::array(), callsJ = json::array(), classes = json::array();
  for (const com::GuidRef &g : m.guids)
    guids.push_back({{"rva", g.rva}, {"guid", g.guid}, {"name", g.name}, {"kind", com::guidKindName(g.kind)}});
  for (const com::Activation &x : m.activations)
    acts.push_back({{"site_rva", x.siteRva}, {"function_rva", x.functionRva}, {"api", x.api}, {"clsid", x.clsid},
                    {"clsid_name", x.clsidName}, {"iid", x.iid}, {"iid_name", x.iidName},
                    {"interface", x.interfaceName}});
  for (const com::MethodCall &c : m.calls)
    callsJ.push_back({{"site_rva", c.siteRva}, {"function_rva", c.functionRva},
                      {"activation_site_rva", m.activations[c.activation].siteRva}, {"slot", c.slot},
                      {"method", c.method}, {"name", c.qualified}});
  for (const com::ServerClass &s : m.serverClasses)
    classes.push_back({{"clsids", s.clsids}, {"factory_vftable_rva", s.factoryVftableRva},
                       {"create_instance_rva", s.createInstanceRva},
                       {"create_instance", a.displayName(s.createInstanceRva)}, {"object_vftable_rvas", s.objectVftables},
                       {"object_classes", s.objectClasses}});
  json j = {{"guids", guids}, {"activations", acts}, {"calls", callsJ}};
  j["dll_get_class_object_rva"] = m.dllGetClassObjectRva ? json(m.dllGetClassObjectRva) : json(nullptr);
  j["server_classes"] = classes;
  return j;
}

void printText(const Analysis &a, const com::ComModel &m) {
  const pe::PeImage &img = a.image();
  auto va = [&](uint32_t rva) { return formatVa(img, img.rvaToVa(rva)); };
  fmt::print("{} known GUID{} in the data, {} activation{}, {} interface call{}\n", m.guids.size(),
             m.guids.size() == 1 ? "" : "s", m.activations.size(), m.activations.size() == 1 ? "" : "s",
             m.calls.size(), m.calls.size() == 1 ? "" : "s");
  if (!m.guids.empty())
    fmt::print("\nGUIDs\n");
  for (const com::GuidRef &g : m.guids)
    fmt::print("  {}  {{{}}}  {:<9} {}\n", va(g.rva), g.guid, com::guidKindName(g.kind), g.name);
  if (!m.activations.empty())
    fmt::print("\nActivations\n");
  for (const com::Activation &x : m.activations)
    fmt::print("  {}  {:<18} {}  {}\n", va(x.siteRva), x.api, named(x.clsid, x.clsidName), named(x.iid, x.iidName));
  if (!m.calls.empty())
    fmt::print("\nInterface calls\n");
  for (const com::MethodCall &c : m.calls)
    fmt::print("  {}  {:<40} slot {:<3} in {}\n", va(c.siteRva), c.qualified, c.slot, a.displayName(c.functionRva));
  if (m.dllGetClassObjectRva)
    fmt::print("\nServer: DllGetClassObject {}\n", va(m.dllGetClassObjectRva));
  for (const com::ServerClass &s : m.serverClasses) {
    std::vector<std::string> clsids;
    for (const std::string &g : s.clsids)
      clsids.push_back("{" + g + "}");
    fmt::print("  class {}: factory vftable {}, CreateInstance {} ({})\n", fmt::join(clsids, ", "),
               va(s.factoryVftableRva), va(s.createInstanceRva), a.displayName(s.createInstanceRva));
    for (size_t i = 0; i < s.objectVftables.size(); ++i)
      fmt::print("    object vftable {}  {}\n", va(s.objectVftables[i]), a.displayName(s.objectVftables[i]));
    if (!s.objectClasses.empty())
      fmt::print("    classes: {}\n", fmt::join(s.objectClasses, ", "));
  }
}

} // namespace

Command comCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"com", "COM GUIDs, CoCreateInstance sites, interface method calls, in-process server classes",
          Needs::Code, {}, o, {},
          [o](const Context &c) -> int {
    const com::ComModel &m = c.analysis->com();
    c.phase("render");
    if (o->json)
      printJson(toJson(*c.analysis, m));
    else
      printText(*c.analysis, m);
    return kExitOk;
  }};
}

} // namespace sb::cli
