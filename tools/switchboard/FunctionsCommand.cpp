// `switchboard functions FILE`: every function with its chunks.
#include "Common.h"

#include "switchboard/eh/EhModel.h"

#include <algorithm>
#include <chrono>

namespace sb::cli {
namespace {
json functionJson(const Analysis &a, const unwind::HandlerCatalog &catalog, const code::Function &f) {
  json chunks = json::array();
  for (const auto &c : f.chunks)
    chunks.push_back({{"rva", c.rva}, {"end_rva", c.end}});
  json o = {{"rva", f.rva}, {"end_rva", f.end()}, {"name", f.name}, {"chunks", chunks}};
  if (!f.rawName.empty() && f.rawName != f.name)
    o["raw_name"] = f.rawName;
  o["blocks"] = f.blocks.size();
  o["sources"] = code::sourceNames(f.sources);
  if (f.isImportThunk)
    o["import"] = a.nameAt(f.thunkIatRva).value_or("");
  if (!f.jumpTables.empty())
    o["jump_tables"] = f.jumpTables.size();
  if (f.noReturn)
    o["noreturn"] = true;
  if (!f.funclets.empty()) {
    json fl = json::array();
    for (const auto &[rva, name] : eh::funcletNames(a, catalog, f))
      fl.push_back({{"rva", rva}, {"name", name}});
    o["funclets"] = fl;
  }
  if (f.truncated)
    o["truncated"] = true;
  return o;
}
} // namespace

Command functionsCommand() {
  auto o = std::make_shared<CommonOptions>();
  return {"functions", "Discover functions, their blocks and chunks", Needs::Code, {}, o, {},
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    const pe::PeImage &img = a->image();
    auto t0 = std::chrono::steady_clock::now();
    const auto &fns = a->functions();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!o->quiet && isatty(2))
      fmt::print(stderr, "\r\033[K");
    c.phase("render");
    if (o->json) {
      json arr = json::array();
      const unwind::HandlerCatalog &catalog = a->handlerCatalog();
      for (const auto &f : fns)
        arr.push_back(functionJson(*a, catalog, f));
      json j = {{"file", o->file}, {"functions", arr}, {"warnings", img.warnings()}};   // no timings: deterministic
      printJson(j);
      return kExitOk;
    }
    size_t chunks = 0, blocks = 0, thunks = 0;
    for (const auto &f : fns) {
      chunks += f.chunks.size();
      blocks += f.blocks.size();
      thunks += f.isImportThunk;
    }
    fmt::print("{:<8} {:<{}} {:>8} {:>6} {:>6}  {}\n", "RVA", "VA", img.is64() ? 17 : 8, "size", "blocks", "chunks",
               "name");
    for (const auto &f : fns)
      fmt::print("{:08x} {} {:>8x} {:>6} {:>6}  {}{}\n", f.rva, formatVa(img, img.rvaToVa(f.rva)), f.end() - f.rva,
                 f.blocks.size(), f.chunks.size(), f.name, f.isImportThunk ? "  [import thunk]" : "");
    fmt::print("\n{} functions, {} basic blocks, {} chunks, {} import thunks ({:.2f} s)\n", fns.size(), blocks,
               chunks, thunks, secs);
    printWarnings(img);
    return kExitOk;
  }};
}

} // namespace sb::cli
