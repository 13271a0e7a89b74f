// `switchboard where FILE ADDR`: function+0xOFF for any address, aware of
// fragments: an address in a chained (BBT) fragment belongs to the function
// the fragment chains to, not to whatever symbol precedes it.
#include "UnwindFormat.h"

namespace sb::cli {
Command whereCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"where", "The function (and fragment) an address belongs to", Needs::Analysis,
          {Arg::Address, "ADDR", "RVA or VA (hex)"}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    std::optional<uint32_t> rva = c.rva;
    const pe::PeImage &img = a->image();
    const code::Function *f = a->functionContaining(*rva);
    const code::Range *chunk = nullptr;
    if (f)
      for (const auto &c : f->chunks)
        if (c.contains(*rva))
          chunk = &c;
    const pe::RuntimeFunction *entry = nullptr;
    std::optional<unwind::ExceptionDirectory> dir;
    if (img.machine() == pe::Machine::X64) {
      dir.emplace(img);
      entry = dir->entryFor(*rva);
    }
    bool fragment = entry && entry->isChained();
    if (o->json) {
      json j = {{"rva", *rva}, {"text", symbolize(*a, *rva)}};
      if (f) {
        j["function_rva"] = f->rva;
        j["function"] = f->name;
        j["offset"] = int64_t(*rva) - int64_t(f->rva);
      }
      if (chunk)
        j["chunk"] = {{"rva", chunk->rva}, {"end_rva", chunk->end}};
      if (entry)
        j["pdata"] = {{"begin_rva", entry->begin}, {"end_rva", entry->end}, {"chained", fragment}};
      printJson(j);
      return f ? kExitOk : kExitFailure;
    }
    if (!f) {
      fmt::print("{}: not inside a known function\n", formatVa(img, img.rvaToVa(*rva)));
      return kExitFailure;
    }
    fmt::print("{}  {}", formatVa(img, img.rvaToVa(*rva)), symbolize(*a, *rva));
    if (chunk && !chunk->contains(f->rva))
      fmt::print("   (in chunk [{:x}, {:x}){})", chunk->rva, chunk->end,
                 fragment ? fmt::format(", chained .pdata fragment of {:x}", img.runtimeFunctions()[entry->primary].begin)
                          : "");
    fmt::print("\n");
    return kExitOk;
  }};
}

} // namespace sb::cli
