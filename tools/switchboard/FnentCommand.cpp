// `switchboard fnent FILE ADDR`: WinDbg's .fnent: the RUNTIME_FUNCTION that
// covers ADDR, its unwind info decoded, the handler and its data, and a
// "Chained info:" section per link of the chain.
#include "UnwindFormat.h"

namespace sb::cli {
Command fnentCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"fnent", "The function table entry and unwind info for an address (.fnent)", Needs::X64,
          {Arg::Address, "ADDR", "RVA, VA or function name"}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const pe::PeImage &img = a->image();
    std::optional<uint32_t> rva = c.rva;
    const unwind::ExceptionDirectory &dir = a->exceptionDirectory();
    const pe::RuntimeFunction *entry = dir.entryFor(*rva);
    if (!entry) {
      if (o->json)
        printJson({{"rva", *rva}, {"leaf", true}, {"function", symbolize(*a, *rva)}});
      else
        fmt::print("No function entry for {} ({}): a leaf function, or not code.\n", formatVa(img, img.rvaToVa(*rva)),
                   symbolize(*a, *rva));
      return kExitOk;
    }
    auto chain = dir.chain(*entry);
    const unwind::HandlerCatalog &handlers = a->handlerCatalog();
    c.phase("render");
    if (o->json) {
      json j = unwindInfoJson(*a, handlers, chain.front());
      j["rva"] = *rva;
      j["function"] = symbolize(*a, *rva);
      json links = json::array();
      for (size_t i = 1; i < chain.size(); ++i)
        links.push_back(unwindInfoJson(*a, handlers, chain[i]));
      j["chain"] = links;
      printJson(j);
      return kExitOk;
    }
    fmt::print("Debugger function entry {} for:\n", formatVa(img, img.rvaToVa(*rva)));
    fmt::print("({})   {}\n", formatVa(img, img.rvaToVa(entry->begin)), symbolize(*a, *rva));
    fmt::print("Exact matches:\n\n");
    printUnwindInfo(*a, handlers, chain.front());
    for (size_t i = 1; i < chain.size(); ++i) {
      fmt::print("\nChained info:\n");
      printUnwindInfo(*a, handlers, chain[i]);
    }
    return kExitOk;
  }};
}

} // namespace sb::cli
