// Function discovery on a stripped copy of a binary, scored against the COFF
// symbols of the original (Wine's and mingw's modules carry them; real targets
// do not, so we measure without them).
#pragma once
#include <cstddef>
#include <optional>
#include <string>

namespace sb::test {

struct CoffScore {
  size_t truth = 0;     // function symbols in code (GCC's f.cold fragments excluded)
  size_t found = 0;     // functions found in the stripped copy
  size_t hits = 0;      // found starts that are function symbols
  size_t named = 0;     // found starts that any code symbol names (function, label, section start)
  double recall() const { return truth ? double(hits) / truth : 1.0; }
  double precision() const { return found ? double(named) / found : 1.0; }
};

// nullopt when the file has no COFF function symbols or cannot be stripped.
std::optional<CoffScore> scoreAgainstCoffSymbols(const std::string &path);

} // namespace sb::test
