// `switchboard disasm FILE RVA|NAME`: a whole function like WinDbg `uf`:
// every block in address order, labelled, with names at call sites.
#include "Common.h"

#include "switchboard/code/Disassembly.h"
#include "switchboard/eh/EhModel.h"

#include <algorithm>

namespace sb::cli {
namespace {
// Names for the addresses an instruction refers to: branch targets, IAT slots,
// other code or data with a name.
std::string annotate(const Analysis &a, const code::Instruction &in) {
  const pe::PeImage &img = a.image();
  std::string note;
  for (uint64_t va : in.references) {
    auto r = img.vaToRva(va);
    if (!r || !img.isMappedRva(*r))
      continue;
    std::string name;
    if (auto n = a.nameAt(*r))
      name = *n;
    else if (img.isExecutableRva(*r) && in.callOrJump)
      name = a.describe(*r);
    if (!name.empty())
      note += (note.empty() ? "" : ", ") + name;
  }
  return note;
}
} // namespace

Command disasmCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"disasm", "Disassemble a whole function (like WinDbg uf)", Needs::Code,
          {Arg::Function, "TARGET", "Function name, RVA or VA (hex)"}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const pe::PeImage &img = a->image();
    const code::Function *f = c.function;
    c.phase("render");
    code::Disassembler dis(img);
    const std::string &mod = a->moduleName();
    // EH funclets are labelled by their own names (f$catch$0, f$dtor$3).
    const unwind::HandlerCatalog &catalog = a->handlerCatalog();
    auto funclets = eh::funcletNames(*a, catalog, *f);
    auto label = [&](uint32_t at) {
      for (const auto &[rva, name] : funclets)
        if (rva == at)
          return fmt::format("{}!{}", mod, name);
      return at == f->rva ? fmt::format("{}!{}", mod, f->name) : fmt::format("{}!{}+0x{:x}", mod, f->name, at - f->rva);
    };
    if (o->json) {
      json blocks = json::array();
      for (const auto &b : f->blocks) {
        json insns = json::array();
        for (uint32_t pc = b.rva; pc < b.end;) {
          auto in = dis.at(pc);
          if (!in)
            break;
          json ij = {{"rva", pc}, {"text", in->text}};
          if (auto n = annotate(*a, *in); !n.empty())
            ij["refs"] = n;
          insns.push_back(ij);
          pc = in->next();
        }
        blocks.push_back({{"rva", b.rva}, {"end_rva", b.end}, {"successors", b.successors}, {"instructions", insns}});
      }
      json chunks = json::array();
      for (const auto &c : f->chunks)
        chunks.push_back({{"rva", c.rva}, {"end_rva", c.end}});
      printJson({{"rva", f->rva}, {"name", f->name}, {"chunks", chunks}, {"blocks", blocks}});
      return kExitOk;
    }
    fmt::print("{} ({})\n", label(f->rva), formatVa(img, img.rvaToVa(f->rva)));
    if (f->chunks.size() > 1) {
      fmt::print("  chunks:");
      for (const auto &c : f->chunks)
        fmt::print(" [{:x}-{:x})", c.rva, c.end);
      fmt::print("\n");
    }
    fmt::print("\n");
    for (const auto &b : f->blocks) {
      fmt::print("{}:\n", label(b.rva));
      for (uint32_t pc = b.rva; pc < b.end;) {
        auto in = dis.at(pc);
        if (!in) {
          fmt::print("{} ??\n", formatVa(img, img.rvaToVa(pc)));
          break;
        }
        const std::string &text = in->text;
        std::string note = annotate(*a, *in);
        auto bytes = img.bytesFromRva(pc).first(in->length);
        std::string hexBytes;
        for (uint8_t c : bytes)
          hexBytes += fmt::format("{:02x}", c);
        if (note.empty())
          fmt::print("{} {:<16} {}\n", formatVa(img, img.rvaToVa(pc)), hexBytes, text);
        else
          fmt::print("{} {:<16} {:<40} ; {}\n", formatVa(img, img.rvaToVa(pc)), hexBytes, text, note);
        for (const auto &jt : f->jumpTables)
          if (jt.jumpRva == pc) {
            fmt::print("{:>{}}; switch table at {:x} ({}, {} entries{})\n", "", img.is64() ? 18 : 9, jt.tableRva,
                       code::jumpTableKindName(jt.kind), jt.targets.size(), jt.boundKnown ? "" : ", bound inferred");
            for (size_t i = 0; i < jt.targets.size(); ++i)
              fmt::print("{:>{}};   case {:3} -> {}\n", "", img.is64() ? 18 : 9, i, label(jt.targets[i]));
          }
        pc = in->next();
      }
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
