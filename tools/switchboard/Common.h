// Shared helpers of the CLI commands: errors, formatting, API tables.
#pragma once
#include "Command.h"

#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>

namespace sb::cli {

using json = nlohmann::ordered_json;

// The one way the CLI reports an error: "switchboard: error: ..." on stderr.
void reportErrorText(const std::string &message);
template <typename... Args> void reportError(fmt::format_string<Args...> format, Args &&...args) {
  reportErrorText(fmt::format(format, std::forward<Args>(args)...));
}

// WinDbg-style VA: 00000001`40001000 on x64, 00401000 on x86.
// WinDbg's 64-bit form: 00000001`40001000.
std::string va64(uint64_t va);
// WinDbg's address width: 00000000`0011f9a0 for a 64-bit image or process,
// 0011f9a0 for a 32-bit one.
std::string formatVa(bool is64, uint64_t va);
std::string formatVa(const pe::PeImage &img, uint64_t va);
std::string hex(uint64_t v);
void printJson(const json &j);
// The value of a member of a top-level object printJson prints, as an array
// whose elements are made one at a time (the whole is never in memory):
// the same text `printJson` gives for that member.
void printJsonArray(size_t count, const std::function<json(size_t)> &element);
void printWarnings(const pe::PeImage &img);

// The built-in API table plus the files given with --api; nullopt after
// saying why a file could not be read or merged.
std::optional<api::ApiTable> loadApiTable(const std::vector<std::string> &files);

} // namespace sb::cli
