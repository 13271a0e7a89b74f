#pragma once
#include <string>
#include <string_view>

namespace sb {
// Demangles an MSVC-mangled name ("?foo@Bar@@QEAAXXZ") through LLVM's
// Microsoft demangler. Names that are not MSVC-mangled come back unchanged.
std::string demangleMsvc(std::string_view name);
// Same, but without calling convention, access specifiers and return type:
// the short form listings use ("Bar::foo").
std::string demangleMsvcShort(std::string_view name);
} // namespace sb
