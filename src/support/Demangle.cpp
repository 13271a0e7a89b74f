#include "switchboard/support/Demangle.h"

#include <cstdlib>
#include <llvm/Demangle/Demangle.h>

namespace sb {
namespace {
std::string demangleWith(std::string_view name, llvm::MSDemangleFlags flags) {
  if (name.empty() || (name[0] != '?' && !(name.size() > 1 && name[0] == '.' && name[1] == '?')))
    return std::string(name);
  std::string input(name);
  int status = 0;
  char *out = llvm::microsoftDemangle(input.c_str(), nullptr, nullptr, nullptr, &status, flags);
  if (!out || status != 0) {
    std::free(out);
    return input;
  }
  std::string result(out);
  std::free(out);
  return result;
}
} // namespace

std::string demangleMsvc(std::string_view name) { return demangleWith(name, llvm::MSDF_None); }

std::string demangleMsvcShort(std::string_view name) {
  return demangleWith(name, llvm::MSDemangleFlags(llvm::MSDF_NoCallingConvention |
                                                  llvm::MSDF_NoAccessSpecifier |
                                                  llvm::MSDF_NoReturnType | llvm::MSDF_NoMemberType));
}
} // namespace sb
