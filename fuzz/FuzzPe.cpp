// libFuzzer target for the PE model and every analysis behind it (functions,
// EH, unwind, the C++ object model, message maps): any input must parse to an error or a
// (partial) model, and analysis must stay bounded. Build with `make fuzz`.
#include "code/Decoder.h"   // internal
#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallSites.h"
#include "switchboard/calls/ParamFlow.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/unwind/Frame.h"
#include "switchboard/unwind/Handlers.h"
#include "switchboard/unwind/ScopeTable.h"

#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto img = sb::pe::PeImage::parse(std::vector<uint8_t>(data, data + size));
  if (!img)
    return 0;
  // Touch every lookup the commands use.
  const auto &i = *img;
  for (const auto &imp : i.imports())
    (void)i.importForIat(imp.iatRva);
  (void)i.rvaToOffset(i.headers().entryPointRva);
  sb::AnalysisOptions o;
  o.threads = 1;
  auto a = sb::Analysis::fromImage(img.take(), "fuzz", o);
  for (const auto &f : a->functions()) {
    (void)a->functionContaining(f.rva);
    (void)a->describe(f.rva);
  }
  (void)sb::eh::analyzeEh(*a);
  (void)sb::cxx::analyzeObjectModel(*a);
  // Argument recovery and parameter provenance on the same image.
  for (const char *api : {"SendMessageW", "GetProcAddress", "RegisterClassExW"})
    if (auto t = sb::calls::resolveTarget(*a, sb::api::ApiTable::builtin(), api))
      (void)sb::calls::findCallSites(*a, sb::api::ApiTable::builtin(), *t, {1, 12});
  for (size_t i = 0; i < a->functions().size() && i < 64; ++i)
    (void)sb::calls::analyzeParams(*a, a->functions()[i]);
  // The framework message maps (MFC tables, ATL maps) and the flow that
  // joins them.
  (void)a->messageMaps();
  (void)sb::messages::analyzeMessages(*a, sb::api::ApiTable::builtin());
  // The unwind layer: chains, handler data, frames, prolog checks, x86 SEH.
  const sb::pe::PeImage &pe = a->image();
  sb::code::Decoder dec(pe.is64(), pe.imageBase());
  if (pe.machine() == sb::pe::Machine::X64) {
    sb::unwind::ExceptionDirectory dir(pe);
    sb::unwind::HandlerCatalog catalog(*a);
    for (const auto &e : pe.runtimeFunctions()) {
      for (const auto &l : dir.chain(e))
        if (l.info)
          (void)sb::unwind::decodeHandlerData(*a, catalog, *l.info, l.begin, l.end);
      (void)sb::unwind::computeFrame(dir, dec, e.begin);
      (void)sb::unwind::checkProlog(dir, dec, e);
    }
  } else if (pe.machine() == sb::pe::Machine::X86) {
    for (const auto &f : a->functions())
      (void)sb::unwind::findX86ScopeTable(pe, dec, f.rva, f.end());
  }
  return 0;
}
