// libFuzzer target for the PE model and the function model behind it: any
// input must parse to an error or a (partial) model, and analysis must stay
// bounded. Build with `make fuzz`.
#include "switchboard/analysis/Analysis.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto img = sb::pe::PeImage::parse(std::vector<uint8_t>(data, data + size));
  if (!img)
    return 0;
  // Touch every lookup the commands use.
  const auto &i = *img;
  for (const auto &imp : i.imports())
    (void)i.importForIat(imp.iatRva);
  (void)i.rvaToOffset(i.headers().entryPointRva);
  sb::AnalysisOptions o;
  o.threads = 1;
  auto a = sb::Analysis::fromImage(img.take(), "fuzz", o);
  for (const auto &f : a->functions()) {
    (void)a->functionContaining(f.rva);
    (void)a->describe(f.rva);
  }
  return 0;
}
