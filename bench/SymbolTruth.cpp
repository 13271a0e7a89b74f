// Function discovery on stripped binaries against the COFF symbols of the
// originals (see tests/support/CoffTruth.h). Prints recall and precision.
//   sb_symbol_truth FILE...
#include "CoffTruth.h"

#include <cstdio>
#include <string>

int main(int argc, char **argv) {
  sb::test::CoffScore total;
  std::printf("%-40s %7s %7s %7s %8s %9s\n", "file", "truth", "found", "hits", "recall", "precision");
  for (int i = 1; i < argc; ++i) {
    std::string path = argv[i];
    auto s = sb::test::scoreAgainstCoffSymbols(path);
    if (!s)
      continue;
    std::printf("%-40s %7zu %7zu %7zu %8.4f %9.4f\n", path.substr(path.find_last_of('/') + 1).c_str(), s->truth,
                s->found, s->hits, s->recall(), s->precision());
    total.truth += s->truth;
    total.found += s->found;
    total.hits += s->hits;
    total.named += s->named;
  }
  std::printf("%-40s %7zu %7zu %7zu %8.4f %9.4f\n", "TOTAL", total.truth, total.found, total.hits, total.recall(),
              total.precision());
}
