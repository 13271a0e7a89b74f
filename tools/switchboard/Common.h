// Shared helpers of the CLI commands: options, formatting, progress.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace sb::cli {

using json = nlohmann::ordered_json;

// Exit codes: 0 ok, 1 analysis failure, 2 usage error.
constexpr int kExitOk = 0, kExitFailure = 1, kExitUsage = 2;

struct CommonOptions {
  std::string file;
  bool json = false;
  unsigned threads = 0;
  bool quiet = false;
};

void addCommonOptions(CLI::App &cmd, CommonOptions &o);
// Opens the file; prints the error and returns nullptr on failure.
std::unique_ptr<Analysis> openAnalysis(const CommonOptions &o);
// The same, for commands that analyze code: also nullptr (with the reason
// printed) for architectures without code analysis.
std::unique_ptr<Analysis> openCodeAnalysis(const CommonOptions &o);

// A name or address given on the command line, or nullopt after saying why.
std::optional<uint32_t> resolveOrComplain(const Analysis &a, const std::string &text);
// An optional FUNC argument narrowing a listing: empty text gives no filter;
// an address inside a function means that function. False (after saying why)
// when the text names nothing.
bool functionFilter(const Analysis &a, const std::string &text, std::optional<uint32_t> &only);
// Whether the image is of a kind the command can analyze; says why not.
bool requireCodeAnalysis(const pe::PeImage &img, const std::string &file);
bool requireX64(const pe::PeImage &img, const std::string &file, const char *what);

// WinDbg-style VA: 00000001`40001000 on x64, 00401000 on x86.
std::string formatVa(const pe::PeImage &img, uint64_t va);
std::string hex(uint64_t v);
void printJson(const json &j);
void printWarnings(const pe::PeImage &img);

// The built-in API table plus the files given with --api; nullopt after
// saying why a file could not be read or merged.
std::optional<api::ApiTable> loadApiTable(const std::vector<std::string> &files);

// Each command registers itself with the app and returns its runner.
using Runner = std::function<int()>;
Runner registerInfo(CLI::App &app);
Runner registerFunctions(CLI::App &app);
Runner registerDisasm(CLI::App &app);
Runner registerFnent(CLI::App &app);
Runner registerWhere(CLI::App &app);
Runner registerFrame(CLI::App &app);
Runner registerUnwind(CLI::App &app);
Runner registerSeh(CLI::App &app);
Runner registerEh(CLI::App &app);
Runner registerClasses(CLI::App &app);
Runner registerClass(CLI::App &app);
Runner registerVcalls(CLI::App &app);
Runner registerCalls(CLI::App &app);
Runner registerParams(CLI::App &app);
Runner registerMessages(CLI::App &app);
Runner registerExplain(CLI::App &app);
Runner registerGraph(CLI::App &app);

} // namespace sb::cli
