// `switchboard frame FILE ADDR` / `--all`: stack frame layouts from unwind
// data: of the .pdata entry an address lies in (a funclet's or fragment's
// own), or of every entry and every function without one.
#include "UnwindFormat.h"

namespace sb::cli {
namespace {
struct FrameOptions : CommonOptions {
  bool all = false;
};
} // namespace

Command frameCommand() {
  auto o = std::make_shared<FrameOptions>();
  return {"frame", "Stack frame layout at an address (x64), or of every .pdata entry and function", Needs::X64,
          {Arg::Address, "FUNC", "Function name, RVA or VA; an address in a funclet or fragment means its own entry",
           false},
          o, [o](CLI::App &cmd) { cmd.add_flag("--all", o->all, "Every .pdata entry (functions, fragments, funclets) and leaf function"); },
          [o](const Context &c) -> int {
            if (c.arg.empty() != o->all) {
              reportError("frame needs either FUNC or --all");
              return kExitUsage;
            }
            const Analysis &a = *c.analysis;
            const unwind::ExceptionDirectory &dir = a.exceptionDirectory();
            const code::Decoder &dec = a.decoder();   // x64 (Needs::X64)
            if (o->all) {
              std::vector<unwind::EntryFrame> all = unwind::allFrames(a, dir, dec);
              c.phase("render");
              json frames = json::array();
              for (const unwind::EntryFrame &f : all)
                if (o->json)
                  frames.push_back(frameJson(f));
                else
                  printFrame(a, f);
              if (o->json)
                printJson({{"frames", frames}});
              return kExitOk;
            }
            unwind::EntryFrame f = unwind::frameAt(a, dir, dec, *c.rva);
            c.phase("render");
            if (o->json)
              printJson(frameJson(f));
            else
              printFrame(a, f);
            return kExitOk;
          }};
}

} // namespace sb::cli
