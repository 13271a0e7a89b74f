// Running the script exporters' output in the recording stand-in.
#include "StandIn.h"

#include "TestSupport.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <unistd.h>

namespace sb::test::script {
namespace fs = std::filesystem;
using json = nlohmann::json;
using exporters::Tool;

Scratch::Scratch() {
  static int n = 0;
  dir = fs::temp_directory_path() / fmt::format("sb-script-{}-{}", ::getpid(), n++);
  fs::create_directories(dir);
}

Scratch::~Scratch() { fs::remove_all(dir); }

std::string quote(const std::string &s) { return "'" + s + "'"; }

std::vector<std::string> fixtureExes() {
  std::vector<std::string> out;
  for (const char *arch : {"x64", "x86"})
    for (auto &e : fs::directory_iterator(fixturePath(arch, "")))
      if (e.path().extension() == ".exe")
        out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

exporters::ExportModel modelOf(const std::string &file) {
  auto a = Analysis::open(file);
  EXPECT_TRUE(a) << file;
  return exporters::buildExportModel(**a, fs::path(file).filename().string());
}

std::string sigsOf(Tool t) {
  const char *name = t == Tool::Ida ? "ida9" : t == Tool::Ghidra ? "ghidra11" : "binja4";
  return fmt::format("{}/data/exporters/{}.sigs", SB_SOURCE_DIR, name);
}

std::string exportScript(const std::string &file, Tool t, const std::string &out) {
  std::string text;
  int rc = runCommand(fmt::format("{} export -q --no-pdb --to {} -o {} {} 2>&1", cliPath(), exporters::toolName(t),
                                  quote(out), quote(file)),
                      &text);
  EXPECT_EQ(rc, 0) << file << ": " << text;
  return out;
}

json standIn(Tool t, const std::string &script, const std::string &input, uint64_t imageBase, const Scratch &s,
             const std::string &extra, const std::string &sigs) {
  const std::string out = s.file("record.json");
  fs::remove(out);
  std::string text;
  int rc = runCommand(fmt::format("python3 {}/tests/exporters/standin/standin.py --tool {} --sigs {} --input {} "
                                  "--image-base {:#x} {} {} {} 2>&1",
                                  SB_SOURCE_DIR, exporters::toolName(t), quote(sigs.empty() ? sigsOf(t) : sigs),
                                  quote(input), imageBase, extra, quote(script), quote(out)),
                      &text);
  EXPECT_EQ(rc, 0) << text;
  std::ifstream f(out);
  return f ? json::parse(f) : json::object();
}

std::vector<json> callsTo(const json &run, const std::string &api) {
  std::vector<json> out;
  for (const json &c : run.at("calls"))
    if (c.at("api") == api)
      out.push_back(c);
  return out;
}

uint64_t addrOf(const json &v) { return v.is_object() ? v.at("addr").get<uint64_t>() : v.get<uint64_t>(); }

} // namespace sb::test::script
