#include "UnwindFormat.h"

namespace sb::cli {
namespace {

json handlerJson(const Analysis &a, const unwind::HandlerData &h) {
  json o = {{"kind", unwind::handlerKindName(h.kind)}};
  if (!h.scopes.empty()) {
    json s = json::array();
    for (const auto &r : h.scopes) {
      json e = {{"begin_rva", r.begin}, {"end_rva", r.end}, {"type", r.isFinally() ? "finally" : "except"}};
      if (r.isFinally())
        e["handler_rva"] = r.handler;
      else if (r.constantFilter())
        e["filter"] = r.handler;
      else
        e["filter_rva"] = r.handler;
      if (!r.isFinally())
        e["target_rva"] = r.target;
      s.push_back(e);
    }
    o["scopes"] = s;
  }
  if (h.gs) {
    o["gs"] = {{"cookie_offset", h.gs->cookieOffset}, {"flags", h.gs->flags}};
    if (h.gs->flags & 4)
      o["gs"]["aligned_base_offset"] = h.gs->alignedBaseOffset, o["gs"]["alignment"] = h.gs->alignment;
  }
  if (h.funcInfoRva)
    o["func_info_rva"] = *h.funcInfoRva;
  if (h.personalityRva)
    o["personality_rva"] = *h.personalityRva;
  if (h.lsdaRva)
    o["lsda_rva"] = *h.lsdaRva;
  if (!h.warnings.empty())
    o["warnings"] = h.warnings;
  return o;
}
} // namespace

std::string symbolize(const Analysis &a, uint32_t rva) { return a.symbolize(rva); }

json unwindInfoJson(const Analysis &a, const unwind::HandlerCatalog &handlers, const unwind::ChainLink &link) {
  json o = {{"begin_rva", link.begin}, {"end_rva", link.end}, {"unwind_rva", link.unwindRva & ~1u}};
  if (link.indirect)
    o["indirect"] = true;
  if (!link.error.empty())
    o["error"] = link.error;
  if (!link.info)
    return o;
  const unwind::UnwindInfo &u = *link.info;
  o["version"] = u.version;
  o["flags"] = u.flags;
  o["prolog_size"] = u.prologSize;
  o["code_count"] = u.codeCount;
  o["frame_register"] = u.frameRegister ? unwind::registerName(u.frameRegister) : "";
  o["frame_offset"] = u.frameOffsetBytes();
  json codes = json::array();
  for (const auto &c : u.codes)
    codes.push_back({{"slot", c.slot}, {"offset", c.prologOffset}, {"op", unwind::unwindOpName(c.op, u.version)},
                     {"info", c.info}, {"text", unwind::describeCode(c, u.version)}});
  o["codes"] = codes;
  if (u.version >= 2 && !u.epilogCodes.empty()) {
    o["epilog"] = {{"size", u.epilogSize}, {"at_end", u.epilogAtEnd}, {"offsets_from_end", u.epilogOffsetsFromEnd}};
  }
  if (u.handlerRva) {
    unwind::HandlerData h = unwind::decodeHandlerData(a, handlers, u, link.begin, link.end);
    o["handler"] = h.name;
    o["handler_rva"] = *u.handlerRva;
    o["handler_data_rva"] = u.handlerDataRva;
    o["handler_data"] = handlerJson(a, h);
  }
  if (!u.warnings.empty())
    o["warnings"] = u.warnings;
  return o;
}

void printUnwindInfo(const Analysis &a, const unwind::HandlerCatalog &handlers, const unwind::ChainLink &link) {
  const pe::PeImage &img = a.image();
  fmt::print("BeginAddress      = {}\n", va64(link.begin));
  fmt::print("EndAddress        = {}\n", va64(link.end));
  fmt::print("UnwindInfoAddress = {}\n", va64(link.unwindRva));
  if (link.indirect)
    fmt::print("  (indirect: the unwind field names the RUNTIME_FUNCTION at {:08x})\n", link.unwindRva & ~1u);
  if (!link.error.empty())
    fmt::print("  ! {}\n", link.error);
  if (!link.info)
    return;
  const unwind::UnwindInfo &u = *link.info;
  size_t bytes = 4 + 2 * ((u.codeCount + 1u) & ~1u) + (u.chained ? 12 : u.handlerRva ? 4 : 0);
  fmt::print("\nUnwind info at {}, {:x} bytes\n", formatVa(img, img.rvaToVa(u.rva)), bytes);
  fmt::print("  version {}, flags {:x}, prolog {:x}, codes {:x}\n", u.version, u.flags, u.prologSize, u.codeCount);
  if (u.frameRegister)
    fmt::print("  frame reg {}, frame offs {:x}\n", unwind::registerName(u.frameRegister), u.frameOffsetBytes());
  if (u.handlerRva) {
    unwind::HandlerData h = unwind::decodeHandlerData(a, handlers, u, link.begin, link.end);
    fmt::print("  handler routine: {}!{} ({}), data {:x}\n", a.moduleName(), h.name,
               formatVa(img, img.rvaToVa(*u.handlerRva)), u.handlerDataRva);
    for (const auto &r : h.scopes) {
      if (r.isFinally())
        fmt::print("    __try [{:x}, {:x}) __finally {}\n", r.begin, r.end, symbolize(a, r.handler));
      else if (r.constantFilter())
        fmt::print("    __try [{:x}, {:x}) __except({}) -> {}\n", r.begin, r.end, r.handler, symbolize(a, r.target));
      else
        fmt::print("    __try [{:x}, {:x}) __except({}) -> {}\n", r.begin, r.end, symbolize(a, r.handler),
                   symbolize(a, r.target));
    }
    if (h.gs)
      fmt::print("    GS cookie at establisher frame + 0x{:x}{}\n", h.gs->cookieOffset,
                 h.gs->flags & 4 ? fmt::format(" (aligned base 0x{:x}, alignment 0x{:x})", h.gs->alignedBaseOffset,
                                               h.gs->alignment)
                                 : "");
    if (h.funcInfoRva)
      fmt::print("    FuncInfo at {:x}\n", *h.funcInfoRva);
    if (h.personalityRva)
      fmt::print("    personality {}, LSDA {:x}\n", symbolize(a, *h.personalityRva), h.lsdaRva.value_or(0));
    for (const auto &w : h.warnings)
      fmt::print("    ! {}\n", w);
  }
  for (const auto &c : u.epilogCodes)
    fmt::print("  {:02x}: offs {:x}, unwind op {}, op info {:x}\t{}\n", c.slot, c.prologOffset, c.op, c.info,
               unwind::describeCode(c, u.version));
  for (const auto &c : u.codes)
    fmt::print("  {:02x}: offs {:x}, unwind op {}, op info {:x}\t{}\n", c.slot, c.prologOffset, c.op, c.info,
               unwind::describeCode(c, u.version));
  for (const auto &w : u.warnings)
    fmt::print("  ! {}\n", w);
}

json frameJson(const unwind::EntryFrame &e) {
  const unwind::FrameLayout &f = e.layout;
  json saved = json::array(), homed = json::array();
  for (const auto &s : f.saved)
    saved.push_back({{"reg", s.reg}, {"offset", s.offset}, {"caller_home", f.inCallerHome(s)}});
  for (const auto &s : f.homed)
    homed.push_back({{"reg", s.reg}, {"offset", s.offset}});
  json o = {{"rva", f.rva}, {"kind", unwind::entryKindName(e.kind)}};
  if (e.kind != unwind::EntryKind::Function)
    o["owner_rva"] = e.ownerRva;
  if (e.entry)
    o["pdata"] = {{"begin_rva", e.entry->begin}, {"end_rva", e.entry->end}, {"chained", e.entry->isChained()}};
  o["frame_size"] = f.frameSize;
  o["alloc"] = f.alloc;
  json pushes = json::array();
  for (code::Gpr r : f.pushes)
    pushes.push_back(code::gprName(r, true));
  o["pushes"] = pushes;
  o["frame_register"] = f.frameRegister ? code::gprName(*f.frameRegister, true) : "";
  o["frame_offset"] = f.frameOffset;
  o["frame_register_at"] = f.frameRegisterAt;
  o["saved"] = saved;
  o["homed"] = homed;
  o["leaf"] = f.leaf;
  if (f.machineFrame)
    o["machine_frame"] = true;
  if (!f.warnings.empty())
    o["warnings"] = f.warnings;
  return o;
}

void printFrame(const Analysis &a, const unwind::EntryFrame &e) {
  const unwind::FrameLayout &f = e.layout;
  if (e.kind == unwind::EntryKind::Function)
    fmt::print("{} ({:x})  [function]\n", symbolize(a, f.rva), f.rva);
  else
    fmt::print("{} ({:x})  [{} of {} ({:x}){}]\n", symbolize(a, f.rva), f.rva, unwind::entryKindName(e.kind),
               symbolize(a, e.ownerRva), e.ownerRva, e.entry && e.entry->isChained() ? ", frame of the whole chain" : "");
  if (f.leaf) {
    fmt::print("  leaf function (no unwind data): frame size 0x8 (return address only)\n");
    return;
  }
  for (const auto &w : f.warnings)
    fmt::print("  ! {}\n", w);
  fmt::print("  frame size 0x{:x} = alloc 0x{:x} + {} push(es) * 8 + {}\n", f.frameSize, f.alloc, f.pushes.size(),
             f.machineFrame ? "machine frame" : "return address 8");
  // The frame from Child-SP upwards, the way it lies in memory.
  fmt::print("  Child-SP+0x{:03x}  local area (0x{:x} bytes)\n", 0, f.alloc);
  int64_t off = f.alloc;
  for (auto it = f.pushes.rbegin(); it != f.pushes.rend(); ++it, off += 8)
    fmt::print("  Child-SP+0x{:03x}  pushed {}\n", off, code::gprName(*it, true));
  if (!f.machineFrame)
    fmt::print("  Child-SP+0x{:03x}  return address\n", off);
  if (f.frameRegister)
    fmt::print("  frame register {} = Child-SP+0x{:x} (set to RSP+0x{:x} in the prolog)\n", code::gprName(*f.frameRegister, true),
               f.frameRegisterAt, f.frameOffset);
  for (const auto &s : f.saved)
    fmt::print("  saved  {:<5} at Child-SP+0x{:x}{}\n", s.reg, s.offset, f.inCallerHome(s) ? " (caller's homing area)" : "");
  for (const auto &s : f.homed)
    fmt::print("  homed  {:<5} at Child-SP+0x{:x}\n", s.reg, s.offset);
}

} // namespace sb::cli
