// Function discovery on stripped binaries against the COFF function symbols
// of the unstripped original (Wine's modules, mingw DLLs): for each FILE,
// truth = function symbols in executable sections of FILE; the analysis runs
// on `llvm-objcopy-16 --strip-all FILE`. Prints recall and precision.
//   sb_symbol_truth FILE...
#include "switchboard/analysis/Analysis.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <unistd.h>

int main(int argc, char **argv) {
  size_t totalTruth = 0, totalFound = 0, totalTp = 0, totalTpFound = 0;
  std::printf("%-40s %7s %7s %7s %8s %9s\n", "file", "truth", "found", "hits", "recall", "precision");
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    auto orig = sb::pe::PeImage::load(path);
    if (!orig || !orig->codeAnalysisSupported())
      continue;
    // Recall is measured on function symbols; a found start is right when
    // any code symbol (function or label, e.g. Wine's relay entry points)
    // names it.
    std::set<uint32_t> truth, labels;
    for (const auto &s : orig->coffSymbols()) {
      if (!s.rva || !orig->isExecutableRva(*s.rva) || s.name.empty())
        continue;
      // A section symbol (".text$1") marks where an object's code starts.
      if (s.name.rfind(".text", 0) == 0 && s.storageClass == 3 && s.value != 0)
        labels.insert(*s.rva);
      if (s.name[0] == '.')
        continue;
      // GCC's hot/cold split parts (f.cold) are fragments of f, not functions.
      bool cold = s.name.find(".cold") != std::string::npos;
      if (s.isFunction() && (s.storageClass == 2 || s.storageClass == 3) && !cold)
        truth.insert(*s.rva);
      if (s.storageClass == 2 || s.storageClass == 3 || s.storageClass == 6)
        labels.insert(*s.rva);
    }
    if (truth.empty())
      continue;
    std::string stripped = "/tmp/sb_stripped_" + std::to_string(getpid()) + ".bin";
    std::string cmd = "llvm-objcopy-16 --strip-all '" + path + "' '" + stripped + "' 2>/dev/null";
    if (std::system(cmd.c_str()) != 0)
      continue;
    auto a = sb::Analysis::open(stripped);
    std::remove(stripped.c_str());
    if (!a)
      continue;
    if (!(*a)->image().coffSymbols().empty())
      std::fprintf(stderr, "%s: stripping left symbols\n", path.c_str());
    const auto &fns = (*a)->functions();
    size_t tp = 0;
    size_t foundOk = 0;
    for (const auto &f : fns) {
      tp += truth.count(f.rva);
      foundOk += labels.count(f.rva);
    }
    double recall = double(tp) / truth.size(), precision = fns.empty() ? 1.0 : double(foundOk) / fns.size();
    std::printf("%-40s %7zu %7zu %7zu %8.4f %9.4f\n", path.substr(path.find_last_of('/') + 1).c_str(), truth.size(),
                fns.size(), tp, recall, precision);
    totalTruth += truth.size();
    totalFound += fns.size();
    totalTp += tp;
    totalTpFound += foundOk;
  }
  std::printf("%-40s %7zu %7zu %7zu %8.4f %9.4f\n", "TOTAL", totalTruth, totalFound, totalTp,
              totalTruth ? double(totalTp) / totalTruth : 0.0, totalFound ? double(totalTpFound) / totalFound : 0.0);
}
