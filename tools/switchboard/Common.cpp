#include "Common.h"

#include <fstream>
#include <iostream>
#include <sstream>

namespace sb::cli {

void reportErrorText(const std::string &message) {
  std::fflush(stdout);
  fmt::print(stderr, "switchboard: error: {}\n", message);
}

std::optional<api::ApiTable> loadApiTable(const std::vector<std::string> &files) {
  api::ApiTable table = api::ApiTable::builtin();
  for (const std::string &f : files) {
    std::ifstream in(f);
    if (!in) {
      reportError("cannot read API table {}", f);
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto r = table.merge(ss.str()); !r) {
      reportError("{}: {}", f, r.error());
      return std::nullopt;
    }
  }
  return table;
}

std::string va64(uint64_t va) { return fmt::format("{:08x}`{:08x}", va >> 32, va & 0xFFFFFFFFu); }

std::string formatVa(bool is64, uint64_t va) { return is64 ? va64(va) : fmt::format("{:08x}", va); }

std::string formatVa(const pe::PeImage &img, uint64_t va) { return formatVa(img.is64(), va); }

std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

void printJson(const json &j) { std::cout << j.dump(1) << "\n"; }

void printJsonArray(size_t count, const std::function<json(size_t)> &element) {
  if (count == 0) {
    std::cout << "[]";
    return;
  }
  std::cout << "[\n";
  for (size_t i = 0; i < count; ++i) {
    // A member of the top-level object sits at depth 1, its elements at 2.
    std::string text = element(i).dump(1);
    std::string indented = "  ";
    for (char ch : text) {
      indented += ch;
      if (ch == '\n')
        indented += "  ";
    }
    std::cout << indented << (i + 1 < count ? ",\n" : "\n");
  }
  std::cout << " ]";
}

void printWarnings(const pe::PeImage &img) {
  if (img.warnings().empty())
    return;
  fmt::print("\nWarnings ({}):\n", img.warnings().size());
  for (const std::string &w : img.warnings())
    fmt::print("  ! {}\n", w);
}

} // namespace sb::cli
