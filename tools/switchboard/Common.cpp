#include "Common.h"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace sb::cli {

void addCommonOptions(CLI::App &cmd, CommonOptions &o) {
  cmd.add_option("FILE", o.file, "PE file")->required();
  cmd.add_flag("--json", o.json, "Machine-readable output");
  cmd.add_option("--threads", o.threads, "Worker threads (default: one per core)");
  cmd.add_flag("-q,--quiet", o.quiet, "No progress on the terminal");
}

std::unique_ptr<Analysis> openAnalysis(const CommonOptions &o) {
  AnalysisOptions ao;
  ao.threads = o.threads;
  if (!o.quiet && isatty(STDERR_FILENO))
    ao.progress = [](const char *phase, size_t n) {
      std::fprintf(stderr, "\r%s: %zu functions...   ", phase, n);
      std::fflush(stderr);
    };
  auto a = Analysis::open(o.file, ao);
  if (!a) {
    std::cerr << "switchboard: " << a.error() << "\n";
    return nullptr;
  }
  return a.take();
}

std::optional<uint32_t> resolveOrComplain(const Analysis &a, const std::string &text) {
  auto rva = a.resolve(text);
  if (!rva)
    fmt::print(stderr, "switchboard: no function or address '{}'\n", text);
  return rva;
}

bool functionFilter(const Analysis &a, const std::string &text, std::optional<uint32_t> &only) {
  only.reset();
  if (text.empty())
    return true;
  only = resolveOrComplain(a, text);
  if (!only)
    return false;
  if (const code::Function *f = a.functionContaining(*only))
    only = f->rva;
  return true;
}

bool requireCodeAnalysis(const pe::PeImage &img, const std::string &file) {
  if (img.codeAnalysisSupported())
    return true;
  fmt::print(stderr, "switchboard: {}: code analysis is not supported for {} (headers: use `info`)\n", file,
             pe::machineName(img.machine()));
  return false;
}

bool requireX64(const pe::PeImage &img, const std::string &file, const char *what) {
  if (img.machine() == pe::Machine::X64)
    return true;
  fmt::print(stderr, "switchboard: {} needs x64 unwind data; {} is {}\n", what, file, pe::machineName(img.machine()));
  return false;
}

std::unique_ptr<Analysis> openCodeAnalysis(const CommonOptions &o) {
  auto a = openAnalysis(o);
  if (a && !requireCodeAnalysis(a->image(), o.file))
    return nullptr;
  return a;
}

std::string formatVa(const pe::PeImage &img, uint64_t va) {
  if (img.is64())
    return fmt::format("{:08x}`{:08x}", va >> 32, va & 0xFFFFFFFFu);
  return fmt::format("{:08x}", va);
}

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

void printJson(const json &j) { std::cout << j.dump(1) << "\n"; }

void printWarnings(const pe::PeImage &img) {
  if (img.warnings().empty())
    return;
  fmt::print("\nWarnings ({}):\n", img.warnings().size());
  for (const std::string &w : img.warnings())
    fmt::print("  ! {}\n", w);
}

} // namespace sb::cli
