// libFuzzer target for the minidump reader and the stack walker: any input
// parses to an error or a (partial) model, and every thread's walk ends.
// Module files are not looked for (no directories): the walk scans the
// stacks the input holds, and the unwinder runs on the unwind data of
// SB_FUZZ_MODULES (a directory, if set in the environment) when its files
// match the input's module records.
#include "switchboard/api/ApiTable.h"
#include "switchboard/dump/Minidump.h"
#include "switchboard/dump/Modules.h"
#include "switchboard/dump/Params.h"
#include "switchboard/dump/StackWalk.h"

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
  for (const auto &t : d->threads()) {
    sb::dump::ThreadStack s = sb::dump::walkStack(*d, modules, memory, t.id, t.context);
    (void)sb::dump::recoverParams(s, memory, sb::api::ApiTable::builtin());
    for (const auto &f : s.frames)
      (void)sb::dump::callSiteName(f);
  }
  if (d->exception())
    (void)sb::dump::walkStack(*d, modules, memory, d->exception()->threadId, d->exception()->context);
  return 0;
}
