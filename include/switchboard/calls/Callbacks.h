// Callback registrations: every call of an API that takes a code pointer
// (CreateThread, SetTimer, EnumWindows, SetWindowsHookEx, qsort, ...: every
// API whose table entry has a `callback` parameter), with the function the
// pointer names.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sb { class Analysis; }

namespace sb::calls {

struct CallbackRegistration {
  uint32_t siteRva = 0, functionRva = 0;   // the call, and the function holding it
  std::string api, param;                  // "CreateThread", "lpStartAddress"
  uint32_t targetRva = 0;                  // the code the pointer names
};

// Sorted by (siteRva, param).
std::vector<CallbackRegistration> findCallbackRegistrations(const Analysis &a);

} // namespace sb::calls
