// `switchboard info FILE`: the PE model, like dumpbin /headers /imports /exports.
#include "Common.h"

#include <algorithm>
#include <ctime>

namespace sb::cli {
namespace {

std::string sectionFlags(const pe::Section &s) {
  std::string f;
  f += s.readable() ? 'R' : '-';
  f += s.writable() ? 'W' : '-';
  f += s.executable() ? 'X' : '-';
  return f;
}

const char *subsystemName(uint16_t s) {
  switch (s) {
  case 1: return "native";
  case 2: return "GUI";
  case 3: return "console";
  case 9: return "WinCE";
  case 10: return "EFI application";
  case 11: return "EFI boot driver";
  case 12: return "EFI runtime driver";
  case 16: return "boot application";
  default: return "other";
  }
}

std::string timestamp(uint32_t t) {
  std::time_t tt = t;
  char buf[64];
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

json toJson(const pe::PeImage &img, const std::string &file) {
  const auto &h = img.headers();
  json j;
  j["file"] = file;
  j["machine"] = pe::machineName(img.machine());
  j["machine_raw"] = h.machineRaw;
  j["format"] = h.is64 ? "PE32+" : "PE32";
  j["code_analysis_supported"] = img.codeAnalysisSupported();
  j["image_base"] = h.imageBase;
  j["entry_rva"] = h.entryPointRva;
  j["size_of_image"] = h.sizeOfImage;
  j["size_of_headers"] = h.sizeOfHeaders;
  j["timestamp"] = h.timeDateStamp;
  j["characteristics"] = h.characteristics;
  j["dll"] = h.isDll();
  j["subsystem"] = h.subsystem;
  j["dll_characteristics"] = h.dllCharacteristics;
  j["linker_version"] = fmt::format("{}.{}", h.linkerMajor, h.linkerMinor);
  j["os_version"] = fmt::format("{}.{}", h.osMajor, h.osMinor);
  j["checksum"] = h.checksum;
  json dirs = json::array();
  for (unsigned i = 0; i < h.numberOfRvaAndSizes; ++i)
    if (h.directories[i].rva || h.directories[i].size)
      dirs.push_back({{"name", pe::directoryName(i)}, {"rva", h.directories[i].rva}, {"size", h.directories[i].size}});
  j["data_directories"] = dirs;
  json secs = json::array();
  for (const auto &s : img.sections())
    secs.push_back({{"name", s.name}, {"rva", s.rva}, {"virtual_size", s.virtualSize}, {"raw_offset", s.rawOffset},
                    {"raw_size", s.rawSize}, {"characteristics", s.characteristics}, {"flags", sectionFlags(s)}});
  j["sections"] = secs;
  auto importsJson = [](const std::vector<pe::Import> &v) {
    json a = json::array();
    for (const auto &i : v) {
      json e = {{"dll", i.dll}, {"iat_rva", i.iatRva}};
      if (i.byOrdinal)
        e["ordinal"] = i.ordinal;
      else {
        e["name"] = i.name;
        e["hint"] = i.hint;
      }
      a.push_back(e);
    }
    return a;
  };
  j["imports"] = importsJson(img.imports());
  j["delay_imports"] = importsJson(img.delayImports());
  json ex = json::array();
  for (const auto &e : img.exports().exports) {
    json o = {{"ordinal", e.ordinal}};
    if (!e.name.empty())
      o["name"] = e.name;
    if (e.forwarder.empty())
      o["rva"] = e.rva;
    else
      o["forwarder"] = e.forwarder;
    ex.push_back(o);
  }
  j["exports"] = {{"dll_name", img.exports().dllName}, {"ordinal_base", img.exports().ordinalBase}, {"entries", ex}};
  json rel = json::array();
  for (const auto &r : img.relocations())
    if (r.type == 3 || r.type == 10)
      rel.push_back(r.rva);
  j["relocations"] = {{"count", img.relocations().size()}, {"pointer_rvas", rel}};
  if (img.tls()) {
    json cbs = json::array();
    for (uint32_t c : img.tls()->callbackRvas)
      cbs.push_back({{"rva", c}});
    j["tls"] = {{"callbacks", cbs}, {"index_va", img.tls()->addressOfIndex}};
  }
  if (const auto &lc = img.loadConfig()) {
    json o = {{"size", lc->size}};
    if (auto r = img.vaToRva(lc->securityCookieVa); r && lc->securityCookieVa)
      o["security_cookie_rva"] = *r;
    o["safeseh_handler_rvas"] = lc->safeSehHandlers;
    o["guard_flags"] = lc->guardFlags;
    o["cfg_function_rvas"] = lc->guardFunctions;
    j["load_config"] = o;
  }
  json dbg = json::array();
  for (const auto &d : img.debugEntries()) {
    json o = {{"type", pe::debugTypeName(d.type)}, {"type_raw", d.type}, {"size", d.sizeOfData},
              {"data_rva", d.addressOfRawData}};
    if (d.codeView)
      o["codeview"] = {{"signature", d.codeView->signature}, {"guid", d.codeView->guidString()},
                       {"age", d.codeView->age}, {"pdb", d.codeView->pdbPath}};
    dbg.push_back(o);
  }
  j["debug"] = dbg;
  if (img.richHeader()) {
    json r = json::array();
    for (const auto &e : img.richHeader()->entries)
      r.push_back({{"product_id", e.productId}, {"build", e.build}, {"count", e.count}});
    j["rich"] = r;
  }
  json res = json::array();
  for (const auto &r : img.resources()) {
    json o = {{"type", r.type.text()}, {"name", r.name.text()}, {"language", r.language.id}, {"data_rva", r.dataRva},
              {"size", r.size}};
    if (!r.type.isName)
      if (const char *tn = pe::resourceTypeName(r.type.id))
        o["type_name"] = tn;
    res.push_back(o);
  }
  j["resources"] = res;
  json syms = json::array();
  for (const auto &s : img.coffSymbols()) {
    json o = {{"name", s.name}, {"value", s.value}, {"section", s.sectionNumber}, {"type", s.type},
              {"storage_class", s.storageClass}};
    if (s.rva)
      o["rva"] = *s.rva;
    syms.push_back(o);
  }
  j["coff_symbols"] = syms;
  const auto &rf = img.runtimeFunctions();
  size_t chained = std::count_if(rf.begin(), rf.end(), [](const pe::RuntimeFunction &f) { return f.isChained(); });
  j["exception_directory"] = {{"entries", rf.size()}, {"chained", chained}, {"primary", rf.size() - chained}};
  j["warnings"] = img.warnings();
  return j;
}

void printText(const pe::PeImage &img, const std::string &file, bool all) {
  const auto &h = img.headers();
  fmt::print("File:            {}\n", file);
  fmt::print("Format:          {} {} ({}){}\n", h.is64 ? "PE32+" : "PE32", pe::machineName(img.machine()),
             subsystemName(h.subsystem), h.isDll() ? ", DLL" : "");
  if (!img.codeAnalysisSupported())
    fmt::print("                 code analysis: unsupported architecture (machine 0x{:04x}); headers only\n",
               h.machineRaw);
  fmt::print("Image base:      {}\n", formatVa(img, h.imageBase));
  fmt::print("Entry point:     RVA {:08x}  VA {}\n", h.entryPointRva, formatVa(img, img.rvaToVa(h.entryPointRva)));
  fmt::print("Timestamp:       {:08x} ({})\n", h.timeDateStamp, timestamp(h.timeDateStamp));
  fmt::print("Linker:          {}.{}   OS {}.{}   Subsystem {}.{}\n", h.linkerMajor, h.linkerMinor, h.osMajor,
             h.osMinor, h.subsystemMajor, h.subsystemMinor);
  fmt::print("Size of image:   {:x}   headers {:x}   checksum {:08x}\n", h.sizeOfImage, h.sizeOfHeaders, h.checksum);
  fmt::print("Characteristics: {:04x}   DllCharacteristics {:04x}\n", h.characteristics, h.dllCharacteristics);

  fmt::print("\nData directories:\n");
  for (unsigned i = 0; i < h.numberOfRvaAndSizes; ++i)
    if (h.directories[i].rva || h.directories[i].size)
      fmt::print("  {:<12} RVA {:08x}  size {:8x}\n", pe::directoryName(i), h.directories[i].rva,
                 h.directories[i].size);

  fmt::print("\nSections ({}):\n  {:<8} {:>8} {:>8} {:>8} {:>8} {:>8}  flags\n", img.sections().size(), "name", "RVA",
             "VSize", "RawOff", "RawSize", "chars");
  for (const auto &s : img.sections())
    fmt::print("  {:<8} {:08x} {:08x} {:08x} {:08x} {:08x}  {}\n", s.name, s.rva, s.virtualSize, s.rawOffset,
               s.rawSize, s.characteristics, sectionFlags(s));

  auto printImports = [&](const std::vector<pe::Import> &v, const char *title) {
    if (v.empty())
      return;
    fmt::print("\n{} ({}):\n", title, v.size());
    std::string dll;
    for (const auto &i : v) {
      if (i.dll != dll) {
        dll = i.dll;
        fmt::print("  {}\n", dll);
      }
      if (i.byOrdinal)
        fmt::print("    IAT {:08x}  ordinal {}\n", i.iatRva, i.ordinal);
      else
        fmt::print("    IAT {:08x}  {:4x}  {}\n", i.iatRva, i.hint, i.name);
    }
  };
  printImports(img.imports(), "Imports");
  printImports(img.delayImports(), "Delay-load imports");

  const auto &ed = img.exports();
  if (!ed.exports.empty()) {
    fmt::print("\nExports of {} ({}, ordinal base {}):\n", ed.dllName, ed.exports.size(), ed.ordinalBase);
    for (const auto &e : ed.exports) {
      if (e.forwarder.empty())
        fmt::print("  {:5}  {:08x}  {}\n", e.ordinal, e.rva, e.name.empty() ? "[NONAME]" : e.name);
      else
        fmt::print("  {:5}  {:>8}  {} -> {}\n", e.ordinal, "", e.name.empty() ? "[NONAME]" : e.name, e.forwarder);
    }
  }

  size_t ptrRelocs = std::count_if(img.relocations().begin(), img.relocations().end(),
                                   [](const pe::Relocation &r) { return r.type == 3 || r.type == 10; });
  fmt::print("\nBase relocations: {} entries, {} pointer-holding (HIGHLOW/DIR64)\n", img.relocations().size(),
             ptrRelocs);
  if (all)
    for (const auto &r : img.relocations())
      fmt::print("  {:08x}  type {}\n", r.rva, r.type);

  if (img.tls()) {
    fmt::print("\nTLS directory: index at {}, {} callback(s)\n", formatVa(img, img.tls()->addressOfIndex),
               img.tls()->callbackRvas.size());
    for (uint32_t c : img.tls()->callbackRvas)
      fmt::print("  callback RVA {:08x}\n", c);
  }
  if (const auto &lc = img.loadConfig()) {
    fmt::print("\nLoad config (size 0x{:x}):\n", lc->size);
    if (lc->securityCookieVa)
      fmt::print("  security cookie   {}\n", formatVa(img, lc->securityCookieVa));
    if (lc->seHandlerTableVa)
      fmt::print("  SafeSEH handlers  {} at {}\n", lc->safeSehHandlers.size(), formatVa(img, lc->seHandlerTableVa));
    for (uint32_t s : lc->safeSehHandlers)
      fmt::print("    {:08x}\n", s);
    if (lc->guardFunctionTableVa)
      fmt::print("  CFG functions     {} (guard flags {:08x})\n", lc->guardFunctions.size(), lc->guardFlags);
  }
  if (!img.debugEntries().empty()) {
    fmt::print("\nDebug directory:\n");
    for (const auto &d : img.debugEntries()) {
      fmt::print("  {:<10} size {:6x}  RVA {:08x}", pe::debugTypeName(d.type), d.sizeOfData, d.addressOfRawData);
      if (d.codeView)
        fmt::print("  {} {} age {} {}", d.codeView->signature, d.codeView->guidString(), d.codeView->age,
                   d.codeView->pdbPath);
      fmt::print("\n");
    }
  }
  if (img.richHeader()) {
    fmt::print("\nRich header ({} entries, key {:08x}):\n", img.richHeader()->entries.size(), img.richHeader()->key);
    for (const auto &e : img.richHeader()->entries)
      fmt::print("  product {:3}  build {:5}  count {}\n", e.productId, e.build, e.count);
  }
  if (!img.resources().empty()) {
    fmt::print("\nResources ({}):\n", img.resources().size());
    for (const auto &r : img.resources()) {
      const char *tn = r.type.isName ? nullptr : pe::resourceTypeName(r.type.id);
      fmt::print("  {:<14} {:<16} lang {:5}  RVA {:08x}  size {:x}\n", tn ? tn : r.type.text(), r.name.text(),
                 r.language.id, r.dataRva, r.size);
    }
  }
  if (!img.coffSymbols().empty()) {
    size_t fns = std::count_if(img.coffSymbols().begin(), img.coffSymbols().end(),
                               [](const pe::CoffSymbol &s) { return s.isFunction(); });
    fmt::print("\nCOFF symbols: {} ({} functions){}\n", img.coffSymbols().size(), fns, all ? "" : " (--all lists them)");
    if (all)
      for (const auto &s : img.coffSymbols())
        fmt::print("  {:>8}  sect {:3}  type {:04x}  class {:3}  {}\n",
                   s.rva ? fmt::format("{:08x}", *s.rva) : std::string("-"), s.sectionNumber, s.type,
                   s.storageClass, s.name);
  }
  const auto &rf = img.runtimeFunctions();
  if (!rf.empty()) {
    size_t chained = std::count_if(rf.begin(), rf.end(), [](const pe::RuntimeFunction &f) { return f.isChained(); });
    fmt::print("\nException directory: {} RUNTIME_FUNCTIONs ({} primary, {} chained)\n", rf.size(),
               rf.size() - chained, chained);
  }
  printWarnings(img);
}

struct InfoOptions : CommonOptions {
  bool all = false;
};
} // namespace

Command infoCommand() {
  auto o = std::make_shared<InfoOptions>();
  return {"info", "PE headers, sections, imports, exports and directories", Needs::Image, {}, o,
          [o](CLI::App &cmd) { cmd.add_flag("--all", o->all, "List every relocation and COFF symbol in text output"); },
          [o](const Context &c) -> int {
    const pe::PeImage *img = c.image;
    c.phase("render");
    if (o->json)
      printJson(toJson(*img, o->file));
    else
      printText(*img, o->file, o->all);
    return kExitOk;
  }};
}

} // namespace sb::cli
