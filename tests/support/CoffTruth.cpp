#include "CoffTruth.h"

#include "switchboard/analysis/Analysis.h"

#include <cstdio>
#include <cstdlib>
#include <set>
#include <unistd.h>

namespace sb::test {

std::optional<CoffScore> scoreAgainstCoffSymbols(const std::string &path) {
  auto orig = pe::PeImage::load(path);
  if (!orig || !orig->codeAnalysisSupported())
    return std::nullopt;
  // Recall is measured on function symbols; a found start is right when any
  // code symbol names it: a function, a label (Wine's relay entry points), or
  // a section symbol (".text$1": where an object's code starts).
  std::set<uint32_t> truth, labels;
  for (const auto &s : orig->coffSymbols()) {
    if (!s.rva || !orig->isExecutableRva(*s.rva) || s.name.empty())
      continue;
    if (s.name.rfind(".text", 0) == 0 && s.storageClass == 3 && s.value != 0)
      labels.insert(*s.rva);
    if (s.name[0] == '.')
      continue;
    bool cold = s.name.find(".cold") != std::string::npos;   // GCC hot/cold split: a fragment
    if (s.isFunction() && (s.storageClass == 2 || s.storageClass == 3) && !cold)
      truth.insert(*s.rva);
    if (s.storageClass == 2 || s.storageClass == 3 || s.storageClass == 6)
      labels.insert(*s.rva);
  }
  if (truth.empty())
    return std::nullopt;
  char tmpl[] = "/tmp/sb_stripped_XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0)
    return std::nullopt;
  close(fd);
  std::string stripped = tmpl;
  std::string cmd = "llvm-objcopy-16 --strip-all '" + path + "' '" + stripped + "' 2>/dev/null";
  int rc = std::system(cmd.c_str());
  auto a = rc == 0 ? Analysis::open(stripped) : Expected<std::unique_ptr<Analysis>>(makeError("strip failed"));
  std::remove(stripped.c_str());
  if (!a || !(*a)->image().coffSymbols().empty())
    return std::nullopt;
  CoffScore s;
  s.truth = truth.size();
  for (const auto &f : (*a)->functions()) {
    ++s.found;
    s.hits += truth.count(f.rva);
    s.named += labels.count(f.rva);
  }
  return s;
}

} // namespace sb::test
