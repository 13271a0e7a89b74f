// `switchboard frame FILE FUNC` / `--all`: stack frame layouts from unwind data.
#include "UnwindFormat.h"

namespace sb::cli {
namespace {
struct FrameOptions : CommonOptions {
  std::string function;
  bool all = false;
};
} // namespace

Runner registerFrame(CLI::App &app) {
  auto o = std::make_shared<FrameOptions>();
  CLI::App *cmd = app.add_subcommand("frame", "Stack frame layout of a function (x64), or of every function");
  addCommonOptions(*cmd, *o);
  cmd->add_option("FUNC", o->function, "Function name, RVA or VA");
  cmd->add_flag("--all", o->all, "Every function");
  return [o]() -> int {
    if (o->function.empty() != o->all) {
      fmt::print(stderr, "switchboard: frame needs either FUNC or --all\n");
      return kExitUsage;
    }
    auto a = openAnalysis(*o);
    if (!a)
      return kExitFailure;
    const pe::PeImage &img = a->image();
    if (!requireX64(img, o->file, "frame"))
      return kExitFailure;
    unwind::ExceptionDirectory dir(img);
    code::Decoder dec(true, img.imageBase());
    if (o->all) {
      json frames = json::array();
      for (const auto &f : a->functions()) {
        unwind::FrameLayout fl = unwind::computeFrame(dir, dec, f.rva);
        if (o->json)
          frames.push_back(frameJson(fl));
        else
          printFrame(*a, fl);
      }
      if (o->json)
        printJson({{"frames", frames}});
      return kExitOk;
    }
    auto rva = resolveOrComplain(*a, o->function);
    if (!rva)
      return kExitUsage;
    // Frames belong to functions: an address inside one means that function.
    if (const code::Function *f = a->functionContaining(*rva))
      rva = f->rva;
    unwind::FrameLayout fl = unwind::computeFrame(dir, dec, *rva);
    if (o->json)
      printJson(frameJson(fl));
    else
      printFrame(*a, fl);
    return kExitOk;
  };
}

} // namespace sb::cli
