// Names for enumerations and small text renderings of PE structures.
#include "switchboard/pe/Structures.h"

#include "switchboard/support/Text.h"

#include <fmt/format.h>

namespace sb::pe {

const char *machineName(Machine m) {
  switch (m) {
  case Machine::X86: return "x86";
  case Machine::X64: return "x64";
  case Machine::Arm: return "arm";
  case Machine::Arm64: return "arm64";
  case Machine::Other: return "unknown";
  }
  return "unknown";
}

const char *directoryName(unsigned index) {
  static const char *names[16] = {"Export", "Import", "Resource", "Exception", "Security", "BaseReloc",
                                  "Debug", "Architecture", "GlobalPtr", "TLS", "LoadConfig",
                                  "BoundImport", "IAT", "DelayImport", "CLR", "Reserved"};
  return index < 16 ? names[index] : "?";
}

const char *debugTypeName(uint32_t type) {
  switch (type) {
  case 1: return "COFF";
  case 2: return "CODEVIEW";
  case 3: return "FPO";
  case 4: return "MISC";
  case 5: return "EXCEPTION";
  case 6: return "FIXUP";
  case 9: return "BORLAND";
  case 12: return "VC_FEATURE";
  case 13: return "POGO";
  case 14: return "ILTCG";
  case 16: return "REPRO";
  case 20: return "EX_DLLCHARACTERISTICS";
  default: return "UNKNOWN";
  }
}

const char *resourceTypeName(uint32_t id) {
  switch (id) {
  case 1: return "CURSOR";
  case 2: return "BITMAP";
  case 3: return "ICON";
  case 4: return "MENU";
  case 5: return "DIALOG";
  case 6: return "STRING";
  case 7: return "FONTDIR";
  case 8: return "FONT";
  case 9: return "ACCELERATOR";
  case 10: return "RCDATA";
  case 11: return "MESSAGETABLE";
  case 12: return "GROUP_CURSOR";
  case 14: return "GROUP_ICON";
  case 16: return "VERSION";
  case 17: return "DLGINCLUDE";
  case 19: return "PLUGPLAY";
  case 20: return "VXD";
  case 21: return "ANICURSOR";
  case 22: return "ANIICON";
  case 23: return "HTML";
  case 24: return "MANIFEST";
  default: return nullptr;
  }
}

std::string Import::qualifiedName() const {
  return byOrdinal && name.empty() ? fmt::format("{}!#{}", dll, ordinal) : dll + "!" + name;
}

std::string CodeViewInfo::guidString() const { return formatGuid(guid); }

std::string ResourceId::text() const {
  if (!isName)
    return std::to_string(id);
  std::string s = "\"";
  for (char16_t c : name)
    s += (c >= 0x20 && c < 0x7F) ? char(c) : '?';
  return s + "\"";
}

} // namespace sb::pe
