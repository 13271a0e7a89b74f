// COM in one image: the GUIDs its data holds (named from a knowledge base
// of the SDK's CLSIDs and IIDs), every CoCreateInstance(Ex) /
// CoGetClassObject site with its CLSID and IID, the calls made through the
// interface pointer they return (`call [vtbl+N]`, named by the interface's
// method table: IShellLinkW::SetPath), and, for an in-process server, the
// classes DllGetClassObject hands out: class factory -> CreateInstance ->
// the object's vftables. A session model (Analysis::com).
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb { class Analysis; }

namespace sb::com {

enum class GuidKind : uint8_t { Interface, Class, Other };
const char *guidKindName(GuidKind k);   // "interface", "class", "other"

// The compiled-in knowledge (data/com/com.json, imported from Wine's SDK
// headers by data/com/import_com.py): GUID names and interface method tables.
class Knowledge {
public:
  struct Guid {
    std::string name;     // "IID_IShellLinkW", "CLSID_ShellLink"
    GuidKind kind = GuidKind::Other;
  };
  struct Interface {
    std::string name;     // "IShellLinkW"
    std::string base;     // "IUnknown"; empty for IUnknown itself
    std::vector<std::string> methods;   // its own, after the base's
  };
  static const Knowledge &builtin();
  // By the GUID in registry form without braces, lower case.
  const Guid *guid(std::string_view text) const;
  const Interface *interfaceByIid(std::string_view iid) const;
  const Interface *interfaceNamed(std::string_view name) const;
  // The method at vtable slot `slot` (base methods first): "SetPath".
  std::optional<std::string> method(const Interface &i, unsigned slot) const;
  size_t guidCount() const { return guids_.size(); }

private:
  std::unordered_map<std::string, Guid> guids_;
  std::unordered_map<std::string, size_t> byIid_, byName_;
  std::vector<Interface> interfaces_;
};

// "6d1a2b3c-..." from the 16 bytes of a GUID as it lies in memory.
std::string guidText(std::span<const uint8_t, 16> bytes);

// A GUID of the knowledge base found in the image's data.
struct GuidRef {
  uint32_t rva = 0;
  std::string guid;
  std::string name;
  GuidKind kind = GuidKind::Other;
};

// A CoCreateInstance / CoCreateInstanceEx / CoGetClassObject site (or an
// interface pointer QueryInterface returned).
struct Activation {
  uint32_t siteRva = 0, functionRva = 0;
  std::string api;              // "CoCreateInstance", ..., "QueryInterface"
  std::string clsid, iid;       // GUIDs as text; empty when not known
  std::string clsidName, iidName;   // "CLSID_ShellLink", "IID_IShellLinkW"; empty when not in the knowledge
  std::string interfaceName;    // "IShellLinkW" (the knowledge's), or empty
};

// A call through an interface pointer an activation returned.
struct MethodCall {
  uint32_t siteRva = 0, functionRva = 0;
  size_t activation = 0;        // index into ComModel::activations
  unsigned slot = 0;
  std::string method;           // "SetPath"; "Method3" when the interface is not known
  // "IShellLinkW::SetPath", "{3f1e2d4c-...}::Method3".
  std::string qualified;
};

// An in-process server's class: the factory DllGetClassObject hands out and
// the objects its CreateInstance makes.
struct ServerClass {
  std::vector<std::string> clsids;        // the GUIDs DllGetClassObject compares with
  uint32_t factoryVftableRva = 0;
  uint32_t createInstanceRva = 0;         // the factory's slot 3
  std::vector<uint32_t> objectVftables;   // the vftables CreateInstance (or what it calls) stores
  std::vector<std::string> objectClasses; // their classes (RTTI or recovered names)
};

struct ComModel {
  std::vector<GuidRef> guids;             // by rva
  std::vector<Activation> activations;    // by site
  std::vector<MethodCall> calls;          // by site
  uint32_t dllGetClassObjectRva = 0;
  std::vector<ServerClass> serverClasses;
};

ComModel findCom(const Analysis &a);

} // namespace sb::com
