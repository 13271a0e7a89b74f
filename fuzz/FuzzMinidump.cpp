// libFuzzer target for the minidump reader and the stack walker: any input
// parses to an error or a (partial) model, and every thread's walk (and its
// WOW64 32-bit walk, the blocked calls its frames name) ends.
// Module files are not looked for (no directories): the walk scans the
// stacks the input holds, and the unwinder runs on the unwind data of
// SB_FUZZ_MODULES (a directory, if set in the environment) when its files
// match the input's module records.
#include "switchboard/api/ApiTable.h"
#include "switchboard/dump/Minidump.h"
#include "switchboard/dump/Modules.h"
#include "switchboard/dump/Params.h"
#include "switchboard/dump/StackWalk.h"
#include "switchboard/dump/Activity.h"
#include "switchboard/dump/Wow64.h"

#include <cstdint>
#include <cstdlib>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto d = sb::dump::Minidump::parse(std::vector<uint8_t>(data, data + size));
  if (!d)
    return 0;
  sb::dump::ModuleSearch search;
  if (const char *dir = std::getenv("SB_FUZZ_MODULES"))
    search.directories.push_back(dir);
  search.findPdb = false;
  sb::dump::ModuleSet modules(*d, search);
  sb::dump::DumpMemory memory(*d, modules);
  const sb::api::ApiTable &api = sb::api::ApiTable::builtin();
  auto walk = [&](uint32_t tid, const sb::dump::Registers &start) {
    sb::dump::ThreadStack s = sb::dump::walkStack(*d, modules, memory, tid, start);
    auto params = sb::dump::recoverParams(s, memory, api);
    (void)sb::dump::describeActivity(s, modules, params, api, memory);
    for (const auto &f : s.frames)
      (void)sb::dump::callSiteName(f);
  };
  for (const auto &t : d->threads()) {
    walk(t.id, t.context);
    if (auto wow64 = sb::dump::wow64Context(memory, t.teb))
      walk(t.id, *wow64);
  }
  if (d->exception())
    (void)sb::dump::walkStack(*d, modules, memory, d->exception()->threadId, d->exception()->context);
  return 0;
}
