// API knowledge as data: signatures of the Win32/NT/RPC/COM functions the
// recognizers read (parameter names and kinds), the structures they take,
// and the enums their constants come from. The built-in table is
// data/api/win32.json, compiled in; more tables (same format) can be merged.
#pragma once
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb::api {

enum class Kind : uint8_t {
  Int, Uint, Flags, LongPtr, Handle, Hwnd, Message, WParam, LParam, Ptr,
  StringA, StringW,       // pointer to a NUL-terminated string
  ClassA, ClassW,         // a class name, or an atom (< 0x10000)
  ResourceA, ResourceW,   // a resource name, or MAKEINTRESOURCE(id)
  Callback,               // a code pointer
  Guid,                   // pointer to a GUID
  Ioctl,                  // a CTL_CODE
  UnicodeString,          // pointer to a UNICODE_STRING
  Enum,                   // a constant named by `enumName`
  Struct,                 // pointer to `structName`
};
const char *kindName(Kind k);

struct Param {
  std::string name;
  Kind kind = Kind::Int;
  std::string enumName, structName;
  // "struct:S[count]": an array of `count` (a field of the same structure)
  // S, each as long as its first field says (PROPSHEETPAGE.dwSize).
  std::string countField;
};

struct Api {
  std::string name, dll;
  bool cdecl = false;   // the caller pops (x86); Win32 APIs are stdcall
  std::vector<Param> params;
};

struct Field {
  std::string name;
  Kind kind = Kind::Int;
  std::string enumName;
  std::string structName;   // Kind::Struct: the structure it points to
  std::string countField;   // ... an array of as many as this field says
  unsigned offset = 0, size = 0;
};

// A procedure an API receives inside a structure: PropertySheet's
// lppsph->ppsp->pfnDlgProc, GetOpenFileName's lpofn->lpfnHook.
struct ProcedureField {
  std::string api;    // without the A/W suffix when the API has both
  std::string path;   // parameter, then fields, joined by "->"
  std::string kind;   // dialog, hook, callback, window
};

class ApiTable {
public:
  // The built-in table (data/api/win32.json).
  static const ApiTable &builtin();
  // Merges a table in the same JSON format; later entries replace earlier ones.
  Expected<bool> merge(std::string_view json);

  const Api *find(std::string_view name) const;
  // Field layout of a structure for a pointer size (natural alignment).
  std::vector<Field> layout(const std::string &structName, bool is64) const;
  std::optional<std::string> enumText(const std::string &enumName, int64_t value) const;
  // "WM_SETTEXT", "WM_USER+2", or nullopt.
  std::optional<std::string> messageName(uint32_t msg) const;
  // Imports from these DLLs use cdecl (C runtimes).
  bool isCdeclDll(std::string_view dll) const;
  // The name of an export some modules import by ordinal ("ordinals").
  std::optional<std::string> ordinalName(std::string_view dll, uint16_t ordinal) const;
  const std::vector<ProcedureField> &procedureFields() const { return procedureFields_; }
  // The APIs with a parameter of this kind (sorted by name): the callback
  // registrations are every API that takes a Kind::Callback.
  std::vector<const Api *> withParamKind(Kind k) const;
  size_t size() const { return apis_.size(); }

private:
  std::unordered_map<std::string, Api> apis_;
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> structs_;   // name -> (field, type)
  std::map<std::string, std::map<int64_t, std::string>> enums_;
  std::vector<std::tuple<uint32_t, uint32_t, std::string>> messageRanges_;
  std::vector<std::string> cdeclDlls_;
  std::map<std::pair<std::string, uint16_t>, std::string> ordinals_;   // (lower-case dll, ordinal) -> name
  std::map<std::string, unsigned> packing_, packing32_;   // struct -> #pragma pack (both / x86 only)
  std::vector<ProcedureField> procedureFields_;
};

// "CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_BUFFERED, FILE_ANY_ACCESS)".
std::string ioctlText(uint32_t code);

} // namespace sb::api
