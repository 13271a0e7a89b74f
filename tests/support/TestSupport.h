// Paths and helpers shared by the tests.
#pragma once
#include "switchboard/analysis/Analysis.h"

#include <string>
#include <vector>

namespace sb::test {

std::string fixturePath(const std::string &arch, const std::string &file);
std::string corpusDir();
std::vector<std::string> corpusFiles();   // every regular file of the npm and deb sets
std::string cliPath();

// Runs a command, returns its exit code and (optionally) its stdout.
int runCommand(const std::string &cmd, std::string *out = nullptr);
std::vector<uint8_t> readFile(const std::string &path);

struct Score {
  size_t truth = 0, found = 0, truePositives = 0;
  double recall() const { return truth ? double(truePositives) / truth : 1.0; }
  double precision() const { return found ? double(truePositives) / found : 1.0; }
};

// A score where one found item may match several truths (or none) and one
// truth several found items: precision and recall count their own matches.
struct KindScore {
  size_t truth = 0, found = 0, foundRight = 0, truthFound = 0;
  double precision() const { return found ? double(foundRight) / found : 1.0; }
  double recall() const { return truth ? double(truthFound) / truth : 1.0; }
};

// "0x1a2b" for reports.
std::string hex(uint64_t v);

} // namespace sb::test
