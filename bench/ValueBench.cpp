// Runs the value tracker over every function of an image (all cores) and
// replays each one, counting the call sites whose first argument it knows:
// the cost the argument-recovery issue bounds (onnxruntime.dll: < 10 s).
//   sb_value_bench FILE [THREADS]
#include "switchboard/analysis/Analysis.h"
#include "values/Tracker.h"

#include "../src/code/Parallel.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: sb_value_bench FILE [THREADS]\n");
    return 2;
  }
  unsigned threads = argc > 2 ? unsigned(std::atoi(argv[2])) : std::thread::hardware_concurrency();
  sb::AnalysisOptions o;
  o.threads = threads;
  auto t0 = std::chrono::steady_clock::now();
  auto a = sb::Analysis::open(argv[1], o);
  if (!a) {
    std::fprintf(stderr, "%s\n", a.error().c_str());
    return 1;
  }
  const auto &fns = (*a)->functions();
  auto t1 = std::chrono::steady_clock::now();
  const sb::pe::PeImage &img = (*a)->image();
  sb::code::Decoder dec(img.is64(), img.imageBase());
  std::atomic<size_t> calls{0}, known{0}, insns{0}, truncated{0};
  sb::code::parallelFor(fns.size(), threads, [&](size_t i) {
    if (fns[i].isImportThunk)
      return;
    sb::values::Tracker tr(img, dec, fns[i]);
    size_t c = 0, k = 0, n = 0;
    tr.forEach([&](const sb::values::Insn &in, const sb::values::State &s) {
      ++n;
      if (in.insn->mnemonic == ZYDIS_MNEMONIC_CALL) {
        ++c;
        k += tr.argument(s, 0).known();
      }
    });
    calls += c;
    known += k;
    insns += n;
    truncated += tr.truncated();
  });
  auto t2 = std::chrono::steady_clock::now();
  std::printf("%s: %zu functions, %zu instructions replayed, %zu calls (%zu with a known first argument), "
              "%zu functions at the visit bound\n",
              argv[1], fns.size(), insns.load(), calls.load(), known.load(), truncated.load());
  std::printf("functions %.2f s, value analysis %.2f s on %u threads\n", std::chrono::duration<double>(t1 - t0).count(),
              std::chrono::duration<double>(t2 - t1).count(), threads);
  return 0;
}
