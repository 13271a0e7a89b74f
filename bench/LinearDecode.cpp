// The yardstick for analysis time: one linear decode (single thread) of
// every executable byte of an image with our decoder, then function
// discovery, the EH model, the object model and the window-message flow of
// the same file, each as a ratio to that decode.
//   sb_linear_decode FILE [THREADS]
//   sb_linear_decode --floor FILE     (only the decode: its seconds, for scripts)
#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"
#include "code/Decoder.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/messages/MessageFlow.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <thread>

namespace {
double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
} // namespace

int main(int argc, char **argv) {
  const bool floorOnly = argc > 2 && std::string_view(argv[1]) == "--floor";
  if (floorOnly) {
    ++argv;
    --argc;
  }
  if (argc < 2) {
    std::fprintf(stderr, "usage: sb_linear_decode [--floor] FILE [THREADS]\n");
    return 2;
  }
  sb::AnalysisOptions o;
  o.threads = argc > 2 ? unsigned(std::atoi(argv[2])) : std::thread::hardware_concurrency();
  auto a = sb::Analysis::open(argv[1], o);
  if (!a) {
    std::fprintf(stderr, "%s\n", a.error().c_str());
    return 1;
  }
  const sb::pe::PeImage &img = (*a)->image();
  sb::code::Decoder dec(img.is64(), img.imageBase());
  auto t0 = std::chrono::steady_clock::now();
  size_t insns = 0, bytes = 0;
  for (const auto &sec : img.sections()) {
    if (!sec.executable())
      continue;
    auto data = img.bytesFromRva(sec.rva);
    uint32_t n = uint32_t(std::min<size_t>(data.size(), sec.mappedSize()));
    bytes += n;
    sb::code::DecodedInsn d;
    for (uint32_t off = 0; off < n;) {
      bool ok = dec.decode(data.subspan(off), sec.rva + off, d);
      off += ok ? d.insn.length : 1;
      insns += ok;
    }
  }
  double linear = since(t0);
  if (floorOnly) {
    std::printf("%.4f\n", linear);
    return 0;
  }
  t0 = std::chrono::steady_clock::now();
  size_t fns = (*a)->functions().size();
  double discovery = since(t0);
  t0 = std::chrono::steady_clock::now();
  size_t funcInfos = sb::eh::analyzeEh(**a).functions.size();
  double eh = since(t0);
  t0 = std::chrono::steady_clock::now();
  size_t classes = sb::cxx::analyzeObjectModel(**a).classes.size();
  double om = since(t0);
  t0 = std::chrono::steady_clock::now();
  sb::messages::MessageFlow mf = sb::messages::analyzeMessages(**a, sb::api::ApiTable::builtin());
  double msg = since(t0);
  std::printf("%s: %zu code bytes, %zu instructions decoded linearly in %.3f s (1 thread)\n", argv[1], bytes, insns,
              linear);
  std::printf("  functions  %6zu  %.3f s  %5.1fx linear (%u threads)\n", fns, discovery, discovery / linear, o.threads);
  std::printf("  eh         %6zu  %.3f s  %5.1fx linear\n", funcInfos, eh, eh / linear);
  std::printf("  classes    %6zu  %.3f s  %5.1fx linear\n", classes, om, om / linear);
  std::printf("  messages   %6zu  %.3f s  %5.1fx linear (procedures; after the models above)\n", mf.procedures.size(),
              msg, msg / linear);
  return 0;
}
