// Running the script exporters' output in the recording stand-in
// (tests/exporters/standin): the scratch directory, the export, the
// stand-in's record, and reading its calls.
#pragma once
#include "switchboard/exporters/Exporter.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace sb::test::script {

// A directory for one test's files, removed after it.
struct Scratch {
  std::filesystem::path dir;
  Scratch();
  ~Scratch();
  std::string file(const std::string &name) const { return (dir / name).string(); }
};

std::string quote(const std::string &s);
// Every fixture executable, x64 and x86.
std::vector<std::string> fixtureExes();
// The model the CLI exports (--no-pdb) for file.
exporters::ExportModel modelOf(const std::string &file);
// data/exporters/<tool>.sigs.
std::string sigsOf(exporters::Tool t);
// `switchboard export --to TOOL -o out file`; returns out.
std::string exportScript(const std::string &file, exporters::Tool t, const std::string &out);
// The stand-in's record of the script's runs on a database of `input`
// (extra: more stand-in options; sigs: another signature list).
nlohmann::json standIn(exporters::Tool t, const std::string &script, const std::string &input, uint64_t imageBase,
                       const Scratch &s, const std::string &extra = "", const std::string &sigs = "");
// The calls of one run to one API.
std::vector<nlohmann::json> callsTo(const nlohmann::json &run, const std::string &api);
// An address argument: an int, or a Ghidra Address ({"addr": n}).
uint64_t addrOf(const nlohmann::json &v);

} // namespace sb::test::script
