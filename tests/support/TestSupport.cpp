#include "TestSupport.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

namespace sb::test {

std::string fixturePath(const std::string &arch, const std::string &file) {
  return std::string(SB_FIXTURE_DIR) + "/" + arch + "/" + file;
}

std::string corpusDir() { return SB_CORPUS_DIR; }

std::vector<std::string> corpusFiles() {
  std::vector<std::string> out;
  namespace fs = std::filesystem;
  for (const char *set : {"npm", "deb"}) {
    fs::path p = fs::path(corpusDir()) / set;
    if (!fs::exists(p))
      continue;
    for (auto &e : fs::recursive_directory_iterator(p))
      if (e.is_regular_file())
        out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string cliPath() { return SB_CLI; }

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)v);
  return buf;
}

int runCommand(const std::string &cmd, std::string *out) {
  FILE *p = popen(cmd.c_str(), "r");
  if (!p)
    return -1;
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    if (out)
      out->append(buf.data(), n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

} // namespace sb::test
