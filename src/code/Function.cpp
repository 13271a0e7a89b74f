#include "switchboard/code/Function.h"

namespace sb::code {

uint32_t Function::end() const {
  for (const Range &c : chunks)
    if (c.contains(rva))
      return c.end;
  return blocks.empty() ? rva : blocks.front().end;
}

bool Function::contains(uint32_t a) const {
  for (const Range &c : chunks)
    if (c.contains(a))
      return true;
  return false;
}

std::string sourceNames(uint32_t flags) {
  static const char *names[] = {"entry", "export", "tls", "pdata", "cfg", "call", "tailjump", "symbol", "coderef",
                                "safeseh", "scan", "ehtable"};
  std::string s;
  for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); ++i)
    if (flags & (1u << i)) {
      if (!s.empty())
        s += ',';
      s += names[i];
    }
  return s;
}

} // namespace sb::code
