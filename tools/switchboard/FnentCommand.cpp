// `switchboard fnent FILE ADDR`: WinDbg's .fnent: the RUNTIME_FUNCTION that
// covers ADDR, its unwind info decoded, the handler and its data, and a
// "Chained info:" section per link of the chain.
#include "UnwindFormat.h"

namespace sb::cli {
namespace {
struct FnentOptions : CommonOptions {
  std::string address;
};
} // namespace

Runner registerFnent(CLI::App &app) {
  auto o = std::make_shared<FnentOptions>();
  CLI::App *cmd = app.add_subcommand("fnent", "The function table entry and unwind info for an address (.fnent)");
  addCommonOptions(*cmd, *o);
  cmd->add_option("ADDR", o->address, "RVA, VA or function name")->required();
  return [o]() -> int {
    auto a = openAnalysis(*o);
    if (!a)
      return kExitFailure;
    const pe::PeImage &img = a->image();
    if (!requireX64(img, o->file, "fnent"))
      return kExitFailure;
    auto rva = resolveOrComplain(*a, o->address);
    if (!rva)
      return kExitUsage;
    unwind::ExceptionDirectory dir(img);
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
    unwind::HandlerCatalog handlers(*a);
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
  };
}

} // namespace sb::cli
